"""Resolving the pieces a phrase was cut into (a day, a time of day, a zone) into one instant, or a refusal."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo

from core.errors import InvalidTime

from ._common import quote
from ._vocabulary import MONTH_NAMES, WEEKDAY_NAMES
from ._zones import zone

WHEN_EXAMPLES = "Try 'tomorrow 7pm', 'in 2 hours', 'next friday 18:00' or '2026-12-01 19:00'."
# A text that names no month or date never lands further ahead than this: beyond it the reading must be wrong.
MAX_UNNAMED_AHEAD = timedelta(days=62)


@dataclass(frozen=True)
class Reading:
    """A start time as it was read: the instant (aware, UTC) and, in words, each choice the reader made."""

    instant: datetime
    notes: tuple[str, ...] = ()


@dataclass
class TimeOfDay:
    """The time of day a phrase gave, before am or pm is settled."""

    hour: int
    minute: int
    second: int
    kind: str  # "24": a 24-hour time; "am"/"pm": said so; "bare": an hour 1-11 that says neither
    shown: str
    named_hour: int = 0  # the hour as typed, which decides am or pm: "quarter to 9" is 08:45 in the morning


@dataclass
class Parts:
    """The pieces a phrase was cut into, and the notes on the choices made so far."""

    zone: tzinfo
    zone_label: str = ""
    abbreviation: tuple[str, str, int] | None = None  # name, key, offset minutes it stands for
    time: TimeOfDay | None = None
    day: tuple[str, int] | None = None  # ("plus", days), or ("coming"/"next"/"nextweek"/"thisweek", weekday)
    ymd: tuple[int | None, int, int] | None = None
    day_of_month: int | None = None
    weekday_check: int | None = None
    context: str | None = None  # "morning", "afternoon", "evening", "night"
    tonight: bool = False
    named: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def localize(wall: datetime, zi: tzinfo) -> datetime:
    """Wall-clock time in a zone as UTC: a repeated time is its first occurrence, a skipped one moves forward."""
    return wall.replace(tzinfo=zi, fold=0).astimezone(UTC)


class Resolver:
    """Turns the pieces into one instant on the right day, or refuses what could be read two ways."""

    def __init__(self, original: str, now: datetime, parts: Parts) -> None:
        self.original = original
        self.now = now
        self.parts = parts

    def reading(self) -> Reading:
        parts = self.parts
        has_date = parts.ymd is not None or parts.day_of_month is not None or parts.day is not None
        if parts.time is None:
            if has_date or parts.context:
                raise InvalidTime(
                    f"The time {quote(self.original)} has no time of day. Add one, such as "
                    f"{quote(self.original + ' 20:00')} or {quote(self.original + ' 8pm')}."
                )
            raise InvalidTime(f"Could not understand the time {quote(self.original)}. {WHEN_EXAMPLES}")
        hour, minute, second = self._hour(parts.time), parts.time.minute, parts.time.second
        local_now = self.now.astimezone(parts.zone)
        today = local_now.date()

        def at(day: date) -> datetime:
            return localize(datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=parts.zone), parts.zone)

        day = self._day(today, at, hour)
        if parts.time.kind == "midnight" and has_date:
            raise InvalidTime(
                f"'midnight' with a day could be the start or the end of that day. Write 00:00 with the date "
                f"it starts, such as '{(day + timedelta(days=1)):%Y-%m-%d} 00:00'."
            )
        if parts.weekday_check is not None and day.weekday() != parts.weekday_check:
            raise InvalidTime(
                f"{day:%d %b %Y} is a {WEEKDAY_NAMES[day.weekday()]}, not a {WEEKDAY_NAMES[parts.weekday_check]}. "
                "Give the date or the weekday, not both."
            )
        instant = at(day)
        self._check_abbreviation(instant, day)
        names_distance = parts.day is not None and parts.day[0] == "plus"  # "in 20 weeks at 8pm" says how far
        if parts.ymd is None and not names_distance and instant - self.now > MAX_UNNAMED_AHEAD:
            raise InvalidTime(
                f"The time {quote(self.original)} would land on {day:%d %b %Y}, months away, though it names "
                f"no month. Write the date, such as '{day:%d %b %Y} {hour:02d}:{minute:02d}'."
            )
        if parts.zone_label:
            parts.notes.append(f"read in {parts.zone_label}")
        return Reading(instant, tuple(parts.notes))

    def _hour(self, time: TimeOfDay) -> int:
        context = self.parts.context
        evening = context in ("afternoon", "evening", "night")
        if time.kind in ("am", "pm"):
            if (time.kind == "am" and evening) or (time.kind == "pm" and context == "morning"):
                raise InvalidTime(f"{quote(time.shown)} is not in the {context}; give one of the two.")
            return time.hour
        if time.kind == "24" or time.kind == "midnight":
            if evening and time.hour == 12:
                raise InvalidTime(
                    f"{quote(time.shown)} in the {context} could be noon or midnight. Write 12:00, or 00:00 with "
                    "the next day's date."
                )
            if context is not None and (
                (evening and time.hour < 12 and time.hour != 0) or (context == "morning" and time.hour >= 12)
            ):
                raise InvalidTime(f"{quote(time.shown)} is not in the {context}; give one of the two.")
            return time.hour
        hour = time.hour  # 1-11, neither am nor pm
        if context == "morning":
            return hour
        if context == "night" and hour < 5:
            raise InvalidTime(
                f"{quote(self.original)} could be {hour + 12}:00 or {hour}:00 after midnight. "
                f"Write {hour}pm, or 'tomorrow {hour}am'."
            )
        if evening:
            return hour + 12
        named = time.named_hour or hour
        reading = hour + 12 if 1 <= named <= 8 else hour
        self.parts.notes.append(
            f"{time.shown} without am/pm read as {reading:02d}:{time.minute:02d} (add am or pm to choose)"
        )
        return reading

    def _day(self, today: date, at_: Callable[[date], datetime], hour: int) -> date:
        parts = self.parts
        if parts.ymd is not None:
            year, month, day_number = parts.ymd
            if year is None:
                candidate = self._date(today.year, month, day_number)
                if candidate < today:
                    candidate = self._date(today.year + 1, month, day_number)
                return candidate
            return self._date(year, month, day_number)
        if parts.day_of_month is not None:
            return self._day_of_month(today, parts.day_of_month, at_)
        if parts.day is None:
            if at_(today) > self.now:
                return today
            if parts.time is not None and parts.time.kind == "bare" and parts.context is None:
                typed, minute = parts.time.hour, parts.time.minute
                shown = parts.time.shown
                raise InvalidTime(
                    f"{quote(shown)} without am/pm could be {typed:02d}:{minute:02d} or {typed + 12:02d}:{minute:02d}, "
                    f"and today's {hour:02d}:{minute:02d} has passed. Add am or pm, such as {quote(shown + 'pm')}, "
                    f"or the day, such as {quote('tomorrow ' + shown)}."
                )
            if parts.time is not None and parts.time.kind != "midnight":
                parts.notes.append(f"tomorrow, as {hour:02d}:{parts.time.minute:02d} has passed today")
            return today + timedelta(days=1)
        kind, value = parts.day
        if kind == "plus":
            return today + timedelta(days=value)
        monday = today - timedelta(days=today.weekday())
        if kind == "nextweek":
            return monday + timedelta(days=7 + value)
        if kind == "thisweek":
            return monday + timedelta(days=value)
        ahead = (value - today.weekday()) % 7
        if kind == "next":
            ahead = ahead or 7
            chosen = today + timedelta(days=ahead)
            parts.notes.append(
                f"next {WEEKDAY_NAMES[value]} read as the first one after today, {chosen:%a %d %b}; "
                f"for the one a week later write '{WEEKDAY_NAMES[value].lower()} next week'"
                if ahead < 7
                else f"next {WEEKDAY_NAMES[value]} read as a week from today, {chosen:%a %d %b}"
            )
            return chosen
        if ahead == 0 and at_(today) <= self.now:
            ahead = 7
        return today + timedelta(days=ahead)

    def _date(self, year: int, month: int, day_number: int) -> date:
        try:
            return date(year, month, day_number)
        except ValueError:
            month_name = MONTH_NAMES[month - 1] if 1 <= month <= 12 else f"month {month}"
            raise InvalidTime(f"There is no {day_number} {month_name} in {year}.") from None

    def _day_of_month(self, today: date, day_number: int, at: Callable[[date], datetime]) -> date:
        if not 1 <= day_number <= 31:
            raise InvalidTime(f"There is no day {day_number} in a month.")
        year, month = today.year, today.month
        for _ in range(3):
            try:
                candidate = date(year, month, day_number)
            except ValueError:
                candidate = None
            if candidate is not None and at(candidate) > self.now:
                return candidate
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        raise InvalidTime(f"There is no {day_number}th within the next two months. Write the date with its month.")

    def _check_abbreviation(self, instant: datetime, day: date) -> None:
        if self.parts.abbreviation is None:
            return
        name, key, minutes = self.parts.abbreviation
        actual = instant.astimezone(zone(key))
        offset = actual.utcoffset()
        if offset is not None and offset != timedelta(minutes=minutes):
            raise InvalidTime(
                f"{name} is not in use on {day:%a %d %b %Y}: {key} is on {actual.tzname()} then. Write "
                f"{actual.tzname()}, or the zone's name {key} to mean its local time in any season."
            )
