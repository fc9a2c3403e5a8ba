"""Slack reminders: chat.postMessage with the bot token, one message per interval per channel, 429s retried."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from core import notices
from core.destinations import Destination, Sender, SlackAdapter
from core.destinations.slack import slack_url
from core.notices import Message
from tests.bot.slack.fake_slack import TEAM, FakeSlack

TOKEN = "xoxb-delivery-test"


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    """A fake Slack Web API on a free port."""
    server = FakeSlack()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
async def sender(fake: FakeSlack) -> AsyncIterator[Sender]:
    """A sender that posts to the fake Slack with the workspace's token."""
    sender = Sender(allow_private=False, adapters=[SlackAdapter(token=TOKEN, api_url=fake.api_url, interval=0.5)])
    yield sender
    await sender.aclose()


def slack(channel: str, *, team: str = TEAM, tenant: str = TEAM) -> Destination:
    """A Slack destination of an event in workspace `tenant`."""
    return Destination(slack_url(team, channel), platform="slack", tenant=tenant, internal=True)


async def test_a_rate_limited_message_is_retried_after_retry_after_not_lost(fake: FakeSlack, sender: Sender) -> None:
    """A 429 with Retry-After is waited out and the message is delivered once."""
    fake.rate_limit["C1"] = 1
    outcome = await sender.send(slack("C1"), Message("Reminder: Quiz", ("Soon.",)))
    assert outcome.delivered
    attempts = fake.methods("chat.postMessage")
    assert len(attempts) == 2 and attempts[1].at - attempts[0].at >= 0.9
    assert attempts[1].body == {"channel": "C1", "text": "*Reminder: Quiz*\nSoon."}
    assert attempts[1].headers["Authorization"] == f"Bearer {TOKEN}"


async def test_messages_to_one_channel_are_spaced_and_other_channels_are_not_held_up(
    fake: FakeSlack, sender: Sender
) -> None:
    """Three messages to one channel go out at least the interval apart; another channel goes out at once."""
    sends = [sender.send(slack("C1"), Message("t", (str(i),))) for i in range(3)]
    sends.append(sender.send(slack("U2"), Message("t", ("dm",))))
    outcomes = await asyncio.gather(*sends)
    assert all(o.delivered for o in outcomes)
    times = sorted(c.at for c in fake.posts("C1"))
    assert len(times) == 3 and all(b - a >= 0.45 for a, b in itertools.pairwise(times))
    assert fake.posts("U2")[0].at - times[0] < 0.4


async def test_without_a_bot_token_slack_destinations_fail_plainly(fake: FakeSlack) -> None:
    """Without a configured bot token the destination fails plainly; the token never appears in a reason."""
    outcome = await Sender(allow_private=False).send(slack("C1"), Message("t", ("b",)))
    assert not outcome.delivered and "SLACK_BOT_TOKEN" in str(outcome.error) and TOKEN not in str(outcome.error)
    assert fake.calls == []


async def test_a_channel_of_another_workspace_is_refused_and_never_posted(fake: FakeSlack, sender: Sender) -> None:
    """An event of one workspace cannot post into a channel named with another workspace's id."""
    outcome = await sender.send(slack("C9", team="T0OTHER"), Message("t", ("b",)))
    assert not outcome.delivered and outcome.final and "workspace" in str(outcome.error)
    assert fake.posts("C9") == []


async def test_a_workspace_the_token_does_not_belong_to_is_refused(fake: FakeSlack, sender: Sender) -> None:
    """The one bot token posts only into its own workspace, even for an event of another workspace."""
    outcome = await sender.send(slack("C9", team="T0OTHER", tenant="T0OTHER"), Message("t", ("b",)))
    assert not outcome.delivered and outcome.final and "token" in str(outcome.error)
    assert fake.posts("C9") == []


async def test_mentions_and_markup_in_user_text_are_escaped(fake: FakeSlack, sender: Sender) -> None:
    """A name with <!channel>, a user mention and & reaches Slack escaped, so it pings no one."""
    outcome = await sender.send(slack("C1"), Message("Reminder: <!channel> & <@U1>", ("<!here> soon",)))
    assert outcome.delivered
    text = fake.posts("C1")[0].body["text"]
    assert "<!" not in text and "<@" not in text
    assert text == "*Reminder: &lt;!channel&gt; &amp; &lt;@U1&gt;*\n&lt;!here&gt; soon"


async def test_a_member_typed_slack_destination_is_never_delivered(fake: FakeSlack, sender: Sender) -> None:
    """The bot's own Slack scheme, given as a member's URL, is refused without any call to Slack."""
    member = Destination(slack_url(TEAM, "C1"), platform="slack", tenant=TEAM, internal=False)
    outcome = await sender.send(member, Message("t", ("b",)))
    assert not outcome.delivered and outcome.final
    assert fake.posts("C1") == []


async def test_reminder_times_use_slacks_date_markup_and_names_stay_escaped(fake: FakeSlack, sender: Sender) -> None:
    """The start is <!date^…> with a plain fallback in the event's zone; the user's text is still escaped."""
    start = datetime(2026, 12, 3, 19, 0, tzinfo=UTC)
    message = notices.reminder(
        name="<!channel> quiz", start=start, tz="Europe/Berlin", due=start, location="", link="", late=False
    )
    assert (await sender.send(slack("C1"), message)).delivered
    stamp = int(start.timestamp())
    assert fake.posts("C1")[0].body["text"] == (
        "*Reminder: &lt;!channel&gt; quiz*\n&lt;!channel&gt; quiz starts in a moment: "
        f"<!date^{stamp}^{{date_short_pretty}} at {{time}}|Thu 03 Dec 2026, 20:00 (Europe/Berlin)>."
    )


class Installed:
    """Each workspace's token, as the installations give them; a workspace not listed is not installed."""

    def __init__(self, tokens: dict[str, str]) -> None:
        self.tokens = tokens

    async def bot_token(self, team: str) -> str | None:
        return self.tokens.get(team)


async def test_each_workspace_is_posted_to_with_its_own_token(fake: FakeSlack) -> None:
    """With installations, a channel of each workspace gets its message with that workspace's token."""
    fake.teams.update({"xoxb-one": "T0ONE", "xoxb-two": "T0TWO"})
    adapter = SlackAdapter(tokens=Installed({"T0ONE": "xoxb-one", "T0TWO": "xoxb-two"}), api_url=fake.api_url)
    sender = Sender(allow_private=False, adapters=[adapter])
    try:
        for team, channel in (("T0ONE", "C1"), ("T0TWO", "C2")):
            assert (await sender.send(slack(channel, team=team, tenant=team), Message("t", ("b",)))).delivered
    finally:
        await sender.aclose()
    assert [c.token for c in fake.posts("C1")] == ["xoxb-one"] and [c.token for c in fake.posts("C2")] == ["xoxb-two"]


async def test_a_workspace_without_installation_or_with_a_revoked_token_is_refused_for_good(fake: FakeSlack) -> None:
    """Not installed: refused without a call; a token Slack says is revoked: refused as final, nothing posted."""
    fake.teams["xoxb-gone"] = "T0GONE"
    fake.revoked.add("xoxb-gone")
    adapter = SlackAdapter(tokens=Installed({"T0GONE": "xoxb-gone"}), api_url=fake.api_url)
    sender = Sender(allow_private=False, adapters=[adapter])
    try:
        missing = await sender.send(slack("C1", team="T0NONE", tenant="T0NONE"), Message("t", ("b",)))
        assert fake.calls == []
        revoked = await sender.send(slack("C2", team="T0GONE", tenant="T0GONE"), Message("t", ("b",)))
    finally:
        await sender.aclose()
    assert not missing.delivered and missing.final and "not installed" in str(missing.error)
    assert not revoked.delivered and revoked.final and "token_revoked" in str(revoked.error)
    assert fake.methods("chat.postMessage") == []


async def test_only_a_direct_message_carries_the_remind_me_again_button(fake: FakeSlack, sender: Sender) -> None:
    """A reminder's snooze button goes to a member's DM (a user id), never into a channel; user text is escaped."""
    offer = notices.SnoozeOffer(7, datetime(2026, 12, 5, 19, 0, tzinfo=UTC), 900)
    message = Message("Reminder: <!channel> Quiz", ("Soon.",), offer)
    assert (await sender.send(slack("U0MEMBER"), message)).delivered
    assert (await sender.send(slack("C1"), message)).delivered
    dm, channel = fake.methods("chat.postMessage")
    section, actions = dm.body["blocks"]
    assert section["text"]["text"] == dm.body["text"] == "*Reminder: &lt;!channel&gt; Quiz*\nSoon."
    (button,) = actions["elements"]
    assert button["value"] == f"7:{int(offer.due.timestamp())}"
    assert button["text"]["text"] == "Remind me again in 15 minutes"
    assert "blocks" not in channel.body
