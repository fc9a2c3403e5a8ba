"""The Slack front end in Socket Mode: the same app, reached over a websocket from a fake apps.connections.open."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.embedded import DevServer
from bot.runtime import Runtime, open_runtime
from bot.slack import blocks
from bot.slack.app import app_from_settings
from bot.slack.server import SlackRunner
from tests.bot.slack.conftest import BOT_TOKEN, CHANNEL, ORGANIZER
from tests.bot.slack.fake_slack import TEAM, FakeSlack
from tests.conftest import make_settings

APP_TOKEN = "xapp-test-app-token"


@pytest.fixture
async def socket_bot(
    tmp_path: Path, sqlite_url: str, dev_server: DevServer, fake_slack: FakeSlack
) -> AsyncIterator[Runtime]:
    """The app connected over Socket Mode to the fake (no signing secret, no listening port)."""
    settings = make_settings(
        tmp_path,
        sqlite_url,
        dev_server.address,
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_APP_TOKEN=APP_TOKEN,
        SLACK_API_URL=fake_slack.api_url,
    )
    async with open_runtime(settings) as rt:
        runner = SlackRunner.from_settings(app_from_settings(rt.core, settings), settings)
        assert runner.where.startswith("Socket Mode")
        task = asyncio.create_task(runner.run())
        try:
            await fake_slack.wait_for(lambda: runner.ready or task.done())
            if task.done():
                task.result()
            yield rt
        finally:
            runner.stop()
            await task


async def test_slash_command_over_socket_mode_is_acknowledged_and_announced(
    socket_bot: Runtime, fake_slack: FakeSlack
) -> None:
    """An `/event create` envelope is acknowledged on the socket and the announcement is posted."""
    (opened,) = fake_slack.methods("apps.connections.open")
    assert opened.headers["Authorization"] == f"Bearer {APP_TOKEN}"
    await fake_slack.wait_for(lambda: fake_slack.socket_connected)
    payload = {
        "team_id": TEAM,
        "channel_id": CHANNEL,
        "user_id": ORGANIZER,
        "user_name": "olga",
        "command": "/event",
        "text": 'create name:"Socket night" start:"in 2 hours"',
        "response_url": fake_slack.response_url("sock"),
        "trigger_id": "1.2.3",
        "api_app_id": "A0APP",
    }
    await fake_slack.socket_send(
        {"envelope_id": "env-1", "type": "slash_commands", "accepts_response_payload": True, "payload": payload}
    )
    await fake_slack.wait_for(lambda: [m for m in fake_slack.socket_messages if m.get("envelope_id") == "env-1"])
    (post,) = await fake_slack.wait_for(lambda: fake_slack.posts(CHANNEL))
    assert "Socket night" in str(post.body["blocks"])
    assert any(e.get("action_id") == blocks.SUBSCRIBE for b in post.body["blocks"] for e in b.get("elements", []))
