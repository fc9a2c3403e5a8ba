"""The Slack front end in HTTP mode: signed requests to the real Bolt app, a fake Slack Web API, a live worker."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from bot.slack import blocks
from core import service
from core.views import Actor
from tests.bot.slack.conftest import BOT_TOKEN, CHANNEL, MEMBER, ORGANIZER, SlackBot, button_payload, signed_headers
from tests.bot.slack.fake_slack import TEAM


def _buttons(call_body: dict[str, Any]) -> dict[str, str]:
    """The announcement's buttons: action id -> value."""
    found = {}
    for block in call_body.get("blocks", []):
        for element in block.get("elements", []):
            if element.get("type") == "button":
                found[element["action_id"]] = element["value"]
    return found


def _actor(user: str) -> Actor:
    return Actor(platform="slack", tenant=TEAM, user_id=user)


async def _create(slack: SlackBot, text: str) -> str:
    """Create an event with a slash command; return its code from the announcement's Subscribe button."""
    before = len(slack.fake.posts(CHANNEL))
    response = await slack.command("/event", text)
    assert response.status_code == 200
    posts = await slack.fake.wait_for(lambda: slack.fake.posts(CHANNEL)[before:])
    return _buttons(posts[0].body)[blocks.SUBSCRIBE]


async def test_bad_or_stale_signature_is_refused_and_changes_nothing(slack: SlackBot) -> None:
    """A wrong signature or a five-minute-old timestamp gets 401, and no event is created."""
    body = "command=%2Fevent&text=create+name%3AX+start%3A%22in+1+hour%22&team_id=T0TEAM&user_id=U1&channel_id=C1"
    wrong = await slack.http.post(slack.path, content=body, headers=signed_headers(body, secret="not-the-secret"))
    stale = await slack.http.post(
        slack.path, content=body, headers=signed_headers(body, timestamp=int(time.time()) - 600)
    )
    assert (wrong.status_code, stale.status_code) == (401, 401)
    await asyncio.sleep(0.5)
    assert slack.fake.methods("chat.postMessage") == []
    assert await service.list_events(core=slack.rt.core, actor=_actor("U1"), include_past=True) == []


async def test_event_create_with_arguments_posts_the_announcement(slack: SlackBot) -> None:
    """`/event create name:.. start:..` posts a Block Kit announcement with Slack dates and both buttons."""
    response = await slack.command("/event", 'create name:"Game night" start:"in 2 hours" remind:"1h"')
    assert response.status_code == 200
    (post,) = await slack.fake.wait_for(lambda: slack.fake.posts(CHANNEL))
    assert post.headers["Authorization"] == f"Bearer {BOT_TOKEN}"
    text = json.dumps(post.body["blocks"])
    assert "Game night" in text and "<!date^" in text and "{date_short_pretty}" in text
    buttons = _buttons(post.body)
    assert set(buttons) == {blocks.SUBSCRIBE, blocks.UNSUBSCRIBE}
    assert len(buttons[blocks.SUBSCRIBE]) == 6


async def test_subscribe_button_subscribes_and_reminders_arrive_by_dm_and_in_channel_once(slack: SlackBot) -> None:
    """Pressing Subscribe subscribes; at the due time the reminder arrives once as a DM and once in the channel."""
    code = await _create(slack, 'create name:"Standup" start:"in 12 seconds" remind:"6s"')
    response = await slack.interact(button_payload(slack.fake, blocks.SUBSCRIBE, code, user=MEMBER, name="sub"))
    assert response.status_code == 200
    (reply,) = await slack.fake.wait_for(lambda: slack.responses("sub"))
    assert reply["response_type"] == "ephemeral"
    assert "Subscribed to Standup" in reply["text"]
    view = await service.show_event(core=slack.rt.core, actor=_actor(ORGANIZER), ref=code)
    assert view.subscriber_count == 1
    due = view.start_at.timestamp() - 6

    def reminders(channel: str) -> list[Any]:
        return [c for c in slack.fake.posts(channel) if "Reminder" in str(c.body.get("text"))]

    await slack.fake.wait_for(lambda: reminders(MEMBER) and reminders(CHANNEL), timeout=30)
    await asyncio.sleep(2)
    dm, channel = reminders(MEMBER), reminders(CHANNEL)
    assert len(dm) == 1 and len(channel) == 1
    assert "Standup" in dm[0].body["text"] and "Standup" in channel[0].body["text"]
    assert dm[0].at >= due - 0.5 and channel[0].at >= due - 0.5
    assert dm[0].headers["Authorization"] == f"Bearer {BOT_TOKEN}"


async def test_announcement_answered_429_is_retried_and_posted_once(slack: SlackBot) -> None:
    """A chat.postMessage answered 429 with Retry-After is sent again, and the announcement appears once."""
    slack.fake.rate_limit[CHANNEL] = 1
    await slack.command("/event", 'create name:"Busy" start:"in 3 days"', name="busy")

    def attempts() -> list[Any]:
        return [c for c in slack.fake.posts(CHANNEL) if c.body.get("blocks")]

    await slack.fake.wait_for(lambda: len(attempts()) >= 2, timeout=10)
    await asyncio.sleep(3)  # past Retry-After (1 s) plus the retry handler's jitter (up to 1 s)
    assert len(attempts()) == 2  # the refused one and the retry
    # Nothing to explain to the organizer: the one private answer only says how the start was read.
    assert [r["text"].startswith("Read 'in 3 days' as ") for r in slack.responses("busy")] == [True]
