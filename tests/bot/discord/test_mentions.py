"""Nothing the Discord front end sends can mention anyone from user text, and no internal address is shown."""

from __future__ import annotations

from typing import Any

from tests.bot.discord.conftest import Harness
from tests.bot.discord.fake import CHANNEL_ID
from tests.bot.discord.test_commands import run
from tests.bot.discord.test_reminders import MEMBER, ORGANIZER, custom_ids

PINGS = "Pizza @everyone @here <@123> <@&456>"


def pings_no_one(body: dict[str, Any]) -> bool:
    """Whether Discord would notify no one for this message: nothing parsed, no user or role allowed."""
    allowed = body.get("allowed_mentions")
    return (
        isinstance(allowed, dict)
        and allowed.get("parse") == []
        and not allowed.get("users")
        and not allowed.get("roles")
        and not allowed.get("replied_user")
    )


async def test_mentions_in_an_event_name_ping_no_one(discord_bot: Harness) -> None:
    """An event called "Pizza @everyone @here <@123> <@&456>" is announced, updated, shown and cancelled silently."""
    h = discord_bot
    announcement = await h.fake.answer(await h.fake.command(ORGANIZER, "event create", name=PINGS, start="in 3 days"))
    assert announcement["embeds"][0]["title"] == PINGS
    await h.fake.answer(await h.fake.press(MEMBER, custom_ids(announcement)[0], announcement))
    await run(h, ORGANIZER, "event update", event=PINGS, start="in 4 days", location="@everyone's place")
    await run(h, MEMBER, "event info", event=PINGS)
    await run(h, MEMBER, "event list")
    await run(h, MEMBER, "event cancel", event=PINGS)
    await run(h, ORGANIZER, "event cancel", event=PINGS)
    sent = h.fake.sent()
    assert len(sent) >= 7
    assert [b for b in sent if not pings_no_one(b)] == []


async def test_update_reply_does_not_show_the_internal_channel_address(discord_bot: Harness) -> None:
    """The public /event update reply shows the event, not the bot's delivery address for the channel."""
    h = discord_bot
    await h.fake.answer(await h.fake.command(ORGANIZER, "event create", name="Quiz", start="in 3 days"))
    shown = await run(h, ORGANIZER, "event update", event="Quiz", start="in 4 days")
    assert "soonishdiscord" not in str(shown) and str(CHANNEL_ID) not in str(shown.get("embeds"))
    assert "updated" in shown["content"].lower() and shown["embeds"][0]["title"] == "Quiz"
