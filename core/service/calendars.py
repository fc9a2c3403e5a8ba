"""Calendars: an event's .ics, and each member's private feed behind a rotatable URL token."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
import string
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.calendars import CalendarEntry, calendar_document, event_uid, sequence_of
from core.errors import NotFound
from core.models import CalendarFeed, Event, EventParticipant, EventStatus, User, utcnow
from core.recurrence import OccurrenceStatus
from core.service.context import Core
from core.service.events import find_event, offsets_of, series_of
from core.service.users import user_for
from core.views import Actor, CalendarFeedView, CalendarFile

FEED_PURPOSE = "calendar-feed"
TOKEN_LENGTH = 43  # SecretBox.derive_token: 32 bytes, URL-safe base64 without padding
TOKEN_ALPHABET = frozenset(string.ascii_letters + string.digits + "-_")
# A feed shows at most this many of the member's events, the latest starts first.
FEED_LIMIT = 500
NO_FEED = "No calendar feed at this address; ask /calendar for your current one."


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _entries(event: Event, alarms: tuple[int, ...] = (), only: datetime | None = None) -> list[CalendarEntry]:
    """The event's VEVENTs: a series has its RRULE with cancelled occurrences as EXDATE and each moved one as an
    override (same UID, RECURRENCE-ID); a member following one occurrence sees that occurrence alone."""
    entry = _entry(event, alarms)
    if not event.recurrence:
        return [entry]
    series = series_of(event)
    if only is not None:
        found = series.find(only)
        if found is None:
            return []
        return [
            dataclasses.replace(
                entry,
                uid=entry.uid.replace("@", f"-{only:%Y%m%dT%H%M%SZ}@"),
                start=found.start,
                end=found.end,
                status=EventStatus.CANCELLED if found.status == OccurrenceStatus.CANCELLED else entry.status,
            )
        ]
    changes = event.exceptions
    exdates = tuple(x.original_start for x in changes if x.status == OccurrenceStatus.CANCELLED)
    overrides = [
        dataclasses.replace(entry, start=x.start_at, end=x.end_at, recurrence_id=x.original_start)
        for x in changes
        if x.status == OccurrenceStatus.MOVED and x.start_at is not None and x.end_at is not None
    ]
    return [dataclasses.replace(entry, rrule=event.recurrence, exdates=exdates), *overrides]


def _entry(event: Event, alarms: tuple[int, ...] = ()) -> CalendarEntry:
    return CalendarEntry(
        uid=event_uid(event.id, event.code),
        summary=event.name,
        start=event.start_at,
        end=event.end_at,
        timezone=event.timezone,
        status=event.status,
        sequence=sequence_of(
            event.created_at, event.schedule_changed_at, cancelled=event.status == EventStatus.CANCELLED
        ),
        created=event.created_at,
        modified=event.schedule_changed_at,
        description=event.details.description,
        location=event.details.location,
        link=event.details.link,
        alarms=alarms,
    )


async def event_calendar(*, core: Core, actor: Actor, ref: str | int) -> CalendarFile:
    """The .ics of one event of the actor's tenant."""
    async with core.sessions() as session:
        event = await find_event(session, actor, ref)
        content = calendar_document(_entries(event), name=event.name)
        return CalendarFile(filename=f"{event.code}.ics", content=content)


def _url(core: Core, token: str) -> str:
    return f"{core.public_url.rstrip('/')}/calendar/{token}.ics"


async def _token(core: Core, session: AsyncSession, user: User, *, rotate: bool) -> str:
    query = select(CalendarFeed).where(CalendarFeed.user_id == user.id)
    feed = (await session.execute(query)).scalar_one_or_none()
    if feed is None:
        seed = secrets.token_hex(16)
        now = utcnow()
        values = {
            "user_id": user.id,
            "seed": seed,
            "token_hash": _hash(core.secrets.derive_token(FEED_PURPOSE, seed)),
            "created_at": now,
            "rotated_at": now,
        }
        # Insert-if-absent, then read: two first requests at once agree on one feed.
        insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
        await session.execute(insert(CalendarFeed).values(**values).on_conflict_do_nothing())
        feed = (await session.execute(query)).scalar_one()
    elif rotate:
        feed.seed = secrets.token_hex(16)
        feed.rotated_at = utcnow()
    token = core.secrets.derive_token(FEED_PURPOSE, feed.seed)
    # Also after a change of the secret key: the URL shown is always the one that works.
    feed.token_hash = _hash(token)
    return token


async def calendar_feed(*, core: Core, actor: Actor) -> CalendarFeedView:
    """The URL of the actor's private feed (made on first request). Show it only to the actor."""
    async with core.sessions.begin() as session:
        user = await user_for(session, actor)
        return CalendarFeedView(url=_url(core, await _token(core, session, user, rotate=False)))


async def rotate_calendar_feed(*, core: Core, actor: Actor) -> CalendarFeedView:
    """A new URL for the actor's private feed; the previous one stops working at once."""
    async with core.sessions.begin() as session:
        user = await user_for(session, actor)
        return CalendarFeedView(url=_url(core, await _token(core, session, user, rotate=True)))


async def feed_calendar(*, core: Core, token: str) -> CalendarFile:
    """The feed a URL token opens: every event its member subscribed to, with their reminders as alarms."""
    if len(token) != TOKEN_LENGTH or not TOKEN_ALPHABET.issuperset(token):
        raise NotFound(NO_FEED)
    async with core.sessions() as session:
        query = select(CalendarFeed, User).join(User, User.id == CalendarFeed.user_id)
        found = (await session.execute(query.where(CalendarFeed.token_hash == _hash(token)))).first()
        if found is None:
            raise NotFound(NO_FEED)
        feed, user = found
        if not hmac.compare_digest(core.secrets.derive_token(FEED_PURPOSE, feed.seed), token):
            raise NotFound(NO_FEED)  # made with a secret key this installation no longer has
        rows = (
            await session.execute(
                select(Event, EventParticipant.custom_time_delta_seconds, EventParticipant.occurrence_start)
                .join(EventParticipant, EventParticipant.event_id == Event.id)
                .where(EventParticipant.user_id == user.id, Event.tenant == user.tenant)
                .order_by(Event.start_at.desc(), Event.id.desc())
                .limit(FEED_LIMIT)
            )
        ).all()
        entries = [e for event, deltas, only in reversed(rows) for e in _entries(event, offsets_of(deltas), only)]
        return CalendarFile(filename="soonish.ics", content=calendar_document(entries, name="Soonish", feed=True))
