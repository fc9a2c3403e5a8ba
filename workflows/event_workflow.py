"""EventWorkflow: waits for each reminder instant of one event and has it delivered, until the event ends."""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from core.scheduling import QUERY_UPCOMING, SIGNAL_CHANGED, WORKFLOW_NAME, ChangeNotice, EventWorkflowInput
    from workflows.messages import (
        DB_RETRY,
        SEND_RETRY,
        CompleteInput,
        Plan,
        PlanInput,
        SendInput,
        SendResult,
    )

# Continue-as-new after this many reminder instants, well before the history limits.
INSTANTS_PER_RUN = 100
# Short database activities and a heartbeat on sends, so an activity lost with a crashed worker is retried
# within seconds rather than after a long start-to-close timeout.
DB_TIMEOUT = timedelta(seconds=10)
SEND_TIMEOUT = timedelta(minutes=10)
SEND_HEARTBEAT = timedelta(seconds=10)


@workflow.defn(name=WORKFLOW_NAME)
class EventWorkflow:
    """One per event. Its state is a cursor (the last instant handled); the database holds the participants."""

    def __init__(self) -> None:
        self._changed = False
        self._upcoming: list[datetime] = []

    @workflow.signal(name=SIGNAL_CHANGED)
    def changed(self, notice: ChangeNotice) -> None:
        """The event or its subscribers changed: plan again."""
        self._changed = True

    @workflow.query(name=QUERY_UPCOMING)
    def upcoming(self) -> list[datetime]:
        """The next reminder instants, as last planned."""
        return list(self._upcoming)

    @workflow.run
    async def run(self, inp: EventWorkflowInput) -> str:
        """Plan, wait, send, repeat; end on cancellation (after telling everyone) or when the event is over."""
        after = inp.after
        handled = 0
        while True:
            self._changed = False
            plan = await workflow.execute_activity(
                "plan_reminders",
                PlanInput(event_id=inp.event_id, after=after),
                result_type=Plan,
                start_to_close_timeout=DB_TIMEOUT,
                retry_policy=DB_RETRY,
            )
            if plan.status == "missing":
                return "missing"
            if plan.status == "cancelled":
                await self._send_all(inp.event_id, plan.start_at or workflow.now(), "cancellation", 0.0)
                return "cancelled"
            if plan.status == "completed":
                return "completed"
            self._upcoming = list(plan.upcoming)
            assert plan.end_at is not None
            due = plan.upcoming[0] if plan.upcoming else None
            wake = due - timedelta(seconds=inp.send_ahead_seconds) if due else plan.end_at
            if await self._wait_until(wake):
                continue
            if due is None:
                await workflow.execute_activity(
                    "complete_event",
                    CompleteInput(event_id=inp.event_id),
                    start_to_close_timeout=DB_TIMEOUT,
                    retry_policy=DB_RETRY,
                )
                return "completed"
            ahead = max(0.0, (due - workflow.now()).total_seconds())
            await self._send_all(inp.event_id, due, "reminder", ahead)
            after = due
            handled += 1
            if handled >= INSTANTS_PER_RUN or workflow.info().is_continue_as_new_suggested():
                await workflow.wait_condition(workflow.all_handlers_finished)
                workflow.continue_as_new(
                    EventWorkflowInput(event_id=inp.event_id, send_ahead_seconds=inp.send_ahead_seconds, after=after)
                )

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

    async def _send_all(self, event_id: int, due: datetime, kind: str, ahead: float) -> None:
        fired_at = workflow.now() + timedelta(seconds=ahead)
        after_id: int | None = 0
        while after_id is not None:
            result = await workflow.execute_activity(
                "send_notifications",
                SendInput(
                    event_id=event_id,
                    due=due,
                    fired_at=fired_at,
                    kind=kind,
                    after_participant_id=after_id,
                    wait_seconds=ahead,
                ),
                result_type=SendResult,
                start_to_close_timeout=SEND_TIMEOUT + timedelta(seconds=ahead),
                heartbeat_timeout=SEND_HEARTBEAT,
                retry_policy=SEND_RETRY,
            )
            after_id = result.next_participant_id
            ahead = 0.0
