"""Recurring events on the time-skipping server: every occurrence reminded at its local time, one cancelled,
and an open-ended series whose workflow history stays bounded over years."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from core.models import EventStatus, NotificationLog
from core.scheduling import workflow_id
from core.service import EventDraft, cancel_occurrence, create_event, list_occurrences, show_event, subscribe
from tests.conftest import MEMBER, ORGANIZER
from tests.sinks import HttpSink
from tests.workflows.conftest import Skipping, eventually
from tests.workflows.test_dispatch import _run_lengths
from tests.workflows.test_event_workflow import _count, _member_with_hook, _next_spring_forward
from workflows.event_workflow import HISTORY_BOUND

BERLIN = ZoneInfo("Europe/Berlin")


async def _log(sk: Skipping) -> list[NotificationLog]:
    async with sk.rt.core.sessions() as session:
        query = select(NotificationLog).order_by(NotificationLog.due_at, NotificationLog.id)
        return list((await session.execute(query)).scalars())


async def _series_across_spring_forward(sk: Skipping, **draft: object) -> tuple[int, str]:
    change = _next_spring_forward(sk.clock())
    await sk.advance(datetime.combine(change - timedelta(days=12), time(12), tzinfo=UTC) - sk.clock())
    first = change - timedelta(days=9)  # a Friday, nine days before the Sunday of the change
    event = await create_event(
        core=sk.rt.core,
        actor=ORGANIZER,
        draft=EventDraft(
            name="Game night", start=f"{first} 20:00", timezone="Europe/Berlin", repeat="every friday", **draft
        ),
    )
    return event.id, event.code


async def test_weekly_series_fires_at_the_same_local_time_across_a_dst_change(
    skipping: Skipping, sink: HttpSink
) -> None:
    """Each Friday's reminder comes at 19:00 Berlin time, before and after the clocks change; count ends it."""
    core = skipping.rt.core
    event_id, code = await _series_across_spring_forward(skipping, count=3)
    await _member_with_hook(skipping, sink)
    sub = await subscribe(core=core, actor=MEMBER, ref=code, tags="hook", custom_time_delta_seconds="1h")
    assert len(sub.next_reminders) == 3
    occurrences = await list_occurrences(core=core, actor=MEMBER, ref=code)
    await skipping.advance(occurrences[-1].end_at - skipping.clock() + timedelta(minutes=5))
    await eventually(lambda: _count(sink, "/m", 3))
    rows = await _log(skipping)
    assert [r.due_at.astimezone(BERLIN).strftime("%a %H:%M") for r in rows] == ["Fri 19:00"] * 3
    # The UTC hour differs once Berlin is on summer time: the wall clock is what stays.
    assert len({r.due_at.astimezone(UTC).hour for r in rows}) == 2
    assert [r.occurrence_start for r in rows] == [o.original_start for o in occurrences]
    messages = [m.body["message"] for m in sink.to("/m")]
    for occurrence, message in zip(occurrences, messages, strict=True):
        assert f"{occurrence.start_at.astimezone(BERLIN):%a %d %b %Y, 20:00}" in message
    await eventually(lambda: _status(skipping, code, EventStatus.COMPLETED))
    assert len(sink.to("/m")) == 3
    del event_id


async def _status(sk: Skipping, code: str, status: str) -> bool:
    return (await show_event(core=sk.rt.core, actor=ORGANIZER, ref=code)).status == status


async def test_a_cancelled_occurrence_is_not_reminded_and_its_subscribers_are_told(
    skipping: Skipping, sink: HttpSink
) -> None:
    """The second of three Fridays is cancelled: its subscriber hears that once and gets no reminder for it."""
    core = skipping.rt.core
    _, code = await _series_across_spring_forward(skipping, count=3)
    await _member_with_hook(skipping, sink)
    await subscribe(core=core, actor=MEMBER, ref=code, tags="hook", custom_time_delta_seconds="1h")
    occurrences = await list_occurrences(core=core, actor=MEMBER, ref=code)
    second = occurrences[1].original_start
    await cancel_occurrence(core=core, actor=ORGANIZER, ref=code, occurrence=second)
    await eventually(lambda: _count(sink, "/m", 1))
    notice = sink.to("/m")[0].body
    assert "Cancelled: Game night" in notice["title"]
    assert f"{second.astimezone(BERLIN):%a %d %b %Y}" in notice["message"]
    await skipping.advance(occurrences[-1].end_at - skipping.clock() + timedelta(minutes=5))
    await eventually(lambda: _count(sink, "/m", 3))
    rows = await _log(skipping)
    reminders = [r for r in rows if r.kind == "reminder"]
    assert [r.occurrence_start for r in reminders] == [occurrences[0].original_start, occurrences[2].original_start]
    assert [(r.kind, r.occurrence_start) for r in rows if r.kind == "cancellation"] == [("cancellation", second)]
    assert len(sink.to("/m")) == 3


async def test_an_open_ended_series_keeps_its_history_bounded_over_years(skipping: Skipping, sink: HttpSink) -> None:
    """Two years of a weekly series with two reminders each: every one arrives, the workflow continues as new
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
    weeks = 104
    await skipping.advance(event.start_at + timedelta(weeks=weeks - 1, minutes=1) - skipping.clock())
    await eventually(lambda: _count(sink, "/m", 2 * weeks), timeout=120)
    lengths = await _run_lengths(skipping, workflow_id(skipping.rt.settings.instance, event.id))
    assert len(lengths) >= 2
    assert max(lengths) < HISTORY_BOUND
    rows = await _log(skipping)
    assert len(rows) == len({r.idempotency_key for r in rows}) == 2 * weeks
    # 104 occurrences, each at the first one's wall-clock time, each reminded 1d and 1h (exact) before.
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
