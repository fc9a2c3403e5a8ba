"""Events: create, update, cancel, list, show, and read their delivery log."""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import and_, bindparam, func, inspect, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import lazyload
from sqlalchemy.orm.attributes import set_committed_value

from core.destinations import PLATFORMS
from core.errors import Conflict, InvalidInput, InvalidTime, NotFound, PermissionDenied, SoonishError
from core.models import (
    Event,
    EventDetails,
    EventParticipant,
    EventStatus,
    NotificationLog,
    OccurrenceException,
    User,
    parse_row_id,
    utcnow,
)
from core.recurrence import Change, Series, localize, normalize_rule
from core.service.channels import channel_key, subscribe_followers
from core.service.context import Core
from core.service.limits import Action, Charge, charge, refund, tenant_scope, user_scope
from core.service.links import event_ics_url
from core.service.users import user_for
from core.text import check_block, check_line, is_plain_ref
from core.timeparse import parse_offsets, read_when, require_future, zone
from core.urlguard import guard_url, mask_url
from core.views import Actor, DeliveryLog, DeliveryView, EventView, TimeReading

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
DEFAULT_OFFSETS = (3600,)
MAX_DURATION = timedelta(days=31)
# Event workflows are given a three-year execution timeout; two years ahead plus a month-long event fits in it.
MAX_AHEAD = timedelta(days=730)
LIMITS = {"name": 100, "description": 2000, "location": 200, "link": 500}
MULTILINE = frozenset({"description"})
LIST_LIMIT = 25
LOG_LIMIT = 100
# The most entries one page of the delivery log may ask for.
MAX_LOG_PAGE = 500
NEXT_OCCURRENCES = 5

When = str | datetime


@dataclass(frozen=True)
class EventDraft:
    """What an organizer gives to create an event."""

    name: str
    start: When
    end: When | None = None
    timezone: str | None = None
    description: str = ""
    location: str = ""
    link: str = ""
    default_offsets: str | Sequence[int] | None = None
    channel_url: str | None = None
    # A series: a phrase ("every friday") or RRULE text, ending at `until` or after `count` occurrences, or never.
    repeat: str | None = None
    until: When | None = None
    count: int | str | None = None
    # True only when a chat front end supplies its own channel destination (not a user-typed URL).
    channel_trusted: bool = False


@dataclass(frozen=True)
class EventPatch:
    """The fields an organizer wants to change; None leaves a field as it is."""

    name: str | None = None
    start: When | None = None
    end: When | None = None
    timezone: str | None = None
    description: str | None = None
    location: str | None = None
    link: str | None = None
    default_offsets: str | Sequence[int] | None = None


@contextmanager
def about(field: str) -> Iterator[None]:
    """Errors raised inside are about this input of the event (so a form can show them beside it)."""
    try:
        yield
    except SoonishError as exc:
        if exc.field is None:
            exc.field = field
        raise


def _text(field: str, value: str, *, required: bool = False) -> str:
    with about(field):
        return _checked_text(field, value, required=required)


def _checked_text(field: str, value: str, *, required: bool = False) -> str:
    value = check_block(f"event {field}", value) if field in MULTILINE else check_line(f"event {field}", value)
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"The event {field} cannot be empty.")
    if len(value) > LIMITS[field]:
        raise InvalidInput(f"The event {field} is {len(value)} characters long; the limit is {LIMITS[field]}.")
    if field == "name" and not value.isprintable():
        raise InvalidInput("The event name cannot contain line breaks or control characters.")
    if field == "link" and value:
        try:
            parts = urlsplit(value)
        except ValueError:  # for example an unclosed IPv6 bracket
            raise InvalidInput("The event link must be an http:// or https:// address.") from None
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise InvalidInput("The event link must be an http:// or https:// address.")
    return value


def _instant(value: When, *, tz: str, now: datetime, what: str) -> datetime:
    return _read(value, tz=tz, now=now, what=what)[0]


def _read(value: When, *, tz: str, now: datetime, what: str) -> tuple[datetime, TimeReading | None]:
    """The instant a given or typed time means; for typed text, also how it was read."""
    # Whole seconds: calendars (RFC 5545) cannot hold less, and an .ics must show the instant the API lists.
    if isinstance(value, datetime):
        if value.tzinfo is None:
            return value.replace(tzinfo=zone(tz), microsecond=0).astimezone(zone("UTC")), None
        return value.replace(microsecond=0).astimezone(zone("UTC")), None
    check_line(what, value)
    try:
        reading = read_when(value, tz=tz, now=now)
    except InvalidTime as exc:
        raise InvalidTime(f"The {what}: {exc.message}") from exc
    return reading.instant.replace(microsecond=0), TimeReading(typed=" ".join(value.split()), notes=reading.notes)


def _check_start(start: datetime, now: datetime, user_zone: str) -> None:
    require_future(start, now=now, what="start time", tz=user_zone)
    if start - now > MAX_AHEAD:
        raise InvalidTime("An event can start at most two years from now.")


def _check_span(start: datetime, end: datetime) -> None:
    if end < start:
        raise InvalidTime("The end time is before the start time.")
    if end - start > MAX_DURATION:
        raise InvalidTime("An event can last at most 31 days.")


def _offsets(text: str | Sequence[int] | None, fallback: Sequence[int]) -> tuple[int, ...]:
    if text is None:
        return tuple(fallback)
    if isinstance(text, str):
        check_line("reminder times", text)
    return parse_offsets(text)


def _csv(values: Sequence[int] | Sequence[str]) -> str:
    return ",".join(str(v) for v in values)


def offsets_of(text: str) -> tuple[int, ...]:
    """Stored offsets ("86400,3600") as a tuple of seconds."""
    return tuple(int(v) for v in text.split(",") if v)


def series_of(event: Event) -> Series:
    """The event's occurrences: itself alone, or its series with the organizer's cancellations and moves."""
    changes = {
        x.original_start: Change(original=x.original_start, status=x.status, start=x.start_at, end=x.end_at)
        for x in event.exceptions
    }
    return Series(start=event.start_at, end=event.end_at, tz=event.timezone, rule=event.recurrence, changes=changes)


def start_of(event: Event, occurrence: datetime | None) -> datetime:
    """When the occurrence a delivery is for starts now (moved or not); the event's start for a one-off event."""
    if occurrence is None:
        return event.start_at
    moved = next((x for x in event.exceptions if x.original_start == occurrence and x.start_at is not None), None)
    return moved.start_at if moved is not None and moved.start_at is not None else occurrence


def read_series(
    draft_repeat: str, *, until: When | None, count: int | str | None, start: datetime, tz: str, now: datetime
) -> tuple[str, datetime]:
    """The normalized rule of a `repeat:` text, and the series' first start (the rule's first on or after `start`)."""
    until_at = None
    if until is not None and until != "":
        with about("until"):
            until_at = _instant(until, tz=tz, now=now, what="end of the series (until)")
            local = until_at.astimezone(zone(tz))
            if (local.hour, local.minute, local.second) == (0, 0, 0):
                # A day ("until:2027-04-02") ends the series after that day, not as it begins.
                until_at = localize(local.replace(tzinfo=None) + timedelta(days=1), tz) - timedelta(seconds=1)
    number = None
    if count is not None and count != "":
        with about("count"):
            text = str(count).strip()
            if not (text.isascii() and text.isdigit()):
                raise InvalidInput(f"The number of occurrences (count) must be a whole number, not '{text[:20]}'.")
            number = int(text)
    with about("repeat"):
        check_line("repetition", draft_repeat)
        rule = normalize_rule(draft_repeat, start=start, tz=tz, until=until_at, count=number)
        first = next(Series(start=start, end=start, tz=tz, rule=rule).starts())
    return rule, first


def event_view(event: Event, subscriber_count: int, now: datetime | None = None) -> EventView:
    """The neutral view of an event row."""
    upcoming: tuple[datetime, ...] = ()
    if event.recurrence:
        upcoming = tuple(o.start for o in series_of(event).upcoming(now or utcnow(), NEXT_OCCURRENCES))
    return EventView(
        id=event.id,
        code=event.code,
        name=event.name,
        start_at=event.start_at,
        end_at=event.end_at,
        timezone=event.timezone,
        status=event.status,
        organizer=event.organizer.display_name or event.organizer.platform_user_id,
        default_offsets=offsets_of(event.default_offsets),
        description=event.details.description,
        location=event.details.location,
        link=event.details.link,
        channel=event.channel_label or None,
        subscriber_count=subscriber_count,
        recurrence=event.recurrence,
        next_occurrences=upcoming,
    )


async def _count(session: AsyncSession, event_id: int) -> int:
    query = select(func.count()).select_from(EventParticipant).where(EventParticipant.event_id == event_id)
    return int((await session.execute(query)).scalar_one())


# Built once (building and keying a statement costs more than running it). Only a series has cancelled or
# moved occurrences, so those are loaded for a series alone (a one-off event's list is empty).
_EVENT_BY_ID = (
    select(Event)
    .options(lazyload(Event.exceptions))
    .where(Event.tenant == bindparam("tenant"), Event.id == bindparam("id"))
)
_EVENT_BY_CODE = (
    select(Event)
    .options(lazyload(Event.exceptions))
    .where(Event.tenant == bindparam("tenant"), Event.code == bindparam("code"))
)


async def find_event(session: AsyncSession, actor: Actor, ref: str | int) -> Event:
    """An event of the actor's tenant by id, public code or exact name; other tenants' events do not exist."""
    text = str(ref).strip()
    if not text or len(text) > 100 or not is_plain_ref(text):
        raise NotFound("Give an event by its id, its code or its name.")
    found = None
    if (number := parse_row_id(text)) is not None:
        found = (await session.execute(_EVENT_BY_ID, {"tenant": actor.tenant, "id": number})).scalar_one_or_none()
    if found is None:  # codes can be all digits too
        code = {"tenant": actor.tenant, "code": text.upper()}
        found = (await session.execute(_EVENT_BY_CODE, code)).scalar_one_or_none()
        if found is None:
            base = select(Event).where(Event.tenant == actor.tenant)
            # A name means the upcoming event of that name; failing that, the latest one that had it.
            # Both sides through the database's lower(): SQLite's folds only ASCII, Python's folds everything.
            named = base.where(func.lower(Event.name) == func.lower(text))
            live = (await session.execute(named.where(Event.status == EventStatus.SCHEDULED).limit(2))).scalars().all()
            if len(live) > 1:
                raise InvalidInput(f"Several events are called '{text[:100]}'; use the event's code instead.")
            found = (
                live[0]
                if live
                else (await session.execute(named.order_by(Event.start_at.desc()).limit(1))).scalar_one_or_none()
            )
    if found is None:
        raise NotFound(f"No event '{text[:100]}' here.")
    if "exceptions" in inspect(found).unloaded:
        if found.recurrence:
            await session.refresh(found, ["exceptions"])
        else:
            set_committed_value(found, "exceptions", [])
    return found


async def _unused_code(session: AsyncSession) -> str:
    """A fresh public code. With 32^6 codes a clash is rare; the unique index still guards the last step."""
    while True:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        if (await session.execute(select(Event.id).where(Event.code == code))).first() is None:
            return code


def _may_manage(event: Event, user: User, actor: Actor) -> bool:
    return event.organizer_id == user.id or actor.is_admin


async def signal_change(core: Core, event_id: int, reason: str, undo: Callable[[], Awaitable[None]]) -> None:
    """Tell the workflow; if it cannot be told, undo the database change so nothing half-happens."""
    try:
        await core.scheduler.changed(event_id, reason)
    except SoonishError:
        await undo()
        raise


async def create_event(*, core: Core, actor: Actor, draft: EventDraft) -> EventView:
    """Store a new event in the actor's tenant and start its reminders."""
    now = core.clock()
    name = _text("name", draft.name, required=True)
    description = _text("description", draft.description)
    location = _text("location", draft.location)
    link = _text("link", draft.link)
    channel_url = None
    if draft.channel_url and draft.channel_trusted:
        if actor.platform not in PLATFORMS:
            raise InvalidInput("Only a chat front end can give the channel an event was created in.")
        channel_url = draft.channel_url
    elif draft.channel_url:
        if actor.platform in PLATFORMS:
            # On a chat platform the channel is the one the command ran in; the front end supplies it.
            raise InvalidInput("An event's channel is the channel you create it in; it cannot be typed.")
        channel_url = await guard_url(draft.channel_url, allow_private=core.allow_private_urls, resolve=core.resolve)
    async with core.sessions.begin() as session:
        organizer = await user_for(session, actor)
        with about("timezone"):
            tz = zone((draft.timezone or organizer.timezone).strip()).key
        with about("start"):
            start, reading = _read(draft.start, tz=tz, now=now, what="start time")
            _check_start(start, now, organizer.timezone)
        with about("end"):
            end = start if not draft.end else _instant(draft.end, tz=tz, now=now, what="end time")
            _check_span(start, end)
        rule = None
        if draft.repeat is not None and draft.repeat.strip():
            rule, first = read_series(draft.repeat, until=draft.until, count=draft.count, start=start, tz=tz, now=now)
            with about("start"):
                # "every friday" from a Tuesday starts on the Friday, at the time given.
                start, end = first, end + (first - start)
                _check_start(start, now, organizer.timezone)
        elif draft.until or draft.count:
            raise InvalidInput(
                "until and count end a series; give repeat too (for example repeat:weekly).", field="repeat"
            )
        with about("remind"):
            offsets = _offsets(draft.default_offsets, offsets_of(organizer.default_offsets) or DEFAULT_OFFSETS)
        event = Event(
            tenant=actor.tenant,
            name=name,
            start_at=start,
            end_at=end,
            timezone=tz,
            organizer_id=organizer.id,
            organizer=organizer,
            status=EventStatus.SCHEDULED,
            default_offsets=_csv(offsets),
            channel_url_encrypted=core.secrets.encrypt(channel_url) if channel_url else None,
            channel_label=mask_url(channel_url) if channel_url else "",
            channel_key=channel_key(core, channel_url) if channel_url else "",
            created_at=now,
            schedule_changed_at=now,
            recurrence=rule,
            details=EventDetails(description=description, location=location, link=link),
            exceptions=[],
        )
        event.code = await _unused_code(session)
        session.add(event)
        await session.flush()
        followers = await subscribe_followers(session, event=event, now=now)
        view = dataclasses.replace(
            event_view(event, followers, now), start_reading=reading, ics_url=event_ics_url(core, event.id)
        )
        uses = await charge(
            session,
            action=Action.EVENT_CREATE,
            charges=(
                Charge(
                    user_scope(organizer),
                    core.quotas.event_creates_per_user,
                    "You have created {count} event{s} in {window}",
                ),
                Charge(
                    tenant_scope(actor),
                    core.quotas.event_creates_per_tenant,
                    "This community has created {count} event{s} in {window}",
                ),
            ),
            now=now,
        )

    async def undo() -> None:
        async with core.sessions.begin() as s:
            row = await s.get(Event, view.id)
            if row is not None:
                await s.delete(row)
            await refund(s, uses)

    await signal_change(core, view.id, "created", undo)
    return view


async def update_event(*, core: Core, actor: Actor, ref: str | int, patch: EventPatch) -> EventView:
    """Change an event; a new time moves every pending reminder. Organizer or tenant admin only."""
    now = core.clock()
    async with core.sessions.begin() as session:
        user = await user_for(session, actor)
        event = await find_event(session, actor, ref)
        if not _may_manage(event, user, actor):
            raise PermissionDenied("Only the event's organizer can change it.")
        if event.status != EventStatus.SCHEDULED:
            raise Conflict(f"This event is {event.status}; it can no longer change.")
        kept = [(x.original_start, x.status, x.start_at, x.end_at, x.notified, x.changed_at) for x in event.exceptions]
        before = (
            event.name,
            event.start_at,
            event.end_at,
            event.timezone,
            event.default_offsets,
            event.schedule_changed_at,
            event.details.description,
            event.details.location,
            event.details.link,
        )
        with about("timezone"):
            tz = zone(patch.timezone.strip()).key if patch.timezone else event.timezone
        start, end = event.start_at, event.end_at
        reading = None
        if patch.start is not None:
            with about("start"):
                start, reading = _read(patch.start, tz=tz, now=now, what="start time")
                _check_start(start, now, user.timezone)
                if event.recurrence:
                    start = _rebase_series(event, start, tz, now)
            if patch.end is None:
                end = start + (event.end_at - event.start_at)
        with about("end"):
            if patch.end is not None:
                end = start if patch.end == "" else _instant(patch.end, tz=tz, now=now, what="end time")
            _check_span(start, end)
        with about("remind"):
            offsets = _offsets(patch.default_offsets, offsets_of(event.default_offsets))
        name = _text("name", patch.name, required=True) if patch.name is not None else event.name
        details = event.details
        details.description = (
            _text("description", patch.description) if patch.description is not None else (details.description)
        )
        details.location = _text("location", patch.location) if patch.location is not None else details.location
        details.link = _text("link", patch.link) if patch.link is not None else details.link
        if (start, tz, _csv(offsets)) != (event.start_at, event.timezone, event.default_offsets):
            event.schedule_changed_at = now
        event.name, event.start_at, event.end_at, event.timezone = name, start, end, tz
        event.default_offsets = _csv(offsets)
        view = dataclasses.replace(
            event_view(event, await _count(session, event.id)),
            start_reading=reading,
            ics_url=event_ics_url(core, event.id),
        )

    async def undo() -> None:
        async with core.sessions.begin() as s:
            row = await s.get(Event, view.id)
            if row is not None:
                (
                    row.name,
                    row.start_at,
                    row.end_at,
                    row.timezone,
                    row.default_offsets,
                    row.schedule_changed_at,
                    row.details.description,
                    row.details.location,
                    row.details.link,
                ) = before
                if kept and not row.exceptions:
                    # A series moved as a whole had its cancelled and moved occurrences cleared: bring them back.
                    row.exceptions.extend(
                        OccurrenceException(
                            event_id=row.id,
                            original_start=o,
                            status=st,
                            start_at=a,
                            end_at=b,
                            notified=n,
                            changed_at=c,
                        )
                        for o, st, a, b, n, c in kept
                    )

    await signal_change(core, view.id, "updated", undo)
    return view


def _rebase_series(event: Event, start: datetime, tz: str, now: datetime) -> datetime:
    """A series moved as a whole: its first start is the rule's first on or after `start`. Only before it has
    begun (after, change it from an occurrence on); its cancelled and moved occurrences belonged to the old times."""
    assert event.recurrence is not None
    if event.start_at <= now:
        raise Conflict(
            "This series has begun; change it from a later occurrence on with from:DATE (earlier ones stay)."
        )
    first = next(Series(start=start, end=start, tz=tz, rule=event.recurrence).starts(), None)
    if first is None:
        raise InvalidTime("The series' rule gives no occurrence from that start on.")
    _check_start(first, now, tz)
    event.exceptions.clear()
    return first


async def cancel_event(*, core: Core, actor: Actor, ref: str | int) -> EventView:
    """Cancel an event: its reminders stop and its subscribers are told. Organizer or tenant admin only."""
    async with core.sessions.begin() as session:
        user = await user_for(session, actor)
        event = await find_event(session, actor, ref)
        if not _may_manage(event, user, actor):
            raise PermissionDenied("Only the event's organizer can cancel it.")
        if event.status != EventStatus.SCHEDULED:
            raise Conflict(f"This event is already {event.status}.")
        event.status = EventStatus.CANCELLED
        view = event_view(event, await _count(session, event.id))

    async def undo() -> None:
        async with core.sessions.begin() as s:
            row = await s.get(Event, view.id)
            if row is not None:
                row.status = EventStatus.SCHEDULED

    await signal_change(core, view.id, "cancelled", undo)
    return view


async def list_events(*, core: Core, actor: Actor, include_past: bool = False) -> list[EventView]:
    """The tenant's upcoming events soonest first; with `include_past`, then the others, most recent first."""
    now = core.clock()
    counts = select(EventParticipant.event_id, func.count().label("n")).group_by(EventParticipant.event_id).subquery()
    base = (
        select(Event, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.event_id == Event.id)
        .where(Event.tenant == actor.tenant)
    )
    # A series stays upcoming while it is scheduled: its workflow completes it after its last occurrence.
    upcoming = and_(Event.status == EventStatus.SCHEDULED, or_(Event.end_at >= now, Event.recurrence.is_not(None)))
    async with core.sessions() as session:
        rows = list((await session.execute(base.where(upcoming).order_by(Event.start_at).limit(LIST_LIMIT))).all())
        if include_past and len(rows) < LIST_LIMIT:
            others = base.where(not_(upcoming)).order_by(Event.start_at.desc()).limit(LIST_LIMIT - len(rows))
            rows += (await session.execute(others)).all()
        return [event_view(event, int(n)) for event, n in rows]


async def show_event(*, core: Core, actor: Actor, ref: str | int) -> EventView:
    """One event of the actor's tenant."""
    async with core.sessions() as session:
        event = await find_event(session, actor, ref)
        return dataclasses.replace(
            event_view(event, await _count(session, event.id), core.clock()), ics_url=event_ics_url(core, event.id)
        )


async def event_deliveries(
    *, core: Core, actor: Actor, ref: str | int, limit: int = LOG_LIMIT, offset: int = 0
) -> DeliveryLog:
    """A page of the event's delivery log, newest first, and how many entries it has in all: all of it for the
    organizer, a member's own rows otherwise."""
    if not 1 <= limit <= MAX_LOG_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_LOG_PAGE}.", field="limit")
    if offset < 0:
        raise InvalidInput("offset must be 0 or more.", field="offset")
    async with core.sessions.begin() as session:
        user = await user_for(session, actor)
        event = await find_event(session, actor, ref)
        mine = NotificationLog.event_id == event.id
        if not _may_manage(event, user, actor):
            mine = and_(mine, NotificationLog.user_id == user.id)
        total = await session.scalar(select(func.count()).select_from(NotificationLog).where(mine)) or 0
        query = (
            select(NotificationLog, User)
            .outerjoin(User, User.id == NotificationLog.user_id)
            .where(mine)
            .order_by(NotificationLog.due_at.desc(), NotificationLog.id.desc())
            .offset(offset)
            .limit(limit)
        )
        rows = (await session.execute(query)).all()
        entries = [
            DeliveryView(
                id=row.id,
                kind=row.kind,
                due_at=row.due_at,
                recipient=(who.display_name or who.platform_user_id) if who else "channel",
                destination=row.destination,
                status=row.status,
                late=row.late,
                attempts=row.attempts,
                error=row.error,
                updated_at=row.updated_at,
            )
            for row, who in rows
        ]
        return DeliveryLog(event_id=event.id, entries=entries, total=int(total), offset=offset)
