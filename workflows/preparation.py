"""Preparation activities: every delivery due in a slot (or an event's cancellation notice) as log rows, chunked."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import insert, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from core.models import DeliveryStatus, EventStatus, NotificationLog, PlannedReminder, utcnow
from workflows.activity_context import database_errors, heartbeating
from workflows.messages import CHUNK_SIZE, CancelInput, Chunk, InstantPlan, Prepared, PrepareInput
from workflows.targets import IN_BATCH, Target, TargetBuilder, load_audience, load_snoozes


async def create_rows(session: AsyncSession, kind: str, targets: list[Target]) -> int:
    """Insert a pending log row for each target that has none yet, in bulk; returns how many were new."""
    keys = [t.key for t in targets]
    existing: set[str] = set()
    for i in range(0, len(keys), IN_BATCH):
        found = await session.execute(
            select(NotificationLog.idempotency_key).where(NotificationLog.idempotency_key.in_(keys[i : i + IN_BATCH]))
        )
        existing.update(found.scalars())
    now = utcnow()
    fresh: dict[str, Target] = {t.key: t for t in targets if t.key not in existing}
    values = [
        {
            "idempotency_key": t.key,
            "event_id": t.event_id,
            "user_id": t.user_id,
            "integration_id": t.integration_id,
            "destination": t.label[:300],
            "kind": kind,
            "due_at": t.due,
            "occurrence_start": t.occurrence,
            "status": DeliveryStatus.PENDING,
            "late": False,
            "attempts": 0,
            "error": None,
            "created_at": now,
            "updated_at": now,
        }
        for t in fresh.values()
    ]
    for i in range(0, len(values), IN_BATCH):
        await session.execute(insert(NotificationLog), values[i : i + IN_BATCH])
    return len(values)


async def chunks_of(
    session: AsyncSession,
    *,
    kind: str,
    lo: datetime,
    hi: datetime,
    event_id: int | None = None,
    after: datetime | None = None,
    above_id: int = 0,
) -> list[InstantPlan]:
    """The pending rows of `kind` due in [lo, hi), per instant, in chunks of consecutive ids; with `after`, only
    those due after it or with an id above `above_id`."""
    query = select(NotificationLog.id, NotificationLog.due_at).where(
        NotificationLog.kind == kind,
        NotificationLog.due_at >= lo,
        NotificationLog.due_at < hi,
        NotificationLog.status == DeliveryStatus.PENDING,
    )
    if after is not None:
        query = query.where(or_(NotificationLog.due_at > after, NotificationLog.id > above_id))
    if event_id is not None:
        query = query.where(NotificationLog.event_id == event_id)
    ids: dict[datetime, list[int]] = defaultdict(list)
    for row_id, due in await session.execute(query.order_by(NotificationLog.due_at, NotificationLog.id)):
        ids[due].append(row_id)
    return [
        InstantPlan(
            due=due,
            chunks=[
                Chunk(kind=kind, due=due, first_id=part[0], last_id=part[-1], event_id=event_id)
                for part in (found[i : i + CHUNK_SIZE] for i in range(0, len(found), CHUNK_SIZE))
            ],
        )
        for due, found in sorted(ids.items())
    ]


def merged(*plans: list[InstantPlan]) -> list[InstantPlan]:
    """Instant plans of several kinds as one list: one plan per instant, ascending, with every kind's chunks."""
    chunks: dict[datetime, list[Chunk]] = defaultdict(list)
    for plan in plans:
        for instant in plan:
            chunks[instant.due].extend(instant.chunks)
    return [InstantPlan(due=due, chunks=found) for due, found in sorted(chunks.items())]


class PreparationActivities:
    """Loads what is due with a few set-based queries and records it as pending log rows before the instant."""

    def __init__(self, *, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name="prepare_slot")
    async def prepare_slot(self, inp: PrepareInput) -> Prepared:
        """Log rows for every reminder due in the slot, and the chunks of those not launched yet."""
        lo = inp.start
        async with heartbeating(), database_errors(), self._sessions.begin() as session:
            event_ids = (
                await session.execute(
                    select(PlannedReminder.event_id)
                    .where(PlannedReminder.due_at >= lo, PlannedReminder.due_at < inp.end)
                    .distinct()
                )
            ).scalars()
            audience = await load_audience(session, event_ids, status=EventStatus.SCHEDULED)
            targets = TargetBuilder(audience, kind="reminder", secrets=None).reminders(lo, inp.end)
            created = await create_rows(session, "reminder", targets)
            # Reminders members asked for again: rows of their own kind, so they say so and keep their own key.
            await load_snoozes(session, audience, lo, inp.end)
            snoozed = TargetBuilder(audience, kind="snooze", secrets=None).snoozes(lo, inp.end)
            created += await create_rows(session, "snooze", snoozed)
            instants = merged(
                *[
                    await chunks_of(session, kind=kind, lo=lo, hi=inp.end, after=inp.after, above_id=inp.above_id)
                    for kind in ("reminder", "snooze")
                ]
            )
        return Prepared(instants=instants, rows=created)

    @activity.defn(name="prepare_cancellation")
    async def prepare_cancellation(self, inp: CancelInput) -> Prepared:
        """Log rows for a cancelled event's notice to its channel and every subscriber, and their chunks; with
        `inp.occurrence`, the notice that this one occurrence of a series is cancelled."""
        if inp.occurrence is not None:
            return await self._cancel_occurrence(inp.event_id, inp.occurrence)
        async with heartbeating(), database_errors(), self._sessions.begin() as session:
            audience = await load_audience(session, [inp.event_id], status=EventStatus.CANCELLED)
            event = audience.events.get(inp.event_id)
            if event is None:
                return Prepared()
            targets = TargetBuilder(audience, kind="cancellation", secrets=None).cancellation()
            created = await create_rows(session, "cancellation", targets)
            start = event.start_at
            instants = await chunks_of(
                session,
                kind="cancellation",
                lo=start,
                hi=start + timedelta(microseconds=1),
                event_id=inp.event_id,
            )
        return Prepared(instants=instants, rows=created)

    async def _cancel_occurrence(self, event_id: int, original: datetime) -> Prepared:
        async with heartbeating(), database_errors(), self._sessions.begin() as session:
            audience = await load_audience(session, [event_id], status=EventStatus.SCHEDULED)
            event = audience.events.get(event_id)
            if event is None:
                return Prepared()
            targets = TargetBuilder(audience, kind="cancellation", secrets=None).occurrence_cancellations(
                [(event_id, original)]
            )
            created = await create_rows(session, "cancellation", targets)
            for exception in event.exceptions:
                if exception.original_start == original:
                    exception.notified = True
            instants = await chunks_of(
                session,
                kind="cancellation",
                lo=original,
                hi=original + timedelta(microseconds=1),
                event_id=event_id,
            )
        return Prepared(instants=instants, rows=created)
