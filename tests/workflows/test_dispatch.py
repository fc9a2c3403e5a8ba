"""Dispatch by time slot on the time-skipping server: isolated retries, updates during retries, bounded history."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import select

from core.models import NotificationLog
from core.scheduling import workflow_id
from core.service import EventDraft, EventPatch, add_integration, create_event, subscribe, update_event
from core.views import Actor
from tests.conftest import MEMBER, ORGANIZER
from tests.sinks import HttpSink
from tests.workflows.conftest import Skipping, eventually
from workflows.event_workflow import HISTORY_BOUND
from workflows.messages import MAX_SEND_ATTEMPTS, longest_retry_span


async def _log(sk: Skipping) -> list[NotificationLog]:
    async with sk.rt.core.sessions() as session:
        return list((await session.execute(select(NotificationLog).order_by(NotificationLog.id))).scalars())


async def _count(sink: HttpSink, path: str, n: int) -> bool:
    return len(sink.to(path)) >= n


async def test_failing_destination_holds_back_no_one(skipping: Skipping, sink: HttpSink) -> None:
    """A destination that always fails is retried alone: the member's other destination gets both reminders on time."""
    core = skipping.rt.core
    start = skipping.clock() + timedelta(hours=1)
    event = await create_event(core=core, actor=ORGANIZER, draft=EventDraft(name="Raid", start=start))
    await add_integration(core=core, actor=MEMBER, url=sink.url("/bad"), tags="hook", label="bad")
    await add_integration(core=core, actor=MEMBER, url=sink.url("/good"), tags="hook", label="good")
    sink.fail_next("/bad", *([500] * 100))
    await subscribe(core=core, actor=MEMBER, ref=event.code, tags="hook", custom_time_delta_seconds="10m, 9m")
    await skipping.advance(event.start_at - timedelta(minutes=10) + timedelta(seconds=1) - skipping.clock())
    await eventually(lambda: _count(sink, "/good", 1))
    # The next reminder is due while the first one's failing destination is still being retried.
    await skipping.advance(timedelta(minutes=1))
    await eventually(lambda: _count(sink, "/good", 2))
    assert sink.attempts["/bad"] < 2 * MAX_SEND_ATTEMPTS
    await skipping.advance(longest_retry_span() + timedelta(seconds=30))
    await eventually(lambda: _settled(skipping, 4))
    rows = await _log(skipping)
    good = [r for r in rows if r.destination.startswith("good")]
    bad = [r for r in rows if r.destination.startswith("bad")]
    assert [(r.status, r.late, r.attempts) for r in good] == [("sent", False, 1)] * 2
    assert [(r.status, r.attempts) for r in bad] == [("failed", MAX_SEND_ATTEMPTS)] * 2
    assert all(r.error for r in bad)
    assert len(sink.to("/good")) == 2
    await _until_over(skipping, event.end_at)


async def _until_over(sk: Skipping, end: datetime) -> None:
    """Let the event end while this test's worker still runs, so nothing is left waiting for it."""
    await sk.advance(end - sk.clock() + timedelta(minutes=1))


async def _settled(sk: Skipping, n: int) -> bool:
    rows = await _log(sk)
    return len(rows) == n and all(r.status != "pending" for r in rows)


async def test_update_during_retries_ends_them(skipping: Skipping, sink: HttpSink) -> None:
    """Moving the event while a destination is being retried stops the retries and leaves no row pending."""
    core = skipping.rt.core
    start = skipping.clock() + timedelta(hours=1)
    event = await create_event(core=core, actor=ORGANIZER, draft=EventDraft(name="Raid", start=start))
    await add_integration(core=core, actor=MEMBER, url=sink.url("/bad"), tags="hook", label="bad")
    sink.fail_next("/bad", *([500] * 100))
    await subscribe(core=core, actor=MEMBER, ref=event.code, tags="hook", custom_time_delta_seconds="2m")
    await skipping.advance(event.start_at - timedelta(minutes=2) + timedelta(seconds=4) - skipping.clock())
    await eventually(lambda: _attempted(sink, "/bad", 2))
    await update_event(core=core, actor=ORGANIZER, ref=event.code, patch=EventPatch(start=start + timedelta(days=1)))
    await skipping.advance(timedelta(seconds=20))
    attempts = sink.attempts["/bad"]
    await skipping.advance(longest_retry_span())
    await asyncio.sleep(0.5)
    assert sink.attempts["/bad"] <= attempts + 1  # at most the attempt already under way when the move landed
    [row] = await _log(skipping)
    assert row.status == "failed"
    assert "changed" in (row.error or "")
    await _until_over(skipping, event.end_at + timedelta(days=1))


async def _attempted(sink: HttpSink, path: str, n: int) -> bool:
    return sink.attempts[path] >= n


async def test_subscribe_adding_no_instant_skips_the_workflow(skipping: Skipping, sink: HttpSink) -> None:
    """Members who pick an already planned reminder time subscribe without a round trip to the event's workflow."""
    core = skipping.rt.core
    start = skipping.clock() + timedelta(days=1)
    event = await create_event(core=core, actor=ORGANIZER, draft=EventDraft(name="Raid", start=start))
    await add_integration(core=core, actor=MEMBER, url=sink.url("/m"), tags="hook")
    await subscribe(core=core, actor=MEMBER, ref=event.code, tags="hook", custom_time_delta_seconds="1h")
    handle = skipping.rt.client.get_workflow_handle(workflow_id(skipping.rt.settings.instance, event.id))
    await eventually(lambda: _planned(handle, 1))
    before = len((await handle.fetch_history()).events)
    members = [Actor(platform="console", tenant="guild-a", user_id=f"u{i}", display_name=f"U{i}") for i in range(30)]
    for member in members:
        await add_integration(core=core, actor=member, url=sink.url(f"/{member.user_id}"), tags="hook")
        await subscribe(core=core, actor=member, ref=event.code, tags="hook", custom_time_delta_seconds="1h")
    assert len((await handle.fetch_history()).events) == before
    await skipping.advance(timedelta(days=1))
    await eventually(lambda: _count(sink, "/u29", 1))
    assert all(len(sink.to(f"/{m.user_id}")) == 1 for m in members)
    await _until_over(skipping, event.end_at)


async def test_first_subscribers_at_the_events_own_times_skip_the_workflow(skipping: Skipping, sink: HttpSink) -> None:
    """An event's own reminder times are planned before anyone subscribes, so even the first members to take
    them (a burst after an announcement) subscribe without a round trip to its workflow."""
    core = skipping.rt.core
    start = skipping.clock() + timedelta(days=1)
    draft = EventDraft(name="Launch", start=start, default_offsets="1h")
    event = await create_event(core=core, actor=ORGANIZER, draft=draft)
    members = [Actor(platform="console", tenant="guild-a", user_id=f"n{i}", display_name=f"N{i}") for i in range(20)]
    for member in members:
        await add_integration(core=core, actor=member, url=sink.url(f"/{member.user_id}"), tags="hook")
    handle = skipping.rt.client.get_workflow_handle(workflow_id(skipping.rt.settings.instance, event.id))
    await eventually(lambda: _planned(handle, 1))
    before = len((await handle.fetch_history()).events)
    for member in members:
        await subscribe(core=core, actor=member, ref=event.code)
    assert len((await handle.fetch_history()).events) == before
    await skipping.advance(timedelta(days=1))
    await eventually(lambda: _count(sink, "/n19", 1))
    assert all(len(sink.to(f"/{m.user_id}")) == 1 for m in members)
    await _until_over(skipping, event.end_at)


async def _planned(handle: object, n: int) -> bool:
    from temporalio.client import WorkflowHandle

    assert isinstance(handle, WorkflowHandle)
    return len(await handle.query("upcoming")) >= n


async def test_history_stays_bounded_under_a_flood_of_changes(skipping: Skipping, sink: HttpSink) -> None:
    """Thousands of changes to one event keep every run's history under its bound, and every reminder arrives."""
    core = skipping.rt.core
    start = skipping.clock() + timedelta(days=1)
    event = await create_event(core=core, actor=ORGANIZER, draft=EventDraft(name="Raid", start=start))
    wid = workflow_id(skipping.rt.settings.instance, event.id)
    members = [Actor(platform="console", tenant="guild-a", user_id=f"f{i}", display_name=f"F{i}") for i in range(200)]
    for member in members:
        await add_integration(core=core, actor=member, url=sink.url(f"/{member.user_id}"), tags="hook")

    async def join(i: int, member: Actor) -> None:
        # Each picks its own reminder time, so each subscribe is a change the workflow must plan.
        await subscribe(core=core, actor=member, ref=event.code, tags="hook", custom_time_delta_seconds=[3600 + i])

    flood = [core.scheduler.changed(event.id, "updated") for _ in range(3_000)]
    await asyncio.gather(*flood, *(join(i, m) for i, m in enumerate(members)))
    await skipping.advance(timedelta(seconds=30))
    lengths = await _run_lengths(skipping, wid)
    assert max(lengths) < 2 * HISTORY_BOUND
    await skipping.advance(event.start_at - skipping.clock())
    await eventually(lambda: _count(sink, "/f199", 1))
    await asyncio.sleep(0.5)
    assert all(len(sink.to(f"/{m.user_id}")) == 1 for m in members)
    await _until_over(skipping, event.end_at)


async def _run_lengths(sk: Skipping, wid: str) -> list[int]:
    """The history length of each run of a workflow, following its continue-as-new chain from the first run."""
    described = await sk.rt.client.get_workflow_handle(wid).describe()
    run_id: str | None = described.raw_description.workflow_execution_info.first_run_id
    lengths = []
    while run_id:
        history = await sk.rt.client.get_workflow_handle(wid, run_id=run_id).fetch_history()
        lengths.append(len(history.events))
        last = history.events[-1]
        attrs = last.workflow_execution_continued_as_new_event_attributes
        run_id = (
            attrs.new_execution_run_id
            if last.HasField("workflow_execution_continued_as_new_event_attributes")
            else None
        )
    return lengths
