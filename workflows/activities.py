"""Every activity of the reminder engine, built with the dependencies they need, for the worker."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.destinations import Sender
from core.notices import SNOOZE_SECONDS
from core.secrets import SecretBox
from workflows.messages import LATE_AFTER
from workflows.planning import PlanningActivities
from workflows.preparation import PreparationActivities
from workflows.sending import SendingActivities


class ReminderActivities:
    """Planning (per event), preparation (per slot) and sending (per chunk), split by what they do."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        secrets: SecretBox,
        sender: Sender,
        late_after: timedelta = LATE_AFTER,
        snooze_seconds: int = SNOOZE_SECONDS,
    ) -> None:
        self.planning = PlanningActivities(sessions=sessions)
        self.preparation = PreparationActivities(sessions=sessions)
        self.sending = SendingActivities(
            sessions=sessions, secrets=secrets, sender=sender, late_after=late_after, snooze_seconds=snooze_seconds
        )

    def all(self) -> list[Callable[..., Any]]:
        """Every activity, for the worker."""
        return [
            self.planning.plan_reminders,
            self.planning.complete_event,
            self.preparation.prepare_slot,
            self.preparation.prepare_cancellation,
            self.sending.send_notifications,
        ]
