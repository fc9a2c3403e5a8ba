"""Long answers on Slack are split into section blocks within Slack's limits; nothing is cut."""

from __future__ import annotations

from bot.slack import blocks
from tests.bot.logs import add_deliveries
from tests.bot.slack.conftest import SlackBot
from tests.bot.slack.test_http import _create


async def test_event_log_of_40_deliveries_shows_all_of_them(slack: SlackBot) -> None:
    """/event log of 40 deliveries shows every one, each section within 3,000 characters, 50 blocks a message."""
    code = await _create(slack, 'create name:"Marathon" start:"in 3 days"')
    destinations = await add_deliveries(slack.rt.core, code, 40)
    await slack.command("/event", f"log {code}", name="log")
    replies = await slack.fake.wait_for(lambda: slack.responses("log"))
    assert all(r["response_type"] == "ephemeral" for r in replies)
    sections = [b for r in replies for b in r.get("blocks") or []]
    assert all(len(r.get("blocks") or []) <= blocks.BLOCK_LIMIT for r in replies)
    assert len(sections) >= 2 and all(len(b["text"]["text"]) <= blocks.SECTION_LIMIT for b in sections)
    text = "\n".join(b["text"]["text"] for b in sections)
    assert [d for d in destinations if text.count(d) != 1] == []


async def test_a_2000_character_description_is_shown_whole_in_event_info(slack: SlackBot) -> None:
    """/event info of an event whose 2,000-character description is all ampersands still shows all of it."""
    description = "&" * 2000
    code = await _create(slack, f'create name:"Quiz" start:"in 3 days" description:"{description}"')
    await slack.command("/event", f"info {code}", name="info")
    (reply,) = await slack.fake.wait_for(lambda: slack.responses("info"))
    texts = [b["text"]["text"] for b in reply["blocks"] if b["type"] == "section"]
    assert all(len(t) <= blocks.SECTION_LIMIT for t in texts)
    assert "".join(texts).count("&amp;") == 2000
