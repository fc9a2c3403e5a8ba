"""The send activity alone (ActivityEnvironment): late, skipped, partial failure and final failure."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from bot.embedded import DevServer
from bot.runtime import Runtime, open_runtime
from core.destinations import Sender
from core.models import Integration, NotificationLog
from core.service import EventDraft, add_integration, create_event, subscribe
from core.views import EventView
from tests.conftest import MEMBER, ORGANIZER, make_settings
from tests.sinks import HttpSink
from workflows.activities import ReminderActivities
from workflows.messages import MAX_SEND_ATTEMPTS, SendInput


@pytest.fixture
async def rt(tmp_path: Path, sqlite_url: str, dev_server: DevServer) -> AsyncIterator[Runtime]:
    """A runtime whose URLs may point at the local sink; no worker runs, the activity is called directly."""
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


async def _rows(rt: Runtime) -> list[NotificationLog]:
    async with rt.core.sessions() as session:
        return list((await session.execute(select(NotificationLog).order_by(NotificationLog.id))).scalars())


async def test_reminder_sent_late_is_marked_late(rt: Runtime, sink: HttpSink) -> None:
    """Woken an hour after its due instant but before the start, the reminder goes out marked late."""
    event = await _event_with(rt, sink, "/a")
    due = event.start_at - timedelta(hours=2)
    result = await ActivityEnvironment().run(
        _activities(rt).send_notifications, SendInput(event_id=event.id, due=due, fired_at=due + timedelta(hours=1))
    )
    assert result.sent == 1
    assert [(r.status, r.late) for r in await _rows(rt)] == [("sent", True)]
    assert "late" in sink.to("/a")[0].body["message"]


async def test_reminder_woken_after_start_is_skipped(rt: Runtime, sink: HttpSink) -> None:
    """Woken after the event started, the reminder is recorded as skipped and nothing is sent."""
    event = await _event_with(rt, sink, "/a")
    due = event.start_at - timedelta(hours=2)
    result = await ActivityEnvironment().run(
        _activities(rt).send_notifications, SendInput(event_id=event.id, due=due, fired_at=event.start_at)
    )
    assert result.skipped == 1
    assert [r.status for r in await _rows(rt)] == ["skipped"]
    assert sink.to("/a") == []


async def test_retry_resends_only_to_the_failed_destination(rt: Runtime, sink: HttpSink) -> None:
    """After a partial failure the retry sends to the failed destination only; the healthy one got it once."""
    event = await _event_with(rt, sink, "/bad", "/good")
    sink.fail_next("/bad", 500)
    due = event.start_at - timedelta(hours=2)
    send = SendInput(event_id=event.id, due=due, fired_at=due)
    with pytest.raises(ApplicationError):
        await ActivityEnvironment().run(_activities(rt).send_notifications, send)
    result = await ActivityEnvironment().run(_activities(rt).send_notifications, send)
    assert result.sent == 1
    assert len(sink.to("/good")) == 1
    assert len(sink.to("/bad")) == 1
    assert sink.attempts["/bad"] == 2
    assert sorted((r.status, r.attempts) for r in await _rows(rt)) == [("sent", 1), ("sent", 2)]


async def test_final_failure_is_recorded_and_shown_to_the_owner(rt: Runtime, sink: HttpSink) -> None:
    """On the last attempt a destination that still fails is logged as failed and its integration shows why."""
    event = await _event_with(rt, sink, "/bad")
    sink.fail_next("/bad", *([500] * MAX_SEND_ATTEMPTS))
    due = event.start_at - timedelta(hours=2)
    env = ActivityEnvironment()
    env.info = dataclasses.replace(env.info, attempt=MAX_SEND_ATTEMPTS)
    result = await env.run(_activities(rt).send_notifications, SendInput(event_id=event.id, due=due, fired_at=due))
    assert result.failed == 1
    rows = await _rows(rt)
    assert rows[0].status == "failed"
    assert rows[0].error
    async with rt.core.sessions() as session:
        integration = (await session.execute(select(Integration))).scalar_one()
    assert integration.last_error == rows[0].error


async def test_a_refused_destination_fails_on_the_first_attempt_without_retrying(rt: Runtime, sink: HttpSink) -> None:
    """Saved while private addresses were allowed, refused once they are not: failed at once, with the reason."""
    event = await _event_with(rt, sink, "/a")
    strict = ReminderActivities(sessions=rt.core.sessions, secrets=rt.core.secrets, sender=Sender(allow_private=False))
    due = event.start_at - timedelta(hours=2)
    result = await ActivityEnvironment().run(
        strict.send_notifications, SendInput(event_id=event.id, due=due, fired_at=due)
    )
    assert (result.sent, result.failed) == (0, 1)
    (row,) = await _rows(rt)
    assert (row.status, row.attempts) == ("failed", 1)
    assert str(row.error).startswith("refused by the URL guard: The address 127.0.0.1 is private")
    assert sink.attempts["/a"] == 0
