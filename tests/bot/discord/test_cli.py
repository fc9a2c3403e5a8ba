"""`soonish discord` as an operator runs it: the bot connects with DISCORD_TOKEN and answers; without it, a clear no."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.embedded import DevServer, find_executable, free_port
from tests.bot.discord.conftest import TOKEN
from tests.bot.discord.fake import FakeDiscord
from tests.processes import Process, soonish_env


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """A fake Discord on a free port."""
    server = FakeDiscord()
    await server.start()
    yield server
    await server.stop()


async def test_soonish_discord_connects_and_answers(tmp_path: Path, dev_server: DevServer, fake: FakeDiscord) -> None:
    """The `soonish discord` process logs in, answers /help privately, never prints its token, and stops cleanly."""
    port = free_port()
    env = soonish_env(
        tmp_path,
        DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'soonish.db'}",
        TEMPORAL_ADDRESS=dev_server.address,
        SOONISH_INSTANCE=f"dc{port}",
        TEMPORAL_TASK_QUEUE=f"dc{port}",
        DISCORD_TOKEN=TOKEN,
        DISCORD_API_BASE=fake.rest_base,
        DISCORD_GATEWAY_URL=fake.gateway_url,
        SOONISH_LOG_LEVEL="DEBUG",
    )
    bot = Process("discord", ["discord"], env, tmp_path)
    try:
        await bot.wait_for_output("Discord bot connected", timeout=60)
        shown = await fake.answer(await fake.command(1, "help"))
        assert int(shown["flags"]) & 64 and "/event create" in shown["content"]
        assert any(c.method == "PUT" and c.path.endswith("/commands") for c in fake.calls)
    finally:
        code = await bot.stop()
    assert code == 0, bot.output()[-2000:]
    assert TOKEN not in bot.output()


def test_soonish_discord_needs_a_token(tmp_path: Path) -> None:
    """Without DISCORD_TOKEN the command says what to set and exits with an error."""
    done = subprocess.run(
        [find_executable("soonish"), "discord"],
        env=soonish_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "DISCORD_TOKEN" in done.stderr


async def test_soonish_up_starts_the_bot_when_a_token_is_set(tmp_path: Path, fake: FakeDiscord) -> None:
    """`soonish up` with DISCORD_TOKEN says the Discord bot runs, and the bot answers."""
    env = soonish_env(
        tmp_path / "var",
        SOONISH_API_PORT=str(free_port()),
        TEMPORAL_PORT=str(free_port()),
        TEMPORAL_UI_PORT=str(free_port()),
        DISCORD_TOKEN=TOKEN,
        DISCORD_API_BASE=fake.rest_base,
        DISCORD_GATEWAY_URL=fake.gateway_url,
    )
    up = Process("up", ["up", "--no-console"], env, tmp_path)
    try:
        await up.wait_for_output("Press Ctrl-C to stop.", timeout=90)
        assert f"Discord      bot via {fake.rest_base}" in up.output()
        await up.wait_for_output("Discord bot connected", timeout=30)
        shown = await fake.answer(await fake.command(1, "timezone show"))
        assert int(shown["flags"]) & 64 and "UTC" in shown["content"]
    finally:
        code = await up.stop(signal.SIGINT)
    assert code == 0, up.output()[-2000:]
    assert TOKEN not in up.output()
