"""The Slack announcement follows its event: a new time, a cancellation and the subscriber count are edited in."""

from __future__ import annotations

import asyncio
import json

from bot.live import DEBOUNCE_SECONDS
from bot.slack import blocks
from tests.bot.slack.conftest import CHANNEL, MEMBER, SlackBot, button_payload
from tests.bot.slack.test_http import _buttons, _create


def updates(slack: SlackBot) -> list[dict[str, object]]:
    """The edits of the announcement, in order."""
    return [c.body for c in slack.fake.methods("chat.update")]


async def test_announcement_shows_the_new_time_after_an_update(slack: SlackBot) -> None:
    """`/event update CODE start:…` edits the announcement in place to the new start; the buttons stay."""
    code = await _create(slack, 'create name:"Picnic" start:"in 3 days"')
    (post,) = slack.fake.posts(CHANNEL)
    before = json.dumps(post.body["blocks"])
    await slack.command("/event", f'update {code} start:"in 5 days"', name="update")
    (edit,) = await slack.fake.wait_for(lambda: updates(slack))
    assert edit["channel"] == CHANNEL and edit["ts"]
    assert "<!date^" in json.dumps(edit["blocks"]) and json.dumps(edit["blocks"]) != before
    assert _buttons(edit) == {blocks.SUBSCRIBE: code, blocks.UNSUBSCRIBE: code}


async def test_announcement_is_marked_cancelled_without_buttons(slack: SlackBot) -> None:
    """`/event cancel` edits the announcement: it says cancelled and its buttons are gone."""
    code = await _create(slack, 'create name:"Picnic" start:"in 3 days"')
    await slack.command("/event", f"cancel {code}", name="cancel")
    (edit,) = await slack.fake.wait_for(lambda: updates(slack))
    assert "cancelled" in json.dumps(edit["blocks"]) and "Cancelled" in str(edit["text"])
    assert _buttons(edit) == {}


async def test_subscriber_count_is_edited_once_for_a_burst_of_presses(slack: SlackBot) -> None:
    """Three members press Subscribe within the debounce window: one edit shows 3 subscribed."""
    code = await _create(slack, 'create name:"Picnic" start:"in 3 days"')
    members = [f"{MEMBER}{n}" for n in range(3)]
    await asyncio.gather(
        *(slack.interact(button_payload(slack.fake, blocks.SUBSCRIBE, code, user=m, name=m)) for m in members)
    )
    for m in members:
        await slack.fake.wait_for(lambda m=m: slack.responses(m))
    (edit,) = await slack.fake.wait_for(lambda: updates(slack), timeout=DEBOUNCE_SECONDS + 5)
    assert "3 subscribed" in json.dumps(edit["blocks"])
    await asyncio.sleep(DEBOUNCE_SECONDS + 0.5)
    assert len(updates(slack)) == 1
