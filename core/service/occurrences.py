"""Occurrences of a series: list them, cancel or move one, and change the series from one occurrence on."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from itertools import islice, takewhile

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Conflict, InvalidInput, InvalidTime, NotFound, PermissionDenied
from core.models import Event, EventDetails, EventParticipant, EventStatus, OccurrenceException, User
from core.recurrence import Occurrence, OccurrenceStatus, Series, normalize_rule
from core.service.context import Core
from core.service.events import (
    EventPatch,
    _check_span,
    _check_start,
    _instant,
    _may_manage,
    _read,
    _unused_code,
    about,
    event_view,
    find_event,
    read_series,
    series_of,
    signal_change,
)
from core.service.users import user_for
from core.text import check_line
from core.timeparse import format_local, read_when, zone
from core.views import Actor, EventView, OccurrenceView

OCCURRENCES_DEFAULT = 10
OCCURRENCES_MAX = 100
# How far through a series a typed occurrence is looked for.
_SEARCH = 2000


def _view(o: Occurrence) -> OccurrenceView:
    return OccurrenceView(original_start=o.original, start_at=o.start, end_at=o.end, status=o.status)


def occurrence_of(series: Series, when: str | datetime, *, now: datetime, field: str = "occurrence") -> Occurrence:
    """The occurrence `when` names: its original start (an instant), or a typed date (with or without a time)."""
    if isinstance(when, datetime):
        instant, date_only = when.astimezone(UTC), False
    else:
        check_line(field, when)
        try:
            instant, date_only = read_when(when, tz=series.tz, now=now).instant, False
        except InvalidTime:
            # "fri 11 dec" names a day; the time is the series' own.
            try:
                instant, date_only = read_when(f"{when} 12:00", tz=series.tz, now=now).instant, True
            except InvalidTime:
                raise InvalidTime(
                    f"'{when[:60]}' names no date; give the occurrence as a date, such as 'fri 11 dec'.", field=field
                ) from None
    day = instant.astimezone(zone(series.tz)).date()
    for occurrence in islice(series.occurrences(), _SEARCH):
        if occurrence.original == instant or (
            date_only and occurrence.original.astimezone(zone(series.tz)).date() == day
        ):
            return occurrence
        if occurrence.original > instant + timedelta(days=1):
            break
    shown = day.strftime("%a %d %b %Y") if date_only else format_local(instant, series.tz)
    nxt = ", ".join(format_local(o.start, series.tz) for o in series.upcoming(now, 3))
    raise NotFound(f"This series has no occurrence on {shown}. Its next ones: {nxt or 'none'}.", field=field)


async def _managed_series(session: AsyncSession, actor: Actor, ref: str | int, what: str) -> tuple[Event, User]:
    user = await user_for(session, actor)
    event = await find_event(session, actor, ref)
    if not _may_manage(event, user, actor):
        raise PermissionDenied(f"Only the event's organizer can {what}.")
    if event.status != EventStatus.SCHEDULED:
        raise Conflict(f"This event is {event.status}; it can no longer change.")
    if not event.recurrence:
        raise Conflict(f"'{event.name}' does not repeat; change the event itself instead.")
    return event, user


async def list_occurrences(
    *, core: Core, actor: Actor, ref: str | int, limit: int = OCCURRENCES_DEFAULT
) -> list[OccurrenceView]:
    """The event's occurrences that have not ended, soonest first, cancelled ones included (with their status)."""
    if not 1 <= limit <= OCCURRENCES_MAX:
        raise InvalidInput(f"limit must be from 1 to {OCCURRENCES_MAX}.", field="limit")
    now = core.clock()
    async with core.sessions() as session:
        event = await find_event(session, actor, ref)
        series = series_of(event)
        if not event.recurrence:
            return [_view(o) for o in series.occurrences()]
        return [_view(o) for o in islice(series.occurrences(after=now), limit)]


async def cancel_occurrence(*, core: Core, actor: Actor, ref: str | int, occurrence: str | datetime) -> OccurrenceView:
    """Cancel one occurrence: nobody is reminded of it, and its subscribers are told. Organizer only."""
    now = core.clock()
    async with core.sessions.begin() as session:
        event, _ = await _managed_series(session, actor, ref, "cancel an occurrence")
        found = occurrence_of(series_of(event), occurrence, now=now)
        if found.status == OccurrenceStatus.CANCELLED:
            raise Conflict(f"The occurrence of {format_local(found.original, event.timezone)} is already cancelled.")
        if found.start <= now:
            raise Conflict("This occurrence has already started; it can no longer be cancelled.")
        saved, changed_before = _set_exception(event, found.original, OccurrenceStatus.CANCELLED, None, None, now)
        event_id, original = event.id, found.original
        view = OccurrenceView(found.original, found.start, found.end, OccurrenceStatus.CANCELLED)

    async def undo() -> None:
        await _restore(core, event_id, original, saved, changed_before)

    await signal_change(core, event_id, "occurrence cancelled", undo)
    return view


Saved = tuple[str, datetime | None, datetime | None] | None


def _set_exception(
    event: Event, original: datetime, status: str, start: datetime | None, end: datetime | None, now: datetime
) -> tuple[Saved, datetime]:
    """Record one occurrence as cancelled or moved; returns what it was before (for `_restore`) and the event's
    previous schedule change."""
    existing = next((x for x in event.exceptions if x.original_start == original), None)
    saved = (existing.status, existing.start_at, existing.end_at) if existing else None
    if existing is None:
        existing = OccurrenceException(event_id=event.id, original_start=original)
        event.exceptions.append(existing)
    existing.status, existing.start_at, existing.end_at = status, start, end
    existing.notified, existing.changed_at = False, now
    changed_before, event.schedule_changed_at = event.schedule_changed_at, now
    return saved, changed_before


async def _restore(
    core: Core,
    event_id: int,
    original: datetime,
    saved: Saved,
    at: datetime,
) -> None:
    async with core.sessions.begin() as s:
        row = await s.get(OccurrenceException, (event_id, original))
        if row is not None:
            if saved is None:
                await s.delete(row)
            else:
                row.status, row.start_at, row.end_at = saved
        event = await s.get(Event, event_id)
        if event is not None:
            event.schedule_changed_at = at


async def move_occurrence(
    *, core: Core, actor: Actor, ref: str | int, occurrence: str | datetime, start: str | datetime
) -> OccurrenceView:
    """Move one occurrence to a new start (it keeps its length and stays between its neighbours). Organizer only."""
    now = core.clock()
    async with core.sessions.begin() as session:
        event, user = await _managed_series(session, actor, ref, "move an occurrence")
        series = series_of(event)
        found = occurrence_of(series, occurrence, now=now)
        if found.status == OccurrenceStatus.CANCELLED:
            raise Conflict("This occurrence is cancelled; it cannot be moved.")
        if found.start <= now:
            raise Conflict("This occurrence has already started; it can no longer be moved.")
        with about("start"):
            new_start, _ = _read(start, tz=event.timezone, now=now, what="start time")
            _check_start(new_start, now, user.timezone)
            # An open-ended series never ends: read only up to the occurrence being moved.
            before = list(takewhile(lambda o: o.original < found.original, series.occurrences(cancelled=False)))
            after = next(
                (o for o in series.occurrences(after=found.original, cancelled=False) if o.original > found.original),
                None,
            )
            if (before and new_start <= before[-1].start) or (after is not None and new_start >= after.start):
                raise InvalidTime(
                    "An occurrence moves only between the occurrences before and after it; "
                    "to go further, cancel it and create a separate event."
                )
        new_end = new_start + (event.end_at - event.start_at)
        saved, changed_before = _set_exception(event, found.original, OccurrenceStatus.MOVED, new_start, new_end, now)
        event_id, original = event.id, found.original
        view = OccurrenceView(found.original, new_start, new_end, OccurrenceStatus.MOVED)

    async def undo() -> None:
        await _restore(core, event_id, original, saved, changed_before)

    await signal_change(core, event_id, "occurrence moved", undo)
    return view


def _remaining_rule(rule: str, done: int) -> tuple[str, int | None]:
    """The rule without its end, and how many occurrences a COUNT leaves after `done` of them."""
    parts = [p for p in rule.split(";") if not p.startswith(("COUNT=", "UNTIL="))]
    count = next((int(p[6:]) for p in rule.split(";") if p.startswith("COUNT=")), None)
    return ";".join(parts), (count - done if count is not None else None)


async def change_series_from(
    *,
    core: Core,
    actor: Actor,
    ref: str | int,
    occurrence: str | datetime,
    patch: EventPatch,
    repeat: str | None = None,
) -> EventView:
    """Change a series from one occurrence on: the series is split there. The occurrences before stay as they
    were (the old series now ends before it); the new series (a new event with its own code) starts at that
    occurrence with the changes, keeps the subscribers of the whole series and the later cancellations and moves
    when its times are unchanged. Organizer only."""
    now = core.clock()
    async with core.sessions.begin() as session:
        event, user = await _managed_series(session, actor, ref, "change the series")
        assert event.recurrence is not None
        series = series_of(event)
        found = occurrence_of(series, occurrence, now=now, field="from")
        if found.original == event.start_at:
            raise Conflict("That is the first occurrence: change the whole series with /event update, without from:.")
        if found.start <= now:
            raise Conflict("This occurrence has already started; change the series from a later one.")
        done = (
            sum(1 for o in series.occurrences() if o.original < found.original) if "COUNT=" in event.recurrence else 0
        )
        tz = patch.timezone.strip() if patch.timezone else event.timezone
        start, end = found.original, found.original + (event.end_at - event.start_at)
        if patch.start is not None:
            with about("start"):
                start, _ = _read(patch.start, tz=tz, now=now, what="start time")
                _check_start(start, now, user.timezone)
            end = start + (event.end_at - event.start_at)
        if patch.end is not None:
            with about("end"):
                end = _instant(patch.end, tz=tz, now=now, what="end time")
        with about("end"):
            _check_span(start, end)
        base, left = _remaining_rule(event.recurrence, done)
        until = next((p[6:] for p in event.recurrence.split(";") if p.startswith("UNTIL=")), None)
        if repeat:
            rule, start_first = read_series(repeat, until=None, count=None, start=start, tz=tz, now=now)
        else:
            with about("repeat"):
                if until is not None:
                    base += f";UNTIL={until}"
                rule = normalize_rule(base, start=start, tz=tz, count=left)
            start_first = next(Series(start=start, end=start, tz=tz, rule=rule).starts())
        end, start = end + (start_first - start), start_first
        old_rule, old_changed = event.recurrence, event.schedule_changed_at
        # The old series ends just before the occurrence the change starts from.
        head, _ = _remaining_rule(event.recurrence, 0)
        cut = found.original - timedelta(seconds=1)
        event.recurrence = normalize_rule(head, start=event.start_at, tz=event.timezone, until=cut)
        event.schedule_changed_at = now
        details = event.details
        new = Event(
            tenant=event.tenant,
            code=await _unused_code(session),
            name=patch.name.strip() if patch.name else event.name,
            start_at=start,
            end_at=end,
            timezone=tz,
            organizer_id=event.organizer_id,
            organizer=event.organizer,
            status=EventStatus.SCHEDULED,
            default_offsets=event.default_offsets,
            channel_url_encrypted=event.channel_url_encrypted,
            channel_label=event.channel_label,
            created_at=now,
            schedule_changed_at=now,
            recurrence=rule,
            details=EventDetails(
                description=patch.description if patch.description is not None else details.description,
                location=patch.location if patch.location is not None else details.location,
                link=patch.link if patch.link is not None else details.link,
            ),
            exceptions=[],
        )
        session.add(new)
        await session.flush()
        same_times = (start, tz) == (found.original, event.timezone)
        for x in list(event.exceptions):
            if x.original_start >= found.original:
                event.exceptions.remove(x)
                if same_times:
                    new.exceptions.append(
                        OccurrenceException(
                            event_id=new.id,
                            original_start=x.original_start,
                            status=x.status,
                            start_at=x.start_at,
                            end_at=x.end_at,
                            notified=x.notified,
                            changed_at=x.changed_at,
                        )
                    )
        members = (
            await session.execute(select(EventParticipant).where(EventParticipant.event_id == event.id))
        ).scalars()
        count = 0
        for p in list(members):
            if p.occurrence_start is not None and p.occurrence_start >= found.original:
                # Follows one of the occurrences that now belong to the new series.
                if same_times:
                    p.event_id = new.id
                    count += 1
                continue
            if p.occurrence_start is None:
                session.add(
                    EventParticipant(
                        event_id=new.id,
                        user_id=p.user_id,
                        tags=p.tags,
                        custom_time_delta_seconds=p.custom_time_delta_seconds,
                        custom_frequency=p.custom_frequency,
                        joined_at=now,
                    )
                )
                count += 1
        await session.flush()
        old_id, new_id = event.id, new.id
        view = event_view(new, count, now)

    async def undo() -> None:
        async with core.sessions.begin() as s:
            row = await s.get(Event, new_id)
            if row is not None:
                await s.delete(row)
            old = await s.get(Event, old_id)
            if old is not None:
                old.recurrence, old.schedule_changed_at = old_rule, old_changed

    await signal_change(core, old_id, "series split", undo)
    await signal_change(core, new_id, "created", undo)
    return dataclasses.replace(view)
