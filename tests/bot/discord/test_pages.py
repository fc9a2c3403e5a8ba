"""Long answers on Discord come as numbered pages within the 2,000-character limit; nothing is cut."""

from __future__ import annotations

from typing import Any

from tests.bot.discord.conftest import Harness
from tests.bot.discord.test_commands import private
from tests.bot.discord.test_reminders import ORGANIZER, create
from tests.bot.logs import add_deliveries


async def _log_pages(h: Harness, deliveries: int) -> tuple[list[str], list[dict[str, Any]]]:
    """The destinations of `deliveries` sent reminders of a new event, and every page /event log shows of them."""
    announcement = await create(h, "in 3 days")
    code = announcement["embeds"][0]["footer"]["text"].split()[1]
    destinations = await add_deliveries(h.runtime.core, code, deliveries)
    iid = await h.fake.command(ORGANIZER, "event log", event=code)
    await h.fake.answer(iid)
    await h.fake.wait_for(lambda: len(h.fake.shown(iid)) >= 2 and "page 1 of" in h.fake.shown(iid)[0]["content"])
    total = int(h.fake.shown(iid)[0]["content"].rsplit("of ", 1)[1].rstrip(")"))
    await h.fake.wait_for(lambda: len(h.fake.shown(iid)) == total)
    return destinations, h.fake.shown(iid)


async def test_event_log_of_40_deliveries_shows_all_of_them_across_pages(discord_bot: Harness) -> None:
    """/event log of 40 deliveries shows every one, in private messages of at most 2,000 characters."""
    destinations, pages = await _log_pages(discord_bot, 40)
    assert all(private(p) and len(p["content"]) <= 2000 for p in pages)
    text = "\n".join(p["content"] for p in pages)
    assert [d for d in destinations if text.count(d) != 1] == []


async def test_a_log_longer_than_one_answer_says_what_it_shows_and_where_the_rest_is(discord_bot: Harness) -> None:
    """/event log of 120 deliveries shows the newest 100 and says so, naming where the whole log is."""
    destinations, pages = await _log_pages(discord_bot, 120)
    text = "\n".join(p["content"] for p in pages)
    assert "The newest 100 of 120 deliveries" in text
    assert "/deliveries?offset=100" in text
    # The newest are the ones due last: the first 100 added (each one minute earlier than the one before).
    assert [d for d in destinations[:100] if text.count(d) != 1] == []
    assert [d for d in destinations[100:] if d in text] == []


async def test_a_2000_character_description_is_shown_whole_in_event_info(discord_bot: Harness) -> None:
    """/event info of an event with a 2,000-character description shows all of it."""
    h = discord_bot
    description = ("All about the evening. " * 100)[:1999] + "!"
    await create(h, "in 3 days", description=description)
    shown = await h.fake.answer(await h.fake.command(ORGANIZER, "event info", event="Game night"))
    assert private(shown)
    assert shown["embeds"][0]["description"] == description
