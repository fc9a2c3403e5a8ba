"""The send activity: one chunk of an instant's deliveries, checked again at the instant, outcomes in bulk."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity

from core import notices
from core.destinations import Outcome, Sender
from core.metrics import record_deliveries
from core.models import DeliveryStatus, Event, EventStatus, NotificationLog, utcnow
from core.notices import SNOOZE_SECONDS, Message, SnoozeOffer
from core.secrets import SecretBox
from core.service.events import series_of, start_of
from workflows.activity_context import database_errors, heartbeating
from workflows.destinations import deliver, prepare, write_ahead
from workflows.log_writes import IN_FLIGHT, LogWriter
from workflows.messages import LATE_AFTER, MAX_SEND_ATTEMPTS, Chunk, ChunkInput, ChunkResult
from workflows.targets import (
    Audience,
    Target,
    TargetBuilder,
    dependencies,
    dependencies_of,
    load_audience,
    load_snoozes,
)

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted: the worker stopped while sending; it may not have arrived"
# At most this many sends of one chunk are in flight (and at risk if the worker dies) at once.
WINDOW = 64
# ... and at most this many in one worker process, however many chunks it runs, so a big instant does not
# starve the event loop (and the heartbeats that keep its chunks from being taken over).
PROCESS_IN_FLIGHT = 128
FLUSH_EVERY = 0.1


@dataclass(frozen=True)
class Settled:
    """The outcome of one row, to be written with others like it."""

    row_id: int
    integration_id: int | None
    status: str
    error: str | None
    label: str
    event_id: int
    # Only its scheme is used, to count deliveries by platform.
    url: str | None = None


def _remaining_wait(wait_seconds: float, due: datetime) -> float:
    """What is left of the send-ahead wait once time spent queued and preparing is taken off; never past the
    due instant by the wall clock."""
    elapsed = (utcnow() - activity.info().scheduled_time).total_seconds()
    return max(0.0, min(wait_seconds - max(0.0, elapsed), (due - utcnow()).total_seconds()))


class SendingActivities:
    """Sends prepared deliveries; built with the sessions, the secret box and the sender."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        secrets: SecretBox,
        sender: Sender,
        late_after: timedelta = LATE_AFTER,
        snooze_seconds: int = SNOOZE_SECONDS,
    ) -> None:
        self._sessions = sessions
        self._snooze_seconds = snooze_seconds
        self._secrets = secrets
        self._sender = sender
        self._late_after = late_after
        self._in_flight = asyncio.Semaphore(PROCESS_IN_FLIGHT)
        # The chunks of one process write their claims and outcomes together (one transaction at a time).
        self._log = LogWriter(sessions)

    @activity.defn(name="send_notifications")
    async def send_notifications(self, inp: ChunkInput) -> ChunkResult:
        """Send one chunk, heartbeating throughout so a crashed worker's chunk is taken over promptly."""
        async with heartbeating(), database_errors():
            return await self._send_chunk(inp)

    async def _rows(self, session: AsyncSession, chunk: Chunk) -> list[NotificationLog]:
        query = select(NotificationLog).where(
            NotificationLog.kind == chunk.kind,
            NotificationLog.due_at == chunk.due,
            NotificationLog.id >= chunk.first_id,
            NotificationLog.id <= chunk.last_id,
            NotificationLog.status == DeliveryStatus.PENDING,
        )
        if chunk.event_id is not None:
            query = query.where(NotificationLog.event_id == chunk.event_id)
        return list((await session.execute(query.order_by(NotificationLog.id))).scalars())

    async def _targets(
        self, session: AsyncSession, chunk: Chunk, rows: list[NotificationLog], *, decrypt: bool
    ) -> tuple[Audience, dict[str, Target]]:
        """The chunk's audience and the deliveries it calls for now, from the database as it is at this moment."""
        users = {r.user_id for r in rows if r.user_id is not None}
        audience = await load_audience(session, {r.event_id for r in rows}, user_ids=users)
        builder = TargetBuilder(audience, kind=chunk.kind, secrets=self._secrets if decrypt else None)
        if chunk.kind == "cancellation":
            targets = builder.cancellation() + builder.occurrence_cancellations(
                (r.event_id, r.occurrence_start) for r in rows if r.occurrence_start is not None
            )
        elif chunk.kind == "snooze":
            await load_snoozes(session, audience, chunk.due, chunk.due + timedelta(microseconds=1))
            targets = builder.snoozes(chunk.due, chunk.due + timedelta(microseconds=1))
        else:
            targets = builder.reminders(chunk.due, chunk.due + timedelta(microseconds=1))
        return audience, {t.key: t for t in targets}

    async def _send_chunk(self, inp: ChunkInput) -> ChunkResult:
        chunk = inp.chunk
        cancelling = chunk.kind == "cancellation"
        settled: list[Settled] = []
        async with self._sessions() as session:
            rows = await self._rows(session, chunk)
            if not rows:
                return ChunkResult()
            audience, prepared = await self._targets(session, chunk, rows, decrypt=True)
        loaded_for, loaded = rows, dependencies_of(audience)
        await prepare(self._sender, [t.destination for t in prepared.values() if t.destination is not None])
        settled += [
            Settled(r.id, r.integration_id, DeliveryStatus.FAILED, INTERRUPTED, r.destination, r.event_id)
            for r in rows
            if r.error == IN_FLIGHT
        ]
        rows = [r for r in rows if r.error != IN_FLIGHT]
        # The messages are written ahead too, as they read when sent on time.
        late_ahead = self._late(chunk, max(inp.fired_at, utcnow()))
        messages = self._messages(audience.events, chunk, rows, late=late_ahead)
        write_ahead(
            self._sender,
            (
                (target.destination, messages[(row.event_id, row.occurrence_start)])
                for row in rows
                if (target := prepared.get(row.idempotency_key)) is not None and target.destination is not None
            ),
        )

        if inp.wait_seconds > 0:
            await asyncio.sleep(_remaining_wait(inp.wait_seconds, chunk.due))
        # Changes since the chunk loaded its deliveries (cancel, move, unsubscribe, a removed destination) count:
        # at the instant, a few narrow queries show whether anything the deliveries depend on changed, and only
        # then are they worked out again, so an instant with nothing changed starts sending at once.
        current, changed = prepared, False
        async with self._sessions() as session:
            if await dependencies(session, loaded_for) != loaded:
                audience, current = await self._targets(session, chunk, rows, decrypt=False)
                changed = True
        events = audience.events
        # Judged when the send really happens; the wall clock only counts where it is ahead of workflow time.
        fired = max(inp.fired_at, utcnow())
        final_attempt = inp.attempt >= MAX_SEND_ATTEMPTS
        to_send: list[tuple[NotificationLog, Target]] = []
        for row in rows:
            event = events.get(row.event_id)
            reason = self._stale(row, event, current, fired, cancelling)
            if reason is not None:
                # A retry that can no longer go out ends as failed with what went wrong; a first try as skipped.
                status = DeliveryStatus.FAILED if row.attempts and row.error else DeliveryStatus.SKIPPED
                error = f"{row.error}; {reason}" if status == DeliveryStatus.FAILED else reason
                settled.append(Settled(row.id, row.integration_id, status, error, row.destination, row.event_id))
                continue
            target = prepared.get(row.idempotency_key)
            if target is None or target.error is not None or target.destination is None:
                error = target.error if target and target.error else "this destination is no longer available"
                settled.append(
                    Settled(row.id, row.integration_id, DeliveryStatus.FAILED, error, row.destination, row.event_id)
                )
                continue
            to_send.append((row, target))

        late = self._late(chunk, fired)
        if changed or late != late_ahead:
            messages = self._messages(events, chunk, [r for r, _ in to_send], late=late)
        result: defaultdict[str, int] = defaultdict(int)
        await self._record(settled, chunk=chunk, late=late, result=result, final=True)
        await self._send_window(to_send, messages, chunk=chunk, late=late, final_attempt=final_attempt, result=result)
        return ChunkResult(
            sent=result[DeliveryStatus.SENT],
            failed=result[DeliveryStatus.FAILED],
            skipped=result[DeliveryStatus.SKIPPED],
            retrying=result[DeliveryStatus.PENDING],
        )

    @staticmethod
    def _stale(
        row: NotificationLog, event: Event | None, current: dict[str, Target], fired: datetime, cancelling: bool
    ) -> str | None:
        """Why a prepared delivery must not go out now, if it must not."""
        # One cancelled occurrence of a series is told while the series itself goes on.
        wanted = EventStatus.CANCELLED if cancelling and row.occurrence_start is None else EventStatus.SCHEDULED
        if event is None or event.status != wanted:
            return f"the event is {event.status if event else 'gone'}"
        if not cancelling and fired >= start_of(event, row.occurrence_start):
            return "the event had started before this reminder ran"
        if row.idempotency_key not in current:
            # Recomputed from the database as it is now: a move, an unsubscribe, a changed subscription or a
            # removed destination each take the delivery out.
            return "the event or the subscription changed after this reminder was planned"
        return None

    def _late(self, chunk: Chunk, fired: datetime) -> bool:
        """Whether a reminder sent at `fired` is late (a cancellation never is)."""
        return chunk.kind != "cancellation" and fired - chunk.due > self._late_after

    def _messages(
        self, events: dict[int, Event], chunk: Chunk, rows: list[NotificationLog], *, late: bool
    ) -> dict[tuple[int, datetime | None], Message]:
        """One message per event and occurrence of `rows` (those whose event is still known)."""
        return {
            (event_id, occurrence): self._message(events[event_id], chunk, late, self._snooze_seconds, occurrence)
            for event_id, occurrence in {(r.event_id, r.occurrence_start) for r in rows}
            if event_id in events
        }

    @staticmethod
    def _message(
        event: Event, chunk: Chunk, late: bool, snooze_seconds: int, occurrence: datetime | None = None
    ) -> Message:
        if chunk.kind == "cancellation":
            start = occurrence or event.start_at
            if occurrence is None and event.recurrence:
                # A whole series: the notice names the next occurrence that will not happen.
                start = next((o.start for o in series_of(event).upcoming(utcnow(), 1)), start)
            return notices.cancellation(name=event.name, start=start, tz=event.timezone)
        start = start_of(event, occurrence)
        # "Remind me again" only where the reminder again would still come before the start.
        useful = chunk.due + timedelta(seconds=snooze_seconds) < start
        return notices.reminder(
            name=event.name,
            start=start,
            tz=event.timezone,
            due=chunk.due,
            location=event.details.location,
            link=event.details.link,
            late=late,
            again=chunk.kind == "snooze",
            snooze=SnoozeOffer(event.id, chunk.due, snooze_seconds) if useful else None,
        )

    async def _send_window(
        self,
        to_send: list[tuple[NotificationLog, Target]],
        messages: dict[tuple[int, datetime | None], Message],
        *,
        chunk: Chunk,
        late: bool,
        final_attempt: bool,
        result: defaultdict[str, int],
    ) -> None:
        """Send with at most WINDOW in flight, marking each batch in flight before it starts and writing
        outcomes every FLUSH_EVERY seconds, so a slow destination holds one slot and nobody else."""

        async def one(row: NotificationLog, target: Target) -> Settled:
            assert target.destination is not None
            url = target.destination.url
            try:
                outcome = await deliver(
                    self._sender,
                    target.destination,
                    messages[(row.event_id, row.occurrence_start)],
                    key=row.idempotency_key,
                )
            except Exception as exc:  # a sender bug must not take the chunk down
                log.warning("delivery raised %s", type(exc).__name__)
                outcome = Outcome(False, f"the notification service failed ({type(exc).__name__})")
            finally:
                self._in_flight.release()
            if outcome.delivered:
                return Settled(
                    row.id, row.integration_id, DeliveryStatus.SENT, outcome.note, row.destination, row.event_id, url
                )
            error = (outcome.error or "the notification service did not accept the message")[:450]
            if final_attempt or outcome.final:
                return Settled(
                    row.id, row.integration_id, DeliveryStatus.FAILED, error, row.destination, row.event_id, url
                )
            return Settled(
                row.id, row.integration_id, DeliveryStatus.PENDING, error, row.destination, row.event_id, url
            )

        queue = list(reversed(to_send))
        running: set[asyncio.Task[Settled]] = set()
        done_list: list[Settled] = []
        flushed = time.monotonic()
        while queue or running:
            # Only rows that can be sent at once are marked in flight: a row marked so when the worker dies is
            # never sent again, so none may wait behind other chunks' sends while marked. While this chunk has
            # sends running it takes free slots only, so it keeps writing their outcomes.
            if queue and len(running) <= WINDOW // 2 and not (running and self._in_flight.locked()):
                if done_list and not running:
                    await self._record(done_list, chunk=chunk, late=late, result=result, final=False)
                    done_list, flushed = [], time.monotonic()
                permits = await self._acquire(min(len(queue), WINDOW - len(running)))
                batch = [queue.pop() for _ in range(permits)]
                try:
                    await self._log.claim([row.id for row, _ in batch], late=late)
                except BaseException:
                    for _ in batch:
                        self._in_flight.release()
                    raise
                running |= {asyncio.create_task(one(row, target)) for row, target in batch}
            finished, running = await asyncio.wait(running, timeout=FLUSH_EVERY, return_when=asyncio.FIRST_COMPLETED)
            done_list += [task.result() for task in finished]
            if done_list and ((not running and not queue) or time.monotonic() - flushed >= FLUSH_EVERY):
                await self._record(done_list, chunk=chunk, late=late, result=result, final=False)
                done_list, flushed = [], time.monotonic()
        if done_list:
            await self._record(done_list, chunk=chunk, late=late, result=result, final=False)

    async def _acquire(self, wanted: int) -> int:
        """Take one send slot of this process (waiting for it) and up to `wanted` in all that are free now."""
        await self._in_flight.acquire()
        taken = 1
        while taken < wanted and not self._in_flight.locked():
            await self._in_flight.acquire()
            taken += 1
        return taken

    async def _record(
        self, settled: list[Settled], *, chunk: Chunk, late: bool, result: defaultdict[str, int], final: bool
    ) -> None:
        """Write outcomes grouped by (status, error): a few UPDATE statements however many rows; count them."""
        if not settled:
            return
        by_event: defaultdict[int, list[Settled]] = defaultdict(list)
        for s in settled:
            by_event[s.event_id].append(s)
        sent_at = utcnow()
        for event_id, group in by_event.items():
            # Counted by status, kind and platform; a final failure is logged once, in one line, without the URL.
            record_deliveries(
                kind=chunk.kind,
                event_id=event_id,
                due=chunk.due,
                sent_at=sent_at,
                rows=[(s.url, s.status, s.error) for s in group],
            )
        groups: dict[tuple[str, str | None], list[int]] = defaultdict(list)
        successes: set[int] = set()
        failures: dict[str, set[int]] = defaultdict(set)
        for s in settled:
            groups[(s.status, s.error)].append(s.row_id)
            result[s.status] += 1
            if s.integration_id is not None and not final:
                if s.status == DeliveryStatus.SENT:
                    successes.add(s.integration_id)
                elif s.error:
                    failures[s.error].add(s.integration_id)
        await self._log.settle(groups, successes=successes, failures=failures)
