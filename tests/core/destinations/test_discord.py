"""Discord deliveries through the bot's REST API, against the fake Discord: scope, pacing, nonces, closed DMs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from core import notices
from core.destinations import Destination, DiscordAdapter, Sender
from core.destinations.discord import channel_url, dm_url
from core.notices import Message
from tests.bot.discord.fake import CHANNEL_ID, GUILD_ID, FakeDiscord, dm_channel

TOKEN = "fake.bot-token.Zq81xPp"
MEMBER = 500000000000000001
OTHER_GUILD = 800000000000000999
OTHER_CHANNEL = 700000000000000999


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    """A fake Discord REST API on a free port; one channel of another server is visible to the bot."""
    server = FakeDiscord()
    server.channel_guilds[OTHER_CHANNEL] = OTHER_GUILD
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def sender(fake: FakeDiscord) -> AsyncIterator[Sender]:
    """A sender with the bot's Discord adapter pointed at the fake."""
    sender = Sender(allow_private=False, adapters=[DiscordAdapter(token=TOKEN, base_url=fake.rest_base)])
    yield sender
    await sender.aclose()


def to(url: str, guild: int = GUILD_ID) -> Destination:
    """A destination the bot built for an event of `guild`."""
    return Destination(url, platform="discord", tenant=str(guild), internal=True)


def dm_opens(fake: FakeDiscord) -> int:
    """How often the bot asked Discord for a DM channel."""
    return sum(1 for c in fake.calls if c.method == "POST" and c.path == "/users/@me/channels")


async def test_a_channel_of_another_server_is_refused_and_never_posted(fake: FakeDiscord, sender: Sender) -> None:
    """An event of one server cannot make the bot post into a channel of another server."""
    outcome = await sender.send(to(channel_url(OTHER_CHANNEL)), Message("t", ("b",)), key="k1")
    assert not outcome.delivered and outcome.final and "server" in str(outcome.error)
    assert fake.posted(OTHER_CHANNEL) == []


async def test_a_member_typed_discord_destination_is_never_delivered(fake: FakeDiscord, sender: Sender) -> None:
    """The bot's own Discord scheme given as a member's URL is refused without any call to Discord."""
    member = Destination(channel_url(CHANNEL_ID), platform="discord", tenant=str(GUILD_ID), internal=False)
    outcome = await sender.send(member, Message("t", ("b",)))
    assert not outcome.delivered and outcome.final
    assert fake.calls == []


async def test_a_retried_send_posts_once_thanks_to_its_nonce(fake: FakeDiscord, sender: Sender) -> None:
    """The same delivery sent twice carries the same nonce with enforce_nonce, and appears once."""
    for _ in range(2):
        assert (await sender.send(to(channel_url(CHANNEL_ID)), Message("Reminder", ("soon",)), key="k2")).delivered
    posts = [c.body for c in fake.calls if c.method == "POST" and c.path == f"/channels/{CHANNEL_ID}/messages"]
    assert len(posts) == 2 and posts[0]["nonce"] == posts[1]["nonce"] and posts[0]["enforce_nonce"] is True
    assert len(posts[0]["nonce"]) <= 25
    assert len(fake.posted(CHANNEL_ID)) == 1


async def test_a_members_dm_channel_is_opened_once_and_reused(fake: FakeDiscord, sender: Sender) -> None:
    """Three reminders to one member open their DM channel once."""
    for i in range(3):
        assert (await sender.send(to(dm_url(MEMBER)), Message("t", (str(i),)), key=f"dm{i}")).delivered
    assert dm_opens(fake) == 1
    assert [m["content"] for m in fake.posted(dm_channel(MEMBER))] == ["**t**\n0", "**t**\n1", "**t**\n2"]


async def test_closed_dms_fall_back_to_the_channel_and_are_not_retried_every_time(
    fake: FakeDiscord, sender: Sender
) -> None:
    """A member with closed DMs is mentioned in the channel; the next reminder goes there without a DM try."""
    fake.closed_dms.add(MEMBER)
    first = await sender.send(to(dm_url(MEMBER, channel_url(CHANNEL_ID))), Message("t", ("a",)), key="c1")
    second = await sender.send(to(dm_url(MEMBER, channel_url(CHANNEL_ID))), Message("t", ("b",)), key="c2")
    assert first.delivered and second.delivered and "closed" in str(first.note)
    dm_tries = [c for c in fake.calls if c.path == f"/channels/{dm_channel(MEMBER)}/messages"]
    assert len(dm_tries) == 1
    posted = fake.posted(CHANNEL_ID)
    assert [p["content"] for p in posted] == [f"<@{MEMBER}> **t**\na", f"<@{MEMBER}> **t**\nb"]
    assert all(p["allowed_mentions"] == {"parse": [], "users": [str(MEMBER)]} for p in posted)


async def test_closed_dms_without_a_channel_fail_for_good(fake: FakeDiscord, sender: Sender) -> None:
    """With no channel to fall back to, closed DMs are a final failure, not retried."""
    fake.closed_dms.add(MEMBER)
    outcome = await sender.send(to(dm_url(MEMBER)), Message("t", ("b",)), key="c3")
    assert not outcome.delivered and outcome.final and "closed" in str(outcome.error)


async def test_user_text_mentions_nobody(fake: FakeDiscord, sender: Sender) -> None:
    """A name with @everyone and role mentions is posted with no mention allowed."""
    await sender.send(to(channel_url(CHANNEL_ID)), Message("Pizza @everyone <@&1> <@2>", ("@here",)), key="m")
    (posted,) = fake.posted(CHANNEL_ID)
    assert posted["allowed_mentions"] == {"parse": [], "users": []}


async def test_a_429_holds_back_later_sends_to_the_route_until_retry_after(fake: FakeDiscord, sender: Sender) -> None:
    """A send that starts while a 429's retry_after runs waits for it, instead of being limited again."""
    fake.rate_limited.append(0.6)
    first = asyncio.create_task(sender.send(to(channel_url(CHANNEL_ID)), Message("t", ("0",)), key="r0"))
    await asyncio.sleep(0.2)
    second = await sender.send(to(channel_url(CHANNEL_ID)), Message("t", ("1",)), key="r1")
    assert (await first).delivered and second.delivered
    posts = [c for c in fake.calls if c.path == f"/channels/{CHANNEL_ID}/messages"]
    limited = [c for c in posts if c.status == 429]
    assert len(limited) == 1 and len(posts) == 3
    assert all(c.at - limited[0].at >= 0.55 for c in posts if c.status == 200)
    assert sorted(p["content"] for p in fake.posted(CHANNEL_ID)) == ["**t**\n0", "**t**\n1"]


async def test_reminder_times_use_discords_timestamp_markup(fake: FakeDiscord, sender: Sender) -> None:
    """The start time is written as <t:…:F> and <t:…:R>, which every reader sees in their own zone."""
    start = datetime(2026, 12, 3, 19, 0, tzinfo=UTC)
    message = notices.reminder(
        name="Game night", start=start, tz="Europe/Berlin", due=start, location="", link="", late=False
    )
    assert (await sender.send(to(channel_url(CHANNEL_ID)), message, key="t1")).delivered
    stamp = int(start.timestamp())
    (posted,) = fake.posted(CHANNEL_ID)
    assert (
        posted["content"] == f"**Reminder: Game night**\nGame night starts in a moment: <t:{stamp}:F> (<t:{stamp}:R>)."
    )


async def test_only_a_direct_message_carries_the_remind_me_again_button(fake: FakeDiscord, sender: Sender) -> None:
    """A reminder's snooze button goes with a DM, but not with the channel post of a member whose DMs are closed."""
    offer = notices.SnoozeOffer(7, datetime(2026, 12, 5, 19, 0, tzinfo=UTC))
    message = Message("Reminder: Quiz", ("Soon.",), offer)
    assert (await sender.send(to(dm_url(MEMBER)), message, key="s1")).delivered
    (dm,) = fake.posted(dm_channel(MEMBER))
    (button,) = dm["components"][0]["components"]
    assert button["custom_id"] == f"soonish:snooze:7:{int(offer.due.timestamp())}:{GUILD_ID}"
    assert button["label"] == "Remind me again in 10 minutes"
    other = MEMBER + 10
    fake.closed_dms.add(other)
    assert (await sender.send(to(dm_url(other, channel_url(CHANNEL_ID))), message, key="s2")).delivered
    (fallback,) = fake.posted(CHANNEL_ID)
    assert "components" not in fallback
