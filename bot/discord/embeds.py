"""An event as a Discord embed: times in Discord's native timestamps, every part within Discord's limits.

The core caps what members type (name 100, description 2,000, location 200, link 500 characters), so an
event embed stays far inside Discord's limits (title 256, description 4,096, field 1,024, total 6,000).
"""

from __future__ import annotations

import discord

from bot.discord.replies import timestamp
from core.timeparse import format_offsets
from core.views import EventView

COLOUR = 0x5865F2
CANCELLED_COLOUR = 0x99AAB5


def calendar_button(ics_url: str) -> discord.ui.Button[discord.ui.View]:
    """A link button to the event's public .ics: Discord opens it in the browser, no interaction comes back."""
    return discord.ui.Button(label="Add to calendar", style=discord.ButtonStyle.link, url=ics_url)


def calendar_link(ics_url: str | None) -> discord.ui.View | None:
    """A view holding only the .ics link button, for replies about an event; None without a link."""
    if not ics_url:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(calendar_button(ics_url))
    return view


def event_embed(view: EventView) -> discord.Embed:
    """An event's details as an embed; times in Discord's native timestamps."""
    embed = discord.Embed(
        title=view.name,
        description=view.description or None,
        colour=CANCELLED_COLOUR if view.status == "cancelled" else COLOUR,
    )
    embed.add_field(name="Starts", value=timestamp(view.start_at), inline=False)
    if view.end_at != view.start_at:
        embed.add_field(name="Ends", value=timestamp(view.end_at), inline=False)
    if view.location:
        embed.add_field(name="Where", value=view.location[:1024], inline=False)
    if view.link:
        embed.add_field(name="Link", value=view.link[:1024], inline=False)
    if view.recurrence:
        embed.add_field(name="Repeats", value=view.recurrence[:1024], inline=False)
        upcoming = "\n".join(timestamp(t) for t in view.next_occurrences) or "none left"
        embed.add_field(name="Next dates", value=upcoming, inline=False)
    reminders = format_offsets(view.default_offsets) or "none"
    embed.add_field(name="Reminders", value=f"{reminders} before", inline=True)
    embed.add_field(name="Subscribed", value=str(view.subscriber_count), inline=True)
    embed.set_footer(text=f"Code {view.code} · organized by {view.organizer} · {view.status}")
    return embed
