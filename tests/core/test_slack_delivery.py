"""Slack reminders: chat.postMessage with the bot token, one message per interval per channel, 429s retried."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Iterator

import pytest

from core.delivery import Sender
from core.slack_delivery import SlackPoster, configure_slack, slack_url
from tests.bot.slack.fake_slack import FakeSlack

TOKEN = "xoxb-delivery-test"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    """A fake Slack Web API on a free port."""
    server = FakeSlack()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
def poster(fake: FakeSlack) -> Iterator[SlackPoster]:
    """This process posts to the fake while the test runs."""
    poster = SlackPoster(token=TOKEN, api_url=fake.api_url, interval=0.5)
    configure_slack(poster)
    yield poster
    configure_slack(None)


async def test_a_rate_limited_message_is_retried_after_retry_after_not_lost(
    fake: FakeSlack, poster: SlackPoster
) -> None:
    """A 429 with Retry-After is waited out and the message is delivered once."""
    fake.rate_limit["C1"] = 1
    outcome = await Sender(allow_private=False).send(slack_url("T1", "C1"), title="Reminder: Quiz", body="Soon.")
    assert outcome.delivered
    attempts = fake.methods("chat.postMessage")
    assert len(attempts) == 2 and attempts[1].at - attempts[0].at >= 0.9
    assert attempts[1].body == {"channel": "C1", "text": "*Reminder: Quiz*\nSoon."}
    assert attempts[1].headers["Authorization"] == f"Bearer {TOKEN}"


async def test_messages_to_one_channel_are_spaced_and_other_channels_are_not_held_up(
    fake: FakeSlack, poster: SlackPoster
) -> None:
    """Three messages to one channel go out at least the interval apart; another channel goes out at once."""
    sender = Sender(allow_private=False)
    sends = [sender.send(slack_url("T1", "C1"), title="t", body=str(i)) for i in range(3)]
    sends.append(sender.send(slack_url("T1", "U2"), title="t", body="dm"))
    outcomes = await asyncio.gather(*sends)
    assert all(o.delivered for o in outcomes)
    times = sorted(c.at for c in fake.posts("C1"))
    assert len(times) == 3 and all(b - a >= 0.45 for a, b in itertools.pairwise(times))
    assert fake.posts("U2")[0].at - times[0] < 0.4


async def test_without_a_bot_token_slack_destinations_fail_plainly(fake: FakeSlack) -> None:
    """Without a configured bot token the destination fails plainly; the token never appears in a reason."""
    configure_slack(None)
    outcome = await Sender(allow_private=False).send(slack_url("T1", "C1"), title="t", body="b")
    assert not outcome.delivered and TOKEN not in str(outcome.error)
    assert fake.calls == []
