"""Recurring events: `repeat:` phrases and RRULE text read into one normalized RRULE, and a series' occurrences.

A series is stored as its first occurrence (the event's start and end), its zone and an RFC 5545 RRULE value
without DTSTART. Occurrences are expanded on the wall clock of the event's zone (a naive local DTSTART), then
placed on that zone: weekly game night at 20:00 stays at 20:00 across DST changes. A local time a DST change
skips is moved forward by the length of the gap (02:30 on the spring-forward night is 03:30), and one it repeats
means its first pass, as RFC 5545 (3.3.5) and calendar apps do.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from itertools import islice

from dateutil.rrule import rrule, rrulestr

from core.errors import InvalidInput
from core.reminders import reminder_instants
from core.timeparse import Frequency, zone

REPEAT_EXAMPLES = (
    '"daily", "weekly", "every friday", "every 2 weeks", "every weekday", "monthly on the last friday", '
    '"monthly on the last day", or RRULE text such as "FREQ=WEEKLY;BYDAY=FR"'
)
# A series ends after at most this many occurrences when `count` gives its end.
MAX_COUNT = 1000
# Keys of an RRULE we accept; BYHOUR, BYMINUTE and BYSECOND would repeat an event more often than daily.
_ALLOWED = ("FREQ", "INTERVAL", "BYMONTH", "BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY", "BYSETPOS", "WKST")
_TOO_OFTEN = frozenset({"SECONDLY", "MINUTELY", "HOURLY"})
_FREQS = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY")
_DAYS = {
    "monday": "MO",
    "mon": "MO",
    "tuesday": "TU",
    "tue": "TU",
    "tues": "TU",
    "wednesday": "WE",
    "wed": "WE",
    "thursday": "TH",
    "thu": "TH",
    "thur": "TH",
    "thurs": "TH",
    "friday": "FR",
    "fri": "FR",
    "saturday": "SA",
    "sat": "SA",
    "sunday": "SU",
    "sun": "SU",
}
_ORDINALS = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4, "last": -1}
_UNITS = {"day": "DAILY", "week": "WEEKLY", "month": "MONTHLY", "year": "YEARLY"}
_SIMPLE = {
    "daily": "FREQ=DAILY",
    "every day": "FREQ=DAILY",
    "weekly": "FREQ=WEEKLY",
    "every week": "FREQ=WEEKLY",
    "every other week": "FREQ=WEEKLY;INTERVAL=2",
    "fortnightly": "FREQ=WEEKLY;INTERVAL=2",
    "monthly": "FREQ=MONTHLY",
    "every month": "FREQ=MONTHLY",
    "yearly": "FREQ=YEARLY",
    "annually": "FREQ=YEARLY",
    "every year": "FREQ=YEARLY",
    "every weekday": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    "weekdays": "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR",
    "every weekend": "FREQ=WEEKLY;BYDAY=SA,SU",
}
_EVERY_DAYS = re.compile(r"^(?:every|each|weekly on)\s+(?P<days>[a-z]+(?:\s*(?:,|and)\s*[a-z]+)*)$")
_EVERY_N = re.compile(r"^every\s+(?P<n>\d{1,3})\s+(?P<unit>day|week|month|year)s?(?:\s+on\s+(?P<days>.+))?$")
_MONTHLY_ON = re.compile(
    r"^(?:monthly|every month)\s+on\s+the\s+(?P<nth>first|1st|second|2nd|third|3rd|fourth|4th|last)"
    r"\s+(?P<what>day|[a-z]+)$"
)
_MONTHLY_DAY = re.compile(r"^(?:monthly|every month)\s+on\s+the\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?$")


class OccurrenceStatus(StrEnum):
    """What happened to one occurrence of a series."""

    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"
    MOVED = "moved"


@dataclass(frozen=True)
class Change:
    """One occurrence changed by the organizer: cancelled, or moved to a new start and end."""

    original: datetime
    status: str
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class Occurrence:
    """One occurrence: the start the rule gives it (its identity), and where it really is."""

    original: datetime
    start: datetime
    end: datetime
    status: str


def _refuse(message: str) -> InvalidInput:
    return InvalidInput(f"{message} Write the repetition as {REPEAT_EXAMPLES}.")


def _days(text: str) -> list[str]:
    names = [part for part in re.split(r"\s*(?:,|\band\b)\s*", text.strip()) if part]
    days: list[str] = []
    for name in names:
        code = _DAYS.get(name.rstrip("s")) or _DAYS.get(name)
        if code is None:
            raise _refuse(f"'{name}' is not a day of the week.")
        if code not in days:
            days.append(code)
    return days


def _phrase(text: str) -> str | None:
    """The RRULE of a phrase, or None if it is not one."""
    if text in _SIMPLE:
        return _SIMPLE[text]
    if m := _EVERY_N.match(text):
        n, freq = int(m["n"]), _UNITS[m["unit"]]
        if n < 1:
            raise _refuse("The interval must be at least 1.")
        rule = f"FREQ={freq}" + (f";INTERVAL={n}" if n > 1 else "")
        if m["days"]:
            if freq != "WEEKLY":
                raise _refuse('Days of the week go with a number of weeks, as in "every 2 weeks on friday".')
            rule += ";BYDAY=" + ",".join(_days(m["days"]))
        return rule
    if m := _MONTHLY_ON.match(text):
        nth = _ORDINALS[m["nth"]]
        if m["what"] == "day":
            return f"FREQ=MONTHLY;BYMONTHDAY={nth}"
        return f"FREQ=MONTHLY;BYDAY={nth}{_days(m['what'])[0]}"
    if m := _MONTHLY_DAY.match(text):
        day = int(m["day"])
        if not 1 <= day <= 28:
            # Not every month has a 29th, 30th or 31st: say which end of the month is meant.
            raise _refuse(f'Not every month has a day {day}; use "monthly on the last day" for the month\'s end.')
        return f"FREQ=MONTHLY;BYMONTHDAY={day}"
    if m := _EVERY_DAYS.match(text):
        return "FREQ=WEEKLY;BYDAY=" + ",".join(_days(m["days"]))
    return None


def _parts(rule: str) -> dict[str, str]:
    parts: dict[str, str] = {}
    for piece in rule.split(";"):
        if not piece:
            continue
        key, sep, value = piece.partition("=")
        key = key.strip().upper()
        if not sep or not value.strip():
            raise _refuse(f"'{piece}' is not a KEY=VALUE part of an RRULE.")
        if key in parts:
            raise _refuse(f"The RRULE gives {key} twice.")
        parts[key] = value.strip().upper()
    return parts


def _utc_text(instant: datetime) -> str:
    return f"{instant.astimezone(UTC):%Y%m%dT%H%M%SZ}"


def normalize_rule(
    text: str, *, start: datetime, tz: str, until: datetime | None = None, count: int | None = None
) -> str:
    """The normalized RRULE (no DTSTART; UNTIL in UTC) that `text` means for a series starting at `start`.

    Raises InvalidInput (field `repeat`, `until` or `count`) with how to write it; nothing is stored then.
    """
    typed = " ".join(text.split())
    lowered = typed.lower()
    if not lowered:
        raise _refuse("The repetition is empty.")
    if lowered.startswith("rrule:"):
        lowered = lowered[len("rrule:") :].strip()
    rule = lowered.upper() if "freq=" in lowered else _phrase(lowered)
    if rule is None and re.fullmatch(r"(?:hourly|every\s+(?:\d+\s+)?(?:hour|minute|second)s?)", lowered):
        raise _refuse(f"A series can repeat at most daily; '{typed[:80]}' is more often than that.")
    if rule is None:
        raise _refuse(f"'{typed[:80]}' is not a repetition Soonish understands.")
    parts = _parts(rule)
    freq = parts.get("FREQ")
    if freq in _TOO_OFTEN:
        raise _refuse(f"A series can repeat at most daily; FREQ={freq} is more often than that.")
    if freq not in _FREQS:
        raise _refuse("An RRULE needs FREQ=DAILY, WEEKLY, MONTHLY or YEARLY.")
    for key in ("BYHOUR", "BYMINUTE", "BYSECOND"):
        if key in parts:
            raise _refuse(f"A series can repeat at most daily, at the event's own time; {key} is not accepted.")
    if "INTERVAL" in parts and not (parts["INTERVAL"].isdigit() and 1 <= int(parts["INTERVAL"]) <= 999):
        raise _refuse("INTERVAL must be a whole number from 1 to 999.")
    if until is not None and count is not None:
        raise InvalidInput("Give a series either an end date (until) or a number of occurrences (count), not both.")
    given_count = parts.pop("COUNT", None)
    given_until = parts.pop("UNTIL", None)
    if (given_count or given_until) and (until is not None or count is not None):
        raise _refuse("The RRULE already says when the series ends; leave out until and count.")
    unknown = [key for key in parts if key not in _ALLOWED]
    if unknown:
        raise _refuse(f"The RRULE part {unknown[0]} is not accepted.")
    if given_count is not None:
        if not given_count.isdigit():
            raise _refuse("COUNT must be a whole number.")
        count = int(given_count)
    if given_until is not None:
        until = _read_until(given_until, tz)
    if count is not None and not 1 <= count <= MAX_COUNT:
        raise InvalidInput(f"A series has from 1 to {MAX_COUNT} occurrences; {count} is out of range.", field="count")
    if until is not None and until < start:
        raise InvalidInput("The series would end (until) before its first occurrence.", field="until")
    ordered = [f"{key}={parts[key]}" for key in ("FREQ", *_ALLOWED[1:]) if key in parts]
    if count is not None:
        ordered.append(f"COUNT={count}")
    elif until is not None:
        ordered.append(f"UNTIL={_utc_text(until)}")
    normalized = ";".join(ordered)
    try:
        first = next(iter(_expand(normalized, start=start, tz=tz)), None)
    except (ValueError, TypeError, KeyError):
        raise _refuse(f"'{typed[:80]}' is not a valid RRULE.") from None
    if first is None:
        raise _refuse("This repetition has no occurrence at all.")
    return normalized


def _read_until(value: str, tz: str) -> datetime:
    try:
        if value.endswith("Z"):
            return datetime.strptime(value, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
        if "T" in value:
            return datetime.strptime(value, "%Y%m%dT%H%M%S").replace(tzinfo=zone(tz)).astimezone(UTC)
        day = datetime.strptime(value, "%Y%m%d")  # noqa: DTZ007 (a wall-clock date, placed on `tz` below)
    except ValueError:
        raise _refuse(f"UNTIL={value} is not a date (YYYYMMDD) or a UTC time (YYYYMMDDTHHMMSSZ).") from None
    return (day + timedelta(days=1) - timedelta(seconds=1)).replace(tzinfo=zone(tz)).astimezone(UTC)


def localize(wall: datetime, tz: str) -> datetime:
    """The UTC instant of a naive wall-clock time in `tz`: a skipped time moves forward by the gap, a repeated
    one means its first pass."""
    zi = zone(tz)
    # fold=0 reads a skipped time with the offset before the change, which lands it the gap's length later.
    return wall.replace(tzinfo=zi, fold=0).astimezone(UTC)


def _expand(rule: str, *, start: datetime, tz: str) -> Iterator[datetime]:
    """The rule's starts in UTC, ascending, expanded on the zone's wall clock from the first one."""
    zi = zone(tz)
    wall = start.astimezone(zi).replace(tzinfo=None)
    parts = _parts(rule)
    if "UNTIL" in parts:
        # A naive DTSTART needs a naive UNTIL: the same instant on the zone's wall clock.
        parts["UNTIL"] = f"{_read_until(parts['UNTIL'], tz).astimezone(zi):%Y%m%dT%H%M%S}"
    text = ";".join(f"{k}={v}" for k, v in parts.items())
    expanded = rrulestr(text, dtstart=wall)
    assert isinstance(expanded, rrule)
    previous = None
    for local in expanded:
        instant = localize(local, tz)
        if instant != previous:
            previous = instant
            yield instant


@dataclass(frozen=True)
class Series:
    """An event's occurrences: one for a one-off event, the rule's for a series, with the organizer's changes."""

    start: datetime
    end: datetime
    tz: str
    rule: str | None = None
    changes: Mapping[datetime, Change] = field(default_factory=dict)

    def starts(self) -> Iterator[datetime]:
        """The original starts, ascending (endless for an open-ended series)."""
        if self.rule is None:
            yield self.start
            return
        yield from _expand(self.rule, start=self.start, tz=self.tz)

    def occurrences(self, *, after: datetime | None = None, cancelled: bool = True) -> Iterator[Occurrence]:
        """Occurrences in order, those ending after `after` (all with None); cancelled ones only if asked."""
        duration = self.end - self.start
        changes = self.changes
        for original in self.starts():
            change = changes.get(original)
            if change is None:
                occurrence = Occurrence(original, original, original + duration, OccurrenceStatus.SCHEDULED)
            elif change.status == OccurrenceStatus.CANCELLED:
                if not cancelled:
                    continue
                occurrence = Occurrence(original, original, original + duration, OccurrenceStatus.CANCELLED)
            else:
                assert change.start is not None and change.end is not None
                occurrence = Occurrence(original, change.start, change.end, OccurrenceStatus.MOVED)
            if after is not None and occurrence.end <= after and occurrence.start <= after:
                continue
            yield occurrence

    def upcoming(self, now: datetime, limit: int) -> list[Occurrence]:
        """The next `limit` occurrences that have not started (cancelled ones left out)."""
        return [o for o in islice((o for o in self.occurrences(after=now, cancelled=False) if o.start > now), limit)]

    def find(self, original: datetime) -> Occurrence | None:
        """The occurrence whose rule start is `original`, if the series has one."""
        for occurrence in self.occurrences(after=original - timedelta(seconds=1)):
            if occurrence.original == original:
                return occurrence
            if occurrence.original > original:
                return None
        return None

    def last_end(self) -> datetime | None:
        """When the last occurrence ends; None for an open-ended series."""
        if self.rule is not None and "COUNT=" not in self.rule and "UNTIL=" not in self.rule:
            return None
        ends = [o.end for o in self.occurrences(cancelled=False)]
        return max(ends, default=self.end)

    @property
    def recurring(self) -> bool:
        return self.rule is not None


def series_reminders(
    series: Series,
    *,
    offsets: Sequence[int],
    frequency: Frequency,
    after: datetime,
    limit: int,
    only: datetime | None = None,
    before: datetime | None = None,
) -> list[tuple[datetime, Occurrence]]:
    """The next reminder instants strictly after `after` (and before `before`), ascending, each with the
    occurrence it is for: every offset before every occurrence (or only the one whose original start is `only`).

    A countdown of a series counts down to each occurrence from the one before it.
    """
    if not offsets and frequency is Frequency.NONE:
        return []
    reach = timedelta(seconds=max(offsets, default=0))
    found: list[tuple[datetime, Occurrence]] = []
    previous: datetime | None = None
    for occurrence in series.occurrences(after=after, cancelled=False):
        if occurrence.start <= after:
            previous = occurrence.start
            continue
        floor = after
        low = occurrence.start - reach
        if frequency is not Frequency.NONE:
            if previous is not None:
                floor = max(after, previous)
            low = min(low, floor)
        if before is not None and low >= before:
            break
        if len(found) >= limit and low > sorted(found, key=lambda f: f[0])[limit - 1][0]:
            break
        if only is None or occurrence.original == only:
            for due in reminder_instants(
                start=occurrence.start,
                tz=series.tz,
                offsets=offsets,
                frequency=frequency,
                after=floor,
                limit=limit,
            ):
                if before is None or due < before:
                    found.append((due, occurrence))
        if only is not None and occurrence.original >= only:
            break
        previous = occurrence.start
    found.sort(key=lambda f: (f[0], f[1].original))
    return found[:limit]


__all__ = [
    "MAX_COUNT",
    "REPEAT_EXAMPLES",
    "Change",
    "Occurrence",
    "OccurrenceStatus",
    "Series",
    "localize",
    "normalize_rule",
    "series_reminders",
]
