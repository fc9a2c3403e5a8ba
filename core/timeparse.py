"""Turn what users type into time zones, UTC instants, reminder offsets and countdown frequencies."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from core.errors import InvalidInput, InvalidTime

MAX_WHEN_LENGTH = 200
MAX_OFFSETS = 10
MIN_OFFSET_SECONDS = 1
MAX_OFFSET_SECONDS = 365 * 86_400
_MAX_OFFSETS_TEXT_LENGTH = 200
_MAX_ZONE_LENGTH = 64

_ZONE_EXAMPLES = "Use an IANA name such as Europe/Berlin or America/New_York."
_WHEN_EXAMPLES = "Try 'tomorrow 7pm', 'in 2 hours', 'next friday 18:00' or '2026-12-01 19:00'."
_OFFSET_EXAMPLES = "Use a number and a unit, such as 30m, 1h30m, 2 days or 1w."

# Keys that exist on disk but describe the host or nothing at all, so they must not be stored with an event.
_RESERVED_ZONE_KEYS = frozenset({"localtime", "posixrules", "factory"})
_ZONE_KEY = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*", re.ASCII)

_UNIT_SECONDS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3_600),
    **dict.fromkeys(("d", "day", "days"), 86_400),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), 604_800),
}
_UNIT = "|".join(sorted(_UNIT_SECONDS, key=len, reverse=True))
_DURATION_PART = re.compile(rf"([0-9]+)\s*({_UNIT})(?![a-z])", re.ASCII | re.IGNORECASE)
_DURATION_ITEM = re.compile(rf"(?:[0-9]+\s*(?:{_UNIT})(?![a-z]))+", re.ASCII | re.IGNORECASE)
_FORMAT_UNITS = (("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))

# "in 2 hours", "in an hour and 30 minutes", "90 minutes from now": handled here rather than by dateparser,
# which adds hours on the local wall clock and so lands an hour off when a DST change falls in between.
_RELATIVE_PART = rf"(?:([0-9]+)\s*|(an?)\s+)({_UNIT})(?![a-z])"
_RELATIVE_BODY = re.compile(rf"{_RELATIVE_PART}(?:\s*(?:,|and)?\s*{_RELATIVE_PART})*", re.ASCII | re.IGNORECASE)
_RELATIVE_PART_RE = re.compile(_RELATIVE_PART, re.ASCII | re.IGNORECASE)
_RELATIVE = re.compile(r"in\s+(?P<ahead>.+)|(?P<from_now>.+?)\s+from\s+now", re.IGNORECASE)
_ISO_START = re.compile(r"[0-9]{4}-?[0-9]{2}-?[0-9]{2}(?:$|[T ])", re.ASCII)


class Frequency(StrEnum):
    """How often a countdown reminder repeats before an event starts."""

    NONE = "none"
    HOURLY = "hourly"
    DAILY = "daily"
    WEEKLY = "weekly"


def zone(name: str) -> ZoneInfo:
    """Return the IANA time zone called `name` (case-insensitive), or say clearly that it does not exist."""
    key = name.strip()
    if not key:
        raise InvalidInput(f"A time zone is required. {_ZONE_EXAMPLES}")
    canonical = _canonical_zone_key(key)
    if canonical is None:
        raise InvalidInput(f"Unknown time zone {_quote(key)}. {_ZONE_EXAMPLES}")
    try:
        return ZoneInfo(canonical)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidInput(f"Unknown time zone {_quote(key)}. {_ZONE_EXAMPLES}") from None


def parse_when(text: str, *, tz: str, now: datetime) -> datetime:
    """Read a start time typed by a user in zone `tz`, relative to `now`, as an aware UTC datetime.

    ISO 8601 with an offset keeps its offset; anything without one is wall-clock time in `tz`.
    Past times are returned as they are: callers decide with `require_future`.
    """
    _require_aware(now, "now")
    zi = zone(tz)
    if len(text) > MAX_WHEN_LENGTH:
        raise InvalidTime(
            f"The time {_quote(text)} is too long (at most {MAX_WHEN_LENGTH} characters). {_WHEN_EXAMPLES}"
        )
    cleaned = " ".join(text.split())
    if not cleaned:
        raise InvalidTime(f"Please give a time. {_WHEN_EXAMPLES}")
    try:
        when = _parse_iso(cleaned, zi) or _parse_relative(cleaned, zi, now) or _parse_natural(cleaned, zi, now)
    except OverflowError:
        raise InvalidTime(f"The time {_quote(cleaned)} is out of range. {_WHEN_EXAMPLES}") from None
    if when is None:
        raise InvalidTime(f"Could not understand the time {_quote(cleaned)}. {_WHEN_EXAMPLES}")
    return when


def require_future(when: datetime, *, now: datetime, what: str = "start time") -> None:
    """Refuse `when` unless it is strictly after `now`."""
    _require_aware(when, "when")
    _require_aware(now, "now")
    if when <= now:
        raise InvalidTime(f"The {what} {when.astimezone(UTC):%Y-%m-%d %H:%M} UTC is in the past.")


def parse_offsets(value: str | Sequence[int] | Sequence[str]) -> tuple[int, ...]:
    """Read reminder offsets before an event as seconds, unique and largest first.

    Text is a comma- or space-separated list ("1d, 1h", "1h30m 10m", "2 days"); a number in text needs a unit.
    In a sequence, each int is seconds and each string is one offset.
    """
    if isinstance(value, str):
        if len(value) > _MAX_OFFSETS_TEXT_LENGTH:
            raise InvalidTime(
                f"The list of reminder offsets is too long (at most {_MAX_OFFSETS_TEXT_LENGTH} characters)."
            )
        seconds = [_parse_offset_text(item) for item in _offset_items(value)]
    else:
        seconds = [_parse_offset_item(item) for item in value if not (isinstance(item, str) and not item.strip())]
    unique = tuple(sorted(set(seconds), reverse=True))
    if len(unique) > MAX_OFFSETS:
        raise InvalidTime(f"At most {MAX_OFFSETS} reminder offsets are allowed; got {len(unique)}.")
    return unique


def format_offset(seconds: int) -> str:
    """Write an offset compactly ("1h30m", "2w", "45s") so that `parse_offsets` reads it back unchanged."""
    if seconds < 0:
        raise ValueError(f"An offset cannot be negative: {seconds}")
    if seconds == 0:
        return "0s"
    parts: list[str] = []
    for suffix, size in _FORMAT_UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{suffix}")
    return "".join(parts)


def format_offsets(offsets: Iterable[int]) -> str:
    """Write offsets as a comma-separated list ("1d, 1h30m"); no offsets give an empty string."""
    return ", ".join(format_offset(seconds) for seconds in offsets)


def parse_frequency(text: str | None) -> Frequency:
    """Read a countdown frequency by name, case-insensitively; nothing at all means no countdown."""
    if text is None or not text.strip():
        return Frequency.NONE
    try:
        return Frequency(text.strip().lower())
    except ValueError:
        accepted = ", ".join(frequency.value for frequency in Frequency)
        raise InvalidInput(f"Unknown countdown frequency {_quote(text)}. Use one of: {accepted}.") from None


def _canonical_zone_key(key: str) -> str | None:
    if len(key) > _MAX_ZONE_LENGTH or not _ZONE_KEY.fullmatch(key):
        return None
    return _zone_keys().get(key.lower())


@cache
def _zone_keys() -> dict[str, str]:
    # Only keys the zone database lists: this rules out paths, directories and files that are not zones.
    return {key.lower(): key for key in available_timezones() if key.lower() not in _RESERVED_ZONE_KEYS}


def _parse_iso(text: str, zi: ZoneInfo) -> datetime | None:
    if not _ISO_START.match(text):
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None  # "2026-12-01 7pm" is not ISO but dateparser may still read it
    if parsed.tzinfo is None:
        return _localize(parsed, zi)
    return parsed.astimezone(UTC)


def _parse_relative(text: str, zi: ZoneInfo, now: datetime) -> datetime | None:
    match = _RELATIVE.fullmatch(text)
    if match is None:
        return None
    body = match.group("ahead") or match.group("from_now")
    if not _RELATIVE_BODY.fullmatch(body):
        return None  # "in 2 months", "in a fortnight": leave those to dateparser
    days = seconds = 0
    for number, _article, unit in _RELATIVE_PART_RE.findall(body):
        size = _UNIT_SECONDS[unit.lower()]
        amount = int(number) if number else 1
        if size >= 86_400:
            days += amount * size // 86_400
        else:
            seconds += amount * size
    when = now.astimezone(UTC)
    if days:
        # Whole days and weeks move the calendar, so "in 2 days" keeps the local time of day across DST.
        wall = now.astimezone(zi).replace(tzinfo=None, fold=0) + timedelta(days=days)
        when = _localize(wall, zi)
    return when + timedelta(seconds=seconds)


def _parse_natural(text: str, zi: ZoneInfo, now: datetime) -> datetime | None:
    # Imported here: loading dateparser costs a noticeable fraction of a second, and most users of this
    # module (the reminder arithmetic, workflows) never parse free text.
    import dateparser
    from dateparser.timezone_parser import pop_tz_offset_from_string

    _, explicit_zone = pop_tz_offset_from_string(text)
    settings: dict[str, Any] = {
        # A naive base: with an aware one, dateparser 1.5 returns None for a bare time such as "7pm" or "noon".
        "RELATIVE_BASE": now.astimezone(zi).replace(tzinfo=None),
        "PREFER_DATES_FROM": "future",
        "TIMEZONE": zi.key,
        # Without a zone in the text we localize the naive wall-clock result ourselves: dateparser uses pytz
        # for some phrases and zoneinfo for others, which disagree in the repeated hour when clocks go back.
        "RETURN_AS_TIMEZONE_AWARE": explicit_zone is not None,
    }
    if explicit_zone is not None:
        settings["TO_TIMEZONE"] = "UTC"
    try:
        parsed: object = dateparser.parse(text, languages=["en"], settings=settings)
    except (ValueError, OverflowError, KeyError):
        return None
    if not isinstance(parsed, datetime):
        return None
    if parsed.tzinfo is None:
        return _localize(parsed, zi)
    return parsed.astimezone(UTC)


def _localize(wall: datetime, zi: ZoneInfo) -> datetime:
    # fold=0: a repeated local time means its first occurrence; a skipped one is moved forward by the gap.
    return wall.replace(tzinfo=zi, fold=0).astimezone(UTC)


def _offset_items(text: str) -> list[str]:
    items: list[str] = []
    for part in re.split(r"[,;]", text):
        words = part.split()
        index = 0
        while index < len(words):
            word = words[index]
            following = words[index + 1] if index + 1 < len(words) else ""
            if word.isascii() and word.isdigit() and following.lower() in _UNIT_SECONDS:
                items.append(f"{word} {following}")  # "2 days" is one offset, "1h 30m" are two
                index += 2
            else:
                items.append(word)
                index += 1
    return items


def _parse_offset_item(item: object) -> int:
    if isinstance(item, str):
        return _parse_offset_text(item.strip())
    if isinstance(item, bool) or not isinstance(item, int):
        raise InvalidTime(f"{_quote(str(item))} is not a reminder offset. {_OFFSET_EXAMPLES}")
    return _checked_offset(item, f"{item} seconds")


def _parse_offset_text(item: str) -> int:
    if item.startswith("-"):
        raise InvalidTime(f"The reminder offset {_quote(item)} cannot be negative: it counts back from the start.")
    if item.isascii() and item.isdigit():
        raise InvalidTime(f"The reminder offset {_quote(item)} needs a unit: s, m, h, d or w (for example {item}m).")
    if not _DURATION_ITEM.fullmatch(item):
        raise InvalidTime(f"{_quote(item)} is not a reminder offset. {_OFFSET_EXAMPLES}")
    seconds = sum(int(number) * _UNIT_SECONDS[unit.lower()] for number, unit in _DURATION_PART.findall(item))
    return _checked_offset(seconds, _quote(item))


def _checked_offset(seconds: int, shown: str) -> int:
    if seconds < 0:
        raise InvalidTime(f"The reminder offset {shown} cannot be negative: it counts back from the start.")
    if seconds < MIN_OFFSET_SECONDS:
        raise InvalidTime(f"The reminder offset {shown} is too short: it must be at least 1 second.")
    if seconds > MAX_OFFSET_SECONDS:
        raise InvalidTime(f"The reminder offset {shown} is too long: it can be at most 365 days.")
    return seconds


def _quote(text: str, limit: int = 80) -> str:
    # User text goes back to the user: one line, no control characters, bounded length.
    flat = "".join(char for char in " ".join(text.split()) if char.isprintable())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return f"'{flat}'"


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
