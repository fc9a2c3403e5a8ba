"""Snoozed reminders on the time-skipping server: sent again once, 10 minutes later, unless the member left."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from core.service import EventDraft, create_event, snooze, subscribe, unsubscribe
from tests.conftest import MEMBER, ORGANIZER
from tests.workflows.conftest import Skipping, eventually


@pytest.fixture
def console(skipping: Skipping) -> Iterator[list[str]]:
    """The titles of the messages the member's console direct messages show, in order."""
    titles: list[str] = []

    def shown(user: str, title: str, body: str) -> None:
        if user == MEMBER.user_id:
            titles.append(title)

    skipping.rt.core.sender.console.listen(shown)
    yield titles
    skipping.rt.core.sender.console.unlisten(shown)


async def reminded(sk: Skipping, titles: list[str]) -> tuple[int, datetime]:
    """An event in 2 hours, the member reminded by DM 1 hour before; (event id, the reminder's due instant)."""
    core = sk.rt.core
    start = sk.clock() + timedelta(hours=2)
    event = await create_event(core=core, actor=ORGANIZER, draft=EventDraft(name="Raid", start=start))
    await subscribe(core=core, actor=MEMBER, ref=event.code, tags="dm", custom_time_delta_seconds="1h")
    await sk.advance(timedelta(hours=1, seconds=5))

    async def arrived() -> bool:
        return titles == ["Reminder: Raid"]

    await eventually(arrived)
    return event.id, event.start_at - timedelta(hours=1)


async def test_snoozed_reminder_comes_again_ten_minutes_later_once(skipping: Skipping, console: list[str]) -> None:
    """Snoozed twice, the reminder comes again once, 10 minutes after the snooze and not before."""
    event_id, due = await reminded(skipping, console)
    core = skipping.rt.core
    first = await snooze(core=core, actor=MEMBER, event_id=event_id, due=due)
    second = await snooze(core=core, actor=MEMBER, event_id=event_id, due=due)
    assert first.new and not second.new and first.due_at == second.due_at
    await skipping.advance(timedelta(minutes=9))
    assert console == ["Reminder: Raid"]
    await skipping.advance(timedelta(minutes=1, seconds=30))

    async def again() -> bool:
        return console == ["Reminder: Raid", "Reminder again: Raid"]

    await eventually(again)
    await skipping.advance(timedelta(hours=1))  # past the start: the event completes
    assert console == ["Reminder: Raid", "Reminder again: Raid"]


async def test_unsubscribing_before_the_snooze_is_due_stops_it(skipping: Skipping, console: list[str]) -> None:
    """A member who unsubscribes after snoozing gets nothing more."""
    event_id, due = await reminded(skipping, console)
    core = skipping.rt.core
    await snooze(core=core, actor=MEMBER, event_id=event_id, due=due)
    await unsubscribe(core=core, actor=MEMBER, ref=event_id)
    await skipping.advance(timedelta(minutes=15))
    assert console == ["Reminder: Raid"]
    await skipping.advance(timedelta(hours=1))  # past the start: the event completes
    assert console == ["Reminder: Raid"]


async def test_a_later_occurrence_of_a_series_can_be_snoozed(skipping: Skipping, console: list[str]) -> None:
    """In a daily series, the reminder of the second occurrence (the series' first start long past) is snoozed
    and comes again once, 10 minutes later."""
    core = skipping.rt.core
    start = skipping.clock() + timedelta(hours=2)
    draft = EventDraft(name="Standup", start=start, repeat="daily", count=3)
    event = await create_event(core=core, actor=ORGANIZER, draft=draft)
    await subscribe(core=core, actor=MEMBER, ref=event.code, tags="dm", custom_time_delta_seconds="1h")
    await skipping.advance(timedelta(days=1, hours=1, seconds=5))

    async def second() -> bool:
        return console == ["Reminder: Standup", "Reminder: Standup"]

    await eventually(second)
    view = await snooze(core=core, actor=MEMBER, event_id=event.id, due=event.start_at + timedelta(days=1, hours=-1))
    assert view.new
    await skipping.advance(timedelta(minutes=10, seconds=30))

    async def again() -> bool:
        return console == ["Reminder: Standup", "Reminder: Standup", "Reminder again: Standup"]

    await eventually(again)
