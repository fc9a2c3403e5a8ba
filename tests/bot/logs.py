"""Filling an event's delivery log, as if its reminders had gone out to many destinations."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.models import DeliveryStatus, Event, NotificationLog
from core.service import Core


async def add_deliveries(core: Core, code: str, count: int) -> list[str]:
    """Record `count` sent reminders of the event with this code; returns their destinations."""
    async with core.sessions.begin() as session:
        event = (await session.execute(select(Event).where(Event.code == code))).scalar_one()
        destinations = [f"destination-{n:02d}-{'x' * 40}" for n in range(count)]
        for n, destination in enumerate(destinations):
            session.add(
                NotificationLog(
                    idempotency_key=f"{code}-{n}",
                    event_id=event.id,
                    destination=destination,
                    kind="reminder",
                    due_at=event.start_at - timedelta(minutes=n + 1),
                    status=DeliveryStatus.SENT,
                    attempts=1,
                )
            )
        return destinations
