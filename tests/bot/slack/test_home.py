"""The App Home tab lists a member's upcoming subscriptions and own events, with buttons that work."""

from __future__ import annotations

import json
from typing import Any

from bot.slack import blocks
from tests.bot.slack.conftest import MEMBER, SlackBot, button_payload, signed_headers
from tests.bot.slack.fake_slack import TEAM
from tests.bot.slack.test_http import _create


async def open_home(slack: SlackBot, user: str) -> None:
    """Slack's Events API tells the app that `user` opened its Home tab."""
    body = json.dumps(
        {
            "token": "unused",
            "team_id": TEAM,
            "api_app_id": "A0APP",
            "type": "event_callback",
            "event_id": f"Ev{user}",
            "event_time": 1,
            "event": {"type": "app_home_opened", "user": user, "channel": "D0HOME", "tab": "home", "event_ts": "1.1"},
        }
    )
    headers = {**signed_headers(body), "Content-Type": "application/json"}
    response = await slack.http.post(slack.path, content=body, headers=headers)
    assert response.status_code == 200


def published(slack: SlackBot, user: str) -> list[dict[str, Any]]:
    """The Home views published for one user, in order."""
    views = [c.body for c in slack.fake.methods("views.publish") if c.body.get("user_id") == user]
    return [json.loads(v["view"]) if isinstance(v["view"], str) else v["view"] for v in views]


def buttons(view: dict[str, Any]) -> dict[str, str]:
    """The Home view's buttons: event code -> action id."""
    return {b["accessory"]["value"]: b["accessory"]["action_id"] for b in view["blocks"] if b.get("accessory")}


async def test_home_lists_subscriptions_and_own_events_with_buttons(slack: SlackBot) -> None:
    """Opening App Home publishes the member's subscription (Unsubscribe) and own event (Cancel)."""
    theirs = await _create(slack, 'create name:"Picnic" start:"in 3 days"')
    await slack.interact(button_payload(slack.fake, blocks.SUBSCRIBE, theirs, user=MEMBER, name="sub"))
    await slack.fake.wait_for(lambda: slack.responses("sub"))
    await slack.command("/event", 'create name:"Quiz" start:"in 4 days"', user=MEMBER)
    await slack.fake.wait_for(lambda: len(slack.fake.methods("chat.postMessage")) >= 2)
    await open_home(slack, MEMBER)
    (home,) = await slack.fake.wait_for(lambda: published(slack, MEMBER))
    assert home["type"] == "home" and "Picnic" in json.dumps(home) and "Quiz" in json.dumps(home)
    found = buttons(home)
    assert found[theirs] == blocks.HOME_UNSUBSCRIBE
    assert sorted(found.values()) == [blocks.HOME_CANCEL, blocks.HOME_UNSUBSCRIBE]


async def test_home_unsubscribe_button_unsubscribes_and_refreshes(slack: SlackBot) -> None:
    """Unsubscribe on App Home ends the subscription and publishes the tab without it."""
    code = await _create(slack, 'create name:"Picnic" start:"in 3 days"')
    await slack.interact(button_payload(slack.fake, blocks.SUBSCRIBE, code, user=MEMBER, name="sub"))
    await slack.fake.wait_for(lambda: slack.responses("sub"))
    press = button_payload(slack.fake, blocks.HOME_UNSUBSCRIBE, code, user=MEMBER)
    press["container"] = {"type": "view", "view_id": "V0HOME"}
    del press["response_url"], press["channel"]
    await slack.interact(press)
    (home,) = await slack.fake.wait_for(lambda: published(slack, MEMBER))
    assert code not in buttons(home) and "No upcoming subscriptions" in json.dumps(home)
    assert "Unsubscribed from Picnic" in json.dumps(home)
