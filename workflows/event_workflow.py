"""EventWorkflow: owns one event's lifecycle: plans its reminders, tells the cancellation, completes it."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from core.planning import PLAN_LIMIT
    from core.scheduling import QUERY_UPCOMING, SIGNAL_CHANGED, WORKFLOW_NAME, ChangeNotice, EventWorkflowInput
    from workflows.messages import DB_HEARTBEAT, DB_RETRY, CancelInput, CompleteInput, PlanInput
    from workflows.planning import PlanningActivities
    from workflows.preparation import PreparationActivities
    from workflows.slot_workflow import COALESCE, PREPARE_TIMEOUT, deliver_chunk

DB_TIMEOUT = timedelta(seconds=30)
# Continue-as-new once the history reaches this many events (or sooner, when Temporal suggests it), checked
# while changes are being gathered too. A run's history stays under HISTORY_BOUND plus the signals that arrive
# during one planning activity or one workflow task.
HISTORY_BOUND = 1_000
# ... and after this many instants planned, so a long countdown's run stays short too.
INSTANTS_PER_RUN = 5 * PLAN_LIMIT


@workflow.defn(name=WORKFLOW_NAME)
class EventWorkflow:
    """One per event. Its state is a cursor (the instant planned up to); the database holds the participants.

    The reminders themselves are sent by the dispatchers of their time slots, which this workflow registers
    them with when it plans; it wakes only to plan further, on a change, to cancel, or at the end.
    """

    def __init__(self) -> None:
        self._changed = False
        self._upcoming: list[datetime] = []

    @workflow.signal(name=SIGNAL_CHANGED)
    def changed(self, notice: ChangeNotice) -> None:
        """The event or its subscribers changed: plan again (a burst of these is planned once)."""
        self._changed = True

    @workflow.query(name=QUERY_UPCOMING)
    def upcoming(self) -> list[datetime]:
        """The next reminder instants, as last planned."""
        return list(self._upcoming)

    @workflow.run
    async def run(self, inp: EventWorkflowInput) -> str:
        """Plan, register, sleep until the plan runs out, a change or the end; cancel or complete."""
        after = inp.after
        planned = 0
        while True:
            self._changed = False
            plan = await workflow.execute_activity_method(
                PlanningActivities.plan_reminders,
                PlanInput(
                    event_id=inp.event_id, after=after, now=workflow.now(), send_ahead_seconds=inp.send_ahead_seconds
                ),
                start_to_close_timeout=DB_TIMEOUT,
                heartbeat_timeout=DB_HEARTBEAT,
                retry_policy=DB_RETRY,
            )
            if plan.status == "missing":
                return "missing"
            if plan.status == "cancelled":
                await self._cancel(inp.event_id)
                return "cancelled"
            if plan.status == "completed":
                return "completed"
            assert plan.end_at is not None
            self._upcoming = list(plan.upcoming)
            for original in plan.cancelled_occurrences:
                await self._cancel(inp.event_id, original)
            horizon = plan.upcoming[-1] if len(plan.upcoming) >= PLAN_LIMIT else None
            if await self._wait_until(horizon or plan.end_at):
                # Gather the rest of a burst into one plan, but not past the history bound.
                with contextlib.suppress(TimeoutError):
                    await workflow.wait_condition(self._history_full, timeout=COALESCE)
            elif horizon is None and plan.open_ended:
                # A series that never ends and had nothing to plan this far: move the cursor on.
                after, planned = plan.end_at, planned + len(plan.upcoming) + 1
            elif horizon is None:
                await workflow.execute_activity_method(
                    PlanningActivities.complete_event,
                    CompleteInput(event_id=inp.event_id),
                    start_to_close_timeout=DB_TIMEOUT,
                    heartbeat_timeout=DB_HEARTBEAT,
                    retry_policy=DB_RETRY,
                )
                return "completed"
            else:
                after, planned = horizon, planned + len(plan.upcoming)
            if self._history_full() or planned >= INSTANTS_PER_RUN:
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    EventWorkflowInput(event_id=inp.event_id, send_ahead_seconds=inp.send_ahead_seconds, after=after)
                )

    @staticmethod
    def _history_full() -> bool:
        info = workflow.info()
        return info.is_continue_as_new_suggested() or info.get_current_history_length() >= HISTORY_BOUND

    async def _wait_until(self, when: datetime) -> bool:
        """Sleep until `when`; True if a change arrived first."""
        delay = (when - workflow.now()).total_seconds()
        if delay <= 0:
            return self._changed
        try:
            await workflow.wait_condition(lambda: self._changed, timeout=timedelta(seconds=delay))
        except TimeoutError:
            return False
        return True

    async def _cancel(self, event_id: int, occurrence: datetime | None = None) -> None:
        """Tell the channel and every subscriber once, retrying failed destinations on their own schedule; with
        `occurrence`, that this occurrence of the series is cancelled."""
        prepared = await workflow.execute_activity_method(
            PreparationActivities.prepare_cancellation,
            CancelInput(event_id=event_id, occurrence=occurrence),
            start_to_close_timeout=PREPARE_TIMEOUT,
            heartbeat_timeout=DB_HEARTBEAT,
            retry_policy=DB_RETRY,
        )
        await asyncio.gather(*(deliver_chunk(chunk, 0.0) for instant in prepared.instants for chunk in instant.chunks))
