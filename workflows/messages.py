"""Arguments and results of the workflows' activities (one dataclass each, so fields can be added)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from temporalio.common import RetryPolicy

# A failing destination is retried on its own schedule by the dispatcher: 1 s, 2 s, 4 s ... at most 60 s apart.
MAX_SEND_ATTEMPTS = 8
RETRY_FIRST = timedelta(seconds=1)
RETRY_MAX = timedelta(seconds=60)
# Activity-level retries are only for a crashed worker or a database hiccup, never for a destination's failure.
DB_RETRY = RetryPolicy(initial_interval=timedelta(seconds=1), maximum_interval=timedelta(seconds=30))
# Database activities heartbeat every 2 s: one lost with a killed worker is retried on another within this.
DB_HEARTBEAT = timedelta(seconds=5)

# A reminder that goes out later than this after its due instant is marked late.
LATE_AFTER = timedelta(seconds=60)
# Deliveries of one instant are split into chunks of at most this many; each chunk is one activity, so several
# workers share a big instant.
CHUNK_SIZE = 250


def retry_delay(attempt: int) -> timedelta:
    """How long to wait after failed attempt number `attempt` (1-based) before the next one."""
    delay: timedelta = RETRY_FIRST * (2 ** (attempt - 1))
    return min(RETRY_MAX, delay)


def longest_retry_span() -> timedelta:
    """The time from a first failed attempt to the last retry: what an exactly-once check must wait past."""
    return sum((retry_delay(a) for a in range(1, MAX_SEND_ATTEMPTS)), timedelta())


@dataclass(frozen=True)
class PlanInput:
    """Which reminders are still to come for an event, after the last instant already handled."""

    event_id: int
    after: datetime | None
    now: datetime | None = None
    send_ahead_seconds: float = 0.0


@dataclass(frozen=True)
class Plan:
    """The event as scheduling sees it, and its next reminder instants (a bounded list)."""

    status: str
    start_at: datetime | None = None
    end_at: datetime | None = None
    upcoming: list[datetime] = field(default_factory=list)
    # A series that never ends: `end_at` is then only when to plan again, never when to complete.
    open_ended: bool = False
    # Occurrences cancelled since the last plan whose subscribers are still to be told (original starts).
    cancelled_occurrences: list[datetime] = field(default_factory=list)


@dataclass(frozen=True)
class CompleteInput:
    """Mark an event completed once it has ended."""

    event_id: int


@dataclass(frozen=True)
class Chunk:
    """Some of one instant's deliveries: the pending log rows of `kind` due at `due` with ids in a range."""

    kind: str
    due: datetime
    first_id: int
    last_id: int
    event_id: int | None = None


@dataclass(frozen=True)
class InstantPlan:
    """One due instant of a slot and its deliveries, in chunks."""

    due: datetime
    chunks: list[Chunk] = field(default_factory=list)


@dataclass(frozen=True)
class SlotInput:
    """A dispatcher's argument: the slot it serves; `after` carries progress across continue-as-new."""

    slot_start: datetime
    send_ahead_seconds: float = 0.0
    after: datetime | None = None


@dataclass(frozen=True)
class SlotNotice:
    """Signal argument: an event changed its reminders in this slot after it may have been prepared."""

    event_id: int


@dataclass(frozen=True)
class PrepareInput:
    """Create the log rows of every delivery due in [start, end), and chunk the pending ones not launched yet:
    those due after `after`, and any with an id above `above_id` (added after their instant was launched)."""

    start: datetime
    end: datetime
    after: datetime | None = None
    above_id: int = 0


@dataclass(frozen=True)
class CancelInput:
    """Create the log rows of an event's cancellation notice (or of one occurrence's), and chunk them."""

    event_id: int
    occurrence: datetime | None = None


@dataclass(frozen=True)
class Prepared:
    """What a preparation found: the instants with deliveries still to send, ascending."""

    instants: list[InstantPlan] = field(default_factory=list)
    rows: int = 0


@dataclass(frozen=True)
class ChunkInput:
    """Send one chunk: wait up to `wait_seconds` for the instant, then send to every row still pending."""

    chunk: Chunk
    fired_at: datetime
    attempt: int = 1
    wait_seconds: float = 0.0


@dataclass(frozen=True)
class ChunkResult:
    """What one chunk did; `retrying` rows failed and wait for another attempt."""

    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retrying: int = 0
