"""Preparation and sending alone (ActivityEnvironment): late, skipped, failed destinations, changes at the instant."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from temporalio.testing import ActivityEnvironment

from bot.embedded import DevServer
from bot.runtime import Runtime, open_runtime
from core.destinations import Sender
from core.models import Integration, NotificationLog, PlannedReminder
from core.planning import SLOT_LENGTH, slot_of
from core.service import EventDraft, add_integration, create_event, remove_integration, subscribe, unsubscribe
from core.views import EventView
from tests.conftest import MEMBER, ORGANIZER, make_settings
from tests.sinks import HttpSink
from workflows.activities import ReminderActivities
from workflows.messages import MAX_SEND_ATTEMPTS, ChunkInput, ChunkResult, Prepared, PrepareInput


@pytest.fixture
async def rt(tmp_path: Path, sqlite_url: str, dev_server: DevServer) -> AsyncIterator[Runtime]:
    """A runtime whose URLs may point at the local sink; no worker runs, the activities are called directly."""
    settings = make_settings(tmp_path, sqlite_url, dev_server.address, SOONISH_ALLOW_PRIVATE_URLS=True)
    async with open_runtime(settings) as runtime:
        yield runtime


def _activities(rt: Runtime) -> ReminderActivities:
    return ReminderActivities(sessions=rt.core.sessions, secrets=rt.core.secrets, sender=rt.core.sender)


async def _event_with(rt: Runtime, sink: HttpSink, *paths: str) -> EventView:
    start = rt.core.clock() + timedelta(days=1)
    event = await create_event(core=rt.core, actor=ORGANIZER, draft=EventDraft(name="Raid", start=start))
    for path in paths:
        await add_integration(core=rt.core, actor=MEMBER, url=sink.url(path), tags="hook", label=path)
    await subscribe(core=rt.core, actor=MEMBER, ref=event.code, tags="hook", custom_time_delta_seconds="2h")
    return event


async def _prepare(rt: Runtime, event: EventView) -> tuple[datetime, Prepared]:
    """Register the 2h reminder as its event workflow would, and prepare its slot."""
    due = event.start_at - timedelta(hours=2)
    async with rt.core.sessions.begin() as session:
        await session.execute(insert(PlannedReminder), [{"event_id": event.id, "due_at": due}])
    slot = slot_of(due)
    prepared = await ActivityEnvironment().run(
        _activities(rt).preparation.prepare_slot, PrepareInput(start=slot, end=slot + SLOT_LENGTH)
    )
    return due, prepared


async def _send(rt: Runtime, prepared: Prepared, fired_at: datetime, attempt: int = 1) -> ChunkResult:
    [instant] = prepared.instants
    [chunk] = instant.chunks
    inp = ChunkInput(chunk=chunk, fired_at=fired_at, attempt=attempt)
    return await ActivityEnvironment().run(_activities(rt).sending.send_notifications, inp)


async def _rows(rt: Runtime) -> list[NotificationLog]:
    async with rt.core.sessions() as session:
        return list((await session.execute(select(NotificationLog).order_by(NotificationLog.id))).scalars())


async def test_preparation_creates_one_pending_row_per_destination(rt: Runtime, sink: HttpSink) -> None:
    """Preparing a slot logs each destination once, pending, and preparing it again adds nothing."""
    event = await _event_with(rt, sink, "/a", "/b")
    _, prepared = await _prepare(rt, event)
    assert prepared.rows == 2
    slot = slot_of(prepared.instants[0].due)
    again = await ActivityEnvironment().run(
        _activities(rt).preparation.prepare_slot, PrepareInput(start=slot, end=slot + SLOT_LENGTH)
    )
    assert again.rows == 0
    assert [r.status for r in await _rows(rt)] == ["pending", "pending"]


async def test_reminder_sent_late_is_marked_late(rt: Runtime, sink: HttpSink) -> None:
    """Woken an hour after its due instant but before the start, the reminder goes out marked late."""
    due, prepared = await _prepare(rt, await _event_with(rt, sink, "/a"))
    result = await _send(rt, prepared, due + timedelta(hours=1))
    assert result.sent == 1
    assert [(r.status, r.late) for r in await _rows(rt)] == [("sent", True)]
    assert "late" in sink.to("/a")[0].body["message"]


async def test_reminder_woken_after_start_is_skipped(rt: Runtime, sink: HttpSink) -> None:
    """Woken after the event started, the reminder is recorded as skipped and nothing is sent."""
    event = await _event_with(rt, sink, "/a")
    _, prepared = await _prepare(rt, event)
    result = await _send(rt, prepared, event.start_at)
    assert result.skipped == 1
    assert [r.status for r in await _rows(rt)] == ["skipped"]
    assert sink.to("/a") == []


async def test_retry_resends_only_to_the_failed_destination(rt: Runtime, sink: HttpSink) -> None:
    """After a partial failure the next attempt sends to the failed destination only; the healthy one got it once."""
    event = await _event_with(rt, sink, "/bad", "/good")
    sink.fail_next("/bad", 500)
    due, prepared = await _prepare(rt, event)
    first = await _send(rt, prepared, due)
    assert (first.sent, first.retrying) == (1, 1)
    second = await _send(rt, prepared, due, attempt=2)
    assert second.sent == 1
    assert len(sink.to("/good")) == 1
    assert len(sink.to("/bad")) == 1
    assert sink.attempts["/bad"] == 2
    assert sorted((r.status, r.attempts) for r in await _rows(rt)) == [("sent", 1), ("sent", 2)]


async def test_final_failure_is_recorded_and_shown_to_the_owner(rt: Runtime, sink: HttpSink) -> None:
    """On the last attempt a destination that still fails is logged as failed and its integration shows why."""
    event = await _event_with(rt, sink, "/bad")
    sink.fail_next("/bad", *([500] * MAX_SEND_ATTEMPTS))
    due, prepared = await _prepare(rt, event)
    result = await _send(rt, prepared, due, attempt=MAX_SEND_ATTEMPTS)
    assert result.failed == 1
    rows = await _rows(rt)
    assert rows[0].status == "failed"
    assert rows[0].error
    async with rt.core.sessions() as session:
        integration = (await session.execute(select(Integration))).scalar_one()
    assert integration.last_error == rows[0].error


async def test_changes_after_preparation_are_honoured_at_send_time(rt: Runtime, sink: HttpSink) -> None:
    """Prepared, then the member removes one destination: only the other one gets the reminder."""
    event = await _event_with(rt, sink, "/kept", "/removed")
    due, prepared = await _prepare(rt, event)
    await remove_integration(core=rt.core, actor=MEMBER, ref="/removed")
    result = await _send(rt, prepared, due)
    assert (result.sent, result.skipped) == (1, 1)
    assert len(sink.to("/kept")) == 1
    assert sink.to("/removed") == []
    rows = {r.destination.split()[0]: r for r in await _rows(rt)}
    assert rows["/removed"].status == "skipped"
    assert "changed" in (rows["/removed"].error or "")


async def test_a_change_while_the_chunk_waits_for_its_instant_is_honoured(rt: Runtime, sink: HttpSink) -> None:
    """A chunk loads its deliveries when it starts (ahead of the instant) and then waits; an unsubscribe while it
    waits still stops the reminder."""
    start = rt.core.clock() + timedelta(hours=2, seconds=3)
    event = await create_event(core=rt.core, actor=ORGANIZER, draft=EventDraft(name="Raid", start=start))
    await add_integration(core=rt.core, actor=MEMBER, url=sink.url("/a"), tags="hook", label="/a")
    await subscribe(core=rt.core, actor=MEMBER, ref=event.code, tags="hook", custom_time_delta_seconds="2h")
    due, prepared = await _prepare(rt, event)
    [instant] = prepared.instants
    [chunk] = instant.chunks
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, scheduled_time=datetime.now(UTC))
    wait = (due - datetime.now(UTC)).total_seconds()
    sending = asyncio.create_task(
        env.run(_activities(rt).sending.send_notifications, ChunkInput(chunk=chunk, fired_at=due, wait_seconds=wait))
    )
    await asyncio.sleep(wait / 2)
    assert not sending.done()
    await unsubscribe(core=rt.core, actor=MEMBER, ref=event.code)
    result = await sending
    assert result.skipped == 1
    assert sink.to("/a") == []
    assert [r.status for r in await _rows(rt)] == ["skipped"]


async def test_unsubscribed_after_preparation_gets_nothing(rt: Runtime, sink: HttpSink) -> None:
    """A member who unsubscribes between preparation and the instant is skipped, with the reason logged."""
    event = await _event_with(rt, sink, "/a")
    due, prepared = await _prepare(rt, event)
    await unsubscribe(core=rt.core, actor=MEMBER, ref=event.code)
    result = await _send(rt, prepared, due)
    assert result.skipped == 1
    assert sink.to("/a") == []
    assert [r.status for r in await _rows(rt)] == ["skipped"]


async def test_a_refused_destination_fails_on_the_first_attempt_without_retrying(rt: Runtime, sink: HttpSink) -> None:
    """Saved while private addresses were allowed, refused once they are not: failed at once, with the reason."""
    due, prepared = await _prepare(rt, await _event_with(rt, sink, "/a"))
    strict = ReminderActivities(sessions=rt.core.sessions, secrets=rt.core.secrets, sender=Sender(allow_private=False))
    [chunk] = prepared.instants[0].chunks
    result = await ActivityEnvironment().run(strict.sending.send_notifications, ChunkInput(chunk=chunk, fired_at=due))
    assert (result.sent, result.failed, result.retrying) == (0, 1, 0)
    (row,) = await _rows(rt)
    assert (row.status, row.attempts) == ("failed", 1)
    assert str(row.error).startswith("refused by the URL guard: The address 127.0.0.1 is private")
    assert sink.attempts["/a"] == 0
