"""The Discord path end to end: /event create, the Subscribe button, and the reminder by DM and in the channel."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from tests.bot.discord.conftest import TOKEN, Harness
from tests.bot.discord.fake import CHANNEL_ID, dm_channel

ORGANIZER = 100000000000000001
MEMBER = 100000000000000002


def custom_ids(message: dict[str, Any]) -> list[str]:
    """The custom ids of a message's buttons."""
    return [
        c["custom_id"] for row in message.get("components", []) for c in row.get("components", []) if "custom_id" in c
    ]


async def create(h: Harness, start: str, **options: Any) -> dict[str, Any]:
    """The organizer runs /event create; returns the announcement the channel sees."""
    iid = await h.fake.command(ORGANIZER, "event create", name="Game night", start=start, **options)
    return await h.fake.answer(iid)


async def wait_until(predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_event_create_posts_announcement_with_buttons(discord_bot: Harness) -> None:
    """/event create answers in the channel with an embed and Subscribe / Unsubscribe buttons."""
    shown = await create(discord_bot, "in 3 days", remind="1h")
    assert not int(shown.get("flags") or 0) & 64
    embed = shown["embeds"][0]
    assert embed["title"] == "Game night"
    assert "<t:" in embed["fields"][0]["value"] and ":R>" in embed["fields"][0]["value"]
    ids = custom_ids(shown)
    assert len(ids) == 2 and ids[0].startswith("soonish:subscribe:") and ids[1].startswith("soonish:unsubscribe:")


async def test_subscribe_button_then_reminder_by_dm_and_in_channel_once(discord_bot: Harness) -> None:
    """Pressing Subscribe subscribes; at the due time the DM and the channel reminder arrive, once each."""
    h = discord_bot
    shown = await create(h, "in 14 seconds", remind="6s")
    message = h.fake.message(CHANNEL_ID, shown)
    iid = await h.fake.press(MEMBER, custom_ids(shown)[0], message)
    reply = await h.fake.answer(iid)
    assert int(reply["flags"]) & 64 and "Subscribed to Game night" in reply["content"]
    await wait_until(lambda: h.fake.posted(dm_channel(MEMBER)) and h.fake.posted(CHANNEL_ID), timeout=30)
    await asyncio.sleep(2)
    dms, channel = h.fake.posted(dm_channel(MEMBER)), h.fake.posted(CHANNEL_ID)
    assert len(dms) == 1 and len(channel) == 1
    assert "Game night" in dms[0]["content"] and "Game night" in channel[0]["content"]
    assert all(TOKEN not in c.raw for c in h.fake.calls)


async def test_event_log_shows_the_organizer_all_and_a_member_their_own(discord_bot: Harness) -> None:
    """/event log: the organizer sees the channel's and the member's deliveries; the member only theirs."""
    h = discord_bot
    await create(h, "in 12 seconds", remind="6s")
    await h.fake.answer(await h.fake.command(MEMBER, "subscribe", event="Game night", tags="dm"))
    await wait_until(lambda: h.fake.posted(dm_channel(MEMBER)) and h.fake.posted(CHANNEL_ID), timeout=30)
    await asyncio.sleep(1)
    everything = await h.fake.answer(await h.fake.command(ORGANIZER, "event log", event="Game night"))
    own = await h.fake.answer(await h.fake.command(MEMBER, "event log", event="Game night"))
    assert len(everything["content"].splitlines()) == 2 and "<t:" in everything["content"]
    assert len(own["content"].splitlines()) == 1 and "direct message" in own["content"]
