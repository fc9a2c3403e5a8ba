"""Turn what users type into time zones, UTC instants, reminder offsets and countdown frequencies."""

from __future__ import annotations

from datetime import datetime, tzinfo
from enum import StrEnum

from core.errors import InvalidInput, InvalidTime

from ._common import quote, require_aware
from ._durations import (
    MAX_OFFSET_SECONDS,
    MAX_OFFSETS,
    MIN_OFFSET_SECONDS,
    OFFSET_EXAMPLES,
    format_offset,
    format_offsets,
    parse_offsets,
)
from ._resolve import WHEN_EXAMPLES, Reading
from ._when import MAX_WHEN_LENGTH, parse_when, read_when
from ._zones import ZONE_EXAMPLES, date_order, zone

__all__ = [
    "MAX_OFFSETS",
    "MAX_OFFSET_SECONDS",
    "MAX_WHEN_LENGTH",
    "MIN_OFFSET_SECONDS",
    "OFFSET_EXAMPLES",
    "WHEN_EXAMPLES",
    "ZONE_EXAMPLES",
    "Frequency",
    "Reading",
    "date_order",
    "format_local",
    "format_offset",
    "format_offsets",
    "parse_frequency",
    "parse_offsets",
    "parse_when",
    "read_when",
    "require_future",
    "zone",
]


class Frequency(StrEnum):
    """How often a countdown reminder repeats before an event starts."""

    NONE = "none"
    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"


def format_local(when: datetime, tz: str | tzinfo) -> str:
    """An instant on a zone's wall clock, the way replies write it: `Tue 01 Dec 2026, 14:00 Europe/Berlin`."""
    zi = zone(tz) if isinstance(tz, str) else tz
    return f"{when.astimezone(zi):%a %d %b %Y, %H:%M} {getattr(zi, 'key', None) or when.astimezone(zi).tzname()}"


def require_future(when: datetime, *, now: datetime, what: str = "start time", tz: str | None = None) -> None:
    """Refuse `when` unless it is strictly after `now`; the message writes it in `tz` (the user's zone)."""
    require_aware(when, "when")
    require_aware(now, "now")
    if when <= now:
        raise InvalidTime(f"The {what} {format_local(when, tz or 'UTC')} is in the past.")


def parse_frequency(text: str | None) -> Frequency:
    """Read a countdown frequency by name, case-insensitively; nothing at all means no countdown."""
    if text is None or not text.strip():
        return Frequency.NONE
    try:
        return Frequency(text.strip().lower())
    except ValueError:
        accepted = ", ".join(frequency.value for frequency in Frequency)
        raise InvalidInput(f"Unknown countdown frequency {quote(text)}. Use one of: {accepted}.") from None
