"""Discord Scheduled Events: events mirrored in the server's Events list; Interested members get reminded."""

from __future__ import annotations

import asyncio
from datetime import datetime

from sqlalchemy import select

from core.models import EventParticipant
from tests.bot.discord.conftest import Harness
from tests.bot.discord.fake import GUILD_ID, dm_channel
from tests.bot.discord.test_commands import private, run
from tests.bot.discord.test_reminders import MEMBER, ORGANIZER, create, wait_until

EXTERNAL = 3
CANCELLED = 4
SEND_ONLY = str((1 << 10) | (1 << 11) | (1 << 14))


async def test_created_event_is_mirrored_as_an_external_scheduled_event(discord_bot: Harness) -> None:
    """/event create with Manage Events adds an external scheduled event with the place and an end."""
    await create(discord_bot, "in 3 days", location="Room 4")
    (mirror,) = discord_bot.fake.scheduled_events.values()
    assert mirror["name"] == "Game night" and mirror["entity_type"] == EXTERNAL
    assert mirror["entity_metadata"] == {"location": "Room 4"}
    start, end = (datetime.fromisoformat(mirror[k]) for k in ("scheduled_start_time", "scheduled_end_time"))
    assert end > start


async def test_mirror_follows_update_and_cancel(discord_bot: Harness) -> None:
    """An update moves the scheduled event; a cancellation cancels it."""
    h = discord_bot
    await create(h, "in 3 days")
    (mirror,) = h.fake.scheduled_events.values()
    before = mirror["scheduled_start_time"]
    await run(h, ORGANIZER, "event update", event="Game night", start="in 5 days", name="Game night II")
    await h.fake.wait_for(lambda: mirror["scheduled_start_time"] != before and mirror["name"] == "Game night II")
    await run(h, ORGANIZER, "event cancel", event="Game night II")
    await h.fake.wait_for(lambda: mirror["status"] == CANCELLED)


async def test_missing_manage_events_is_said_to_the_organizer(discord_bot: Harness) -> None:
    """Without Manage Events no mirror is made, and the organizer alone is told what permission would do it."""
    h = discord_bot
    h.fake.app_permissions = SEND_ONLY
    iid = await h.fake.command(ORGANIZER, "event create", name="Book club", start="in 4 days")
    await h.fake.wait_for(lambda: len(h.fake.shown(iid)) == 2)
    announcement, note = h.fake.shown(iid)
    assert not private(announcement) and announcement["embeds"][0]["title"] == "Book club"
    assert private(note) and "Manage Events" in note["content"]
    assert h.fake.scheduled_events == {}


async def test_interested_member_is_subscribed_and_reminded(discord_bot: Harness) -> None:
    """A member who marks the mirror Interested is subscribed with their defaults and gets the DM reminder."""
    h = discord_bot
    await create(h, "in 14 seconds", remind="6s")
    (mirror_id,) = h.fake.scheduled_events
    await h.fake.dispatch(
        "GUILD_SCHEDULED_EVENT_USER_ADD",
        {"guild_scheduled_event_id": mirror_id, "user_id": str(MEMBER), "guild_id": str(GUILD_ID)},
    )
    info = await run(h, ORGANIZER, "event info", event="Game night")
    for _ in range(50):
        subscribed = next(f["value"] for f in info["embeds"][0]["fields"] if f["name"] == "Subscribed")
        if subscribed == "1":
            break
        await asyncio.sleep(0.1)
        info = await run(h, ORGANIZER, "event info", event="Game night")
    assert subscribed == "1"
    await wait_until(lambda: h.fake.posted(dm_channel(MEMBER)), timeout=30)
    assert "Game night" in h.fake.posted(dm_channel(MEMBER))[0]["content"]


async def test_taking_back_interested_unsubscribes(discord_bot: Harness) -> None:
    """A member who removes their Interested mark is no longer subscribed."""
    h = discord_bot
    await create(h, "in 3 days")
    (mirror_id,) = h.fake.scheduled_events
    mark = {"guild_scheduled_event_id": mirror_id, "user_id": str(MEMBER), "guild_id": str(GUILD_ID)}

    async def subscribers() -> str:
        info = await run(h, ORGANIZER, "event info", event="Game night")
        return next(f["value"] for f in info["embeds"][0]["fields"] if f["name"] == "Subscribed")

    async def until(count: str) -> None:
        for _ in range(50):
            if await subscribers() == count:
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"never {count} subscribed")

    await h.fake.dispatch("GUILD_SCHEDULED_EVENT_USER_ADD", mark)
    await until("1")
    await h.fake.dispatch("GUILD_SCHEDULED_EVENT_USER_REMOVE", mark)
    await until("0")


async def test_interested_member_is_subscribed_with_their_settings(discord_bot: Harness) -> None:
    """An Interested mark subscribes with the member's /settings reminder times, not the event's."""
    h = discord_bot
    await run(h, MEMBER, "settings", remind="2d, 5h")
    await create(h, "in 3 days", remind="1h")
    (mirror_id,) = h.fake.scheduled_events
    await h.fake.dispatch(
        "GUILD_SCHEDULED_EVENT_USER_ADD",
        {"guild_scheduled_event_id": mirror_id, "user_id": str(MEMBER), "guild_id": str(GUILD_ID)},
    )

    async def offsets() -> list[str]:
        async with h.runtime.core.sessions() as session:
            return list((await session.execute(select(EventParticipant.custom_time_delta_seconds))).scalars())

    for _ in range(100):
        if await offsets():
            break
        await asyncio.sleep(0.1)
    assert await offsets() == ["172800,18000"]
