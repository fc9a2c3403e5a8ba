"""Snoozes: "Remind me again in 10 minutes" on a reminder sent by direct message, once per reminder."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.errors import Conflict, NotFound
from core.models import EventParticipant, EventStatus, NotificationLog, Snooze
from core.notices import duration_words
from core.service.context import Core
from core.service.events import find_event, signal_change, start_of
from core.service.users import user_for
from core.views import Actor

# The log kinds of the reminders a member can snooze: a first reminder, and one they snoozed before.
SNOOZABLE = ("reminder", "snooze")


@dataclass(frozen=True)
class SnoozeView:
    """A snoozed reminder: when it comes again, and whether this request is what scheduled it."""

    event_id: int
    event_name: str
    due_at: datetime
    new: bool


async def snooze(*, core: Core, actor: Actor, event_id: int, due: datetime, seconds: int | None = None) -> SnoozeView:
    """Send the actor's reminder of `event_id` due at `due` (to the second) once more, `seconds` from now.

    The actor must still be subscribed, the event scheduled and not started, and the reminder must have been
    theirs; the same reminder is snoozed at most once, and never to or past the event's start.
    """
    now = core.clock()
    delay = timedelta(seconds=core.snooze_seconds if seconds is None else seconds)
    async with core.sessions.begin() as session:
        user = await user_for(session, actor)
        event = await find_event(session, actor, event_id)
        if event.status != EventStatus.SCHEDULED:
            raise Conflict(f"'{event.name}' is {event.status}; there is nothing to remind you of again.")
        subscribed = await session.execute(
            select(EventParticipant.id).where(
                EventParticipant.event_id == event.id, EventParticipant.user_id == user.id
            )
        )
        if subscribed.first() is None:
            raise NotFound(f"You are no longer subscribed to '{event.name}', so it will not be reminded again.")
        # The reminder itself, as it was logged for this member (the button carries its instant to the second).
        reminded = await session.execute(
            select(NotificationLog.due_at, NotificationLog.occurrence_start)
            .where(
                NotificationLog.event_id == event.id,
                NotificationLog.user_id == user.id,
                NotificationLog.kind.in_(SNOOZABLE),
                NotificationLog.due_at >= due,
                NotificationLog.due_at < due + timedelta(seconds=1),
            )
            .limit(1)
        )
        found = reminded.first()
        if found is None:
            raise NotFound(f"You had no reminder of '{event.name}' at that time to be reminded of again.")
        reminder_due, occurrence = found
        # A series: the occurrence the reminder was for.
        start = start_of(event, occurrence)
        if start <= now:
            raise Conflict(f"'{event.name}' has already started; there is nothing to remind you of again.")
        mine = select(Snooze).where(
            Snooze.event_id == event.id, Snooze.user_id == user.id, Snooze.reminder_due_at == reminder_due
        )
        existing = (await session.execute(mine)).scalar_one_or_none()
        if existing is not None:
            return SnoozeView(event.id, event.name, existing.due_at, new=False)
        again = (now + delay).replace(microsecond=0)
        if again >= start:
            raise Conflict(
                f"'{event.name}' starts in less than {duration_words(int(delay.total_seconds()))}: "
                "a reminder that much later would come after its start."
            )
        insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
        # Two presses at once: the unique (event, member, reminder) lets one of them in.
        added = await session.execute(
            insert(Snooze)
            .values(
                event_id=event.id,
                user_id=user.id,
                reminder_due_at=reminder_due,
                due_at=again,
                occurrence_start=occurrence,
                created_at=now,
            )
            .on_conflict_do_nothing()
            .returning(Snooze.id)
        )
        snooze_id = added.scalar_one_or_none()
        if snooze_id is None:
            existing = (await session.execute(mine)).scalar_one()
            return SnoozeView(event.id, event.name, existing.due_at, new=False)
        view = SnoozeView(event.id, event.name, again, new=True)

    async def undo() -> None:
        async with core.sessions.begin() as s:
            await s.execute(delete(Snooze).where(Snooze.id == snooze_id))

    await signal_change(core, view.event_id, "snoozed", undo)
    return view
