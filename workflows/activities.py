"""Activities of the event workflow: plan from the database, deliver through Apprise, keep the log."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio import activity
from temporalio.exceptions import ApplicationError

from core import notices
from core.destinations import PLATFORMS, Destination, Sender, dm_destination, member_destination
from core.metrics import record_deliveries
from core.models import (
    DeliveryStatus,
    Event,
    EventParticipant,
    EventStatus,
    Integration,
    NotificationLog,
    utcnow,
)
from core.reminders import reminder_instants
from core.secrets import SecretBox
from core.service.events import offsets_of
from core.tags import DM_TAG, split_stored
from core.timeparse import Frequency
from workflows.messages import (
    BATCH_SIZE,
    LATE_AFTER,
    MAX_SEND_ATTEMPTS,
    CompleteInput,
    Plan,
    PlanInput,
    SendInput,
    SendResult,
)

UPCOMING_LIMIT = 20
Row = TypeVar("Row", NotificationLog, Integration)
FINAL = frozenset({DeliveryStatus.SENT, DeliveryStatus.SKIPPED, DeliveryStatus.FAILED})


@dataclass(frozen=True)
class Target:
    """One destination of one recipient for one reminder."""

    key: str
    user_id: int | None
    integration_id: int | None
    label: str
    destination: Destination | None
    error: str | None = None


def _key(kind: str, event_id: int, due: datetime, who: int | None, destination: str) -> str:
    raw = f"{kind}|{event_id}|{due.isoformat()}|{who if who is not None else 'channel'}|{destination}"
    return hashlib.sha256(raw.encode()).hexdigest()


def _due_in(due: datetime, *, start: datetime, tz: str, offsets: str, frequency: str, floor: datetime) -> bool:
    if due <= floor:
        return False
    nxt = reminder_instants(
        start=start,
        tz=tz,
        offsets=offsets_of(offsets),
        frequency=Frequency(frequency),
        after=due - timedelta(microseconds=1),
        limit=1,
    )
    return bool(nxt) and nxt[0] == due


async def _by_id(session: AsyncSession, model: type[Row], ids: Iterable[int]) -> dict[int, Row]:
    """Rows of `model` by primary key, in one query."""
    wanted = list(ids)
    if not wanted:
        return {}
    found = await session.execute(select(model).where(model.id.in_(wanted)))
    return {row.id: row for row in found.scalars()}


def _remaining_wait(wait_seconds: float) -> float:
    """What is left of the send-ahead wait once time spent queued and loading recipients is taken off."""
    elapsed = (utcnow() - activity.info().scheduled_time).total_seconds()
    return max(0.0, wait_seconds - max(0.0, elapsed))


def _database_failure(exc: SQLAlchemyError) -> ApplicationError:
    """A retryable failure that names the problem without the statement and its parameters (kept out of history)."""
    cause = getattr(exc, "orig", None) or exc
    return ApplicationError(f"database error: {type(exc).__name__}: {str(cause)[:200]}")


async def _heartbeat(every: float = 2.0) -> None:
    while True:
        activity.heartbeat()
        await asyncio.sleep(every)


class ReminderActivities:
    """The activities, built with the database sessions, the secret box and the sender they need."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        secrets: SecretBox,
        sender: Sender,
        late_after: timedelta = LATE_AFTER,
    ) -> None:
        self._sessions = sessions
        self._late_after = late_after
        self._secrets = secrets
        self._sender = sender

    @activity.defn(name="plan_reminders")
    async def plan_reminders(self, inp: PlanInput) -> Plan:
        """The event's status and its next reminder instants after `inp.after`."""
        try:
            return await self._plan(inp)
        except SQLAlchemyError as exc:
            raise _database_failure(exc) from None

    async def _plan(self, inp: PlanInput) -> Plan:
        async with self._sessions() as session:
            event = await session.get(Event, inp.event_id)
            if event is None:
                return Plan(status="missing")
            floor = max(event.schedule_changed_at, inp.after) if inp.after else event.schedule_changed_at
            instants: set[datetime] = set()
            if event.channel_url_encrypted:
                instants.update(self._instants(event, event.default_offsets, "none", floor))
            groups = await session.execute(
                select(
                    EventParticipant.custom_time_delta_seconds,
                    EventParticipant.custom_frequency,
                    func.min(EventParticipant.joined_at),
                )
                .where(EventParticipant.event_id == event.id)
                .group_by(EventParticipant.custom_time_delta_seconds, EventParticipant.custom_frequency)
            )
            for offsets, frequency, joined in groups:
                joined_at = joined if joined.tzinfo else joined.replace(tzinfo=event.start_at.tzinfo)
                instants.update(self._instants(event, offsets, frequency, max(floor, joined_at)))
            upcoming = sorted(instants)[:UPCOMING_LIMIT]
            return Plan(status=event.status, start_at=event.start_at, end_at=event.end_at, upcoming=upcoming)

    @staticmethod
    def _instants(event: Event, offsets: str, frequency: str, after: datetime) -> list[datetime]:
        return reminder_instants(
            start=event.start_at,
            tz=event.timezone,
            offsets=offsets_of(offsets),
            frequency=Frequency(frequency),
            after=after,
            limit=UPCOMING_LIMIT,
        )

    @activity.defn(name="send_notifications")
    async def send_notifications(self, inp: SendInput) -> SendResult:
        """Deliver one batch, heartbeating throughout so a crashed worker's batch is retried promptly."""
        beat = asyncio.create_task(_heartbeat())
        try:
            return await self._send_batch(inp)
        except SQLAlchemyError as exc:
            raise _database_failure(exc) from None
        finally:
            beat.cancel()

    async def _send_batch(self, inp: SendInput) -> SendResult:
        """Deliver one batch of a reminder; only destinations without a final log entry are sent to.

        The database is touched in two short transactions, before and after sending, so no lock is held
        while waiting for the due instant or for a slow notification service.
        """
        cancelling = inp.kind == "cancellation"
        async with self._sessions.begin() as session:
            event = await session.get(Event, inp.event_id)
            if event is None or event.status != (EventStatus.CANCELLED if cancelling else EventStatus.SCHEDULED):
                return SendResult()
            targets, next_id = await self._targets(session, event, inp)
            rows = await self._log_rows(session, event, inp, targets)
            pending = [t for t in targets if rows[t.key].status not in FINAL]
            row_ids = {t.key: rows[t.key].id for t in pending}

        if pending and inp.wait_seconds > 0:
            await asyncio.sleep(_remaining_wait(inp.wait_seconds))
        # Judged when the send really happens; the wall clock only counts where it is ahead of workflow time.
        fired = max(inp.fired_at, utcnow())
        skip = not cancelling and fired >= event.start_at
        late = not cancelling and fired - inp.due > self._late_after
        if cancelling:
            message = notices.cancellation(name=event.name, start=event.start_at, tz=event.timezone)
        else:
            message = notices.reminder(
                name=event.name,
                start=event.start_at,
                tz=event.timezone,
                due=inp.due,
                location=event.details.location,
                link=event.details.link,
                late=late,
            )
        errors: dict[str, str | None] = {t.key: t.error for t in pending}
        notes: dict[str, str | None] = {}
        # Refusals (the URL guard, a channel outside the tenant) end at once: retrying cannot change them.
        final = {t.key for t in pending if t.error is not None}
        sendable = [t for t in pending if t.error is None and t.destination is not None and not skip]
        outcomes = await asyncio.gather(
            *(self._sender.send(t.destination, message, key=t.key) for t in sendable if t.destination is not None)
        )
        for t, o in zip(sendable, outcomes, strict=True):
            errors[t.key], notes[t.key] = o.error, o.note
            if o.final:
                final.add(t.key)

        final_attempt = activity.info().attempt >= MAX_SEND_ATTEMPTS
        result = {"sent": 0, "failed": 0, "skipped": 0, "retrying": 0}
        now = utcnow()
        async with self._sessions.begin() as session:
            log_rows = await _by_id(session, NotificationLog, row_ids.values())
            integrations = await _by_id(session, Integration, {t.integration_id for t in pending if t.integration_id})
            for target in pending:
                row = log_rows.get(row_ids[target.key])
                if row is None:
                    continue
                error = errors[target.key]
                if skip:
                    row.status, row.error = DeliveryStatus.SKIPPED, "the event had started before this reminder ran"
                    result["skipped"] += 1
                    continue
                if row.attempts == 0:
                    row.late = late
                row.attempts += 1
                if error is None:
                    row.status, row.error = DeliveryStatus.SENT, notes.get(target.key)
                    result["sent"] += 1
                elif target.key in final or final_attempt:
                    row.status, row.error = DeliveryStatus.FAILED, error[:500]
                    result["failed"] += 1
                else:
                    row.error = error[:500]
                    result["retrying"] += 1
                if (integration := integrations.get(target.integration_id or 0)) is not None:
                    if error is None:
                        integration.last_success_at = now
                    else:
                        integration.last_error, integration.last_error_at = error[:500], now
        record_deliveries(
            kind=inp.kind,
            event_id=inp.event_id,
            due=inp.due,
            sent_at=fired,
            rows=[
                (t.destination.url if t.destination else None, r.status, r.error)
                for t in pending
                if (r := log_rows.get(row_ids[t.key]))
            ],
        )
        if result["retrying"]:
            raise ApplicationError(f"{result['retrying']} destination(s) failed; retrying only those")
        return SendResult(
            sent=result["sent"], failed=result["failed"], skipped=result["skipped"], next_participant_id=next_id
        )

    async def _targets(self, session: AsyncSession, event: Event, inp: SendInput) -> tuple[list[Target], int | None]:
        cancelling = inp.kind == "cancellation"
        targets: list[Target] = []
        channel = self._secrets.decrypt(event.channel_url_encrypted) if event.channel_url_encrypted else None
        platform = event.organizer.platform
        if (
            inp.after_participant_id == 0
            and event.channel_url_encrypted
            and (
                cancelling
                or _due_in(
                    inp.due,
                    start=event.start_at,
                    tz=event.timezone,
                    offsets=event.default_offsets,
                    frequency="none",
                    floor=event.schedule_changed_at,
                )
            )
        ):
            targets.append(
                Target(
                    key=_key(inp.kind, event.id, inp.due, None, "channel"),
                    user_id=None,
                    integration_id=None,
                    label=f"channel {event.channel_label}",
                    # A chat platform's channel is the one its front end created the event in (it cannot be
                    # typed there); any other channel destination is an Apprise URL that passed the guard.
                    destination=Destination(
                        channel or "", platform=platform, tenant=event.tenant, internal=platform in PLATFORMS
                    ),
                )
            )
        page = (
            (
                await session.execute(
                    select(EventParticipant)
                    .where(EventParticipant.event_id == event.id, EventParticipant.id > inp.after_participant_id)
                    .order_by(EventParticipant.id)
                    .limit(BATCH_SIZE + 1)  # one more than a batch tells whether another batch follows
                )
            )
            .scalars()
            .all()
        )
        more = len(page) > BATCH_SIZE
        page = page[:BATCH_SIZE]
        next_id = page[-1].id if more else None
        due_now = [
            p
            for p in page
            if cancelling
            or _due_in(
                inp.due,
                start=event.start_at,
                tz=event.timezone,
                offsets=p.custom_time_delta_seconds,
                frequency=p.custom_frequency,
                floor=max(p.joined_at, event.schedule_changed_at),
            )
        ]
        integrations: dict[int, list[Integration]] = {}
        if due_now:
            rows = await session.execute(
                select(Integration).where(Integration.user_id.in_({p.user_id for p in due_now}))
            )
            for row in rows.scalars():
                integrations.setdefault(row.user_id, []).append(row)
        for p in due_now:
            tags = set(split_stored(p.tags))
            if DM_TAG in tags:
                dm = dm_destination(
                    platform=p.user.platform,
                    tenant=p.user.tenant,
                    user_id=p.user.platform_user_id,
                    channel=channel,
                    tz=p.user.timezone,
                )
                targets.append(
                    Target(
                        key=_key(inp.kind, event.id, inp.due, p.user_id, DM_TAG),
                        user_id=p.user_id,
                        integration_id=None,
                        label="direct message",
                        destination=dm,
                        error=None if dm else f"direct messages on {p.user.platform} are not available",
                    )
                )
            for integration in integrations.get(p.user_id, []):
                if tags & set(split_stored(integration.tags)):
                    targets.append(
                        Target(
                            key=_key(inp.kind, event.id, inp.due, p.user_id, integration.url_fingerprint),
                            user_id=p.user_id,
                            integration_id=integration.id,
                            label=f"{integration.label} {integration.masked_url}",
                            destination=member_destination(
                                self._secrets.decrypt(integration.url_encrypted),
                                platform=p.user.platform,
                                tenant=p.user.tenant,
                                tz=p.user.timezone,
                            ),
                        )
                    )
        return targets, next_id

    @staticmethod
    async def _log_rows(
        session: AsyncSession, event: Event, inp: SendInput, targets: list[Target]
    ) -> dict[str, NotificationLog]:
        keys = [t.key for t in targets]
        rows: dict[str, NotificationLog] = {}
        if keys:
            found = await session.execute(select(NotificationLog).where(NotificationLog.idempotency_key.in_(keys)))
            rows = {r.idempotency_key: r for r in found.scalars()}
        for t in targets:
            if t.key not in rows:
                row = NotificationLog(
                    idempotency_key=t.key,
                    event_id=event.id,
                    user_id=t.user_id,
                    integration_id=t.integration_id,
                    destination=t.label[:300],
                    kind=inp.kind,
                    due_at=inp.due,
                    status=DeliveryStatus.PENDING,
                    attempts=0,
                )
                session.add(row)
                rows[t.key] = row
        await session.flush()
        return rows

    @activity.defn(name="complete_event")
    async def complete_event(self, inp: CompleteInput) -> None:
        """Mark the event completed (it has ended)."""
        async with self._sessions.begin() as session:
            event = await session.get(Event, inp.event_id)
            if event is not None and event.status == EventStatus.SCHEDULED:
                event.status = EventStatus.COMPLETED

    def all(self) -> list[Callable[..., Any]]:
        """Every activity, for the worker."""
        return [self.plan_reminders, self.send_notifications, self.complete_event]
