"""A member's home: the upcoming events they are subscribed to and the ones they organize, in one tenant."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, select

from core.models import Event, EventParticipant, EventStatus
from core.service.context import Core
from core.service.events import LIST_LIMIT, event_view
from core.service.users import user_for
from core.views import Actor, EventView


@dataclass(frozen=True)
class MemberHome:
    """What a member has coming up, soonest first."""

    subscribed: tuple[EventView, ...]
    organized: tuple[EventView, ...]


async def member_home(*, core: Core, actor: Actor) -> MemberHome:
    """The actor's upcoming subscriptions and own upcoming events (at most 25 of each)."""
    now = core.clock()
    counts = select(EventParticipant.event_id, func.count().label("n")).group_by(EventParticipant.event_id).subquery()
    upcoming = (
        select(Event, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.event_id == Event.id)
        .where(and_(Event.tenant == actor.tenant, Event.status == EventStatus.SCHEDULED, Event.end_at >= now))
        .order_by(Event.start_at)
        .limit(LIST_LIMIT)
    )
    async with core.sessions.begin() as session:
        user = await user_for(session, actor)
        mine = select(EventParticipant.event_id).where(EventParticipant.user_id == user.id)
        subscribed = (await session.execute(upcoming.where(Event.id.in_(mine)))).all()
        organized = (await session.execute(upcoming.where(Event.organizer_id == user.id))).all()
        return MemberHome(
            subscribed=tuple(event_view(e, int(n)) for e, n in subscribed),
            organized=tuple(event_view(e, int(n)) for e, n in organized),
        )
