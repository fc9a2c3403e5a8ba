"""Per-member defaults on the Subscribe button, /follow, and the announcement's .ics link, on the fake Discord."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime
from typing import Any

import icalendar

from tests.bot.conftest import serve_api
from tests.bot.discord.conftest import Harness
from tests.bot.discord.fake import CHANNEL_ID
from tests.bot.discord.test_commands import private, run
from tests.bot.discord.test_reminders import MEMBER, ORGANIZER, create, custom_ids

PUBLIC_URL = "https://soonish.example.test"


def link_buttons(message: dict[str, Any]) -> list[str]:
    """The URLs of a message's link buttons."""
    return [c["url"] for row in message.get("components", []) for c in row.get("components", []) if c.get("url")]


async def test_subscribe_button_uses_the_members_defaults(discord_bot: Harness) -> None:
    """After /settings, pressing Subscribe subscribes with the member's own reminder times, not the event's."""
    h = discord_bot
    saved = await run(h, MEMBER, "settings", remind="1d, 3h", tags="dm")
    assert private(saved) and "reminders 1d, 3h; tags dm" in saved["content"]
    shown = await create(h, "in 3 days", remind="1h")
    message = h.fake.message(CHANNEL_ID, shown)
    reply = await h.fake.answer(await h.fake.press(MEMBER, custom_ids(shown)[0], message))
    assert private(reply) and "via dm; reminders: 1d, 3h." in reply["content"]
    plain = await h.fake.answer(await h.fake.press(ORGANIZER, custom_ids(shown)[0], message))
    assert "reminders: 1h." in plain["content"]


async def test_follow_subscribes_to_the_next_event_in_the_channel(discord_bot: Harness) -> None:
    """/follow in the channel; the next /event create there counts the follower and subscribes them."""
    h = discord_bot
    await run(h, MEMBER, "settings", remind="2h")
    followed = await run(h, MEMBER, "follow")
    assert private(followed) and f"You follow: <#{CHANNEL_ID}>" in followed["content"]
    shown = await create(h, "in 3 days")
    assert {"name": "Subscribed", "value": "1", "inline": True} in shown["embeds"][0]["fields"]
    again = await run(h, MEMBER, "subscribe", event="Game night")
    assert "reminders: 2h." in again["content"]


async def test_announcement_links_to_a_public_ics_of_the_event(discord_bot: Harness) -> None:
    """With a public URL set, the announcement has an "Add to calendar" link that opens the event's .ics."""
    h = discord_bot
    h.bot.core = dataclasses.replace(h.bot.core, public_url=PUBLIC_URL, public_links=True)
    shown = await create(h, "in 3 days")
    (url,) = link_buttons(shown)
    assert re.fullmatch(re.escape(PUBLIC_URL) + r"/calendar/event/[0-9]+/[A-Za-z0-9_-]{43}\.ics", url)
    info = await run(h, MEMBER, "event info", event="Game night")
    assert link_buttons(info) == [url]
    starts = shown["embeds"][0]["fields"][0]
    assert starts["name"] == "Starts"
    unix = int(starts["value"].split(":")[1])  # "<t:UNIX:F> (<t:UNIX:R>)"
    async with serve_api(h.bot.core) as api:
        response = await api.get(url.removeprefix(PUBLIC_URL))
        assert response.status_code == 200
        (event,) = icalendar.Calendar.from_ical(response.content).walk("VEVENT")
        assert str(event["SUMMARY"]) == "Game night"
        assert event.decoded("DTSTART").astimezone(UTC) == datetime.fromtimestamp(unix, UTC)
        assert (await api.get(url.removeprefix(PUBLIC_URL)[:-10] + "AAAAAA.ics")).status_code == 404
