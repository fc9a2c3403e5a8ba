"""The "Remind me again" button on a Slack reminder sent by direct message, pressed in the DM."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from core.destinations.slack import SNOOZE_ACTION
from tests.bot.slack.conftest import CHANNEL, MEMBER, SlackBot
from tests.bot.slack.fake_slack import TEAM
from tests.bot.slack.test_http import _buttons, _create

SNOOZE = 4
DM_CHANNEL = "D0MEMBER"


@pytest.fixture
def slack_settings() -> dict[str, Any]:
    """A short snooze (the default is 10 minutes)."""
    return {"SOONISH_SNOOZE_SECONDS": SNOOZE}


def reminders(slack: SlackBot, channel: str, *, again: bool = False) -> list[dict[str, Any]]:
    """The reminders posted to a channel (or a member's DM): the first ones, or those sent again."""
    wanted = "*Reminder again:" if again else "*Reminder:"
    return [c.body for c in slack.fake.posts(channel) if str(c.body.get("text")).startswith(wanted)]


async def reminded(slack: SlackBot) -> dict[str, Any]:
    """An event in 12 s with a reminder 8 s before, the member subscribed by DM; their DM reminder."""
    code = await _create(slack, 'create name:"Standup" start:"in 12 seconds" remind:"8s"')
    await slack.command("/subscribe", f"{code} tags:dm", user=MEMBER, name="sub")
    await slack.fake.wait_for(lambda: reminders(slack, MEMBER) and reminders(slack, CHANNEL), timeout=30)
    (dm,) = reminders(slack, MEMBER)
    return dm


def press(slack: SlackBot, value: str, name: str) -> dict[str, Any]:
    """A press of the button on the reminder in the member's DM with the app, as Slack sends it."""
    return {
        "type": "block_actions",
        "team": {"id": TEAM, "domain": "team"},
        "user": {"id": MEMBER, "username": MEMBER.lower(), "team_id": TEAM},
        "api_app_id": "A0APP",
        "token": "unused",
        "container": {"type": "message", "channel_id": DM_CHANNEL, "message_ts": "1.2", "is_ephemeral": False},
        "trigger_id": "1337.42.abcdef",
        "channel": {"id": DM_CHANNEL, "name": "directmessage"},
        "response_url": slack.fake.response_url(name),
        "actions": [
            {
                "action_id": SNOOZE_ACTION,
                "block_id": "soonish_snooze",
                "value": value,
                "type": "button",
                "action_ts": "1",
            }
        ],
    }


async def test_dm_reminder_has_the_button_and_the_channel_reminder_has_none(slack: SlackBot) -> None:
    """The DM reminder has an actions block with "Remind me again"; the channel's reminder is text only."""
    dm = await reminded(slack)
    buttons = _buttons(dm)
    assert list(buttons) == [SNOOZE_ACTION]
    event_id, unix = buttons[SNOOZE_ACTION].split(":")
    assert event_id.isdigit() and unix.isdigit()
    (button,) = dm["blocks"][-1]["elements"]
    assert button["text"]["text"] == f"Remind me again in {SNOOZE} seconds"
    assert "Standup" in dm["blocks"][0]["text"]["text"]
    (channel,) = reminders(slack, CHANNEL)
    assert not channel.get("blocks")


async def test_pressing_twice_sends_the_reminder_again_once(slack: SlackBot) -> None:
    """Pressed twice, the reminder comes again once by DM; each press is answered privately with Slack's date."""
    dm = await reminded(slack)
    value = _buttons(dm)[SNOOZE_ACTION]
    assert (await slack.interact(press(slack, value, "first"))).status_code == 200
    (first,) = await slack.fake.wait_for(lambda: slack.responses("first"))
    assert (await slack.interact(press(slack, value, "second"))).status_code == 200
    (second,) = await slack.fake.wait_for(lambda: slack.responses("second"))
    assert first["response_type"] == "ephemeral" and second["response_type"] == "ephemeral"
    assert first["text"].startswith("I'll remind you again about Standup at <!date^")
    assert second["text"].startswith("You asked already: I'll remind you again")
    await slack.fake.wait_for(lambda: reminders(slack, MEMBER, again=True), timeout=SNOOZE + 10)
    await asyncio.sleep(2)
    (again,) = reminders(slack, MEMBER, again=True)
    assert "You asked to be reminded again." in again["text"]
    assert len(reminders(slack, MEMBER)) == 1 and len(reminders(slack, CHANNEL)) == 1
