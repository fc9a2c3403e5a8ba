"""Per-member defaults on the Subscribe button, /follow, and the announcement's .ics link, on the fake Slack."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import icalendar

from bot.embedded import DevServer
from bot.slack import blocks
from tests.bot.conftest import serve_api
from tests.bot.slack.conftest import CHANNEL, MEMBER, SlackBot, button_payload, running_slack
from tests.bot.slack.fake_slack import FakeSlack
from tests.bot.slack.test_http import _create

PUBLIC_URL = "https://soonish.example.test"


def link_urls(call_body: dict[str, Any]) -> list[str]:
    """The URLs of the link buttons of a message."""
    return [e["url"] for b in call_body.get("blocks", []) for e in b.get("elements", []) if e.get("url")]


async def reply_to(slack: SlackBot, command: str, text: str, name: str, **kw: Any) -> dict[str, Any]:
    """Run a slash command and wait for its one reply."""
    await slack.command(command, text, name=name, **kw)
    (reply,) = await slack.fake.wait_for(lambda: slack.responses(name))
    return reply


async def test_subscribe_button_uses_the_members_defaults(slack: SlackBot) -> None:
    """After /settings, pressing Subscribe subscribes with the member's own reminder times, not the event's."""
    saved = await reply_to(slack, "/settings", 'remind:"1d, 3h" tags:dm', "settings", user=MEMBER)
    assert saved["response_type"] == "ephemeral" and "reminders 1d, 3h; tags dm" in saved["text"]
    code = await _create(slack, 'create name:"Game night" start:"in 3 days" remind:"1h"')
    await slack.interact(button_payload(slack.fake, blocks.SUBSCRIBE, code, user=MEMBER, name="press"))
    (reply,) = await slack.fake.wait_for(lambda: slack.responses("press"))
    assert reply["response_type"] == "ephemeral" and "via dm; reminders: 1d, 3h." in reply["text"]


async def test_follow_subscribes_to_the_next_event_in_the_channel(slack: SlackBot) -> None:
    """/follow in the channel; the next event created there counts the follower and subscribes them."""
    followed = await reply_to(slack, "/follow", "", "follow", user=MEMBER)
    assert f"You follow: #{CHANNEL}" in followed["text"]
    before = len(slack.fake.posts(CHANNEL))
    await _create(slack, 'create name:"Game night" start:"in 3 days"')
    announcement = slack.fake.posts(CHANNEL)[before].body
    assert "1 subscribed" in str(announcement["blocks"])


async def test_announcement_links_to_a_public_ics(
    tmp_path: Path, sqlite_url: str, dev_server: DevServer, fake_slack: FakeSlack
) -> None:
    """With SOONISH_PUBLIC_URL set, the announcement has an "Add to calendar" link that opens the event's .ics."""
    async with running_slack(tmp_path, sqlite_url, dev_server, fake_slack, SOONISH_PUBLIC_URL=PUBLIC_URL) as slack:
        await _create(slack, 'create name:"Game night" start:"in 3 days"')
        (url,) = link_urls(slack.fake.posts(CHANNEL)[0].body)
        assert re.fullmatch(re.escape(PUBLIC_URL) + r"/calendar/event/[0-9]+/[A-Za-z0-9_-]{43}\.ics", url)
        pressed = await slack.interact(button_payload(slack.fake, blocks.CALENDAR_LINK, "x", name="link"))
        assert pressed.status_code == 200 and slack.responses("link") == []
        async with serve_api(slack.rt.core) as api:
            response = await api.get(url.removeprefix(PUBLIC_URL))
            assert response.status_code == 200
            (event,) = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
            assert str(event["SUMMARY"]) == "Game night"
            assert (await api.get(url.removeprefix(PUBLIC_URL)[:-10] + "AAAAAA.ics")).status_code == 404
