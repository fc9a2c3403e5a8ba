"""Who gets a delivery at which instant: every destination of every event in a window, in a few queries."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import BindParameter, Executable, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

from core.destinations import Destination
from core.models import (
    Event,
    EventParticipant,
    EventStatus,
    Integration,
    NotificationLog,
    OccurrenceException,
    Snooze,
)
from core.recurrence import OccurrenceStatus, series_reminders
from core.secrets import SecretBox
from core.service.events import offsets_of, series_of, start_of
from core.tags import DM_TAG, split_stored
from core.timeparse import Frequency
from workflows.destinations import channel_destination, dm_of, has_dm, integration_destination

# Enough instants for one slot: a minute holds at most a few offsets of one subscription.
_PER_WINDOW = 64
# Keep IN (...) lists well inside every backend's parameter limit.
IN_BATCH = 500


@dataclass(frozen=True)
class Target:
    """One destination of one recipient for one reminder (or notice) of one event at one instant."""

    key: str
    event_id: int
    due: datetime
    user_id: int | None
    integration_id: int | None
    label: str
    destination: Destination | None = None
    error: str | None = None
    # The occurrence of a series (its original start) the delivery is for; None for a one-off event.
    occurrence: datetime | None = None


# One due instant of a recipient, with the occurrence it is for.
Due = tuple[datetime, datetime | None]


@dataclass
class Audience:
    """Events with their subscribers and the subscribers' integrations, loaded set-based."""

    events: dict[int, Event] = field(default_factory=dict)
    participants: dict[int, list[EventParticipant]] = field(default_factory=lambda: defaultdict(list))
    integrations: dict[int, list[Integration]] = field(default_factory=lambda: defaultdict(list))
    # Filled by load_snoozes, for the instants asked for.
    snoozes: dict[int, list[Snooze]] = field(default_factory=lambda: defaultdict(list))


def delivery_key(
    kind: str, event_id: int, due: datetime, who: int | None, destination: str, occurrence: datetime | None = None
) -> str:
    """The idempotency key of one delivery: the same reminder to the same destination is one log row, ever.

    A series' deliveries carry the occurrence too, so reminders of two occurrences due at one instant never merge.
    """
    raw = f"{kind}|{event_id}|{due.isoformat()}|{who if who is not None else 'channel'}|{destination}"
    if occurrence is not None:
        raw += f"|{occurrence.astimezone(due.tzinfo).isoformat()}"
    return hashlib.sha256(raw.encode()).hexdigest()


def batches(items: Iterable[int], size: int = IN_BATCH) -> list[list[int]]:
    """`items` in lists of at most `size`."""
    ordered = sorted(set(items))
    return [ordered[i : i + size] for i in range(0, len(ordered), size)]


async def load_audience(
    session: AsyncSession, event_ids: Iterable[int], *, user_ids: set[int] | None = None, status: str | None = None
) -> Audience:
    """The events (optionally only those in `status`), their participants (optionally only `user_ids`), and
    those participants' integrations."""
    audience = Audience()
    for part in batches(event_ids):
        query = select(Event).where(Event.id.in_(part))
        if status is not None:
            query = query.where(Event.status == status)
        audience.events.update((e.id, e) for e in (await session.execute(query)).unique().scalars())
    for part in batches(audience.events):
        members = select(EventParticipant).where(EventParticipant.event_id.in_(part))
        if user_ids is not None:
            members = members.where(EventParticipant.user_id.in_(user_ids))
        for p in (await session.execute(members.order_by(EventParticipant.id))).unique().scalars():
            audience.participants[p.event_id].append(p)
    users = {p.user_id for ps in audience.participants.values() for p in ps}
    for part in batches(users):
        rows = await session.execute(select(Integration).where(Integration.user_id.in_(part)).order_by(Integration.id))
        for integration in rows.scalars():
            audience.integrations[integration.user_id].append(integration)
    return audience


async def load_snoozes(session: AsyncSession, audience: Audience, lo: datetime, hi: datetime) -> None:
    """Add the snoozes due in [lo, hi) of the audience's events."""
    for part in batches(audience.events):
        rows = await session.execute(
            select(Snooze).where(Snooze.event_id.in_(part), Snooze.due_at >= lo, Snooze.due_at < hi).order_by(Snooze.id)
        )
        for found in rows.scalars():
            audience.snoozes[found.event_id].append(found)


def _cancelled(event: Event, occurrence: datetime | None) -> bool:
    return occurrence is not None and any(
        x.original_start == occurrence and x.status == OccurrenceStatus.CANCELLED for x in event.exceptions
    )


def _instants_in(
    event: Event, offsets: str, frequency: str, lo: datetime, hi: datetime, only: datetime | None = None
) -> list[Due]:
    found = series_reminders(
        series_of(event),
        offsets=offsets_of(offsets),
        frequency=Frequency(frequency),
        after=lo - timedelta(microseconds=1),
        before=hi,
        limit=_PER_WINDOW,
        only=only,
    )
    series = event.recurrence is not None
    return [(due, occurrence.original if series else None) for due, occurrence in found]


class TargetBuilder:
    """Turns an audience into targets; decrypts destinations only when asked (for sending, not for planning)."""

    def __init__(self, audience: Audience, *, kind: str, secrets: SecretBox | None) -> None:
        self._audience = audience
        self._kind = kind
        self._secrets = secrets
        self._plain: dict[int, Destination] = {}

    def reminders(self, lo: datetime, hi: datetime) -> list[Target]:
        """Every reminder due in [lo, hi) of the audience's scheduled events."""
        targets: list[Target] = []
        for event in self._audience.events.values():
            if event.status != EventStatus.SCHEDULED:
                continue
            dues: dict[int | None, list[Due]] = {}
            if event.channel_url_encrypted:
                dues[None] = [
                    d
                    for d in _instants_in(event, event.default_offsets, "none", lo, hi)
                    if d[0] > event.schedule_changed_at
                ]
            groups: dict[tuple[str, str, datetime | None], list[Due]] = {}
            for p in self._audience.participants.get(event.id, []):
                group = (p.custom_time_delta_seconds, p.custom_frequency, p.occurrence_start)
                if group not in groups:
                    groups[group] = _instants_in(event, *group[:2], lo, hi, only=group[2])
                floor = max(p.joined_at, event.schedule_changed_at)
                dues[p.id] = [d for d in groups[group] if d[0] > floor]
            targets.extend(self._for_event(event, dues))
        return targets

    def cancellation(self) -> list[Target]:
        """The cancellation notice of each cancelled event, to its channel and every subscriber."""
        targets: list[Target] = []
        for event in self._audience.events.values():
            if event.status != EventStatus.CANCELLED:
                continue
            dues: dict[int | None, list[Due]] = {p.id: [(event.start_at, None)] for p in self._participants(event)}
            if event.channel_url_encrypted:
                dues[None] = [(event.start_at, None)]
            targets.extend(self._for_event(event, dues))
        return targets

    def occurrence_cancellations(self, wanted: Iterable[tuple[int, datetime]]) -> list[Target]:
        """The notice that one occurrence of a series is cancelled, to the channel and to its subscribers (of the
        whole series, or of that occurrence); only for occurrences cancelled now."""
        targets: list[Target] = []
        for event_id, original in sorted(set(wanted)):
            event = self._audience.events.get(event_id)
            if event is None or event.status != EventStatus.SCHEDULED:
                continue
            cancelled = {x.original_start for x in event.exceptions if x.status == OccurrenceStatus.CANCELLED}
            if original not in cancelled:
                continue
            due: Due = (original, original)
            dues: dict[int | None, list[Due]] = {
                p.id: [due] for p in self._participants(event) if p.occurrence_start in (None, original)
            }
            if event.channel_url_encrypted:
                dues[None] = [due]
            targets.extend(self._for_event(event, dues))
        return targets

    def snoozes(self, lo: datetime, hi: datetime) -> list[Target]:
        """Each snoozed reminder due in [lo, hi) (loaded with load_snoozes): one direct message to its member,
        while they are still subscribed (since before they snoozed) and the event has not started."""
        targets: list[Target] = []
        for event in self._audience.events.values():
            if event.status != EventStatus.SCHEDULED or not self._audience.snoozes.get(event.id):
                continue
            members = {p.user_id: p for p in self._participants(event)}
            channel = channel_destination(event, self._secrets) if self._secrets is not None else None
            for snoozed in self._audience.snoozes.get(event.id, []):
                p = members.get(snoozed.user_id)
                due, occurrence = snoozed.due_at, snoozed.occurrence_start
                # A member who left and joined again after snoozing starts afresh.
                if p is None or p.joined_at > snoozed.created_at or not lo <= due < hi:
                    continue
                if due >= start_of(event, occurrence) or _cancelled(event, occurrence):
                    continue
                error = None if has_dm(p.user) else f"direct messages on {p.user.platform} are not available"
                targets.append(
                    Target(
                        key=delivery_key("snooze", event.id, due, p.user_id, DM_TAG, occurrence),
                        event_id=event.id,
                        due=due,
                        user_id=p.user_id,
                        integration_id=None,
                        label="direct message",
                        destination=dm_of(p.user, channel) if self._secrets else None,
                        error=error,
                        occurrence=occurrence,
                    )
                )
        return targets

    def _participants(self, event: Event) -> list[EventParticipant]:
        return self._audience.participants.get(event.id, [])

    def _for_event(self, event: Event, dues: dict[int | None, list[Due]]) -> list[Target]:
        kind = self._kind
        targets: list[Target] = []
        channel = None
        if self._secrets is not None and any(dues.values()):
            channel = channel_destination(event, self._secrets)
        for due, occurrence in dues.get(None, []):
            targets.append(
                Target(
                    key=delivery_key(kind, event.id, due, None, "channel", occurrence),
                    event_id=event.id,
                    due=due,
                    user_id=None,
                    integration_id=None,
                    label=f"channel {event.channel_label}",
                    destination=channel,
                    occurrence=occurrence,
                )
            )
        for p in self._participants(event):
            if not dues.get(p.id):
                continue
            tags = set(split_stored(p.tags))
            chosen: list[tuple[str, int | None, str, Destination | None, str | None]] = []
            if DM_TAG in tags:
                dm = dm_of(p.user, channel) if self._secrets else None
                error = None if has_dm(p.user) else f"direct messages on {p.user.platform} are not available"
                chosen.append((DM_TAG, None, "direct message", dm, error))
            for integration in self._audience.integrations.get(p.user_id, []):
                if tags & set(split_stored(integration.tags)):
                    chosen.append(
                        (
                            integration.url_fingerprint,
                            integration.id,
                            f"{integration.label} {integration.masked_url}",
                            self._integration_destination(integration, p),
                            None,
                        )
                    )
            for due, occurrence in dues[p.id]:
                for name, integration_id, label, destination, error in chosen:
                    targets.append(
                        Target(
                            key=delivery_key(kind, event.id, due, p.user_id, name, occurrence),
                            event_id=event.id,
                            due=due,
                            user_id=p.user_id,
                            integration_id=integration_id,
                            label=label,
                            destination=destination,
                            error=error,
                            occurrence=occurrence,
                        )
                    )
        return targets

    def _integration_destination(self, integration: Integration, p: EventParticipant) -> Destination | None:
        if self._secrets is None:
            return None
        if integration.id not in self._plain:
            self._plain[integration.id] = integration_destination(integration, p.user, self._secrets)
        return self._plain[integration.id]


@dataclass(frozen=True)
class Dependencies:
    """What the deliveries of some log rows depend on: their events' schedule, rule and status, the series'
    cancelled and moved occurrences, the subscriptions and the destinations. Two equal values mean the same
    deliveries are due."""

    events: frozenset[tuple[object, ...]]
    participants: frozenset[tuple[object, ...]]
    integrations: frozenset[tuple[object, ...]]
    # A series' cancelled and moved occurrences.
    exceptions: frozenset[tuple[object, ...]] = frozenset()


# What the deliveries of some rows depend on, table by table: read from the objects a chunk loaded and, at the
# instant, by these same columns from the database. (The channel's ciphertext stands for the channel: a new one
# only makes the deliveries be worked out again.)
_EVENT = (
    Event.id,
    Event.status,
    Event.start_at,
    Event.schedule_changed_at,
    Event.default_offsets,
    Event.channel_url_encrypted,
    Event.recurrence,
)
_EXCEPTION = (
    OccurrenceException.event_id,
    OccurrenceException.original_start,
    OccurrenceException.status,
    OccurrenceException.start_at,
    OccurrenceException.end_at,
)
_PARTICIPANT = (
    EventParticipant.id,
    EventParticipant.event_id,
    EventParticipant.user_id,
    EventParticipant.tags,
    EventParticipant.custom_time_delta_seconds,
    EventParticipant.custom_frequency,
    EventParticipant.joined_at,
    EventParticipant.occurrence_start,
)
_INTEGRATION = (Integration.id, Integration.user_id, Integration.tags, Integration.url_fingerprint)


def _values(loaded: object, columns: tuple[InstrumentedAttribute[Any], ...]) -> tuple[object, ...]:
    return tuple(getattr(loaded, column.key) for column in columns)


def dependencies_of(audience: Audience) -> Dependencies:
    """The dependencies of the rows `audience` was loaded for (by load_audience), as it saw them."""
    return Dependencies(
        events=frozenset(_values(e, _EVENT) for e in audience.events.values()),
        participants=frozenset(_values(p, _PARTICIPANT) for ps in audience.participants.values() for p in ps),
        integrations=frozenset(_values(i, _INTEGRATION) for its in audience.integrations.values() for i in its),
        exceptions=frozenset(
            _values(x, _EXCEPTION) for e in audience.events.values() if e.recurrence for x in e.exceptions
        ),
    )


# The statements of `dependencies`, built once: at an instant of many events every chunk runs them.
_IDS: BindParameter[Any] = bindparam("ids", expanding=True)
_EVENT_DEPENDENCIES = select(*_EVENT).where(Event.id.in_(_IDS))
_EXCEPTION_DEPENDENCIES = select(*_EXCEPTION).where(OccurrenceException.event_id.in_(_IDS))
_PARTICIPANT_DEPENDENCIES = select(*_PARTICIPANT).where(
    EventParticipant.event_id.in_(_IDS), EventParticipant.user_id.in_(bindparam("users", expanding=True))
)
_INTEGRATION_DEPENDENCIES = select(*_INTEGRATION).where(Integration.user_id.in_(_IDS))


async def dependencies(session: AsyncSession, rows: Iterable[NotificationLog]) -> Dependencies:
    """The dependencies of `rows` as the database holds them now: a few narrow queries, no objects built, so
    it is cheap enough to run at the instant itself."""
    rows = list(rows)
    # Core statements on the session's connection: plain tuples, without the ORM's per-statement setup.
    connection = await session.connection()

    async def found(statement: Executable, ids: Iterable[int], **more: object) -> set[tuple[object, ...]]:
        values: set[tuple[object, ...]] = set()
        for part in batches(ids):
            values.update(tuple(row) for row in await connection.execute(statement, {"ids": part, **more}))
        return values

    users = sorted({r.user_id for r in rows if r.user_id is not None})
    events = await found(_EVENT_DEPENDENCIES, (r.event_id for r in rows))
    # Only a series has occurrence exceptions that matter (a one-off event's reminders never look at them).
    exceptions = await found(_EXCEPTION_DEPENDENCIES, (cast(int, e[0]) for e in events if e[6]))
    participants = await found(_PARTICIPANT_DEPENDENCIES, (cast(int, e[0]) for e in events), users=users)
    integrations = await found(_INTEGRATION_DEPENDENCIES, (cast(int, p[2]) for p in participants))
    return Dependencies(frozenset(events), frozenset(participants), frozenset(integrations), frozenset(exceptions))
