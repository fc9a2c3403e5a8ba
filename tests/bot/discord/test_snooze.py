"""The "Remind me again" button on a Discord reminder sent by direct message, pressed in the DM."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.bot.discord.conftest import Harness
from tests.bot.discord.fake import CHANNEL_ID, dm_channel
from tests.bot.discord.test_reminders import MEMBER, ORGANIZER, create, custom_ids, wait_until

# Reminded again this many seconds after the press, so a test sees it in seconds (the default is 10 minutes).
SNOOZE = 4


@pytest.fixture
def discord_settings() -> dict[str, Any]:
    """A short snooze."""
    return {"SOONISH_SNOOZE_SECONDS": SNOOZE}


def reminders(h: Harness, *, again: bool) -> list[dict[str, Any]]:
    """The member's reminder DMs: the first ones, or those sent again."""
    wanted = "**Reminder again:" if again else "**Reminder:"
    return [m for m in h.fake.posted(dm_channel(MEMBER)) if m["content"].startswith(wanted)]


async def reminded(h: Harness) -> dict[str, Any]:
    """Create an event in 12 s with a reminder 8 s before, subscribe the member by DM; the DM reminder."""
    await create(h, "in 12 seconds", remind="8s")
    await h.fake.answer(await h.fake.command(MEMBER, "subscribe", event="Game night", tags="dm"))
    await wait_until(lambda: reminders(h, again=False) and h.fake.posted(CHANNEL_ID), timeout=30)
    (dm,) = reminders(h, again=False)
    return dm


async def press(h: Harness, dm: dict[str, Any]) -> dict[str, Any]:
    """The member presses the reminder's button in their DMs; the answer they see."""
    message = h.fake.message(dm_channel(MEMBER), dm)
    return await h.fake.answer(await h.fake.press_in_dm(MEMBER, custom_ids(dm)[0], message))


async def test_dm_reminder_has_the_button_and_the_channel_reminder_has_none(discord_bot: Harness) -> None:
    """The DM reminder carries one "Remind me again" button naming the reminder; the channel's has no button."""
    dm = await reminded(discord_bot)
    (row,) = dm["components"]
    (button,) = row["components"]
    assert button["label"] == f"Remind me again in {SNOOZE} seconds"
    assert button["custom_id"].startswith("soonish:snooze:")
    assert dm["allowed_mentions"] == {"parse": [], "users": []}
    (channel,) = discord_bot.fake.posted(CHANNEL_ID)
    assert not channel.get("components")


async def test_pressing_twice_sends_the_reminder_again_once(discord_bot: Harness) -> None:
    """Pressed twice, the reminder comes again once, by DM, saying so; the second press says it is asked already."""
    h = discord_bot
    dm = await reminded(h)
    first = await press(h, dm)
    assert int(first["flags"]) & 64
    assert first["content"].startswith("I'll remind you again about Game night at <t:") and ":R>)" in first["content"]
    second = await press(h, dm)
    assert second["content"].startswith("You asked already: I'll remind you again")
    assert second["content"].split("<t:")[1] == first["content"].split("<t:")[1]
    assert not reminders(h, again=True)
    await wait_until(lambda: reminders(h, again=True), timeout=SNOOZE + 10)
    await asyncio.sleep(2)
    (again,) = reminders(h, again=True)
    assert "Game night starts in" in again["content"] and "You asked to be reminded again." in again["content"]
    assert len(reminders(h, again=False)) == 1 and len(h.fake.posted(CHANNEL_ID)) == 1


async def test_unsubscribing_before_it_is_due_stops_it(discord_bot: Harness) -> None:
    """A member who snoozes and then unsubscribes is not reminded again."""
    h = discord_bot
    dm = await reminded(h)
    assert "I'll remind you again" in (await press(h, dm))["content"]
    await h.fake.answer(await h.fake.command(MEMBER, "unsubscribe", event="Game night"))
    await asyncio.sleep(SNOOZE + 3)
    assert reminders(h, again=True) == []


async def test_a_press_too_close_to_the_start_is_refused(discord_bot: Harness) -> None:
    """Pressed when the event starts sooner than the snooze, the button says so and nothing is sent again."""
    h = discord_bot
    dm = await reminded(h)
    await asyncio.sleep(5)  # the event now starts in about 3 s, before a reminder 4 s from now
    refused = await press(h, dm)
    assert int(refused["flags"]) & 64
    assert refused["content"] == (
        f"'Game night' starts in less than {SNOOZE} seconds: a reminder that much later would come after its start."
    )
    await asyncio.sleep(SNOOZE)
    assert reminders(h, again=True) == []


async def test_cancelling_before_it_is_due_stops_it(discord_bot: Harness) -> None:
    """A snoozed reminder of an event cancelled before it is due is not sent; the cancellation notice is."""
    h = discord_bot
    dm = await reminded(h)
    assert "I'll remind you again" in (await press(h, dm))["content"]
    await h.fake.answer(await h.fake.command(ORGANIZER, "event cancel", event="Game night"))
    await wait_until(
        lambda: any(m["content"].startswith("**Cancelled:") for m in h.fake.posted(dm_channel(MEMBER))), timeout=10
    )
    await asyncio.sleep(SNOOZE + 1)
    assert reminders(h, again=True) == []
    (notice,) = [m for m in h.fake.posted(dm_channel(MEMBER)) if m["content"].startswith("**Cancelled:")]
    assert not notice.get("components")
