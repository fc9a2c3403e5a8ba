"""Who sees a reply is decided before any deferral: a slow core still gives public results publicly."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.discord import replies
from core import service
from tests.bot.discord.conftest import Harness
from tests.bot.discord.test_commands import private, run
from tests.bot.discord.test_reminders import MEMBER, ORGANIZER, create, custom_ids

SLOWER_THAN_ACK = replies.ACK_WITHIN + 1.0


def slowed(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make one core call take longer than Discord lets a response wait."""
    original = getattr(service, name)

    async def slow(**kwargs: Any) -> Any:
        await asyncio.sleep(SLOWER_THAN_ACK)
        return await original(**kwargs)

    monkeypatch.setattr(service, name, slow)


async def test_slow_create_still_announces_publicly_with_buttons(
    discord_bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the core slower than the acknowledgement window, /event create's announcement is public, with buttons."""
    slowed(monkeypatch, "create_event")
    shown = await create(discord_bot, "in 3 days")
    deferrals = [r for r in discord_bot.fake.calls if r.path.endswith("/callback") and r.body.get("type") == 5]
    assert deferrals, "the slow call was not deferred"
    assert not private(shown)
    assert shown["embeds"][0]["title"] == "Game night" and len(custom_ids(shown)) == 2


async def test_slow_cancel_reply_is_public(discord_bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """A slow /event cancel still tells the channel."""
    await create(discord_bot, "in 3 days")
    slowed(monkeypatch, "cancel_event")
    shown = await run(discord_bot, ORGANIZER, "event cancel", event="Game night")
    assert not private(shown) and "cancelled" in shown["content"]


async def test_slow_refusal_of_a_public_command_stays_private(
    discord_bot: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slow /event cancel that is refused tells only the member who asked, never the channel."""
    await create(discord_bot, "in 3 days")
    slowed(monkeypatch, "cancel_event")
    iid = await discord_bot.fake.command(MEMBER, "event cancel", event="Game night")
    shown = await discord_bot.fake.answer(iid)
    assert private(shown) and "organizer" in shown["content"].lower()
    assert all(private(m) for m in discord_bot.fake.shown(iid))


async def test_slow_private_answer_is_deferred_privately(discord_bot: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    """A slow /event info is private from its deferral on."""
    await create(discord_bot, "in 3 days")
    slowed(monkeypatch, "show_event")
    iid = await discord_bot.fake.command(MEMBER, "event info", event="Game night")
    shown = await discord_bot.fake.answer(iid)
    assert private(shown) and "Game night" in str(shown)
    (deferral,) = [c for c in discord_bot.fake.calls if c.path.startswith(f"/interactions/{iid}/")]
    assert deferral.body["type"] == 5 and private(deferral.body["data"])
