"""Arguments and results of the event workflow's activities (one dataclass each, so fields can be added)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from temporalio.common import RetryPolicy

MAX_SEND_ATTEMPTS = 8
SEND_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=60),
    maximum_attempts=MAX_SEND_ATTEMPTS,
)
DB_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))

# A reminder that goes out later than this after its due instant is marked late.
LATE_AFTER = timedelta(seconds=60)
BATCH_SIZE = 500


@dataclass(frozen=True)
class PlanInput:
    """Which reminders are still to come for an event, after the last instant already handled."""

    event_id: int
    after: datetime | None


@dataclass(frozen=True)
class Plan:
    """The event as scheduling sees it, and its next reminder instants (a bounded list)."""

    status: str
    start_at: datetime | None = None
    end_at: datetime | None = None
    upcoming: list[datetime] = field(default_factory=list)


@dataclass(frozen=True)
class SendInput:
    """Send one batch of an event's reminder (or cancellation notice) due at `due`."""

    event_id: int
    due: datetime
    fired_at: datetime
    kind: str = "reminder"
    after_participant_id: int = 0
    wait_seconds: float = 0.0


@dataclass(frozen=True)
class SendResult:
    """What one batch did; `next_participant_id` is set while more participants remain."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0
    next_participant_id: int | None = None


@dataclass(frozen=True)
class CompleteInput:
    """Mark an event completed once it has ended."""

    event_id: int
