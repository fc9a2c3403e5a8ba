"""The "Remind me again" button of a reminder sent by direct message, run as `/snooze` through the shared dispatch.

The worker posts the button (core/destinations/discord.py); its custom id names the reminder and the server the
event belongs to, since a press in a direct message carries no server.
"""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.discord.invoke import run


class SnoozeButton(
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"soonish:snooze:(?P<event>[0-9]+):(?P<due>[0-9]+):(?P<server>[0-9]+)",
):
    """Sends the reminder it is attached to once more to the member who presses it, a few minutes later."""

    def __init__(self, event_id: int, due: int, server: str) -> None:
        super().__init__(
            discord.ui.Button(
                label="Remind me again",
                style=discord.ButtonStyle.secondary,
                custom_id=f"soonish:snooze:{event_id}:{due}:{server}",
            )
        )
        self.reminder = f"{event_id}:{due}"
        self.server = server

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> SnoozeButton:
        """Rebuilt from the custom id of the button the worker posted."""
        return cls(int(match["event"]), int(match["due"]), match["server"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Snooze, and tell only the member."""
        await run(interaction, "snooze", self.reminder, server=self.server)
