"""Planning activities: an event's next instants, registered with the dispatchers of their slots."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from core.models import Event, EventParticipant, EventStatus, PlannedReminder, Snooze
from core.planning import (
    PLAN_LIMIT,
    PREPARE_LEAD,
    SIGNAL_REFRESH,
    SLOT_LENGTH,
    planned_instants,
    slot_of,
    slot_workflow_id,
)
from core.recurrence import OccurrenceStatus, Series, series_reminders
from core.service.events import offsets_of, series_of, start_of
from core.timeparse import Frequency
from workflows.activity_context import database_errors, heartbeating
from workflows.messages import CompleteInput, Plan, PlanInput, SlotInput, SlotNotice


async def snoozed_instants(session: AsyncSession, event: Event, after: datetime) -> set[datetime]:
    """The instants after `after` at which members asked to be reminded again, each before the start of the
    occurrence its reminder was for."""
    rows = await session.execute(
        select(Snooze.due_at, Snooze.occurrence_start).where(Snooze.event_id == event.id, Snooze.due_at > after)
    )
    return {due for due, occurrence in rows if due < start_of(event, occurrence)}


class PlanningActivities:
    """Reads the event and its subscription groups, stores the next instants, and tells the slots."""

    def __init__(self, *, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    @activity.defn(name="plan_reminders")
    async def plan_reminders(self, inp: PlanInput) -> Plan:
        """The event's status and its next reminder instants after `inp.after`, registered with their slots."""
        async with heartbeating():
            async with database_errors():
                plan, added = await self._plan(inp)
            if plan.status == EventStatus.SCHEDULED and plan.upcoming:
                await self._register(plan.upcoming, added, inp)
        return plan

    async def _plan(self, inp: PlanInput) -> tuple[Plan, set[datetime]]:
        async with self._sessions.begin() as session:
            event = await session.get(Event, inp.event_id)
            if event is None:
                return Plan(status="missing"), set()
            if event.status != EventStatus.SCHEDULED:
                await session.execute(delete(PlannedReminder).where(PlannedReminder.event_id == event.id))
                return Plan(status=event.status, start_at=event.start_at, end_at=event.end_at), set()
            floor = max(event.schedule_changed_at, inp.after) if inp.after else event.schedule_changed_at
            series = series_of(event)
            # The event's own reminder times, the channel's and those most members take, whether or not anyone
            # has yet: a burst of subscribes after an announcement then adds no instant and needs no re-plan.
            instants: set[datetime] = set(self._instants(series, event.default_offsets, "none", floor))
            groups = await session.execute(
                select(
                    EventParticipant.custom_time_delta_seconds,
                    EventParticipant.custom_frequency,
                    EventParticipant.occurrence_start,
                    func.min(EventParticipant.joined_at),
                )
                .where(EventParticipant.event_id == event.id)
                .group_by(
                    EventParticipant.custom_time_delta_seconds,
                    EventParticipant.custom_frequency,
                    EventParticipant.occurrence_start,
                )
            )
            for offsets, frequency, only, joined in groups:
                joined_at = joined if joined.tzinfo else joined.replace(tzinfo=event.start_at.tzinfo)
                if only is not None and only.tzinfo is None:
                    only = only.replace(tzinfo=event.start_at.tzinfo)
                instants.update(self._instants(series, offsets, frequency, max(floor, joined_at), only))
            instants.update(await snoozed_instants(session, event, floor))
            upcoming = sorted(instants)[:PLAN_LIMIT]
            before = set(await planned_instants(session, event.id))
            if before != set(upcoming):
                await session.execute(delete(PlannedReminder).where(PlannedReminder.event_id == event.id))
                if upcoming:
                    await session.execute(
                        insert(PlannedReminder), [{"event_id": event.id, "due_at": due} for due in upcoming]
                    )
            end_at, open_ended = event.end_at, False
            if event.recurrence:
                last = series.last_end()
                if last is None:
                    # Never completes; with fewer instants than a full plan, plan again some occurrences ahead.
                    ahead = series.upcoming(inp.now or event.schedule_changed_at, PLAN_LIMIT)
                    end_at, open_ended = (ahead[-1].start if ahead else event.end_at), True
                else:
                    end_at = last
            pending_notices = [
                x.original_start for x in event.exceptions if x.status == OccurrenceStatus.CANCELLED and not x.notified
            ]
            plan = Plan(
                status=event.status,
                start_at=event.start_at,
                end_at=end_at,
                upcoming=upcoming,
                open_ended=open_ended,
                cancelled_occurrences=pending_notices,
            )
            return plan, set(upcoming) - before

    @staticmethod
    def _instants(
        series: Series, offsets: str, frequency: str, after: datetime, only: datetime | None = None
    ) -> list[datetime]:
        found = series_reminders(
            series,
            offsets=offsets_of(offsets),
            frequency=Frequency(frequency),
            after=after,
            limit=PLAN_LIMIT,
            only=only,
        )
        return [due for due, _ in found]

    async def _register(self, upcoming: list[datetime], added: set[datetime], inp: PlanInput) -> None:
        """Make sure a dispatcher runs for each new instant's slot; tell the slots that may have prepared already.

        A start of a dispatcher that already runs changes nothing in its history, so only a slot close enough
        to have prepared gets a signal (coalesced there into one re-preparation).
        """
        from workflows.slot_workflow import SlotWorkflow  # the dispatcher imports these activities' neighbours

        info = activity.info()
        instance = (info.workflow_id or "").rsplit("-event-", 1)[0]
        client = activity.client()
        now = inp.now or datetime.now(tz=upcoming[0].tzinfo)
        slots = sorted({slot_of(due) for due in upcoming})
        for slot in slots:
            imminent = slot - PREPARE_LEAD <= now
            new = any(slot <= due < slot + SLOT_LENGTH for due in added)
            if not (new or imminent):
                continue
            with contextlib.suppress(WorkflowAlreadyStartedError):
                await client.start_workflow(
                    SlotWorkflow.run,
                    SlotInput(slot_start=slot, send_ahead_seconds=inp.send_ahead_seconds),
                    id=slot_workflow_id(instance, slot),
                    task_queue=info.task_queue,
                    id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
                    start_signal=SIGNAL_REFRESH if imminent else None,
                    start_signal_args=[SlotNotice(event_id=inp.event_id)] if imminent else [],
                    execution_timeout=timedelta(days=3 * 365),
                )

    @activity.defn(name="complete_event")
    async def complete_event(self, inp: CompleteInput) -> None:
        """Mark the event completed (it has ended)."""
        async with heartbeating(), database_errors(), self._sessions.begin() as session:
            event = await session.get(Event, inp.event_id)
            if event is not None and event.status == EventStatus.SCHEDULED:
                event.status = EventStatus.COMPLETED
            await session.execute(delete(PlannedReminder).where(PlannedReminder.event_id == inp.event_id))
