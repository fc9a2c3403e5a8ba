"""The slash commands: each parses its options into the shared grammar, makes one core call and renders it."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot import render
from bot.discord.announcement import event_buttons
from bot.discord.embeds import event_embed
from bot.discord.invoke import channel_of, run
from bot.discord.replies import Answer, actor_of, answer, timestamp
from bot.discord.scheduled import mirror
from bot.dispatch import event_draft
from bot.grammar import BY_WORDS, Command, help_text
from core import service
from core.service import EventDraft

# The client is the SoonishBot; its `core` is what every handler calls.
Interaction = discord.Interaction[Any]
AUTOCOMPLETE_LIMIT = 25


async def upcoming_events(interaction: Interaction, current: str) -> list[app_commands.Choice[str]]:
    """The guild's upcoming events whose name contains what was typed so far."""
    try:
        views = await service.list_events(core=interaction.client.core, actor=actor_of(interaction))
    except Exception:  # autocomplete is a nicety; the command itself reports problems
        return []
    wanted = current.strip().lower()
    return [
        app_commands.Choice(name=f"{v.name} ({v.code})"[:100], value=v.code)
        for v in views
        if wanted in v.name.lower() or wanted in v.code.lower()
    ][:AUTOCOMPLETE_LIMIT]


async def create_event(interaction: Interaction, draft: EventDraft) -> None:
    """Create the event and post its announcement, with buttons, in the channel."""

    async def work() -> Answer:
        actor = actor_of(interaction)
        core = interaction.client.core
        view = await service.create_event(core=core, actor=actor, draft=draft)
        mirror_ref, note = "", ""
        if interaction.client.scheduled_events and interaction.guild is not None:
            mirror_ref, note = await mirror(interaction.guild, interaction.app_permissions, view)
            if mirror_ref:
                await service.record_announcement(core=core, actor=actor, ref=view.id, mirror_ref=mirror_ref)

        async def remember(message_id: int) -> None:
            ref = f"{interaction.channel_id}/{message_id}"
            await service.record_announcement(core=core, actor=actor, ref=view.id, message_ref=ref)

        text = "\n".join(filter(None, ("New event!", render.start_reading(view, timestamp))))
        return Answer(
            text=text, embed=event_embed(view), view=event_buttons(view.id, view.ics_url), on_shown=remember, aside=note
        )

    await answer(interaction, work, private=not BY_WORDS["event create"].public)


class EventModal(discord.ui.Modal, title="New event"):
    """The event form, for organizers who run /event create without options."""

    name: discord.ui.TextInput[EventModal] = discord.ui.TextInput(label="Name", max_length=100)
    start: discord.ui.TextInput[EventModal] = discord.ui.TextInput(label="Start", placeholder="friday 20:00")
    end: discord.ui.TextInput[EventModal] = discord.ui.TextInput(label="End", required=False)
    description: discord.ui.TextInput[EventModal] = discord.ui.TextInput(
        label="Description", style=discord.TextStyle.paragraph, required=False, max_length=2000
    )
    remind: discord.ui.TextInput[EventModal] = discord.ui.TextInput(
        label="Reminders before the start", placeholder="1d, 1h", required=False
    )

    async def on_submit(self, interaction: Interaction) -> None:
        """Create the event from the form."""
        fields: dict[str, str | None] = {"name": self.name.value, "start": self.start.value, "end": self.end.value}
        fields.update(description=self.description.value, remind=self.remind.value)
        await create_event(interaction, _draft(interaction, fields))


def _draft(interaction: Interaction, fields: dict[str, str | None]) -> EventDraft:
    """The event that options or the form describe, read the way every front end reads `/event create`."""
    options = {key: value for key, value in fields.items() if value}
    return event_draft(Command(spec=BY_WORDS["event create"], options=options), channel_of(interaction))


# Every command is per server (a guild is the tenant), so none is offered in direct messages.
SERVERS_ONLY = app_commands.AppCommandContext(guild=True, dm_channel=False, private_channel=False)
event = app_commands.Group(
    name="event", description="Create and manage events", guild_only=True, allowed_contexts=SERVERS_ONLY
)


@event.command(name="create", description=BY_WORDS["event create"].summary)
@app_commands.describe(
    name="What the event is called",
    start="When it starts: 2026-12-05 20:00, friday 8pm, in 2 hours",
    end="When it ends",
    description="What it is about",
    location="Where it happens",
    remind="Channel and default reminders before the start, such as 1d, 1h",
    timezone="The zone the times are in (default: yours)",
    link="A link for the event",
    repeat="Make it a series: weekly, every friday, every 2 weeks, monthly on the last friday, or RRULE text",
    until="The series' last day (default: it goes on)",
    count="How many occurrences the series has",
)
async def event_create(
    interaction: Interaction,
    name: str | None = None,
    start: str | None = None,
    end: str | None = None,
    description: str | None = None,
    location: str | None = None,
    remind: str | None = None,
    timezone: str | None = None,
    link: str | None = None,
    repeat: str | None = None,
    until: str | None = None,
    count: str | None = None,
) -> None:
    """Create an event from the options, or from a form when no name or start is given."""
    if not name and not start:
        await interaction.response.send_modal(EventModal())
        return
    fields: dict[str, str | None] = {"name": name, "start": start, "end": end, "description": description}
    fields.update(location=location)
    fields.update(remind=remind, timezone=timezone, link=link)
    fields.update(repeat=repeat, until=until, count=count)
    await create_event(interaction, _draft(interaction, fields))


@event.command(name="update", description=BY_WORDS["event update"].summary)
@app_commands.autocomplete(event=upcoming_events)
@app_commands.describe(
    event="The event to change: start typing its name, or give its code",
    name="A new name",
    start="A new start: 2026-12-05 20:00, friday 8pm, in 2 hours (reminders move with it)",
    end="A new end",
    description="A new description",
    location="A new place",
    remind="New channel and default reminders before the start, such as 1d, 1h",
    timezone="The zone the new times are in",
    link="A new link",
    occurrence="Of a series: change only the occurrence on this date (give its new start)",
    from_="Of a series: change it from the occurrence on this date on (earlier ones stay)",
    repeat="With from: a new repetition from there on",
)
@app_commands.rename(from_="from")
async def event_update(
    interaction: Interaction,
    event: str,
    name: str | None = None,
    start: str | None = None,
    end: str | None = None,
    description: str | None = None,
    location: str | None = None,
    remind: str | None = None,
    timezone: str | None = None,
    link: str | None = None,
    occurrence: str | None = None,
    from_: str | None = None,
    repeat: str | None = None,
) -> None:
    """Change an event (organizer or Manage Events), one occurrence of a series, or a series from a date on."""
    await run(
        interaction,
        "event update",
        event,
        name=name,
        start=start,
        end=end,
        description=description,
        location=location,
        remind=remind,
        timezone=timezone,
        link=link,
        occurrence=occurrence,
        repeat=repeat,
        **{"from": from_},
    )


@event.command(name="cancel", description=BY_WORDS["event cancel"].summary)
@app_commands.autocomplete(event=upcoming_events)
@app_commands.describe(
    event="The event to cancel: start typing its name, or give its code",
    occurrence="Of a series: cancel only the occurrence on this date",
)
async def event_cancel(interaction: Interaction, event: str, occurrence: str | None = None) -> None:
    """Cancel an event, or one occurrence of a series (organizer or Manage Events); its subscribers are told."""
    await run(interaction, "event cancel", event, occurrence=occurrence)


@event.command(name="list", description=BY_WORDS["event list"].summary)
@app_commands.describe(include_past="Also list past and cancelled events")
async def event_list(interaction: Interaction, include_past: bool = False) -> None:
    """The guild's events."""
    await run(interaction, "event list", "all" if include_past else "")


@event.command(name="info", description=BY_WORDS["event info"].summary)
@app_commands.autocomplete(event=upcoming_events)
@app_commands.describe(event="The event to show: start typing its name, or give its code")
async def event_info(interaction: Interaction, event: str) -> None:
    """One event's details."""
    await run(interaction, "event info", event)


@event.command(name="log", description=BY_WORDS["event log"].summary)
@app_commands.autocomplete(event=upcoming_events)
@app_commands.describe(event="The event whose deliveries to show: start typing its name, or give its code")
async def event_log(interaction: Interaction, event: str) -> None:
    """An event's deliveries: all of them for the organizer, a member's own otherwise."""
    await run(interaction, "event log", event)


@app_commands.command(name="subscribe", description=BY_WORDS["subscribe"].summary)
@app_commands.guild_only()
@app_commands.autocomplete(event=upcoming_events)
@app_commands.describe(
    event="The event: start typing its name, or give its code",
    tags="How to reach you: dm, or the tags of your destinations",
    remind="When, before the start: 1d, 1h",
    every="A countdown: hourly, daily or weekly",
    occurrence="Of a series: only the occurrence on this date (default: all of them)",
)
async def subscribe(
    interaction: Interaction,
    event: str,
    tags: str | None = None,
    remind: str | None = None,
    every: str | None = None,
    occurrence: str | None = None,
) -> None:
    """Get reminders for an event."""
    await run(interaction, "subscribe", event, tags=tags, remind=remind, every=every, occurrence=occurrence)


@app_commands.command(name="unsubscribe", description=BY_WORDS["unsubscribe"].summary)
@app_commands.guild_only()
@app_commands.autocomplete(event=upcoming_events)
@app_commands.describe(event="The event: start typing its name, or give its code")
async def unsubscribe(interaction: Interaction, event: str) -> None:
    """Stop reminders for an event."""
    await run(interaction, "unsubscribe", event)


integration = app_commands.Group(
    name="integration",
    description="Your reminder destinations (Apprise URLs)",
    guild_only=True,
    allowed_contexts=SERVERS_ONLY,
)


@integration.command(name="add", description=BY_WORDS["integration add"].summary)
@app_commands.describe(
    url="An Apprise URL, such as mailto://… or ntfy://…",
    tags="Tags that subscriptions pick it by, such as email",
    label="A name to recognise it by",
)
async def integration_add(
    interaction: Interaction, url: str, tags: str | None = None, label: str | None = None
) -> None:
    """Register a destination; the reply is private and shows the URL masked."""
    await run(interaction, "integration add", url, tags=tags, label=label)


@integration.command(name="list", description=BY_WORDS["integration list"].summary)
async def integration_list(interaction: Interaction) -> None:
    """Your destinations, masked."""
    await run(interaction, "integration list")


@integration.command(name="remove", description=BY_WORDS["integration remove"].summary)
@app_commands.describe(id="The destination's number, as /integration list shows it")
async def integration_remove(interaction: Interaction, id: str) -> None:
    """Delete one of your destinations."""
    await run(interaction, "integration remove", id)


@integration.command(name="test", description=BY_WORDS["integration test"].summary)
@app_commands.describe(id="The destination's number, as /integration list shows it")
async def integration_test(interaction: Interaction, id: str) -> None:
    """Send a test message to one of your destinations."""
    await run(interaction, "integration test", id)


timezone = app_commands.Group(
    name="timezone", description="The zone your times are read in", guild_only=True, allowed_contexts=SERVERS_ONLY
)


@timezone.command(name="set", description=BY_WORDS["timezone set"].summary)
@app_commands.describe(zone="An IANA time zone, such as Europe/Berlin or America/New_York")
async def timezone_set(interaction: Interaction, zone: str) -> None:
    """Set your time zone."""
    await run(interaction, "timezone set", zone)


@timezone.command(name="show", description=BY_WORDS["timezone show"].summary)
async def timezone_show(interaction: Interaction) -> None:
    """Show your time zone."""
    await run(interaction, "timezone show")


@app_commands.command(name="settings", description="Your defaults for subscribing without options")
@app_commands.guild_only()
@app_commands.describe(
    remind='Default reminder times before the start, such as "1d, 1h" (none clears them)',
    tags="Default ways to reach you: dm, or the tags of your destinations (none clears them)",
)
async def settings(interaction: Interaction, remind: str | None = None, tags: str | None = None) -> None:
    """Show or change your defaults, used by the Subscribe buttons and the channels you follow."""
    await run(interaction, "settings", remind=remind, tags=tags)


@app_commands.command(name="follow", description="Follow this channel: its new events subscribe you")
@app_commands.guild_only()
@app_commands.describe(list_only="Only list the channels you follow, without following this one")
async def follow(interaction: Interaction, list_only: bool = False) -> None:
    """Follow the channel: every event created here later subscribes you with your /settings."""
    await run(interaction, "follow", "list" if list_only else "")


@app_commands.command(name="unfollow", description=BY_WORDS["unfollow"].summary[:100])
@app_commands.guild_only()
async def unfollow(interaction: Interaction) -> None:
    """Stop following the channel."""
    await run(interaction, "unfollow")


calendar = app_commands.Group(
    name="calendar",
    description="Calendar feeds: yours, and public ones",
    guild_only=True,
    allowed_contexts=SERVERS_ONLY,
)


@calendar.command(name="show", description="Your private calendar feed's address (events you subscribe to)")
async def calendar_show(interaction: Interaction) -> None:
    """Show your private calendar feed's address."""
    await run(interaction, "calendar")


@calendar.command(name="rotate", description="A new address for your calendar feed; the old one stops working")
async def calendar_rotate(interaction: Interaction) -> None:
    """Replace your calendar feed's address; the old one stops working."""
    await run(interaction, "calendar", "rotate")


@calendar.command(name="public", description="This channel's (or the server's) public calendar: organizers, admins")
@app_commands.describe(
    action="show its address (made on first use), rotate it to a new one, or turn it off",
    scope="this channel's events, or those of every channel in the server",
)
@app_commands.choices(
    action=[app_commands.Choice(name=n, value=n) for n in ("show", "rotate", "off")],
    scope=[app_commands.Choice(name="this channel", value=""), app_commands.Choice(name="whole server", value="all")],
)
async def calendar_public(interaction: Interaction, action: str = "show", scope: str = "") -> None:
    """Show, rotate or turn off a public calendar of upcoming events."""
    words = ["public", scope, "" if action == "show" else action]
    await run(interaction, "calendar", " ".join(w for w in words if w))


@app_commands.command(name="help", description=BY_WORDS["help"].summary)
@app_commands.guild_only()
@app_commands.describe(command="One command to explain, such as event create")
async def help_command(interaction: Interaction, command: str | None = None) -> None:
    """The commands, or one command's usage."""

    async def work() -> Answer:
        return Answer(help_text(command or ""), private=True)

    await answer(interaction, work, private=True)


COMMANDS: tuple[app_commands.Command[Any, ..., Any] | app_commands.Group, ...] = (
    event,
    subscribe,
    unsubscribe,
    integration,
    timezone,
    calendar,
    settings,
    follow,
    unfollow,
    help_command,
)
