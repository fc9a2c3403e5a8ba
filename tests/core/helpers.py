"""Helpers for service tests: what the database holds, and what Temporal knows about each event."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from bot.runtime import Runtime
from core.errors import SoonishError
from core.models import Base, Event
from core.scheduling import TemporalScheduler, workflow_id
from core.service import Core, EventDraft, create_event
from core.views import Actor, EventView
from tests.conftest import ORGANIZER

# A destination with secrets in it, on a public literal address (so no DNS is needed to accept it).
SECRET_URL = "json://user:s3cretpass@93.184.216.34/hook?token=abcdef123"
SECRETS = ("s3cretpass", "abcdef123")

Snapshot = tuple[dict[str, list[tuple[Any, ...]]], dict[int, int | None]]


async def new_event(runtime: Runtime, actor: Actor = ORGANIZER, **fields: Any) -> EventView:
    """Create an event ("Launch party", in 3 days unless told otherwise) through the service."""
    draft = EventDraft(**{"name": "Launch party", "start": "in 3 days", **fields})
    return await create_event(core=runtime.core, actor=actor, draft=draft)


async def row_counts(runtime: Runtime) -> dict[str, int]:
    """The number of rows in every table."""
    async with runtime.core.sessions() as session:
        return {
            table.name: int((await session.execute(select(func.count()).select_from(table))).scalar_one())
            for table in Base.metadata.sorted_tables
        }


async def table_rows(runtime: Runtime) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary key order: equal snapshots mean nothing was written."""
    async with runtime.core.sessions() as session:
        return {
            table.name: [tuple(row) for row in await session.execute(select(table).order_by(*table.primary_key))]
            for table in Base.metadata.sorted_tables
        }


async def workflow_status(runtime: Runtime, event_id: int) -> WorkflowExecutionStatus | None:
    """The status of the event's workflow on Temporal, or None when it was never started."""
    handle = runtime.client.get_workflow_handle(workflow_id(runtime.settings.instance, event_id))
    try:
        return (await handle.describe()).status
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


async def signals(runtime: Runtime, event_id: int) -> int | None:
    """How many change signals the event's workflow has received (its start counts as one); None if it has none."""
    handle = runtime.client.get_workflow_handle(workflow_id(runtime.settings.instance, event_id))
    try:
        history = await handle.fetch_history()
    except RPCError as exc:
        if exc.status == RPCStatusCode.NOT_FOUND:
            return None
        raise
    return sum(1 for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED)


async def snapshot(runtime: Runtime) -> Snapshot:
    """All rows, and the signal count of every event's workflow including the next event id's (never started)."""
    rows = await table_rows(runtime)
    async with runtime.core.sessions() as session:
        last = (await session.execute(select(func.max(Event.id)))).scalar_one() or 0
    return rows, {event_id: await signals(runtime, event_id) for event_id in range(1, last + 2)}


async def refused(runtime: Runtime, attempt: Awaitable[object], error: type[SoonishError]) -> str:
    """Await a service call that must raise exactly `error` and change nothing: no row, no workflow, no signal."""
    before = await snapshot(runtime)
    with pytest.raises(error) as caught:
        await attempt
    assert type(caught.value) is error, repr(caught.value)
    after = await snapshot(runtime)
    assert after == before, f"the refused call changed something:\nbefore {before}\nafter  {after}"
    return caught.value.message


async def unreachable_core(runtime: Runtime) -> Core:
    """The test's core with a scheduler whose Temporal server cannot be reached."""
    client = await Client.connect("127.0.0.1:1", lazy=True)
    scheduler = TemporalScheduler(
        client,
        instance=runtime.settings.instance,
        task_queue=runtime.settings.temporal_task_queue,
        send_ahead_seconds=0,
    )
    return dataclasses.replace(runtime.core, scheduler=scheduler)


# A year whose summer is always ahead (and within the two years an event may be planned).
NEXT_YEAR = datetime.now(UTC).year + 1
