"""Slack for many workspaces: installed with OAuth v2, each workspace answered and reminded with its own token."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select, text

from bot.embedded import DevServer
from bot.slack import blocks
from bot.slack.installations import TOKEN_SECONDS
from core.destinations.slack import NOT_INSTALLED
from core.models import NotificationLog
from tests.bot.slack.conftest import (
    MEMBER,
    ORGANIZER,
    SlackBot,
    button_payload,
    running_slack,
    signed_headers,
)
from tests.bot.slack.fake_slack import Call, FakeSlack

CLIENT_ID = "1234.5678"
CLIENT_SECRET = "client-secret-0123456789"
ALPHA, BRAVO = "T0ALPHA", "T0BRAVO"
CHANNELS = {ALPHA: "C0ALPHA", BRAVO: "C0BRAVO"}
STATE_COOKIE = "slack-app-oauth-state"


@pytest.fixture
async def multi(
    tmp_path: Path, sqlite_url: str, dev_server: DevServer, fake_slack: FakeSlack
) -> AsyncIterator[SlackBot]:
    """The Slack app installed with OAuth (no bot token), in HTTP mode, over the core and a worker."""
    fake_slack.client = (CLIENT_ID, CLIENT_SECRET)
    async with running_slack(
        tmp_path,
        sqlite_url,
        dev_server,
        fake_slack,
        SLACK_BOT_TOKEN=None,
        SLACK_CLIENT_ID=CLIENT_ID,
        SLACK_CLIENT_SECRET=CLIENT_SECRET,
        SLACK_REDIRECT_URI="https://soonish.example.com/slack/oauth_redirect",
    ) as bot:
        yield bot


async def begin_install(bot: SlackBot) -> tuple[str, str]:
    """Open the install link: Slack's consent page is where it redirects, with a state also set as a cookie."""
    response = await bot.http.get("/slack/install")
    assert response.status_code == 302
    location = urlsplit(response.headers["location"])
    query = parse_qs(location.query)
    assert query["client_id"] == [CLIENT_ID] and "chat:write" in query["scope"][0].split(",")
    return query["state"][0], response.cookies[STATE_COOKIE]


async def finish_install(bot: SlackBot, team: str, state: str, cookie: str) -> httpx.Response:
    """Come back from Slack's consent page with a code for `team`, as the installer's browser does."""
    code = f"code-{team}-{time.monotonic_ns()}"
    bot.fake.installs[code] = team
    # The state cookie is Secure; a browser sends it back over HTTPS, this client is told to.
    return await bot.http.get(
        "/slack/oauth_redirect", params={"code": code, "state": state}, headers={"Cookie": f"{STATE_COOKIE}={cookie}"}
    )


async def install(bot: SlackBot, team: str) -> str:
    """Install the app into `team` through the OAuth flow; the bot token Slack gave it."""
    state, cookie = await begin_install(bot)
    response = await finish_install(bot, team, state, cookie)
    assert response.status_code == 200, response.text
    (token,) = bot.fake.tokens_of(team)
    return token


def event_body(team: str, event: dict[str, Any]) -> str:
    """An Events API callback as Slack posts it."""
    return json.dumps(
        {
            "token": "unused",
            "team_id": team,
            "api_app_id": "A0APP",
            "event": event,
            "type": "event_callback",
            "event_id": f"Ev{time.monotonic_ns()}",
            "event_time": int(time.time()),
        }
    )


async def send_event(bot: SlackBot, team: str, event: dict[str, Any]) -> httpx.Response:
    """POST a signed event callback."""
    body = event_body(team, event)
    headers = signed_headers(body) | {"Content-Type": "application/json"}
    return await bot.http.post(bot.path, content=body, headers=headers)


def announcements(bot: SlackBot, team: str) -> list[Call]:
    return [c for c in bot.fake.posts(CHANNELS[team]) if c.body.get("blocks")]


def reminders(bot: SlackBot, channel: str) -> list[Call]:
    return [c for c in bot.fake.posts(channel) if "Reminder" in str(c.body.get("text"))]


async def create(bot: SlackBot, team: str, text: str) -> str:
    """Create an event in the team's channel; its code, from the announcement's Subscribe button."""
    before = len(announcements(bot, team))
    response = await bot.command("/event", text, team=team, channel=CHANNELS[team], name=f"create-{team}")
    assert response.status_code == 200
    posts = await bot.fake.wait_for(lambda: announcements(bot, team)[before:])
    (button,) = [
        e for b in posts[0].body["blocks"] for e in b.get("elements", []) if e.get("action_id") == blocks.SUBSCRIBE
    ]
    return str(button["value"])


async def deliveries(bot: SlackBot) -> list[NotificationLog]:
    async with bot.rt.core.sessions() as session:
        return list((await session.execute(select(NotificationLog))).scalars())


async def test_two_workspaces_get_their_own_announcements_and_reminders_with_their_own_tokens(multi: SlackBot) -> None:
    """Each installed workspace's announcement, DM and channel reminder are sent with that workspace's token."""
    tokens = {team: await install(multi, team) for team in (ALPHA, BRAVO)}
    assert tokens[ALPHA] != tokens[BRAVO]
    codes = {
        team: await create(multi, team, 'create name:"Standup" start:"in 12 seconds" remind:"6s"') for team in tokens
    }
    for team, code in codes.items():
        press = button_payload(multi.fake, blocks.SUBSCRIBE, code, team=team, channel=CHANNELS[team], name=f"s{team}")
        assert (await multi.interact(press)).status_code == 200
        (reply,) = await multi.fake.wait_for(lambda name=f"s{team}": multi.responses(name))
        assert "Subscribed to Standup" in reply["text"]
    for team in tokens:
        assert [c.token for c in announcements(multi, team)] == [tokens[team]]
    # The same member id in both workspaces: Slack ids are per workspace, and so are Soonish's users.
    await multi.fake.wait_for(
        lambda: len(reminders(multi, MEMBER)) == 2 and all(reminders(multi, c) for c in CHANNELS.values()), timeout=30
    )
    for team, channel in CHANNELS.items():
        assert [c.token for c in reminders(multi, channel)] == [tokens[team]]
    assert sorted(c.token for c in reminders(multi, MEMBER)) == sorted(tokens.values())


async def test_an_unknown_or_reused_state_is_refused_and_installs_nothing(multi: SlackBot) -> None:
    """A redirect whose state was never issued, or was used already, is refused without asking Slack for a token."""
    forged = await finish_install(multi, ALPHA, "not-a-state", "not-a-state")
    assert forged.status_code >= 400
    state, cookie = await begin_install(multi)
    first = await finish_install(multi, BRAVO, state, cookie)
    assert first.status_code == 200
    replayed = await finish_install(multi, ALPHA, state, cookie)
    assert replayed.status_code >= 400
    assert len(multi.fake.methods("oauth.v2.access")) == 1
    assert multi.fake.tokens_of(ALPHA) == set()
    installations = multi.rt.slack_installations
    assert installations is not None
    assert await installations.bot_token(ALPHA) is None


async def test_the_database_holds_no_token_in_clear(multi: SlackBot, sqlite_url: str) -> None:
    """After an install the token is found again for its workspace, but no database file contains it."""
    token = await install(multi, ALPHA)
    installations = multi.rt.slack_installations
    assert installations is not None
    assert await installations.bot_token(ALPHA) == token
    database = Path(sqlite_url.split("///", 1)[1])
    files = [p for p in database.parent.iterdir() if p.name.startswith(database.name)]
    assert database in files
    assert all(token.encode() not in p.read_bytes() for p in files)


@pytest.mark.parametrize("revocation", ["app_uninstalled", "tokens_revoked"])
async def test_after_uninstall_the_workspaces_deliveries_are_refused_and_nothing_posts(
    multi: SlackBot, revocation: str
) -> None:
    """Once Slack says the app was uninstalled (or its bot token revoked), reminders there fail at once, for good."""
    token = await install(multi, ALPHA)
    other = await install(multi, BRAVO)
    code = await create(multi, ALPHA, 'create name:"Retro" start:"in 10 seconds" remind:"5s"')
    await create(multi, BRAVO, 'create name:"Still here" start:"in 10 seconds" remind:"5s"')
    event = {"type": revocation, "event_ts": f"{time.time():.6f}"}
    if revocation == "tokens_revoked":
        event["tokens"] = {"oauth": [], "bot": ["U0BOT"]}
    assert (await send_event(multi, ALPHA, event)).status_code == 200
    multi.fake.revoked.add(token)  # Slack no longer accepts it either
    installations = multi.rt.slack_installations
    assert installations is not None
    await asyncio.sleep(TOKEN_SECONDS)
    assert await installations.bot_token(ALPHA) is None
    seen = len(multi.fake.calls)
    await multi.fake.wait_for(lambda: reminders(multi, CHANNELS[BRAVO]), timeout=30)
    await asyncio.sleep(3)  # past the first retry's backoff: a refused delivery is not tried again
    assert [c.method for c in multi.fake.calls[seen:] if c.token == token] == []
    assert reminders(multi, CHANNELS[ALPHA]) == []
    assert [c.token for c in reminders(multi, CHANNELS[BRAVO])] == [other]
    logged = await deliveries(multi)  # one channel reminder per workspace; Bravo's was sent (above)
    assert sorted((d.status, d.attempts) for d in logged) == [("failed", 1), ("sent", 1)], code
    refused = [d for d in logged if d.status == "failed"]
    assert refused[0].error is not None and NOT_INSTALLED in refused[0].error


async def test_a_member_without_a_zone_of_their_own_gets_their_slack_profile_zone(multi: SlackBot) -> None:
    """`/timezone` shows the zone of the member's Slack profile until they set one; what they set wins."""
    await install(multi, ALPHA)
    multi.fake.zones.update({ORGANIZER: "Asia/Tokyo", MEMBER: "Asia/Tokyo"})
    await multi.command("/timezone", "show", team=ALPHA, channel=CHANNELS[ALPHA], name="shown")
    (shown,) = await multi.fake.wait_for(lambda: multi.responses("shown"))
    assert "Asia/Tokyo" in shown["text"]
    await multi.command("/timezone", "Europe/Berlin", user=MEMBER, team=ALPHA, channel=CHANNELS[ALPHA], name="set")
    await multi.fake.wait_for(lambda: multi.responses("set"))
    await multi.command("/timezone", "show", user=MEMBER, team=ALPHA, channel=CHANNELS[ALPHA], name="mine")
    (mine,) = await multi.fake.wait_for(lambda: multi.responses("mine"))
    assert "Europe/Berlin" in mine["text"]


async def test_a_workspace_owner_may_cancel_a_members_event_and_a_member_may_not(multi: SlackBot) -> None:
    """In an installed workspace, users.info (with its token) makes an owner an admin; the edit uses that token."""
    token = await install(multi, ALPHA)
    code = await create(multi, ALPHA, 'create name:"Picnic" start:"in 3 days"')
    where = {"team": ALPHA, "channel": CHANNELS[ALPHA]}
    await multi.command("/event", f"cancel {code}", user=MEMBER, name="member", **where)
    (refused,) = await multi.fake.wait_for(lambda: multi.responses("member"))
    assert refused["response_type"] == "ephemeral" and "organizer" in refused["text"]
    multi.fake.owners.add("U0ADMIN")
    await multi.command("/event", f"cancel {code}", user="U0ADMIN", name="admin", **where)
    (done,) = await multi.fake.wait_for(lambda: multi.responses("admin"))
    assert done["response_type"] == "in_channel" and "cancelled" in done["text"]
    (edit,) = await multi.fake.wait_for(lambda: multi.fake.methods("chat.update"))
    assert edit.token == token and "cancelled" in json.dumps(edit.body["blocks"])
    asked = [c for c in multi.fake.methods("users.info") if c.body.get("user") in (MEMBER, "U0ADMIN")]
    assert len(asked) == 2 and {c.token for c in asked} == {token}


async def test_app_home_is_published_with_the_workspaces_own_token(multi: SlackBot) -> None:
    """Opening the App Home tab in one of two workspaces publishes it with that workspace's token."""
    await install(multi, ALPHA)
    bravo = await install(multi, BRAVO)
    opened = {"type": "app_home_opened", "user": MEMBER, "tab": "home", "event_ts": f"{time.time():.6f}"}
    assert (await send_event(multi, BRAVO, opened)).status_code == 200
    (published,) = await multi.fake.wait_for(lambda: multi.fake.methods("views.publish"))
    assert published.token == bravo and published.body["user_id"] == MEMBER


async def test_an_expired_state_is_refused(multi: SlackBot) -> None:
    """An install link left open past its ten minutes cannot be completed."""
    state, cookie = await begin_install(multi)
    async with multi.rt.engine.begin() as connection:
        await connection.execute(
            text("UPDATE slack_oauth_states SET expire_at = :past"), {"past": datetime(2000, 1, 1)}
        )
    expired = await finish_install(multi, ALPHA, state, cookie)
    assert expired.status_code >= 400
    assert multi.fake.methods("oauth.v2.access") == []
