"""The bot object: commands, persistent buttons and the error handler, built the same way for every caller."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import discord
import yarl
from discord import app_commands
from discord.gateway import DiscordWebSocket

from bot.discord.announcement import SubscribeButton, UnsubscribeButton, edit_announcement
from bot.discord.commands import COMMANDS
from bot.discord.replies import NO_MENTIONS, Answer, failure, show
from bot.discord.scheduled import on_gateway_message
from bot.discord.snooze import SnoozeButton
from bot.live import LiveAnnouncements
from core.service import Core

log = logging.getLogger(__name__)


class SoonishTree(app_commands.CommandTree["SoonishBot"]):
    """The command tree; option conversion errors and anything a handler let through end here."""

    async def on_error(self, interaction: discord.Interaction[SoonishBot], error: app_commands.AppCommandError) -> None:
        """Answer the interaction whatever happened."""
        if isinstance(error, app_commands.CommandInvokeError):
            result = failure(error.original)
        elif isinstance(error, app_commands.TransformerError | app_commands.CheckFailure):
            result = Answer(str(error)[:300] or "That option is not valid.", private=True)
        else:
            result = failure(error)
        try:
            await show(interaction, result)
        except discord.HTTPException:
            log.warning("could not answer a failed interaction")


class SoonishBot(discord.Client):
    """The Discord bot over one core."""

    def __init__(
        self, core: Core, *, sync_commands: bool = False, scheduled_events: bool = True, **options: Any
    ) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        # Interested marks on mirrored events; not a privileged intent. They are read from the raw gateway
        # messages, since discord.py drops them for users it has not cached (no members intent here).
        intents.guild_scheduled_events = scheduled_events
        # The default for every message the client sends, so no path can forget it.
        super().__init__(intents=intents, allowed_mentions=NO_MENTIONS, enable_debug_events=scheduled_events, **options)
        self.core = core
        self.sync_commands = sync_commands
        self.scheduled_events = scheduled_events
        self.tree = SoonishTree(self)
        self.live = LiveAnnouncements(partial(edit_announcement, self))
        for command in COMMANDS:
            self.tree.add_command(command)

    async def setup_hook(self) -> None:
        """Register the persistent buttons (announcements keep working after a restart) and publish the commands."""
        self.add_dynamic_items(SubscribeButton, UnsubscribeButton, SnoozeButton)
        if self.sync_commands:
            await self.tree.sync()

    async def close(self) -> None:
        """Drop pending announcement edits, then disconnect."""
        self.live.close()
        await super().close()

    async def on_socket_raw_receive(self, raw: str) -> None:
        """Interested marks on the mirrors of our events (see bot/discord/scheduled.py)."""
        try:
            await on_gateway_message(self, raw)
        except Exception:
            log.exception("an Interested mark could not be handled")

    async def on_ready(self) -> None:
        """Say who we are."""
        log.info("Discord bot connected as %s in %d guild(s)", self.user, len(self.guilds))


def build_bot(
    core: Core,
    *,
    api_base: str | None = None,
    gateway_url: str | None = None,
    sync_commands: bool = False,
    scheduled_events: bool = True,
) -> SoonishBot:
    """The configured bot; `api_base` and `gateway_url` point discord.py elsewhere (a local fake in tests)."""
    if api_base:
        discord.http.Route.BASE = api_base.rstrip("/")
    if gateway_url:
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
    return SoonishBot(core, sync_commands=sync_commands, scheduled_events=scheduled_events)
