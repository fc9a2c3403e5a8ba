"""The event announcement: an embed with Subscribe / Unsubscribe buttons that keep working after a restart.

The buttons run `/subscribe` and `/unsubscribe` through the same dispatch as the typed commands.
"""

from __future__ import annotations

import logging
import re
from typing import Any

import discord

from bot.discord.embeds import calendar_button, event_embed
from bot.discord.invoke import run
from bot.discord.replies import NO_MENTIONS
from bot.discord.scheduled import follow
from core import service
from core.views import Actor

log = logging.getLogger(__name__)


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
        """Subscribe with the member's defaults, and tell only the member."""
        await run(interaction, "subscribe", str(self.event_id))


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
        await run(interaction, "unsubscribe", str(self.event_id))


def event_buttons(event_id: int, ics_url: str | None = None) -> discord.ui.View:
    """The announcement's buttons (persistent: no timeout, stable custom ids), and its .ics link if it has one."""
    view = discord.ui.View(timeout=None)
    view.add_item(SubscribeButton(event_id))
    view.add_item(UnsubscribeButton(event_id))
    if ics_url:
        view.add_item(calendar_button(ics_url))
    return view


async def edit_announcement(client: Any, actor: Actor, ref: str) -> None:
    """Show the event as it is now in its announcement: new time, subscriber count; no buttons once it is over."""
    found = await service.find_announcement(core=client.core, actor=actor, ref=ref)
    if found is None:
        return
    if found.mirror_ref:
        try:
            await follow(client, int(actor.tenant), found.mirror_ref, found.event)
        except discord.HTTPException as exc:
            log.warning("could not update the scheduled event of event %s: HTTP %s", found.event.id, exc.status)
    if not found.message_ref:
        return
    channel_id, message_id = (int(part) for part in found.message_ref.split("/"))
    message = client.get_partial_messageable(channel_id).get_partial_message(message_id)
    live = found.event.status == "scheduled"
    await message.edit(
        content="New event!" if live else f"This event is {found.event.status}.",
        embed=event_embed(found.event),
        view=event_buttons(found.event.id, found.event.ics_url) if live else None,
        allowed_mentions=NO_MENTIONS,
    )
