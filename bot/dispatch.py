"""Runs a parsed command against the core and renders its result; the one error handler of the text front ends."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot import render
from bot.grammar import Command, help_text, parse
from core import service
from core.errors import InvalidInput, SoonishError
from core.logformat import log_fields
from core.metrics import record_command
from core.models import parse_row_id
from core.service import Core, EventDraft, EventPatch
from core.views import Actor, EventView

log = logging.getLogger(__name__)

APOLOGY = "Sorry, something went wrong on our side. Nothing was changed; please try again."


@dataclass(frozen=True)
class Reply:
    """What a front end shows: the text, and whether only the asking user may see it.

    `event` is the event the reply is about, for front ends that show events their own way (an embed, blocks),
    with `note` (such as "Event updated.") above it instead of `text`.
    """

    text: str
    private: bool = False
    event: EventView | None = None
    note: str = ""
    # The event the command changed (by id, or as the user named it), whose announcement may need an edit.
    changed: str = ""


def event_draft(cmd: Command, channel_url: str | None) -> EventDraft:
    """The event a `/event create` command describes."""
    return EventDraft(
        name=cmd.option("name") or "",
        start=cmd.option("start") or "",
        end=cmd.option("end"),
        timezone=cmd.option("timezone"),
        description=cmd.option("description") or "",
        location=cmd.option("location") or "",
        link=cmd.option("link") or "",
        default_offsets=cmd.option("remind"),
        channel_url=channel_url,
        channel_trusted=channel_url is not None,
        repeat=cmd.option("repeat"),
        until=cmd.option("until"),
        count=cmd.option("count"),
    )


def _patch(cmd: Command) -> EventPatch:
    return EventPatch(
        name=cmd.option("name"),
        start=cmd.option("start"),
        end=cmd.option("end"),
        timezone=cmd.option("timezone"),
        description=cmd.option("description"),
        location=cmd.option("location"),
        link=cmd.option("link"),
        default_offsets=cmd.option("remind"),
    )


def reminder_ref(text: str) -> tuple[int, datetime]:
    """The reminder a "Remind me again" button names: `EVENT_ID:UNIX_SECONDS`."""
    event, _, unix = text.strip().partition(":")
    event_id = parse_row_id(event)
    if event_id is None or not unix.isascii() or not unix.isdigit() or len(unix) > 11:
        raise InvalidInput("That is not a reminder of Soonish (expected EVENT_ID:UNIX_SECONDS).", field="reminder")
    return event_id, datetime.fromtimestamp(int(unix), UTC)


async def execute(
    cmd: Command,
    *,
    core: Core,
    actor: Actor,
    channel_url: str | None = None,
    time_format: Callable[[str], render.TimeFormat] = render.local_time,
) -> Reply:
    """Run one command. Business errors come back as private replies; anything else is logged and apologised for.

    `time_format(zone)` writes instants for the platform (Slack has its own date markup).
    """
    outcome = "error"
    try:
        with log_fields(frontend=actor.platform):
            reply = await _run(cmd, core=core, actor=actor, channel_url=channel_url, time_format=time_format)
        outcome = "ok"
        return reply
    except SoonishError as exc:
        outcome = "refused"
        return Reply(exc.message, private=True)
    except Exception:
        log.exception("command /%s failed", cmd.spec.words, extra={"frontend": actor.platform})
        return Reply(APOLOGY, private=True)
    finally:
        record_command(frontend=actor.platform, command=cmd.spec.words, outcome=outcome)


async def execute_line(line: str, *, core: Core, actor: Actor, channel_url: str | None = None) -> Reply:
    """Parse and run one typed command line."""
    try:
        cmd = parse(line)
    except SoonishError as exc:
        return Reply(exc.message, private=True)
    return await execute(cmd, core=core, actor=actor, channel_url=channel_url)


CALENDAR_USAGE = (
    "Use /calendar (your private feed), /calendar rotate, or /calendar public [all] [rotate|off] (a public feed of "
    "this channel, or with all of every channel here)."
)


async def _public_calendar(words: list[str], *, core: Core, actor: Actor, channel_url: str | None) -> Reply:
    scope = "channel"
    if words[:1] == ["all"]:
        scope, words = "tenant", words[1:]
    if len(words) > 1 or (words and words[0] not in ("rotate", "off")):
        return Reply(CALENDAR_USAGE, private=True)
    action = words[0] if words else "show"
    feed = await service.public_feed(core=core, actor=actor, scope=scope, channel_url=channel_url, action=action)
    return Reply(render.public_feed(feed), private=True)


async def _run(
    cmd: Command,
    *,
    core: Core,
    actor: Actor,
    channel_url: str | None,
    time_format: Callable[[str], render.TimeFormat],
) -> Reply:
    words, arg = cmd.spec.words, cmd.argument
    if words == "help":
        return Reply(help_text(arg), private=True)
    me = await service.show_user(core=core, actor=actor)
    when = time_format(me.timezone)
    match words:
        case "event create":
            view = await service.create_event(core=core, actor=actor, draft=event_draft(cmd, channel_url))
            note = "Event created."
            text = f"{note}\n{render.event(view, when)}\nSubscribe with /subscribe {view.code}"
            if view.ics_url:
                text += f"\nAdd to calendar (.ics): {view.ics_url}"
            return Reply(text, event=view, note=note, changed=str(view.id))
        case "event update" if cmd.option("occurrence") and cmd.option("from"):
            return Reply("Give occurrence: (one date) or from: (the series from that date on), not both.", private=True)
        case "event update" if cmd.option("occurrence"):
            if not cmd.option("start"):
                return Reply('Moving one occurrence needs its new start:, such as start:"sat 12 dec 20:00".', True)
            moved = await service.move_occurrence(
                core=core,
                actor=actor,
                ref=arg,
                occurrence=cmd.option("occurrence") or "",
                start=cmd.option("start") or "",
            )
            return Reply(render.occurrence_moved(moved, when), changed=arg)
        case "event update" if cmd.option("from"):
            view = await service.change_series_from(
                core=core,
                actor=actor,
                ref=arg,
                occurrence=cmd.option("from") or "",
                patch=_patch(cmd),
                repeat=cmd.option("repeat"),
            )
            note = f"The series now ends before that date; from it on, it continues as {view.code}."
            return Reply(f"{note}\n{render.event(view, when)}", event=view, note=note, changed=str(view.id))
        case "event update":
            if cmd.option("repeat"):
                return Reply("A new repeat: goes with from:DATE, the occurrence the new rule starts at.", private=True)
            view = await service.update_event(core=core, actor=actor, ref=arg, patch=_patch(cmd))
            text = "Event updated.\n" + render.event(view, when)
            return Reply(text, event=view, note="Event updated.", changed=str(view.id))
        case "event cancel" if cmd.option("occurrence"):
            gone = await service.cancel_occurrence(
                core=core, actor=actor, ref=arg, occurrence=cmd.option("occurrence") or ""
            )
            return Reply(render.occurrence_cancelled(gone, when), changed=arg)
        case "event cancel":
            view = await service.cancel_event(core=core, actor=actor, ref=arg)
            text = f"{view.name} is cancelled; its {view.subscriber_count} subscriber(s) are being told."
            return Reply(text, changed=str(view.id))
        case "event list":
            if arg and arg.lower() != "all":
                return Reply("Use /event list or /event list all.", private=True)
            views = await service.list_events(core=core, actor=actor, include_past=arg.lower() == "all")
            return Reply(render.events(views, when), private=True)
        case "event info":
            view = await service.show_event(core=core, actor=actor, ref=arg)
            return Reply(render.event(view, when) + "\n" + render.calendar_hint(view), private=True, event=view)
        case "event log":
            log = await service.event_deliveries(core=core, actor=actor, ref=arg)
            return Reply(render.deliveries(log, when), private=True)
        case "subscribe":
            sub = await service.subscribe(
                core=core,
                actor=actor,
                ref=arg,
                tags=cmd.option("tags"),
                custom_time_delta_seconds=cmd.option("remind"),
                custom_frequency=cmd.option("every"),
                occurrence=cmd.option("occurrence"),
            )
            return Reply(render.subscription(sub, when), private=True, changed=str(sub.event_id))
        case "unsubscribe":
            name = await service.unsubscribe(core=core, actor=actor, ref=arg)
            return Reply(f"Unsubscribed from {name}.", private=True, changed=arg)
        case "integration add":
            added = await service.add_integration(
                core=core, actor=actor, url=arg, tags=cmd.option("tags"), label=cmd.option("label")
            )
            return Reply("Destination added: " + render.integration(added), private=True)
        case "integration list":
            return Reply(render.integrations(await service.list_integrations(core=core, actor=actor)), private=True)
        case "integration remove":
            removed = await service.remove_integration(core=core, actor=actor, ref=arg)
            return Reply(f"Removed {removed.label}.", private=True)
        case "integration test":
            result = await service.test_integration(core=core, actor=actor, ref=arg)
            return Reply(render.test_result(result), private=True)
        case "timezone set":
            return Reply(render.user(await service.set_timezone(core=core, actor=actor, timezone=arg)), private=True)
        case "timezone show":
            return Reply(render.user(me), private=True)
        case "settings":
            if not cmd.options:
                return Reply(render.settings(me), private=True)
            updated = await service.set_defaults(
                core=core, actor=actor, remind=cmd.option("remind"), tags=cmd.option("tags")
            )
            return Reply("Saved. " + render.settings(updated), private=True)
        case "follow":
            if arg.lower() not in ("", "list"):
                return Reply("Use /follow in a channel to follow it, or /follow list.", private=True)
            if arg:
                return Reply(render.follows(await service.list_follows(core=core, actor=actor)), private=True)
            follows = await service.follow_channel(core=core, actor=actor, channel_url=channel_url)
            first = "You follow this channel now" if follows.changed else "You follow this channel already"
            text = f"{first}: its new events subscribe you with your /settings.\n{render.follows(follows)}"
            return Reply(text, private=True)
        case "unfollow":
            follows = await service.unfollow_channel(core=core, actor=actor, channel_url=channel_url)
            first = "You no longer follow this channel." if follows.changed else "You did not follow this channel."
            return Reply(f"{first}\n{render.follows(follows)}", private=True)
        case "calendar":
            given = arg.lower().split()
            if given[:1] == ["public"]:
                return await _public_calendar(given[1:], core=core, actor=actor, channel_url=channel_url)
            if arg.lower() not in ("", "rotate"):
                return Reply(CALENDAR_USAGE, private=True)
            if arg:
                feed = await service.rotate_calendar_feed(core=core, actor=actor)
                return Reply(render.calendar_feed(feed, rotated=True), private=True)
            return Reply(render.calendar_feed(await service.calendar_feed(core=core, actor=actor)), private=True)
        case "snooze":
            event_id, due = reminder_ref(arg)
            snoozed = await service.snooze(core=core, actor=actor, event_id=event_id, due=due)
            already = "" if snoozed.new else "You asked already: "
            text = f"{already}I'll remind you again about {snoozed.event_name} at {when(snoozed.due_at)}."
            return Reply(text, private=True)
    raise AssertionError(f"no handler for /{words}")
