"""Buttons after a restart, the Unsubscribe button, autocomplete and the /event create form."""

from __future__ import annotations

import asyncio
from typing import Any

from bot.discord import build_bot
from tests.bot.discord.conftest import TOKEN, Harness
from tests.bot.discord.fake import CHANNEL_ID
from tests.bot.discord.test_commands import private, run
from tests.bot.discord.test_reminders import MEMBER, ORGANIZER, create, custom_ids


async def test_buttons_keep_working_after_a_restart(discord_bot: Harness) -> None:
    """An announcement posted by one bot process still subscribes when pressed after the bot restarted."""
    h = discord_bot
    shown = await create(h, "in 3 days")
    message = h.fake.message(CHANNEL_ID, shown)
    await h.bot.close()
    fresh = build_bot(h.runtime.core, api_base=h.fake.rest_base)
    task = asyncio.create_task(fresh.start(TOKEN))
    try:
        for _ in range(400):
            if fresh.is_ready():
                break
            await asyncio.sleep(0.05)
        reply = await h.fake.answer(await h.fake.press(MEMBER, custom_ids(shown)[0], message))
        assert private(reply) and "Subscribed to Game night" in reply["content"]
    finally:
        await fresh.close()
        await asyncio.gather(task, return_exceptions=True)


async def test_unsubscribe_button(discord_bot: Harness) -> None:
    """Unsubscribe after Subscribe removes the subscription, privately."""
    h = discord_bot
    shown = await create(h, "in 3 days")
    message = h.fake.message(CHANNEL_ID, shown)
    subscribe_id, unsubscribe_id = custom_ids(shown)
    await h.fake.answer(await h.fake.press(MEMBER, subscribe_id, message))
    reply = await h.fake.answer(await h.fake.press(MEMBER, unsubscribe_id, message))
    assert private(reply) and reply["content"] == "Unsubscribed from Game night."
    again = await h.fake.answer(await h.fake.press(MEMBER, unsubscribe_id, message))
    assert private(again) and "not subscribed" in again["content"]


async def test_event_option_autocompletes_upcoming_events(discord_bot: Harness) -> None:
    """Typing part of a name offers the guild's upcoming events, by name, with their code as the value."""
    h = discord_bot
    await create(h, "in 3 days")
    await run(h, ORGANIZER, "event create", name="Book club", start="in 4 days")
    iid = await h.fake.autocomplete(MEMBER, "subscribe", "event", "game")
    shown: list[dict[str, Any]] = []
    for _ in range(200):
        shown = [r for r in h.fake.responses(iid) if r.get("type") == 8]
        if shown:
            break
        await asyncio.sleep(0.02)
    choices = shown[0]["choices"]
    assert [c["name"].split(" (")[0] for c in choices] == ["Game night"]


async def test_event_create_without_options_opens_a_form(discord_bot: Harness) -> None:
    """/event create with no name and start opens a modal; submitting it posts the announcement."""
    h = discord_bot
    iid = await h.fake.command(ORGANIZER, "event create")
    modal: list[dict[str, Any]] = []
    for _ in range(200):
        modal = [r for r in h.fake.responses(iid) if r.get("type") == 9]
        if modal:
            break
        await asyncio.sleep(0.02)
    form = modal[0]
    inputs = [c["custom_id"] for row in form["components"] for c in row["components"]]
    values = dict(zip(inputs, ["Picnic", "in 5 days", "", "Bring food", "2h"], strict=True))
    shown = await h.fake.answer(await h.fake.submit(ORGANIZER, form["custom_id"], values))
    assert shown["embeds"][0]["title"] == "Picnic"
    assert custom_ids(shown)[0].startswith("soonish:subscribe:")
