"""Slash commands on the fake Discord: permissions, bad input, private replies and the one error handler."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.dispatch import APOLOGY
from core import service
from tests.bot.discord.conftest import Harness
from tests.bot.discord.fake import CHANNEL_ID, dm_channel
from tests.bot.discord.test_reminders import MEMBER, ORGANIZER, create, wait_until

EPHEMERAL = 64
MANAGE_EVENTS = str(1 << 33)


def private(message: dict[str, Any]) -> bool:
    """Whether only the asking member sees the message."""
    return bool(int(message.get("flags") or 0) & EPHEMERAL)


async def run(h: Harness, user_id: int, words: str, **options: Any) -> dict[str, Any]:
    """A member runs a command; returns what they see."""
    return await h.fake.answer(await h.fake.command(user_id, words, **options))


async def test_non_organizer_cancel_is_refused(discord_bot: Harness) -> None:
    """A member who is not the organizer cannot cancel; the refusal is private."""
    await create(discord_bot, "in 3 days")
    shown = await run(discord_bot, MEMBER, "event cancel", event="Game night")
    assert private(shown)
    assert "organizer" in shown["content"].lower()
    info = await run(discord_bot, MEMBER, "event info", event="Game night")
    assert "scheduled" in info["embeds"][0]["footer"]["text"]


async def test_member_with_manage_events_may_cancel(discord_bot: Harness) -> None:
    """A member with Manage Events counts as a tenant admin."""
    await create(discord_bot, "in 3 days")
    shown = await run(discord_bot, MEMBER, "event cancel", event="Game night", permissions=MANAGE_EVENTS)
    assert not private(shown) and "cancelled" in shown["content"]


async def test_organizer_cancel_notifies_subscribers(discord_bot: Harness) -> None:
    """The organizer cancels; the subscriber gets a cancellation DM."""
    h = discord_bot
    await create(h, "in 3 days")
    sub = await run(h, MEMBER, "subscribe", event="Game night", tags="dm")
    assert private(sub) and "Subscribed" in sub["content"]
    shown = await run(h, ORGANIZER, "event cancel", event="Game night")
    assert "cancelled" in shown["content"] and "1 subscriber" in shown["content"]
    await wait_until(lambda: h.fake.posted(dm_channel(MEMBER)), timeout=20)
    assert "Game night" in h.fake.posted(dm_channel(MEMBER))[0]["content"]


async def test_guarded_integration_url_is_refused_privately_and_never_shown(discord_bot: Harness) -> None:
    """/integration add with a loopback URL is refused in a private reply; its secret is in no request."""
    secret = "Sup3rS3cretPw77"
    shown = await run(discord_bot, MEMBER, "integration add", url=f"json://me:{secret}@127.0.0.1:9/hook", tags="hook")
    assert private(shown)
    assert "private" in shown["content"].lower() or "loopback" in shown["content"].lower()
    assert all(secret not in call.raw for call in discord_bot.fake.calls)


async def test_integration_list_is_private(discord_bot: Harness) -> None:
    """Replies about integrations are private even when empty."""
    shown = await run(discord_bot, MEMBER, "integration list")
    assert private(shown) and "no destinations" in shown["content"]


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"start": "whenever it suits"}, "start"),
        ({"start": "in 3 days", "remind": "sometimes"}, "remind"),
        ({"start": "in 3 days", "timezone": "Mars/Olympus"}, "zone"),
    ],
)
async def test_bad_option_values_get_clear_private_errors(
    discord_bot: Harness, options: dict[str, str], expected: str
) -> None:
    """A bad time, offset or zone is explained privately and nothing is posted."""
    shown = await run(discord_bot, ORGANIZER, "event create", name="Oops", **options)
    assert private(shown)
    assert expected in shown["content"].lower() and not shown.get("embeds")


async def test_unexpected_core_failure_still_answers(discord_bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """A core call that raises something unexpected is logged and the member gets a short private apology."""

    async def broken(**kwargs: Any) -> Any:
        raise RuntimeError("database on fire")

    monkeypatch.setattr(service, "create_event", broken)
    monkeypatch.setattr(service, "list_events", broken)
    for words, options in (("event create", {"name": "X", "start": "in 3 days"}), ("event list", {})):
        shown = await run(discord_bot, ORGANIZER, words, **options)
        assert private(shown) and shown["content"] == APOLOGY


async def test_closed_dms_fall_back_to_channel_with_mention(discord_bot: Harness) -> None:
    """A member whose DMs are closed gets the reminder in the channel with a mention; the log says so."""
    h = discord_bot
    h.fake.closed_dms.add(MEMBER)
    await create(h, "in 12 seconds", remind="1d")
    await run(h, MEMBER, "subscribe", event="Game night", tags="dm", remind="6s")
    await wait_until(lambda: h.fake.posted(CHANNEL_ID), timeout=30)
    await asyncio.sleep(1.5)
    posted = h.fake.posted(CHANNEL_ID)
    assert len(posted) == 1
    assert posted[0]["content"].startswith(f"<@{MEMBER}>")
    assert posted[0]["allowed_mentions"]["users"] == [str(MEMBER)]
    log = await run(h, MEMBER, "event log", event="Game night")
    assert "sent" in log["content"] and "closed" in log["content"]


async def test_rate_limited_reminder_is_retried_not_lost(discord_bot: Harness) -> None:
    """A 429 with retry_after on a reminder is waited out and the message still arrives once."""
    h = discord_bot
    h.fake.rate_limited.extend([0.3, 0.2])
    await create(h, "in 12 seconds", remind="6s")
    await wait_until(lambda: h.fake.posted(CHANNEL_ID), timeout=30)
    await asyncio.sleep(1.5)
    assert len(h.fake.posted(CHANNEL_ID)) == 1
    limited = [c for c in h.fake.calls if c.status == 429]
    assert len(limited) == 2


async def test_calendar_feed_address_is_private_and_rotates(discord_bot: Harness) -> None:
    """/calendar show gives the member's feed address privately; /calendar rotate gives a different one."""
    shown = await run(discord_bot, MEMBER, "calendar show")
    rotated = await run(discord_bot, MEMBER, "calendar rotate")
    first = [w for w in shown["content"].split() if "/calendar/" in w]
    second = [w for w in rotated["content"].split() if "/calendar/" in w]
    assert private(shown) and private(rotated)
    assert first and second and first != second
