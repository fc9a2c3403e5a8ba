"""The event announcement: an embed with Subscribe / Unsubscribe buttons that keep working after a restart."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot import render
from bot.discord.replies import Answer, actor_of, answer, timestamp
from core import service
from core.timeparse import format_offsets
from core.views import EventView

COLOUR = 0x5865F2
CANCELLED_COLOUR = 0x99AAB5


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
    reminders = format_offsets(view.default_offsets) or "none"
    embed.add_field(name="Reminders", value=f"{reminders} before", inline=True)
    embed.add_field(name="Subscribed", value=str(view.subscriber_count), inline=True)
    embed.set_footer(text=f"Code {view.code} · organized by {view.organizer} · {view.status}")
    return embed


class SubscribeButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"soonish:subscribe:(?P<event>[0-9]+)"):
    """Subscribes the member who presses it, with their default settings."""

    def __init__(self, event_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Subscribe", style=discord.ButtonStyle.success, custom_id=f"soonish:subscribe:{event_id}"
            )
        )
        self.event_id = event_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> SubscribeButton:
        """Rebuilt from the custom id, so announcements posted before a restart still work."""
        return cls(int(match["event"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Subscribe, and tell only the member."""

        async def work() -> Answer:
            sub = await service.subscribe(core=interaction.client.core, actor=actor_of(interaction), ref=self.event_id)
            return Answer(render.subscription(sub, timestamp), private=True)

        await answer(interaction, work, private=True)


class UnsubscribeButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"soonish:unsubscribe:(?P<event>[0-9]+)"
):
    """Unsubscribes the member who presses it."""

    def __init__(self, event_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="Unsubscribe", style=discord.ButtonStyle.secondary, custom_id=f"soonish:unsubscribe:{event_id}"
            )
        )
        self.event_id = event_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> UnsubscribeButton:
        """Rebuilt from the custom id."""
        return cls(int(match["event"]))

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Unsubscribe, and tell only the member."""

        async def work() -> Answer:
            name = await service.unsubscribe(
                core=interaction.client.core, actor=actor_of(interaction), ref=self.event_id
            )
            return Answer(f"Unsubscribed from {name}.", private=True)

        await answer(interaction, work, private=True)


def event_buttons(event_id: int) -> discord.ui.View:
    """The announcement's buttons (persistent: no timeout, stable custom ids)."""
    view = discord.ui.View(timeout=None)
    view.add_item(SubscribeButton(event_id))
    view.add_item(UnsubscribeButton(event_id))
    return view
