"""Recurring events on the time-skipping server: every occurrence reminded at its local time, one cancelled,
and an open-ended series whose workflow history stays bounded over years."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.models import EventStatus, NotificationLog
from core.scheduling import workflow_id
from core.service import (
    EventDraft,
    EventPatch,
    cancel_occurrence,
    change_series_from,
    create_event,
    list_occurrences,
    move_occurrence,
    show_event,
    subscribe,
)
from tests.conftest import MEMBER, ORGANIZER
from tests.sinks import HttpSink
from tests.workflows.conftest import Skipping, eventually
from tests.workflows.test_dispatch import _run_lengths
from tests.workflows.test_event_workflow import _count, _member_with_hook
from workflows.event_workflow import HISTORY_BOUND

BERLIN = ZoneInfo("Europe/Berlin")


async def _log(sk: Skipping) -> list[NotificationLog]:
    async with sk.rt.core.sessions() as session:
        query = select(NotificationLog).order_by(NotificationLog.due_at, NotificationLog.id)
        return list((await session.execute(query)).scalars())


# Zones whose clocks change at different times of the year, so one of them changes soon whatever the test clock.
DST_ZONES = ("Europe/Berlin", "America/New_York", "Australia/Sydney", "Pacific/Auckland", "America/Santiago")


def _soonest_dst_change(after: datetime) -> tuple[str, date]:
    """The zone whose clocks change soonest, at least ten days after `after`, and the day they change."""
    found: list[tuple[date, str]] = []
    for name in DST_ZONES:
        zi = ZoneInfo(name)
        day = (after + timedelta(days=10)).date()
        for _ in range(400):
            noon = datetime.combine(day, time(12), tzinfo=zi)
            if noon.utcoffset() != (noon - timedelta(days=1)).utcoffset():
                found.append((day, name))
                break
            day += timedelta(days=1)
    day, name = min(found)
    return name, day


async def _series_across_dst_change(sk: Skipping, **draft: object) -> tuple[str, str, ZoneInfo]:
    """A weekly series at 20:00 whose first two occurrences come before a DST change and the rest after it."""
    name, change = _soonest_dst_change(sk.clock())
    first = change - timedelta(days=9)
    await sk.advance(datetime.combine(first - timedelta(days=2), time(12), tzinfo=UTC) - sk.clock())
    event = await create_event(
        core=sk.rt.core,
        actor=ORGANIZER,
        draft=EventDraft(name="Game night", start=f"{first} 20:00", timezone=name, repeat="weekly", **draft),
    )
    return event.code, name, ZoneInfo(name)


async def test_weekly_series_fires_at_the_same_local_time_across_a_dst_change(
    skipping: Skipping, sink: HttpSink
) -> None:
    """Each week's reminder comes at 19:00 local time, before and after the clocks change; count ends it."""
    core = skipping.rt.core
    code, _, tz = await _series_across_dst_change(skipping, count=3)
    await _member_with_hook(skipping, sink)
    sub = await subscribe(core=core, actor=MEMBER, ref=code, tags="hook", custom_time_delta_seconds="1h")
    assert len(sub.next_reminders) == 3
    occurrences = await list_occurrences(core=core, actor=MEMBER, ref=code)
    await skipping.advance(occurrences[-1].end_at - skipping.clock() + timedelta(minutes=5))
    await eventually(lambda: _count(sink, "/m", 3))
    rows = await _log(skipping)
    assert {r.due_at.astimezone(tz).strftime("%a %H:%M") for r in rows} == {
        occurrences[0].start_at.astimezone(tz).strftime("%a 19:00")
    }
    # The UTC hour differs once the clocks changed: the wall clock is what stays.
    assert len({r.due_at.astimezone(UTC).hour for r in rows}) == 2
    assert [r.occurrence_start for r in rows] == [o.original_start for o in occurrences]
    messages = [m.body["message"] for m in sink.to("/m")]
    for occurrence, message in zip(occurrences, messages, strict=True):
        assert f"{occurrence.start_at.astimezone(tz):%a %d %b %Y, 20:00}" in message
    await eventually(lambda: _status(skipping, code, EventStatus.COMPLETED))
    assert len(sink.to("/m")) == 3


async def _status(sk: Skipping, code: str, status: str) -> bool:
    return (await show_event(core=sk.rt.core, actor=ORGANIZER, ref=code)).status == status


async def test_a_cancelled_occurrence_is_not_reminded_and_its_subscribers_are_told(
    skipping: Skipping, sink: HttpSink
) -> None:
    """The second of three weeks is cancelled: its subscriber hears that once and gets no reminder for it."""
    core = skipping.rt.core
    code, _, tz = await _series_across_dst_change(skipping, count=3)
    await _member_with_hook(skipping, sink)
    await subscribe(core=core, actor=MEMBER, ref=code, tags="hook", custom_time_delta_seconds="1h")
    occurrences = await list_occurrences(core=core, actor=MEMBER, ref=code)
    second = occurrences[1].original_start
    await cancel_occurrence(core=core, actor=ORGANIZER, ref=code, occurrence=second)
    await eventually(lambda: _count(sink, "/m", 1))
    notice = sink.to("/m")[0].body
    assert "Cancelled: Game night" in notice["title"]
    assert f"{second.astimezone(tz):%a %d %b %Y}" in notice["message"]
    await skipping.advance(occurrences[-1].end_at - skipping.clock() + timedelta(minutes=5))
    await eventually(lambda: _count(sink, "/m", 3))
    rows = await _log(skipping)
    reminders = [r for r in rows if r.kind == "reminder"]
    assert [r.occurrence_start for r in reminders] == [occurrences[0].original_start, occurrences[2].original_start]
    assert [(r.kind, r.occurrence_start) for r in rows if r.kind == "cancellation"] == [("cancellation", second)]
    assert len(sink.to("/m")) == 3


async def test_a_moved_occurrence_and_a_series_change_remind_at_the_new_times_only(
    skipping: Skipping, sink: HttpSink
) -> None:
    """The second week moved a day later at 18:00, the series from the third on at 21:00: the reminders follow,
    the first week's stays, and each occurrence is reminded once."""
    core = skipping.rt.core
    code, _, tz = await _series_across_dst_change(skipping, count=4)
    await _member_with_hook(skipping, sink)
    await subscribe(core=core, actor=MEMBER, ref=code, tags="hook", custom_time_delta_seconds="1h")
    occurrences = await list_occurrences(core=core, actor=MEMBER, ref=code)
    second, third = occurrences[1].original_start, occurrences[2].original_start
    saturday = (second + timedelta(days=1)).astimezone(tz).replace(hour=18)
    await move_occurrence(core=core, actor=ORGANIZER, ref=code, occurrence=second, start=saturday)
    later = third.astimezone(tz).replace(hour=21)
    new = await change_series_from(
        core=core, actor=ORGANIZER, ref=code, occurrence=third, patch=EventPatch(start=later)
    )
    assert new.subscriber_count == 1
    await skipping.advance(later + timedelta(weeks=1, hours=1) - skipping.clock())
    await eventually(lambda: _count(sink, "/m", 4))
    rows = await _log(skipping)
    day = occurrences[0].start_at.astimezone(tz).strftime("%a")
    moved_day = saturday.strftime("%a")
    assert [r.due_at.astimezone(tz).strftime("%a %H:%M") for r in rows] == [
        f"{day} 19:00",
        f"{moved_day} 17:00",
        f"{day} 20:00",
        f"{day} 20:00",
    ]
    assert len(sink.to("/m")) == 4


# Last in this module: after a workflow continued as new, the test server fails skips of months.
async def test_an_open_ended_series_keeps_its_history_bounded_over_years(skipping: Skipping, sink: HttpSink) -> None:
    """Sixty weeks of a weekly series with two reminders each: every one arrives, the workflow continues as new
    with each run's history under its bound, and the series is still scheduled at the end."""
    core = skipping.rt.core
    start = skipping.clock() + timedelta(days=2)
    event = await create_event(
        core=core,
        actor=ORGANIZER,
        draft=EventDraft(name="Game night", start=start, timezone="Europe/Berlin", repeat="weekly"),
    )
    assert event.recurrence == "FREQ=WEEKLY"
    await _member_with_hook(skipping, sink)
    await subscribe(core=core, actor=MEMBER, ref=event.code, tags="hook", custom_time_delta_seconds="1d, 1h")
    weeks = 60  # 120 instants: more than one run plans
    await skipping.advance(event.start_at + timedelta(weeks=weeks - 1, minutes=1) - skipping.clock())
    await eventually(lambda: _count(sink, "/m", 2 * weeks), timeout=120)
    lengths = await _run_lengths(skipping, workflow_id(skipping.rt.settings.instance, event.id))
    assert len(lengths) >= 2
    assert max(lengths) < HISTORY_BOUND
    rows = await _log(skipping)
    assert len(rows) == len({r.idempotency_key for r in rows}) == 2 * weeks
    # Sixty occurrences, each at the first one's wall-clock time, each reminded 1d and 1h (exact) before.
    starts = sorted({r.occurrence_start for r in rows if r.occurrence_start is not None})
    assert len(starts) == weeks
    assert {s.astimezone(BERLIN).strftime("%a %H:%M") for s in starts} == {
        event.start_at.astimezone(BERLIN).strftime("%a %H:%M")
    }
    assert {r.occurrence_start - r.due_at for r in rows if r.occurrence_start} == {
        timedelta(days=1),
        timedelta(hours=1),
    }
    assert (await show_event(core=core, actor=ORGANIZER, ref=event.code)).status == EventStatus.SCHEDULED
