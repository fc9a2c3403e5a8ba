"""Reminder instants as planned for dispatch: time slots, how far ahead a slot prepares, and what is covered."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import PlannedReminder

# The work of every reminder due in one slot (a minute of due instants) is done once, by one dispatcher.
SLOT_LENGTH = timedelta(minutes=1)
# A slot loads and prepares its deliveries this long before its first second.
PREPARE_LEAD = timedelta(seconds=30)
# How many of an event's next instants are planned (and registered with their slots) at a time.
PLAN_LIMIT = 20
SLOT_WORKFLOW_NAME = "ReminderSlotWorkflow"
SIGNAL_REFRESH = "refresh"


def slot_of(instant: datetime) -> datetime:
    """The start of the slot that `instant` falls in."""
    instant = instant.astimezone(UTC)
    return instant.replace(second=0, microsecond=0)


def slot_workflow_id(instance: str, slot_start: datetime) -> str:
    """The dispatcher's id: one per slot and installation, so every event due in the slot finds the same one."""
    return f"{instance}-slot-{slot_start.astimezone(UTC):%Y%m%dT%H%M}"


_PLANNED = (
    select(PlannedReminder.due_at)
    .where(PlannedReminder.event_id == bindparam("event_id"))
    .order_by(PlannedReminder.due_at)
)


async def planned_instants(session: AsyncSession, event_id: int) -> list[datetime]:
    """The event's instants as its workflow last planned them, ascending."""
    return list((await session.execute(_PLANNED, {"event_id": event_id})).scalars())


async def already_planned(session: AsyncSession, event_id: int, instants: Sequence[datetime], now: datetime) -> bool:
    """Whether a subscription with these instants (its next ones, ascending) adds nothing the event must re-plan.

    True when each instant is planned already, or lies beyond a full plan (it is planned when the plan moves on),
    and none is so close that its slot may have prepared its deliveries without this subscriber.
    """
    if not instants or instants[0] <= now + PREPARE_LEAD + SLOT_LENGTH:
        return False
    planned = await planned_instants(session, event_id)
    if not planned:
        return False
    known = set(planned)
    horizon = planned[-1] if len(planned) >= PLAN_LIMIT else None
    return all(i in known or (horizon is not None and i > horizon) for i in instants)
