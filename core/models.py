"""Database tables, in the product's words (SQLAlchemy 2.0 declarative, async-ready)."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# The largest value an Integer primary key holds on PostgreSQL; a larger id names no row (and asyncpg refuses it).
MAX_ROW_ID = 2**31 - 1


def parse_row_id(text: str) -> int | None:
    """The row id that `text` names: ASCII digits within an Integer primary key's range; otherwise None."""
    if text.isascii() and text.isdigit() and len(text) <= 10 and int(text) <= MAX_ROW_ID:
        return int(text)
    return None


def utcnow() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware UTC instant on every backend (SQLite hands back naive values otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    """Base of every table."""

    metadata = MetaData(naming_convention=NAMING)


class EventStatus(enum.StrEnum):
    """Where an event is in its life."""

    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


class DeliveryStatus(enum.StrEnum):
    """The state of one reminder to one destination."""

    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class User(Base):
    """A platform identity: (platform, tenant, platform user id)."""

    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("platform", "tenant", "platform_user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    tenant: Mapped[str] = mapped_column(String(64))
    platform_user_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(100), default="")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    # False while the zone is the default (UTC, or the one the member's platform profile gives).
    timezone_set: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    default_offsets: Mapped[str] = mapped_column(String(200), default="")
    # The tags a subscription without tags of its own uses ("" means every tag the member has).
    default_tags: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiKey(Base):
    """A key for the HTTP API; only its SHA-256 hash is stored."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(64))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Event(Base):
    """Something that starts at an instant and that people want to be reminded of."""

    __tablename__ = "events"
    __table_args__ = (Index("ix_events_tenant_start", "tenant", "start_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    tenant: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    timezone: Mapped[str] = mapped_column(String(64))
    organizer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[str] = mapped_column(String(16), default=EventStatus.SCHEDULED)
    default_offsets: Mapped[str] = mapped_column(String(200), default="")
    channel_url_encrypted: Mapped[str | None] = mapped_column(Text, default=None)
    channel_label: Mapped[str] = mapped_column(String(200), default="")
    # A keyed hash of the channel destination (see core.service.channels), so follows and public feeds find
    # a channel's events without reading its encrypted URL; "" when the event has no channel.
    channel_key: Mapped[str] = mapped_column(String(64), default="", index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    schedule_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A series: an RFC 5545 RRULE value (normalized, UNTIL in UTC) expanded from start_at on the zone's wall clock.
    recurrence: Mapped[str | None] = mapped_column(Text, default=None)

    details: Mapped[EventDetails] = relationship(
        back_populates="event", cascade="all, delete-orphan", lazy="joined", uselist=False
    )
    organizer: Mapped[User] = relationship(lazy="joined")
    exceptions: Mapped[list[OccurrenceException]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by="OccurrenceException.original_start"
    )


class OccurrenceException(Base):
    """One occurrence of a series that the organizer cancelled or moved, keyed by the start the rule gives it."""

    __tablename__ = "occurrence_exceptions"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    original_start: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    status: Mapped[str] = mapped_column(String(16))
    start_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    end_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    # Whether the subscribers of a cancelled occurrence have been told (by its event's workflow).
    notified: Mapped[bool] = mapped_column(Boolean, default=False)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class EventDetails(Base):
    """The descriptive part of an event, kept apart from what scheduling reads."""

    __tablename__ = "event_details"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    description: Mapped[str] = mapped_column(Text, default="")
    location: Mapped[str] = mapped_column(String(200), default="")
    link: Mapped[str] = mapped_column(String(500), default="")

    event: Mapped[Event] = relationship(back_populates="details")


class EventParticipant(Base):
    """A member's subscription to an event, with how and when they want to be reminded."""

    __tablename__ = "event_participants"
    __table_args__ = (UniqueConstraint("event_id", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    # Indexed for calendar feeds, which calendar apps fetch for every member about once an hour.
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    tags: Mapped[str] = mapped_column(String(500), default="")
    custom_time_delta_seconds: Mapped[str] = mapped_column(String(200), default="")
    custom_frequency: Mapped[str] = mapped_column(String(16), default="none")
    # Set when the member follows one occurrence of a series (its original start); None follows all of them.
    occurrence_start: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")


class Integration(Base):
    """A destination a member registered: an Apprise URL, encrypted at rest, with tags."""

    __tablename__ = "integrations"
    __table_args__ = (UniqueConstraint("user_id", "url_fingerprint"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(100))
    url_encrypted: Mapped[str] = mapped_column(Text)
    url_fingerprint: Mapped[str] = mapped_column(String(32))
    masked_url: Mapped[str] = mapped_column(String(300))
    tags: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_success_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    last_error_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)


class NotificationLog(Base):
    """One reminder (or notice) to one destination: the idempotency record and the audit trail."""

    __tablename__ = "notification_log"
    __table_args__ = (
        Index("ix_notification_log_event_due", "event_id", "due_at"),
        # The dispatcher loads an instant's deliveries by due instant and status.
        Index("ix_notification_log_due_status", "due_at", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    integration_id: Mapped[int | None] = mapped_column(ForeignKey("integrations.id", ondelete="SET NULL"), default=None)
    destination: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(16), default="reminder")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The occurrence of a series (its original start) this delivery is for; None for a one-off event.
    occurrence_start: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.PENDING)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class PlannedReminder(Base):
    """An instant at which an event has reminders to send, as its workflow last planned them.

    The dispatcher of a time slot reads these to find every event due in it with one query, and a subscribe
    whose instants are all here already needs no new plan.
    """

    __tablename__ = "planned_reminders"
    __table_args__ = (Index("ix_planned_reminders_due_at", "due_at"),)

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)


class EventAnnouncement(Base):
    """The chat message that announced an event, so it can be kept up to date (time, status, subscribers)."""

    __tablename__ = "event_announcements"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    # The platform's address of the message: `CHANNEL_ID/MESSAGE_ID` on Discord, `CHANNEL/TS` on Slack.
    message_ref: Mapped[str] = mapped_column(String(200), default="")
    # The platform's own event that mirrors ours (a Discord guild scheduled event id), if any.
    mirror_ref: Mapped[str] = mapped_column(String(64), default="", index=True)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class QuotaUse(Base):
    """One use of a rate-limited action by one scope (a user, a tenant, a destination), counted until it ages out."""

    __tablename__ = "quota_uses"
    __table_args__ = (Index("ix_quota_uses_action_scope_at", "action", "scope", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    action: Mapped[str] = mapped_column(String(32))
    scope: Mapped[str] = mapped_column(String(100))
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class CalendarFeed(Base):
    """A member's private calendar feed: its URL token comes from `seed` and the secret key; only its hash is kept."""

    __tablename__ = "calendar_feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    seed: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rotated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChannelFollow(Base):
    """A member who follows a channel: every event created there later subscribes them with their defaults."""

    __tablename__ = "channel_follows"
    __table_args__ = (
        UniqueConstraint("user_id", "channel_key"),
        Index("ix_channel_follows_tenant_channel", "tenant", "channel_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    platform: Mapped[str] = mapped_column(String(16))
    tenant: Mapped[str] = mapped_column(String(64))
    channel_key: Mapped[str] = mapped_column(String(64))
    channel_label: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PublicFeed(Base):
    """A public calendar feed of a channel's (or, with channel_key "", a whole tenant's) upcoming events.

    Like a private feed, its URL token comes from `seed` and the secret key, and only its hash is kept.
    """

    __tablename__ = "public_feeds"
    __table_args__ = (UniqueConstraint("tenant", "channel_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(64))
    channel_key: Mapped[str] = mapped_column(String(64), default="")
    channel_label: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    seed: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rotated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Snooze(Base):
    """A member's "remind me again" on one reminder they got: one more direct message at `due_at`, once."""

    __tablename__ = "snoozes"
    # One per reminder: a second press of the same button finds this row.
    __table_args__ = (UniqueConstraint("event_id", "user_id", "reminder_due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # The instant of the reminder that was snoozed, and when it is sent again.
    reminder_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # The occurrence of a series the reminder was for (its original start); None for a one-off event.
    occurrence_start: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
