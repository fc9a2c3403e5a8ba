"""Calendars: an event's .ics, and each member's private feed behind a rotatable URL token."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import secrets
import string
from datetime import datetime
from typing import Any

from sqlalchemy import Select, delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.calendars import CalendarEntry, calendar_document, event_uid, sequence_of
from core.errors import InvalidInput, NotFound, PermissionDenied
from core.models import CalendarFeed, Event, EventParticipant, EventStatus, PublicFeed, User, parse_row_id, utcnow
from core.recurrence import OccurrenceStatus
from core.service.channels import channel_key, channel_label, checked_channel
from core.service.context import Core
from core.service.events import find_event, offsets_of, series_of
from core.service.links import event_ics_token
from core.service.users import user_for
from core.views import Actor, CalendarFeedView, CalendarFile, PublicFeedView

FEED_PURPOSE = "calendar-feed"
PUBLIC_FEED_PURPOSE = "public-calendar-feed"
TOKEN_LENGTH = 43  # SecretBox.derive_token: 32 bytes, URL-safe base64 without padding
TOKEN_ALPHABET = frozenset(string.ascii_letters + string.digits + "-_")
# A feed shows at most this many of the member's events, the latest starts first.
FEED_LIMIT = 500
NO_FEED = "No calendar feed at this address; ask /calendar for your current one."
NO_PUBLIC_FEED = "No public calendar at this address; it may have been turned off or given a new address."
NO_EVENT_FILE = "No calendar file at this address; ask /event info for the event's current link."
SCOPES = ("channel", "tenant")


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


async def _token(
    core: Core,
    session: AsyncSession,
    model: type[CalendarFeed] | type[PublicFeed],
    query: Select[Any],
    identity: dict[str, Any],
    purpose: str,
    *,
    rotate: bool,
) -> str:
    """The URL token of the feed row `query` finds (made with `identity` on first request; a new one when
    rotated); only its hash is stored."""
    feed = (await session.execute(query)).scalar_one_or_none()
    now = utcnow()
    if feed is None:
        seed = secrets.token_hex(16)
        values = {
            **identity,
            "seed": seed,
            "token_hash": _hash(core.secrets.derive_token(purpose, seed)),
            "created_at": now,
            "rotated_at": now,
        }
        # Insert-if-absent, then read: two first requests at once agree on one feed.
        insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
        await session.execute(insert(model).values(**values).on_conflict_do_nothing())
        feed = (await session.execute(query)).scalar_one()
    elif rotate:
        feed.seed = secrets.token_hex(16)
        feed.rotated_at = now
    token = core.secrets.derive_token(purpose, feed.seed)
    # Also after a change of the secret key: the URL shown is always the one that works.
    feed.token_hash = _hash(token)
    return token


async def _private_token(core: Core, session: AsyncSession, user: User, *, rotate: bool) -> str:
    query = select(CalendarFeed).where(CalendarFeed.user_id == user.id)
    return await _token(core, session, CalendarFeed, query, {"user_id": user.id}, FEED_PURPOSE, rotate=rotate)


async def calendar_feed(*, core: Core, actor: Actor) -> CalendarFeedView:
    """The URL of the actor's private feed (made on first request). Show it only to the actor."""
    async with core.sessions.begin() as session:
        user = await user_for(session, actor)
        return CalendarFeedView(url=_url(core, await _private_token(core, session, user, rotate=False)))


async def rotate_calendar_feed(*, core: Core, actor: Actor) -> CalendarFeedView:
    """A new URL for the actor's private feed; the previous one stops working at once."""
    async with core.sessions.begin() as session:
        user = await user_for(session, actor)
        return CalendarFeedView(url=_url(core, await _private_token(core, session, user, rotate=True)))


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


def _well_formed(token: str) -> bool:
    return len(token) == TOKEN_LENGTH and TOKEN_ALPHABET.issuperset(token)


async def public_event_calendar(*, core: Core, event_id: str, token: str) -> CalendarFile:
    """The .ics an event's public link opens: the link's token is an HMAC of the event id, nothing else is needed."""
    number = parse_row_id(event_id)
    if number is None or not _well_formed(token) or not hmac.compare_digest(event_ics_token(core, number), token):
        raise NotFound(NO_EVENT_FILE)
    async with core.sessions() as session:
        event = await session.get(Event, number)
        if event is None:
            raise NotFound(NO_EVENT_FILE)
        return CalendarFile(filename=f"{event.code}.ics", content=calendar_document([_entry(event)], name=event.name))


def _public_url(core: Core, token: str) -> str:
    return f"{core.public_url.rstrip('/')}/calendar/public/{token}.ics"


async def _may_publish(session: AsyncSession, actor: Actor, user: User, key: str) -> bool:
    """Tenant admins publish any feed; an organizer of an event in the channel publishes that channel's."""
    if actor.is_admin:
        return True
    if not key:
        return False
    query = select(Event.id).where(
        Event.tenant == actor.tenant, Event.channel_key == key, Event.organizer_id == user.id
    )
    return (await session.execute(query.limit(1))).first() is not None


async def public_feed(
    *,
    core: Core,
    actor: Actor,
    scope: str = "channel",
    channel_url: str | None = None,
    trusted: bool = True,
    action: str = "show",
) -> PublicFeedView:
    """Show (made on first request), rotate or turn off the public feed of a channel or of the whole tenant.

    A public feed lists the upcoming events of its channel (or tenant) with no subscriber data; whoever has its
    URL can read it. Only a tenant admin, or for a channel an organizer of an event there, may manage it.
    """
    if scope not in SCOPES:
        raise InvalidInput(f"A public feed is of a channel or of the whole {SCOPES[1]}.", field="scope")
    if action not in ("show", "rotate", "off"):
        raise InvalidInput("Show, rotate or turn off (off) a public feed.", field="action")
    key, label = "", ""
    if scope == "channel":
        url = await checked_channel(core, actor, channel_url, trusted=trusted)
        key, label = channel_key(core, url), channel_label(url)
    async with core.sessions.begin() as session:
        user = await user_for(session, actor)
        if not await _may_publish(session, actor, user, key):
            who = "an organizer of an event in this channel, or an admin" if key else "an admin"
            raise PermissionDenied(f"Only {who}, can publish or change this public calendar.")
        mine = (PublicFeed.tenant == actor.tenant, PublicFeed.channel_key == key)
        if action == "off":
            await session.execute(delete(PublicFeed).where(*mine))
            return PublicFeedView(scope=scope, url=None)
        query = select(PublicFeed).where(*mine)
        identity = {"tenant": actor.tenant, "channel_key": key, "channel_label": label, "created_by": user.id}
        token = await _token(core, session, PublicFeed, query, identity, PUBLIC_FEED_PURPOSE, rotate=action == "rotate")
        return PublicFeedView(scope=scope, url=_public_url(core, token), rotated=action == "rotate")


async def public_feed_calendar(*, core: Core, token: str) -> CalendarFile:
    """The public feed a URL token opens: the upcoming (and running) events of its channel or tenant, no alarms."""
    if not _well_formed(token):
        raise NotFound(NO_PUBLIC_FEED)
    now = core.clock()
    async with core.sessions() as session:
        query = select(PublicFeed).where(PublicFeed.token_hash == _hash(token))
        feed = (await session.execute(query)).scalar_one_or_none()
        if feed is None or not hmac.compare_digest(core.secrets.derive_token(PUBLIC_FEED_PURPOSE, feed.seed), token):
            raise NotFound(NO_PUBLIC_FEED)
        events = select(Event).where(Event.tenant == feed.tenant, Event.end_at >= now)
        if feed.channel_key:
            events = events.where(Event.channel_key == feed.channel_key)
        rows = (await session.execute(events.order_by(Event.start_at, Event.id).limit(FEED_LIMIT))).scalars().all()
        entries = [_entry(event) for event in rows]
        return CalendarFile(filename="public.ics", content=calendar_document(entries, name="Soonish events", feed=True))
