"""`soonish up` starts the Slack bot when its tokens are set; `soonish slack` says what it needs when they are not."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx

from bot.embedded import DevServer, find_executable, free_port
from tests.bot.slack.conftest import BOT_TOKEN, CHANNEL, SIGNING_SECRET, command_body, signed_headers
from tests.bot.slack.fake_slack import FakeSlack
from tests.processes import Process, soonish_env, stack_env


async def test_up_starts_the_slack_bot_in_http_mode(tmp_path: Path, fake_slack: FakeSlack) -> None:
    """With a bot token and a signing secret, `soonish up` serves Slack's requests and never prints the secrets."""
    slack_port = free_port()
    env = soonish_env(
        tmp_path / "var",
        SOONISH_API_PORT=str(free_port()),
        TEMPORAL_PORT=str(free_port()),
        TEMPORAL_UI_PORT=str(free_port()),
        SLACK_BOT_TOKEN=BOT_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.api_url,
        SLACK_PORT=str(slack_port),
    )
    up = Process("up", ["up", "--no-console"], env, tmp_path)
    try:
        await up.wait_for_output("Press Ctrl-C to stop.")
        assert f"Slack        HTTP http://127.0.0.1:{slack_port}/slack/events" in up.output()
        body = command_body(fake_slack, "/event", 'create name:"Launch" start:"in 1 hour"')
        async with httpx.AsyncClient() as client:
            response = await client.post(
                f"http://127.0.0.1:{slack_port}/slack/events", content=body, headers=signed_headers(body)
            )
        assert response.status_code == 200
        await fake_slack.wait_for(lambda: fake_slack.posts(CHANNEL), timeout=15)
    finally:
        code = await up.stop(signal.SIGINT)
    assert code == 0, up.output()[-2000:]
    assert BOT_TOKEN not in up.output() and SIGNING_SECRET not in up.output()


def test_slack_without_tokens_says_what_it_needs(tmp_path: Path) -> None:
    """`soonish slack` with no Slack settings exits 2 and names the settings."""
    done = subprocess.run(
        [find_executable("soonish"), "slack"],
        env=soonish_env(tmp_path / "var"),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "SLACK_BOT_TOKEN" in done.stderr and "SLACK_APP_TOKEN" in done.stderr


async def test_slack_installed_with_oauth_serves_installs_and_logs_no_token(
    tmp_path: Path, fake_slack: FakeSlack, dev_server: DevServer
) -> None:
    """`soonish slack` with a client id installs a workspace and answers it with its token; at DEBUG its log
    holds neither that token nor the client secret."""
    slack_port = free_port()
    fake_slack.client = ("1234.5678", "client-secret-0123456789")
    env = stack_env(
        tmp_path / "var",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'soonish.db'}",
        temporal_address=dev_server.address,
        name="slackoauth",
        api_port=free_port(),
        SOONISH_LOG_LEVEL="DEBUG",
        SLACK_CLIENT_ID=fake_slack.client[0],
        SLACK_CLIENT_SECRET=fake_slack.client[1],
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=fake_slack.api_url,
        SLACK_PORT=str(slack_port),
    )
    slack = Process("slack", ["slack"], env, tmp_path)
    try:
        await slack.wait_for_output("Press Ctrl-C to stop.")
        assert f"installs into workspaces at http://127.0.0.1:{slack_port}/slack/install" in slack.output()
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{slack_port}", timeout=15) as client:
            started = await client.get("/slack/install")
            state = parse_qs(urlsplit(started.headers["location"]).query)["state"][0]
            fake_slack.installs["code-1"] = "T0CLI"
            cookie = {"Cookie": f"slack-app-oauth-state={started.cookies['slack-app-oauth-state']}"}
            done = await client.get("/slack/oauth_redirect", params={"code": "code-1", "state": state}, headers=cookie)
            assert done.status_code == 200, done.text
            (token,) = fake_slack.tokens_of("T0CLI")
            body = command_body(fake_slack, "/event", 'create name:"Launch" start:"in 1 hour"', team="T0CLI")
            assert (await client.post("/slack/events", content=body, headers=signed_headers(body))).status_code == 200
        (post,) = await fake_slack.wait_for(lambda: fake_slack.posts(CHANNEL), timeout=15)
        assert post.token == token
    finally:
        code = await slack.stop(signal.SIGINT)
    assert code == 0, slack.output()[-2000:]
    assert "DEBUG" in slack.output()
    assert token not in slack.output() and fake_slack.client[1] not in slack.output()
