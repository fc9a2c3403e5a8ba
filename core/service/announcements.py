"""Announcements: where an event was announced, so the front end that posted it can keep it up to date."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sqlalchemy import func, select

from core.models import Event, EventAnnouncement, EventParticipant
from core.service.context import Core
from core.service.events import event_view, find_event
from core.service.links import event_ics_url
from core.views import Actor, EventView


@dataclass(frozen=True)
class Announcement:
    """An event as it is now, and the message that announced it."""

    event: EventView
    message_ref: str
    mirror_ref: str = ""


async def record_announcement(
    *, core: Core, actor: Actor, ref: str | int, message_ref: str | None = None, mirror_ref: str | None = None
) -> None:
    """Remember the message that announced an event of the actor's tenant, or the platform event mirroring it."""
    async with core.sessions.begin() as session:
        event = await find_event(session, actor, ref)
        row = await session.get(EventAnnouncement, event.id)
        if row is None:
            row = EventAnnouncement(event_id=event.id, platform=actor.platform, message_ref="", mirror_ref="")
            session.add(row)
        row.platform = actor.platform
        if message_ref is not None:
            row.message_ref = message_ref
        if mirror_ref is not None:
            row.mirror_ref = mirror_ref


async def event_of_mirror(*, core: Core, actor: Actor, mirror_ref: str) -> int | None:
    """The id of the actor's tenant's event that the platform event `mirror_ref` mirrors."""
    query = (
        select(EventAnnouncement.event_id)
        .join(Event, Event.id == EventAnnouncement.event_id)
        .where(EventAnnouncement.platform == actor.platform, EventAnnouncement.mirror_ref == mirror_ref)
        .where(Event.tenant == actor.tenant)
    )
    async with core.sessions() as session:
        return (await session.execute(query)).scalar_one_or_none()


async def find_announcement(*, core: Core, actor: Actor, ref: str | int) -> Announcement | None:
    """The event and its announcement on the actor's platform; None if it was not announced there."""
    async with core.sessions() as session:
        event = await find_event(session, actor, ref)
        row = await session.get(EventAnnouncement, event.id)
        if row is None or row.platform != actor.platform:
            return None
        count = select(func.count()).select_from(EventParticipant).where(EventParticipant.event_id == event.id)
        subscribers = int((await session.execute(count)).scalar_one())
        return Announcement(
            event=dataclasses.replace(event_view(event, subscribers), ics_url=event_ics_url(core, event.id)),
            message_ref=row.message_ref,
            mirror_ref=row.mirror_ref,
        )
