"""Request and response bodies of the HTTP API, in the seed's field names.

Limits here are loose on purpose: they only keep absurd input out. The core enforces the exact
limits and says specifically what is wrong, so those messages reach the client unchanged.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, PlainValidator
from pydantic_core import PydanticCustomError

from bot import render
from core.service import EventDraft, EventPatch
from core.views import (
    CalendarFeedView,
    DeliveryView,
    EventView,
    FollowsView,
    IntegrationTestResult,
    IntegrationView,
    OccurrenceView,
    SubscriptionView,
    UserView,
)

SHORT_TEXT = 1_000
LONG_TEXT = 10_000
URL_TEXT = 8_192
MAX_ITEMS = 100


def _offsets(value: object) -> str | list[int] | None:
    # bool is an int subclass; `true` is not a number of seconds.
    if value is None or (isinstance(value, str) and len(value) <= SHORT_TEXT):
        return value
    if isinstance(value, list) and len(value) <= MAX_ITEMS and all(type(v) is int for v in value):
        return value
    raise PydanticCustomError(
        "offsets", "give whole seconds as a list of numbers, such as [86400, 3600], or a text such as '1d, 1h'"
    )


def _tags(value: object) -> str | list[str] | None:
    if value is None or (isinstance(value, str) and len(value) <= SHORT_TEXT):
        return value
    if (
        isinstance(value, list)
        and len(value) <= MAX_ITEMS
        and all(isinstance(v, str) and len(v) <= SHORT_TEXT for v in value)
    ):
        return value
    raise PydanticCustomError("tags", "give tags as a list of words, or a text such as 'email, phone'")


Offsets = Annotated[str | list[int] | None, PlainValidator(_offsets, json_schema_input_type=str | list[int] | None)]
Tags = Annotated[str | list[str] | None, PlainValidator(_tags, json_schema_input_type=str | list[str] | None)]
ShortText = Annotated[str, Field(max_length=SHORT_TEXT)]
LongText = Annotated[str, Field(max_length=LONG_TEXT)]
UrlText = Annotated[str, Field(max_length=URL_TEXT)]


class _Request(BaseModel):
    # An unknown field is more likely a typo than something to ignore silently.
    model_config = ConfigDict(extra="forbid")


class EventCreate(_Request):
    """What an organizer sends to create an event."""

    name: ShortText
    start_time: ShortText = Field(description="ISO 8601 ('2026-12-01T19:00') or natural language ('tomorrow 7pm').")
    end_time: ShortText | None = None
    timezone: ShortText | None = Field(default=None, description="IANA zone; defaults to the organizer's.")
    description: LongText = ""
    location: ShortText = ""
    link: UrlText = ""
    channel_url: UrlText | None = Field(default=None, description="Apprise URL of the channel the event came from.")
    default_time_delta_seconds: Offsets = Field(default=None, description="Reminder offsets before the start.")
    recurrence: ShortText | None = Field(
        default=None,
        description="Makes a series: RRULE text ('FREQ=WEEKLY;BYDAY=FR') or a phrase ('every friday', 'weekly', "
        "'every 2 weeks', 'every weekday', 'monthly on the last friday', 'monthly on the last day').",
    )
    until: ShortText | None = Field(default=None, description="The series' last day or instant, read in `timezone`.")
    count: int | None = Field(default=None, description="How many occurrences the series has.")

    def draft(self) -> EventDraft:
        """The core's input for this request."""
        return EventDraft(
            name=self.name,
            start=self.start_time,
            end=self.end_time,
            timezone=self.timezone,
            description=self.description,
            location=self.location,
            link=self.link,
            default_offsets=self.default_time_delta_seconds,
            channel_url=self.channel_url,
            repeat=self.recurrence,
            until=self.until,
            count=self.count,
        )


class EventUpdate(_Request):
    """The fields to change; those left out stay as they are."""

    name: ShortText | None = None
    start_time: ShortText | None = None
    end_time: ShortText | None = Field(default=None, description="An empty text makes the event end when it starts.")
    timezone: ShortText | None = None
    description: LongText | None = None
    location: ShortText | None = None
    link: UrlText | None = None
    default_time_delta_seconds: Offsets = None
    from_occurrence: ShortText | None = Field(
        default=None,
        description="Change a series from this occurrence on (its original start_time, or a date): the series is "
        "split there and the answer is the new series; earlier occurrences stay as they were.",
    )
    recurrence: ShortText | None = Field(default=None, description="With from_occurrence: a new rule from there on.")

    def patch(self) -> EventPatch:
        """The core's input for this request."""
        return EventPatch(
            name=self.name,
            start=self.start_time,
            end=self.end_time,
            timezone=self.timezone,
            description=self.description,
            location=self.location,
            link=self.link,
            default_offsets=self.default_time_delta_seconds,
        )


class SubscriptionRequest(_Request):
    """How and when a member wants to be reminded; everything is optional."""

    tags: Tags = Field(default=None, description="Tags of your integrations; all of them when left out.")
    custom_time_delta_seconds: Offsets = Field(default=None, description="Reminder offsets before the start.")
    custom_frequency: ShortText | None = Field(default=None, description="none, hourly, daily or weekly countdown.")
    occurrence: ShortText | None = Field(
        default=None, description="Of a series, follow only this occurrence (its start_time, or a date)."
    )


class OccurrenceMove(_Request):
    """Where one occurrence of a series moves to."""

    start_time: ShortText = Field(description="The new start, ISO 8601 or natural language, in the event's zone.")


class Occurrence(BaseModel):
    """One occurrence of an event; `original_start_time` (the rule's start) names it in the occurrence URLs."""

    start_time: datetime
    end_time: datetime
    status: str = Field(description="scheduled, moved or cancelled.")
    original_start_time: datetime

    @classmethod
    def of(cls, view: OccurrenceView) -> Self:
        """Render the core's view."""
        return cls(
            start_time=view.start_at,
            end_time=view.end_at,
            status=view.status,
            original_start_time=view.original_start,
        )


class IntegrationCreate(_Request):
    """A destination to register: an Apprise URL, stored encrypted and only ever shown masked."""

    url: UrlText
    tags: Tags = None
    label: ShortText | None = None


class SettingsUpdate(_Request):
    """Your defaults for subscribing without options; a field left out stays as it is, "none" or [] clears it."""

    default_offsets: Offsets = Field(
        default=None, description="Reminder offsets before the start: seconds, or a text such as '1d, 1h'."
    )
    default_tags: Tags = Field(default=None, description="Tags of your integrations to be reminded through.")


class ChannelRequest(_Request):
    """A channel, as events give it: the Apprise URL of the channel they came from."""

    channel_url: UrlText = Field(description="Apprise URL of the channel, as given to POST /events.")


class TimezoneUpdate(_Request):
    """The zone in which your times are read."""

    timezone: ShortText


class Event(BaseModel):
    """An event as its tenant sees it; times are UTC instants, `timezone` is the zone it was given in."""

    id: int
    code: str
    name: str
    start_time: datetime
    end_time: datetime
    timezone: str
    status: str
    organizer: str
    default_time_delta_seconds: list[int]
    description: str
    location: str
    link: str
    channel: str | None = Field(description="The originating channel's URL, masked.")
    subscriber_count: int
    recurrence: str | None = Field(default=None, description="A series' rule, as normalized RRULE text.")
    next_occurrences: list[datetime] = Field(
        default_factory=list, description="A series' next starts (at most five, cancelled ones left out)."
    )
    start_read_as: str | None = Field(
        default=None, description="After a create or update with a typed start_time: how it was read, in `timezone`."
    )
    ics_url: str | None = Field(
        default=None, description="A public .ics of the event (no API key needed), when SOONISH_PUBLIC_URL is set."
    )

    @classmethod
    def of(cls, view: EventView) -> Self:
        """Render the core's view."""
        return cls(
            id=view.id,
            code=view.code,
            name=view.name,
            start_time=view.start_at,
            end_time=view.end_at,
            timezone=view.timezone,
            status=view.status,
            organizer=view.organizer,
            default_time_delta_seconds=list(view.default_offsets),
            description=view.description,
            location=view.location,
            link=view.link,
            channel=view.channel,
            subscriber_count=view.subscriber_count,
            recurrence=view.recurrence,
            next_occurrences=list(view.next_occurrences),
            start_read_as=render.start_reading(view, render.local_time(view.timezone)) or None,
            ics_url=view.ics_url,
        )


class Subscription(BaseModel):
    """A member's subscription and the next reminders it brings."""

    event_id: int
    event_code: str
    event_name: str
    tags: list[str]
    custom_time_delta_seconds: list[int]
    custom_frequency: str
    next_reminders: list[datetime]
    occurrence: datetime | None = Field(default=None, description="The one occurrence followed, if only one.")

    @classmethod
    def of(cls, view: SubscriptionView) -> Self:
        """Render the core's view."""
        return cls(
            event_id=view.event_id,
            event_code=view.event_code,
            event_name=view.event_name,
            tags=list(view.tags),
            custom_time_delta_seconds=list(view.custom_time_delta_seconds),
            custom_frequency=view.custom_frequency,
            next_reminders=list(view.next_reminders),
            occurrence=view.occurrence,
        )


class Unsubscribed(BaseModel):
    """The answer to an unsubscribe."""

    event_name: str
    subscribed: bool = False


class Integration(BaseModel):
    """A registered destination, its URL masked."""

    id: int
    label: str
    url: str = Field(description="Masked: scheme and host at most, never a secret.")
    tags: list[str]
    last_success_at: datetime | None
    last_error: str | None

    @classmethod
    def of(cls, view: IntegrationView) -> Self:
        """Render the core's view."""
        return cls(
            id=view.id,
            label=view.label,
            url=view.url,
            tags=list(view.tags),
            last_success_at=view.last_success_at,
            last_error=view.last_error,
        )


class IntegrationTest(BaseModel):
    """What happened when a test message was sent to one destination."""

    integration: Integration
    delivered: bool
    error: str | None

    @classmethod
    def of(cls, result: IntegrationTestResult) -> Self:
        """Render the core's result."""
        return cls(integration=Integration.of(result.integration), delivered=result.delivered, error=result.error)


class Delivery(BaseModel):
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

    @classmethod
    def of(cls, view: DeliveryView) -> Self:
        """Render the core's view."""
        return cls(
            id=view.id,
            kind=view.kind,
            due_at=view.due_at,
            recipient=view.recipient,
            destination=view.destination,
            status=view.status,
            late=view.late,
            attempts=view.attempts,
            error=view.error,
            updated_at=view.updated_at,
        )


class User(BaseModel):
    """The caller's own settings."""

    platform: str
    tenant: str
    user_id: str
    timezone: str

    @classmethod
    def of(cls, view: UserView) -> Self:
        """Render the core's view."""
        return cls(platform=view.platform, tenant=view.tenant, user_id=view.user_id, timezone=view.timezone)


class Settings(BaseModel):
    """Your defaults for subscribing without options: empty means the event's reminder times and every tag."""

    timezone: str
    default_offsets: list[int]
    default_tags: list[str]

    @classmethod
    def of(cls, view: UserView) -> Self:
        """Render the core's view."""
        return cls(
            timezone=view.timezone, default_offsets=list(view.default_offsets), default_tags=list(view.default_tags)
        )


class Follows(BaseModel):
    """The channels you follow (masked): events created there later subscribe you with your defaults."""

    channels: list[str]
    changed: bool

    @classmethod
    def of(cls, view: FollowsView) -> Self:
        """Render the core's view."""
        return cls(channels=[f.channel for f in view.follows], changed=view.changed)


class Error(BaseModel):
    """Every error answer: one message, safe to show to the caller."""

    error: str


class CalendarFeed(BaseModel):
    """The caller's private calendar feed: anyone with this URL can read it, so keep it to yourself."""

    url: str

    @classmethod
    def of(cls, view: CalendarFeedView) -> Self:
        """The response for a feed view."""
        return cls(url=view.url)
