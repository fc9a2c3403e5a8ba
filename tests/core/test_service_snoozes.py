"""Snoozing a reminder on a real database and Temporal: once per reminder, and what is refused."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from bot.runtime import Runtime
from core import service
from core.errors import Conflict, NotFound
from core.models import NotificationLog, Snooze, User, utcnow
from core.views import Actor, EventView
from tests.conftest import MEMBER, ORGANIZER
from tests.core.helpers import new_event, refused, signals


async def reminded(runtime: Runtime, event: EventView, actor: Actor, due: datetime) -> None:
    """Record that `actor` got the event's reminder due at `due` by direct message, as the worker does."""
    async with runtime.core.sessions.begin() as session:
        user = (await session.execute(select(User).where(User.platform_user_id == actor.user_id))).scalar_one()
        session.add(
            NotificationLog(
                idempotency_key=f"test-{event.id}-{user.id}-{due.timestamp()}",
                event_id=event.id,
                user_id=user.id,
                destination="direct message",
                kind="reminder",
                due_at=due,
                status="sent",
            )
        )


async def subscribed_and_reminded(runtime: Runtime, start: str = "in 3 days") -> tuple[EventView, datetime]:
    """An event the member subscribed to and got a reminder of a minute ago (at an instant with microseconds)."""
    event = await new_event(runtime, start=start)
    await service.subscribe(core=runtime.core, actor=MEMBER, ref=event.id, tags="dm")
    due = utcnow() - timedelta(minutes=1)
    await reminded(runtime, event, MEMBER, due)
    return event, due


async def snoozes(runtime: Runtime) -> list[tuple[datetime, datetime]]:
    async with runtime.core.sessions() as session:
        rows = await session.execute(select(Snooze.reminder_due_at, Snooze.due_at).order_by(Snooze.id))
        return [(a, b) for a, b in rows]


async def test_snooze_schedules_the_reminder_again_ten_minutes_later_once(runtime: Runtime) -> None:
    """A snooze is stored ten minutes ahead and tells the workflow; the same reminder snoozed again adds nothing."""
    event, due = await subscribed_and_reminded(runtime)
    before = await signals(runtime, event.id)
    first = await service.snooze(core=runtime.core, actor=MEMBER, event_id=event.id, due=due.replace(microsecond=0))
    assert first.new and first.event_name == "Launch party"
    assert timedelta(minutes=9, seconds=58) < first.due_at - utcnow() <= timedelta(minutes=10)
    assert await snoozes(runtime) == [(due, first.due_at)]
    assert await signals(runtime, event.id) == (before or 0) + 1
    second = await service.snooze(core=runtime.core, actor=MEMBER, event_id=event.id, due=due.replace(microsecond=0))
    assert not second.new and second.due_at == first.due_at
    assert await snoozes(runtime) == [(due, first.due_at)]
    assert await signals(runtime, event.id) == (before or 0) + 1


async def test_snooze_that_would_come_after_the_start_is_refused(runtime: Runtime) -> None:
    """An event starting in 5 minutes cannot be reminded of again 10 minutes from now; nothing changes."""
    event, due = await subscribed_and_reminded(runtime, start="in 5 minutes")
    message = await refused(
        runtime, service.snooze(core=runtime.core, actor=MEMBER, event_id=event.id, due=due), Conflict
    )
    assert message == (
        "'Launch party' starts in less than 10 minutes: a reminder that much later would come after its start."
    )


async def test_snooze_after_unsubscribing_is_refused(runtime: Runtime) -> None:
    """A member who unsubscribed cannot snooze the reminder they had; nothing changes."""
    event, due = await subscribed_and_reminded(runtime)
    await service.unsubscribe(core=runtime.core, actor=MEMBER, ref=event.id)
    message = await refused(
        runtime, service.snooze(core=runtime.core, actor=MEMBER, event_id=event.id, due=due), NotFound
    )
    assert message == "You are no longer subscribed to 'Launch party', so it will not be reminded again."


async def test_snooze_of_a_cancelled_event_is_refused(runtime: Runtime) -> None:
    """A cancelled event has nothing to remind of again."""
    event, due = await subscribed_and_reminded(runtime)
    await service.cancel_event(core=runtime.core, actor=ORGANIZER, ref=event.id)
    message = await refused(
        runtime, service.snooze(core=runtime.core, actor=MEMBER, event_id=event.id, due=due), Conflict
    )
    assert message == "'Launch party' is cancelled; there is nothing to remind you of again."


async def test_snooze_of_a_reminder_the_member_never_got_is_refused(runtime: Runtime) -> None:
    """Only a reminder that was sent to the member can be snoozed: another instant is refused."""
    event, due = await subscribed_and_reminded(runtime)
    message = await refused(
        runtime,
        service.snooze(core=runtime.core, actor=MEMBER, event_id=event.id, due=due - timedelta(hours=1)),
        NotFound,
    )
    assert message == "You had no reminder of 'Launch party' at that time to be reminded of again."


async def test_snooze_of_another_communitys_event_is_refused(runtime: Runtime) -> None:
    """An event of another tenant does not exist for the member."""
    event, due = await subscribed_and_reminded(runtime)
    stranger = Actor(platform="console", tenant="guild-b", user_id="mem", display_name="Max")
    await service.show_user(core=runtime.core, actor=stranger)
    message = await refused(
        runtime, service.snooze(core=runtime.core, actor=stranger, event_id=event.id, due=due), NotFound
    )
    assert message == f"No event '{event.id}' here."
