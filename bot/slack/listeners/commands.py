"""Slash commands: `/event`, `/subscribe`, `/settings`, `/follow`, `/calendar` and the rest, in the shared grammar."""

from __future__ import annotations

from typing import Any, Protocol

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot import render
from bot.dispatch import event_draft, execute
from bot.grammar import Command, parse
from bot.live import LiveAnnouncements
from bot.slack import blocks
from bot.slack.identity import WorkspaceProfiles, channel_destination, command_actor
from bot.slack.markup import SlackText, escape
from bot.slack.replies import send_reply
from core import service
from core.service import Core
from core.views import Actor, EventView

# What a refused announcement means, in the words of Slack's error codes for chat.postMessage.
WHY_NOT_POSTED = {
    "not_in_channel": "I am not a member of this channel (not_in_channel). Invite me with `/invite @Soonish`; "
    "channel reminders need it too.",
    "channel_not_found": "I cannot see this channel (channel_not_found): it is private or a direct message. "
    "Invite me with `/invite @Soonish`.",
    "is_archived": "This channel is archived (is_archived).",
    "restricted_action": "This workspace does not let me post here (restricted_action).",
    "ratelimited": "Slack kept rate-limiting messages in this channel (ratelimited); try again in a minute.",
}
# Commands after which the announcement is edited at once; any other change (subscriptions) is debounced.
EDIT_AT_ONCE = frozenset(("event update", "event cancel"))

COMMANDS = (
    "/event",
    "/subscribe",
    "/unsubscribe",
    "/integration",
    "/timezone",
    "/calendar",
    "/settings",
    "/follow",
    "/unfollow",
)
# Slack escapes these three in command text (they are escaped again on the way out: bot/slack/markup.py);
# clients may also turn straight quotes into curly ones.
_UNESCAPE = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


def command_line(command: dict[str, Any]) -> str:
    """The typed command as the shared grammar reads it."""
    text = str(command.get("text") or "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return f"{command.get('command', '')} {text.translate(_UNESCAPE)}".strip()


async def announce(*, core: Core, actor: Actor, client: AsyncWebClient, channel_id: str, view: EventView) -> str | None:
    """Post an event's announcement with its buttons in the channel; None, or what to tell the organizer instead."""
    try:
        posted = await client.chat_postMessage(
            channel=channel_id, text=blocks.announcement_text(view), blocks=blocks.announcement(view)
        )
    except SlackApiError as exc:  # the event exists by now, so this must not read as "nothing was changed"
        reason = str(exc.response.get("error") or "unknown error")
        return (
            f"{escape(view.name)} [{view.code}] is created, but I could not post its announcement here: "
            f"{WHY_NOT_POSTED.get(reason, escape(f'Slack refused it ({reason}).'))} "
            f"Members can still subscribe with `/subscribe {view.code}`."
        )
    ref = f"{posted.get('channel') or channel_id}/{posted.get('ts')}"
    await service.record_announcement(core=core, actor=actor, ref=view.id, message_ref=ref)
    return None


class WorkspaceClients(Protocol):
    """A Web API client for a workspace outside any request (bot.slack.app.Workspaces)."""

    async def client(self, team: str) -> AsyncWebClient | None:
        """The workspace's client; None when the app is not installed there."""
        ...


async def edit_announcement(workspaces: WorkspaceClients, core: Core, actor: Actor, ref: str) -> None:
    """Show the event as it is now in its announcement: new time, subscriber count; no buttons once it is over."""
    found = await service.find_announcement(core=core, actor=actor, ref=ref)
    if found is None:
        return
    client = await workspaces.client(actor.tenant)
    if client is None:  # uninstalled meanwhile: the announcement cannot be reached any more
        return
    channel, ts = found.message_ref.split("/", 1)
    await client.chat_update(
        channel=channel, ts=ts, text=blocks.announcement_text(found.event), blocks=blocks.announcement(found.event)
    )


async def run_and_reply(
    *, core: Core, live: LiveAnnouncements, cmd: Command, actor: Actor, channel_id: str, respond: AsyncRespond
) -> None:
    """Run one command through the shared dispatcher, reply, and keep the event's announcement current."""
    text = SlackText()
    destination = channel_destination(actor, channel_id)
    reply = await execute(cmd, core=core, actor=actor, channel_url=destination, time_format=text.time_format)
    await send_reply(respond, reply, text)
    if reply.changed:
        live.changed(actor, reply.changed, at_once=cmd.spec.words in EDIT_AT_ONCE)


async def run_command(
    *,
    core: Core,
    live: LiveAnnouncements,
    profiles: WorkspaceProfiles,
    command: dict[str, Any],
    respond: AsyncRespond,
    client: AsyncWebClient,
) -> None:
    """Run one slash command: the create modal, a direct create with its announcement, or a text reply."""
    actor = await profiles.complete(client, command_actor(command))
    channel_id = str(command.get("channel_id") or "")
    line = command_line(command)
    if line.lower().split() == ["/event", "create"]:
        me = await service.show_user(core=core, actor=actor)
        modal = blocks.create_modal(channel_id=channel_id, timezone=me.timezone)
        await client.views_open(trigger_id=command["trigger_id"], view=modal)
        return
    cmd = parse(line)
    destination = channel_destination(actor, channel_id)
    if cmd.spec.words == "event create":
        view = await service.create_event(core=core, actor=actor, draft=event_draft(cmd, destination))
        problem = await announce(core=core, actor=actor, client=client, channel_id=channel_id, view=view)
        read = render.start_reading(view, blocks.slack_time(view.timezone))
        if problem or read:  # one private answer: Slack allows a response_url only a few replies
            await respond(text="\n".join(filter(None, (problem, read))), response_type="ephemeral")
        return
    await run_and_reply(core=core, live=live, cmd=cmd, actor=actor, channel_id=channel_id, respond=respond)


def register(app: AsyncApp, core: Core, live: LiveAnnouncements, profiles: WorkspaceProfiles) -> None:
    """Listen to every Soonish slash command."""

    async def on_command(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient) -> None:
        await ack()
        await run_command(core=core, live=live, profiles=profiles, command=command, respond=respond, client=client)

    for name in COMMANDS:
        app.command(name)(on_command)
