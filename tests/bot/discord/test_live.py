"""The announcement follows its event: a new time, a cancellation and the subscriber count are edited into it."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.bot.discord.conftest import Harness
from tests.bot.discord.test_commands import run
from tests.bot.discord.test_reminders import MEMBER, ORGANIZER, create, custom_ids


def field(message: dict[str, Any], name: str) -> str:
    """The value of one field of the message's embed."""
    return next(f["value"] for f in message["embeds"][0]["fields"] if f["name"] == name)


def edits(h: Harness, message_id: str) -> int:
    """How many times the bot edited one channel message."""
    return sum(1 for c in h.fake.calls if c.method == "PATCH" and c.path.endswith(f"/messages/{message_id}"))


async def test_announcement_shows_the_new_time_after_an_update(discord_bot: Harness) -> None:
    """/event update start:… edits the announcement to the new start; its buttons stay."""
    h = discord_bot
    shown = await create(h, "in 3 days")
    before = field(shown, "Starts")
    await run(h, ORGANIZER, "event update", event="Game night", start="in 5 days")
    message = h.fake.messages[shown["id"]]
    await h.fake.wait_for(lambda: field(message, "Starts") != before)
    assert len(custom_ids(message)) == 2 and message["allowed_mentions"]["parse"] == []


async def test_announcement_is_marked_cancelled_without_buttons(discord_bot: Harness) -> None:
    """/event cancel edits the announcement: it says cancelled and has no buttons left."""
    h = discord_bot
    shown = await create(h, "in 3 days")
    await run(h, ORGANIZER, "event cancel", event="Game night")
    message = h.fake.messages[shown["id"]]
    await h.fake.wait_for(lambda: "cancelled" in message["content"])
    assert custom_ids(message) == [] and "cancelled" in message["embeds"][0]["footer"]["text"]


async def test_subscriber_count_is_edited_once_for_a_burst_of_presses(discord_bot: Harness) -> None:
    """Three members press Subscribe within the debounce window: one edit shows 3 subscribed."""
    h = discord_bot
    h.bot.live.debounce = 1.0
    shown = await create(h, "in 3 days")
    presses = [h.fake.press(MEMBER + n, custom_ids(shown)[0], shown) for n in range(3)]
    for iid in await asyncio.gather(*presses):
        await h.fake.answer(iid)
    message = h.fake.messages[shown["id"]]
    await h.fake.wait_for(lambda: field(message, "Subscribed") == "3", timeout=5)
    await asyncio.sleep(h.bot.live.debounce + 0.5)
    assert edits(h, shown["id"]) == 1
