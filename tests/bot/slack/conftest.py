"""Fixtures for the Slack front end: a fake Slack, and the real Bolt app over a live core with a worker."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from bot.embedded import DevServer, free_port
from bot.runtime import Runtime, open_runtime
from bot.slack.app import app_from_settings
from bot.slack.server import SlackRunner
from tests.bot.slack.fake_slack import TEAM, FakeSlack
from tests.conftest import make_settings

SIGNING_SECRET = "test-signing-secret-0123456789"
BOT_TOKEN = "xoxb-test-bot-token"
CHANNEL = "C0CHANNEL"
ORGANIZER = "U0ORGANIZER"
MEMBER = "U0MEMBER"


def signed_headers(body: str, *, secret: str = SIGNING_SECRET, timestamp: int | None = None) -> dict[str, str]:
    """Slack's request signature: `v0=` HMAC-SHA256 of `v0:TIMESTAMP:BODY` with the signing secret."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


def command_body(
    fake: FakeSlack,
    command: str,
    text: str,
    *,
    user: str = ORGANIZER,
    name: str = "r1",
    team: str = TEAM,
    channel: str = CHANNEL,
) -> str:
    """A slash-command request body as Slack sends it."""
    return urlencode(
        {
            "token": "unused",
            "team_id": team,
            "team_domain": "team",
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": user.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0APP",
            "response_url": fake.response_url(name),
            "trigger_id": "1337.42.abcdef",
        }
    )


def payload_body(payload: dict[str, Any]) -> str:
    """An interaction request body (button press, modal submission) as Slack sends it."""
    return urlencode({"payload": json.dumps(payload)})


def button_payload(
    fake: FakeSlack,
    action_id: str,
    code: str,
    *,
    user: str = MEMBER,
    name: str = "b1",
    team: str = TEAM,
    channel: str = CHANNEL,
) -> dict[str, Any]:
    """A press of one of the announcement's buttons."""
    return {
        "type": "block_actions",
        "team": {"id": team, "domain": "team"},
        "user": {"id": user, "username": user.lower(), "team_id": team},
        "api_app_id": "A0APP",
        "token": "unused",
        "container": {"type": "message", "channel_id": channel, "message_ts": "1.2", "is_ephemeral": False},
        "trigger_id": "1337.42.abcdef",
        "channel": {"id": channel, "name": "general"},
        "response_url": fake.response_url(name),
        "actions": [
            {"action_id": action_id, "block_id": f"event_{code}", "value": code, "type": "button", "action_ts": "1.3"}
        ],
    }


def modal_payload(values: dict[str, dict[str, Any]], *, user: str = ORGANIZER) -> dict[str, Any]:
    """A submission of the create-event modal; `values` maps each block to its element state."""
    return {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "team"},
        "user": {"id": user, "username": user.lower(), "team_id": TEAM},
        "api_app_id": "A0APP",
        "token": "unused",
        "trigger_id": "1337.42.abcdef",
        "view": {
            "id": "V0MODAL",
            "team_id": TEAM,
            "type": "modal",
            "callback_id": "soonish_event_create",
            "private_metadata": CHANNEL,
            "state": {"values": {block: {block: state} for block, state in values.items()}},
        },
    }


@dataclass
class SlackBot:
    """The running Slack front end, the fake Slack it talks to, and a client to send it Slack's requests."""

    rt: Runtime
    fake: FakeSlack
    http: httpx.AsyncClient
    path: str

    async def send(self, body: str, **sign: Any) -> httpx.Response:
        """POST a signed request, as Slack would."""
        return await self.http.post(self.path, content=body, headers=signed_headers(body, **sign))

    async def command(self, command: str, text: str, **kw: Any) -> httpx.Response:
        """Run a slash command."""
        return await self.send(command_body(self.fake, command, text, **kw))

    async def interact(self, payload: dict[str, Any]) -> httpx.Response:
        """Send a button press or a modal submission."""
        return await self.send(payload_body(payload))

    def responses(self, name: str) -> list[dict[str, Any]]:
        """What the app posted to one response_url."""
        return [c.body for c in self.fake.methods(f"respond/{name}")]


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """A fake Slack on a free loopback port."""
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.close()


@asynccontextmanager
async def running_slack(
    tmp_path: Path, sqlite_url: str, dev_server: DevServer, fake_slack: FakeSlack, **extra: Any
) -> AsyncIterator[SlackBot]:
    """The Slack app in HTTP mode on a free port, over the core and a worker on the dev server; `extra` settings
    (`SLACK_BOT_TOKEN=None` with a client id and secret installs it with OAuth instead of its one token)."""
    port = free_port()
    values: dict[str, Any] = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": fake_slack.api_url,
        "SLACK_PORT": port,
        **extra,
    }
    settings = make_settings(tmp_path, sqlite_url, dev_server.address, **values)
    async with open_runtime(settings) as rt, rt.worker():
        app = app_from_settings(rt.core, settings, installations=rt.slack_installations)
        runner = SlackRunner.from_settings(app, settings)
        task = asyncio.create_task(runner.run())
        try:
            while not runner.ready:
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
                yield SlackBot(rt=rt, fake=fake_slack, http=http, path=settings.slack_path)
        finally:
            runner.stop()
            await task


@pytest.fixture
def slack_settings() -> dict[str, Any]:
    """Settings a test module adds to the app's (override this fixture in the module)."""
    return {}


@pytest.fixture
async def slack(
    tmp_path: Path, sqlite_url: str, dev_server: DevServer, fake_slack: FakeSlack, slack_settings: dict[str, Any]
) -> AsyncIterator[SlackBot]:
    """The Slack app in HTTP mode on a free port, over the core and a worker on the dev server."""
    async with running_slack(tmp_path, sqlite_url, dev_server, fake_slack, **slack_settings) as bot:
        yield bot
