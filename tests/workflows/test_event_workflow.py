"""EventWorkflow on the time-skipping server: offsets, countdowns, moves, cancellation, collisions, lateness."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from core.models import NotificationLog
from core.scheduling import workflow_id
from core.service import (
    EventDraft,
    EventPatch,
    add_integration,
    cancel_event,
    create_event,
    show_event,
    subscribe,
    update_event,
)
from tests.conftest import MEMBER, ORGANIZER
from tests.sinks import HttpSink
from tests.workflows.conftest import Skipping, eventually
from workflows.event_workflow import INSTANTS_PER_RUN


async def _log(sk: Skipping) -> list[NotificationLog]:
    async with sk.rt.core.sessions() as session:
        return list((await session.execute(select(NotificationLog).order_by(NotificationLog.id))).scalars())


async def test_offsets_fire_once_each(skipping: Skipping, sink: HttpSink) -> None:
    """A member reminded 1d and 1h before gets exactly those two reminders."""
    core = skipping.rt.core
    start = skipping.clock() + timedelta(days=2)
    event = await create_event(core=core, actor=ORGANIZER, draft=EventDraft(name="Raid", start=start))
    await add_integration(core=core, actor=MEMBER, url=sink.url("/m"), tags="hook")
    await subscribe(core=core, actor=MEMBER, ref=event.code, tags="hook", custom_time_delta_seconds="1d, 1h")
    await skipping.advance(timedelta(days=1, minutes=1))
    await eventually(lambda: _count(sink, "/m", 1))
    await skipping.advance(timedelta(hours=23))
    await eventually(lambda: _count(sink, "/m", 2))
    await skipping.advance(timedelta(hours=2))
    assert len(sink.to("/m")) == 2
    assert "starts in 1d" in sink.to("/m")[0].body["message"]
    assert "starts in 1h" in sink.to("/m")[1].body["message"]


async def _count(sink: HttpSink, path: str, n: int) -> bool:
    return len(sink.to(path)) >= n


async def _member_with_hook(sk: Skipping, sink: HttpSink, path: str = "/m") -> None:
    await add_integration(core=sk.rt.core, actor=MEMBER, url=sink.url(path), tags="hook")


def _next_spring_forward(after: datetime) -> date:
    """The next last-Sunday-of-March (Europe's change to summer time) at least a week after `after`."""
    year = after.year
    while True:
        last = date(year, 3, 31)
        sunday = last - timedelta(days=(last.weekday() + 1) % 7)
        if sunday > (after + timedelta(days=7)).date():
            return sunday
        year += 1


async def test_daily_countdown_keeps_local_time_across_dst(skipping: Skipping, sink: HttpSink) -> None:
    """A daily countdown fires at the event's local wall-clock time on both sides of a DST change."""
    core = skipping.rt.core
    change = _next_spring_forward(skipping.clock())
    target = datetime.combine(change - timedelta(days=3), time(12), tzinfo=UTC)
    await skipping.advance(target - skipping.clock())
    event_day = change + timedelta(days=2)
    event = await create_event(
        core=core,
        actor=ORGANIZER,
        draft=EventDraft(name="Spring meetup", start=f"{event_day} 09:00", timezone="Europe/Berlin"),
    )
    await _member_with_hook(skipping, sink)
    sub = await subscribe(
        core=core, actor=MEMBER, ref=event.code, tags="hook", custom_frequency="daily", custom_time_delta_seconds=[]
    )
    expected = [
        datetime.combine(change - timedelta(days=2), time(8), tzinfo=UTC),  # 09:00 CET
        datetime.combine(change - timedelta(days=1), time(8), tzinfo=UTC),
        datetime.combine(change, time(7), tzinfo=UTC),  # 09:00 CEST, the clocks went forward that night
        datetime.combine(change + timedelta(days=1), time(7), tzinfo=UTC),
    ]
    assert list(sub.next_reminders) == expected
    await skipping.advance(event.start_at - skipping.clock() + timedelta(minutes=1))
    await eventually(lambda: _count(sink, "/m", 4))
    assert [row.due_at for row in await _log(skipping)] == expected
    assert all(row.status == "sent" and not row.late for row in await _log(skipping))


async def test_update_moves_pending_reminders(skipping: Skipping, sink: HttpSink) -> None:
    """Moving the event a day later moves its reminder: nothing at the old time, one at the new."""
    core = skipping.rt.core
    event = await create_event(
        core=core, actor=ORGANIZER, draft=EventDraft(name="Raid", start=skipping.clock() + timedelta(days=2))
    )
    await _member_with_hook(skipping, sink)
    await subscribe(core=core, actor=MEMBER, ref=event.code, tags="hook", custom_time_delta_seconds="1h")
    await update_event(
        core=core, actor=ORGANIZER, ref=event.code, patch=EventPatch(start=event.start_at + timedelta(days=1))
    )
    await skipping.advance(timedelta(days=2))
    await asyncio.sleep(0.5)
    assert sink.to("/m") == []
    await skipping.advance(timedelta(days=1))
    await eventually(lambda: _count(sink, "/m", 1))
    rows = await _log(skipping)
    assert [r.due_at for r in rows] == [event.start_at + timedelta(days=1) - timedelta(hours=1)]


async def test_cancel_notifies_and_stops_reminders(skipping: Skipping, sink: HttpSink) -> None:
    """Cancelling tells each subscriber once and no reminder follows."""
    core = skipping.rt.core
    event = await create_event(
        core=core, actor=ORGANIZER, draft=EventDraft(name="Raid", start=skipping.clock() + timedelta(days=2))
    )
    await _member_with_hook(skipping, sink)
    await subscribe(core=core, actor=MEMBER, ref=event.code, tags="hook", custom_time_delta_seconds="1h")
    await cancel_event(core=core, actor=ORGANIZER, ref=event.code)
    await eventually(lambda: _count(sink, "/m", 1))
    assert sink.to("/m")[0].body["title"] == "Cancelled: Raid"
    handle = skipping.rt.client.get_workflow_handle(workflow_id(skipping.rt.settings.instance, event.id))
    assert await handle.result() == "cancelled"
    await skipping.advance(timedelta(days=3))
    assert len(sink.to("/m")) == 1


async def test_colliding_reminders_go_out_once(skipping: Skipping, sink: HttpSink) -> None:
    """A 1-day offset and a daily countdown land on the same instant: one message, one log row."""
    core = skipping.rt.core
    event = await create_event(
        core=core,
        actor=ORGANIZER,
        draft=EventDraft(name="Raid", start=skipping.clock() + timedelta(days=1, hours=12)),
    )
    await _member_with_hook(skipping, sink)
    await subscribe(
        core=core, actor=MEMBER, ref=event.code, tags="hook", custom_time_delta_seconds="1d", custom_frequency="daily"
    )
    await skipping.advance(timedelta(days=1, hours=13))
    await eventually(lambda: _count(sink, "/m", 1))
    await asyncio.sleep(0.3)
    assert len(sink.to("/m")) == 1
    assert len(await _log(skipping)) == 1


async def test_late_subscriber_gets_only_future_reminders(skipping: Skipping, sink: HttpSink) -> None:
    """Someone subscribing after the 1d reminder went out gets the 1h one only."""
    core = skipping.rt.core
    event = await create_event(
        core=core, actor=ORGANIZER, draft=EventDraft(name="Raid", start=skipping.clock() + timedelta(days=2))
    )
    await add_integration(core=core, actor=ORGANIZER, url=sink.url("/o"), tags="hook")
    await subscribe(core=core, actor=ORGANIZER, ref=event.code, tags="hook", custom_time_delta_seconds="1d, 1h")
    await skipping.advance(timedelta(days=1, hours=1))
    await eventually(lambda: _count(sink, "/o", 1))
    await _member_with_hook(skipping, sink)
    sub = await subscribe(core=core, actor=MEMBER, ref=event.code, tags="hook", custom_time_delta_seconds="1d, 1h")
    assert list(sub.next_reminders) == [event.start_at - timedelta(hours=1)]
    await skipping.advance(timedelta(days=1))
    await eventually(lambda: _count(sink, "/m", 1))
    assert len(sink.to("/o")) == 2
    assert len(sink.to("/m")) == 1


async def test_workflow_completes_after_the_event_ends(skipping: Skipping) -> None:
    """After the end time the workflow ends and the event shows as completed."""
    core = skipping.rt.core
    start = skipping.clock() + timedelta(hours=3)
    event = await create_event(
        core=core, actor=ORGANIZER, draft=EventDraft(name="Raid", start=start, end=start + timedelta(hours=2))
    )
    await skipping.advance(timedelta(hours=5, minutes=1))
    handle = skipping.rt.client.get_workflow_handle(workflow_id(skipping.rt.settings.instance, event.id))
    assert await handle.result() == "completed"
    assert (await show_event(core=core, actor=ORGANIZER, ref=event.id)).status == "completed"


async def _has_status(sk: Skipping, status: str) -> bool:
    return any(r.status == status for r in await _log(sk))


async def test_long_countdown_continues_as_new_without_repeats(skipping: Skipping, sink: HttpSink) -> None:
    """An hourly countdown over five days (more instants than one run keeps) delivers each hour exactly once."""
    core = skipping.rt.core
    start = skipping.clock().replace(minute=30, second=0, microsecond=0) + timedelta(days=5)
    event = await create_event(core=core, actor=ORGANIZER, draft=EventDraft(name="Launch", start=start))
    await _member_with_hook(skipping, sink)
    sub = await subscribe(
        core=core, actor=MEMBER, ref=event.code, tags="hook", custom_frequency="hourly", custom_time_delta_seconds=[]
    )
    expected = int((start - sub.next_reminders[0]).total_seconds() // 3600)  # first one .. start - 1h
    assert expected > INSTANTS_PER_RUN
    await skipping.advance(timedelta(days=5, minutes=1))
    await eventually(lambda: _count(sink, "/m", expected), timeout=60)
    await asyncio.sleep(0.5)
    assert len(sink.to("/m")) == expected
    dues = [row.due_at for row in await _log(skipping)]
    assert len(dues) == len(set(dues)) == expected
    handle = skipping.rt.client.get_workflow_handle(workflow_id(skipping.rt.settings.instance, event.id))
    described = await handle.describe()
    assert described.run_id != described.raw_description.workflow_execution_info.first_run_id  # continued as new
