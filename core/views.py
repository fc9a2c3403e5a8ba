"""Neutral results the core returns; every front end renders them for its own platform."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Actor:
    """Who is asking: a platform identity inside one tenant (a guild, a workspace, `local`, `api`)."""

    platform: str
    tenant: str
    user_id: str
    display_name: str = ""
    is_admin: bool = False
    # The zone the platform's profile gives the person: their zone for as long as they have not set one.
    profile_timezone: str | None = None


@dataclass(frozen=True)
class TimeReading:
    """How a start time typed as text was read: the text, and each choice made in reading it."""

    typed: str
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventView:
    """An event as its tenant sees it."""

    id: int
    code: str
    name: str
    start_at: datetime
    end_at: datetime
    timezone: str
    status: str
    organizer: str
    default_offsets: tuple[int, ...]
    description: str
    location: str
    link: str
    channel: str | None
    subscriber_count: int
    # A public .ics of this event (a per-event token in the URL) when SOONISH_PUBLIC_URL is set; else None.
    ics_url: str | None = field(default=None, compare=False)
    # A series: its normalized RRULE, and the starts of its next occurrences (at most five, cancelled ones left out).
    recurrence: str | None = None
    next_occurrences: tuple[datetime, ...] = ()
    # Set on the answer to a create or update whose start was typed as text, so the reply can say how it was read;
    # it describes the request, not the event, so two views of one event still compare equal.
    start_reading: TimeReading | None = field(default=None, compare=False)


@dataclass(frozen=True)
class OccurrenceView:
    """One occurrence of an event: where it is now, and the start the series' rule gives it (its identity)."""

    original_start: datetime
    start_at: datetime
    end_at: datetime
    status: str


@dataclass(frozen=True)
class SubscriptionView:
    """A member's subscription and the reminders it will bring."""

    event_id: int
    event_code: str
    event_name: str
    tags: tuple[str, ...]
    custom_time_delta_seconds: tuple[int, ...]
    custom_frequency: str
    next_reminders: tuple[datetime, ...]
    # Set when the subscription follows one occurrence of a series (its original start).
    occurrence: datetime | None = None


@dataclass(frozen=True)
class IntegrationView:
    """A registered destination, with its URL masked."""

    id: int
    label: str
    url: str
    tags: tuple[str, ...]
    last_success_at: datetime | None
    last_error: str | None


@dataclass(frozen=True)
class IntegrationTestResult:
    """What happened when a test notification was sent to one destination."""

    integration: IntegrationView
    delivered: bool
    error: str | None


@dataclass(frozen=True)
class DeliveryView:
    """One entry of an event's delivery log."""

    id: int
    kind: str
    due_at: datetime
    recipient: str
    destination: str
    status: str
    late: bool
    attempts: int
    error: str | None
    updated_at: datetime


@dataclass(frozen=True)
class DeliveryLog:
    """A page of an event's delivery log (newest first) and how many entries the log holds in all."""

    event_id: int
    entries: list[DeliveryView]
    total: int
    offset: int = 0

    @property
    def complete(self) -> bool:
        """Whether this page holds the whole log."""
        return self.offset == 0 and len(self.entries) >= self.total


@dataclass(frozen=True)
class UserView:
    """A user's own settings."""

    platform: str
    tenant: str
    user_id: str
    timezone: str
    # What a subscription without options of its own uses; empty means the event's reminder times, every tag.
    default_offsets: tuple[int, ...] = ()
    default_tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class CalendarFile:
    """An iCalendar document (RFC 5545) to hand out as `text/calendar`."""

    filename: str
    content: bytes


@dataclass(frozen=True)
class CalendarFeedView:
    """A member's private calendar feed: whoever has the URL can read it, so it is shown only to its owner."""

    url: str


@dataclass(frozen=True)
class ChannelFollowView:
    """A channel a member follows: events created there later subscribe them with their defaults."""

    channel: str
    followed_at: datetime


@dataclass(frozen=True)
class FollowsView:
    """The channels a member follows, after a follow or unfollow (`changed` says whether it changed anything)."""

    follows: tuple[ChannelFollowView, ...]
    changed: bool = True


@dataclass(frozen=True)
class PublicFeedView:
    """A public calendar feed of a channel or a whole tenant: its URL, or None once it is turned off."""

    scope: str
    url: str | None
    rotated: bool = False
