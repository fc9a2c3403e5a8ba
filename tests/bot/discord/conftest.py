"""Fixtures for the Discord front end: the real discord.py client against a local fake Discord, with a worker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import discord
import pytest
import yarl
from discord.gateway import DiscordWebSocket

from bot.discord import SoonishBot, build_bot
from bot.embedded import DevServer
from bot.runtime import Runtime, open_runtime
from tests.bot.discord.fake import FakeDiscord
from tests.conftest import make_settings

TOKEN = "fake.bot-token.Zq81xPp"


@dataclass
class Harness:
    """The fake Discord, the bot connected to it, and the runtime (core and worker) behind the bot."""

    fake: FakeDiscord
    bot: SoonishBot
    runtime: Runtime


@pytest.fixture
def discord_settings() -> dict[str, Any]:
    """Settings a test module adds to the bot's (override this fixture in the module)."""
    return {}


@pytest.fixture
async def discord_bot(
    tmp_path: Path,
    sqlite_url: str,
    dev_server: DevServer,
    monkeypatch: pytest.MonkeyPatch,
    discord_settings: dict[str, Any],
) -> AsyncIterator[Harness]:
    """The bot from `build_bot`, logged in to a fake Discord on a free port, over a fresh database and a worker."""
    fake = FakeDiscord()
    await fake.start()
    monkeypatch.setattr(discord.http.Route, "BASE", fake.rest_base)
    monkeypatch.setattr(DiscordWebSocket, "DEFAULT_GATEWAY", yarl.URL(fake.gateway_url))
    settings = make_settings(
        tmp_path,
        sqlite_url,
        dev_server.address,
        DISCORD_TOKEN=TOKEN,
        DISCORD_API_BASE=fake.rest_base,
        **discord_settings,
    )
    try:
        async with open_runtime(settings) as rt, rt.worker():
            bot = build_bot(rt.core, api_base=fake.rest_base, sync_commands=True)
            task = asyncio.create_task(bot.start(TOKEN))
            try:
                for _ in range(400):
                    if task.done():
                        task.result()
                    if bot.is_ready():
                        break
                    await asyncio.sleep(0.05)
                assert bot.is_ready(), "the bot did not become ready"
                yield Harness(fake=fake, bot=bot, runtime=rt)
            finally:
                await bot.close()
                await asyncio.gather(task, return_exceptions=True)
    finally:
        await fake.stop()
