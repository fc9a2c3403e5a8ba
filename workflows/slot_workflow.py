"""The dispatcher of one time slot: prepares every delivery due in it ahead, then at each instant only sends."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from core.planning import PREPARE_LEAD, SIGNAL_REFRESH, SLOT_LENGTH, SLOT_WORKFLOW_NAME
    from workflows.messages import (
        DB_HEARTBEAT,
        DB_RETRY,
        MAX_SEND_ATTEMPTS,
        Chunk,
        ChunkInput,
        InstantPlan,
        PrepareInput,
        SlotInput,
        SlotNotice,
        retry_delay,
    )
    from workflows.preparation import PreparationActivities
    from workflows.sending import SendingActivities

PREPARE_TIMEOUT = timedelta(minutes=2)
SEND_TIMEOUT = timedelta(minutes=10)
# Sends heartbeat every 2 s: a chunk lost with a killed worker is taken over by another within this.
SEND_HEARTBEAT = timedelta(seconds=10)
# Changes that arrive in a burst are gathered for this long before the slot prepares again.
COALESCE = timedelta(seconds=1)
# After its last instant is launched, the slot still hears changes until this long after that instant: a member
# who subscribed just before it (inside the send-ahead window, or while the change was on its way) still gets it.
LATE_JOIN = timedelta(seconds=10)


async def deliver_chunk(chunk: Chunk, ahead_seconds: float) -> None:
    """Send one chunk at its instant, then retry only its failed destinations on their own backoff schedule.

    Run as its own task, so a failing destination's retries hold back neither the instant's other chunks nor
    the slot's later instants.
    """
    # Launched `ahead_seconds` before the instant, or late (workers were down, or a change arrived late).
    fired_at = max(workflow.now(), chunk.due)
    attempt = 1
    inp = ChunkInput(chunk=chunk, fired_at=fired_at, attempt=attempt, wait_seconds=ahead_seconds)
    while True:
        result = await workflow.execute_activity_method(
            SendingActivities.send_notifications,
            inp,
            start_to_close_timeout=SEND_TIMEOUT + timedelta(seconds=inp.wait_seconds),
            heartbeat_timeout=SEND_HEARTBEAT,
            retry_policy=DB_RETRY,
        )
        if not result.retrying or attempt >= MAX_SEND_ATTEMPTS:
            return
        await workflow.sleep(retry_delay(attempt))
        attempt += 1
        inp = ChunkInput(chunk=chunk, fired_at=workflow.now(), attempt=attempt)


@workflow.defn(name=SLOT_WORKFLOW_NAME)
class SlotWorkflow:
    """One per slot (a minute of due instants), shared by every event due in it; event workflows register with
    it through the planned instants in the database and signal it only when it may have prepared already."""

    def __init__(self) -> None:
        self._dirty = False

    @workflow.signal(name=SIGNAL_REFRESH)
    def refresh(self, notice: SlotNotice) -> None:
        """An event's deliveries in this slot changed after it may have prepared: prepare again."""
        self._dirty = True

    @workflow.run
    async def run(self, inp: SlotInput) -> str:
        """Prepare ahead, wait for each instant, send its chunks in parallel tasks; end when all are settled."""
        end = inp.slot_start + SLOT_LENGTH
        ahead = inp.send_ahead_seconds
        await self._sleep_until(inp.slot_start - PREPARE_LEAD)
        after, above_id = inp.after, 0
        deliveries: list[asyncio.Task[None]] = []
        pending: list[InstantPlan] = []
        prepare = True
        while True:
            if prepare:
                self._dirty = False
                prepared = await workflow.execute_activity_method(
                    PreparationActivities.prepare_slot,
                    PrepareInput(start=inp.slot_start, end=end, after=after, above_id=above_id),
                    start_to_close_timeout=PREPARE_TIMEOUT,
                    heartbeat_timeout=DB_HEARTBEAT,
                    retry_policy=DB_RETRY,
                )
                pending, prepare = list(prepared.instants), False
            if not pending:
                if self._dirty or (after is not None and await self._wait_for_change(after + LATE_JOIN)):
                    prepare = True
                    continue
                break
            instant = pending[0]
            # Changes re-prepare only before the instant's wake-up; after it the prepared sends go out first and
            # what a late change added follows in chunks of its own.
            wake = instant.due - timedelta(seconds=ahead)
            if workflow.now() < wake and await self._wait_for_change(wake):
                # Let the rest of a burst arrive, unless the instant is too close for it.
                left = instant.due - timedelta(seconds=ahead) - workflow.now()
                if left > 2 * COALESCE:
                    await workflow.sleep(COALESCE)
                prepare = True
                continue
            pending.pop(0)
            deliveries += [asyncio.create_task(deliver_chunk(chunk, ahead)) for chunk in instant.chunks]
            after = instant.due if after is None else max(after, instant.due)
            above_id = max([above_id, *(chunk.last_id for chunk in instant.chunks)])
        await asyncio.gather(*deliveries)
        return "settled"

    async def _sleep_until(self, when: datetime) -> None:
        delay = (when - workflow.now()).total_seconds()
        if delay > 0:
            await workflow.sleep(delay)

    async def _wait_for_change(self, when: datetime) -> bool:
        """Sleep until `when`; True if a refresh arrived first."""
        delay = (when - workflow.now()).total_seconds()
        if delay <= 0:
            return self._dirty
        try:
            await workflow.wait_condition(lambda: self._dirty, timeout=timedelta(seconds=delay))
        except TimeoutError:
            return False
        return True
