"""The start-time reader: what community members type ("thursday at 8", "tmrw 7pm", "the 5th 20:00 CET").

It is a small grammar rather than a general date parser: every word must be used, and whatever could be read
two ways is refused with a message that says how to write it. The rules, in the words the replies use:

- A bare hour without am/pm (8, 7:30, half past seven) reads 1-8 as afternoon or evening (13:00-20:00) and
  9-11 as morning, unless the text says which (8am, tonight, in the morning); 12 is noon. Written with two
  digits and minutes (07:30, 19:00) or as 19h it is a 24-hour time.
- With no day, a time is today if still ahead, else tomorrow; a bare hour that would need tomorrow is refused,
  since the other half of the day is still ahead today.
- A weekday is the coming one, today included if the time is still ahead; "next saturday" is the first
  Saturday after today; "saturday next week" and "next week saturday" are in the calendar week after this one.
- "the 5th" is the next 5th still ahead; a date with a month and no year is this year's, or next year's if
  its day has passed.
- 03/04 is read day-first or month-first as people write it in the reader's zone, and refused where no single
  habit exists; ISO dates (2026-12-03) are always accepted.
- A zone in the text (Europe/London, CET, UTC+2) wins over the reader's own; an abbreviation that names
  several zones (IST, CST, BST) or is out of season (PST in July) is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo

from core.errors import InvalidInput, InvalidTime

from ._common import quote, require_aware
from ._durations import NUMBER_WORDS, DurationProblem, parse_duration
from ._zones import ABBREVIATIONS, AMBIGUOUS_ABBREVIATIONS, canonical_zone_key, date_order, zone

MAX_WHEN_LENGTH = 200
WHEN_EXAMPLES = "Try 'tomorrow 7pm', 'in 2 hours', 'next friday 18:00' or '2026-12-01 19:00'."
# A text that names no month or date never lands further ahead than this: beyond it the reading must be wrong.
MAX_UNNAMED_AHEAD = timedelta(days=62)

_B = r"(?<![\w:/.+'-])"  # a match starts at a word's start
_E = r"(?![\w:/+'])"  # and ends at a word's end
_WEEKDAYS = {
    **dict.fromkeys(("mon", "monday"), 0),
    **dict.fromkeys(("tue", "tues", "tuesday"), 1),
    **dict.fromkeys(("wed", "weds", "wednesday"), 2),
    **dict.fromkeys(("thu", "thur", "thurs", "thursday"), 3),
    **dict.fromkeys(("fri", "friday"), 4),
    **dict.fromkeys(("sat", "saturday"), 5),
    **dict.fromkeys(("sun", "sunday"), 6),
}
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = {
    **dict.fromkeys(("jan", "january"), 1),
    **dict.fromkeys(("feb", "february"), 2),
    **dict.fromkeys(("mar", "march"), 3),
    **dict.fromkeys(("apr", "april"), 4),
    **dict.fromkeys(("may",), 5),
    **dict.fromkeys(("jun", "june"), 6),
    **dict.fromkeys(("jul", "july"), 7),
    **dict.fromkeys(("aug", "august"), 8),
    **dict.fromkeys(("sep", "sept", "september"), 9),
    **dict.fromkeys(("oct", "october"), 10),
    **dict.fromkeys(("nov", "november"), 11),
    **dict.fromkeys(("dec", "december"), 12),
}
_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _alternatives(words: Iterable[str]) -> str:
    return "|".join(sorted(words, key=len, reverse=True))


_WD = rf"(?P<wd>{_alternatives(_WEEKDAYS)})"
_MON = rf"(?P<month>{_alternatives(_MONTHS)})"
_ORD = r"(?:st|nd|rd|th)"
_NUMBER_WORD = re.compile(rf"{_B}({_alternatives(w for w in NUMBER_WORDS if len(w) > 2)}){_E}")
_ISO_START = re.compile(r"[0-9]{4}-?[0-9]{2}-?[0-9]{2}(?:$|[T ])", re.ASCII)
_FILLER = frozenset({"at", "on", "the", "of", "|"})

_OFFSET_ZONE = re.compile(rf"{_B}(?:utc|gmt)\s*(?P<sign>[+-])\s*(?P<h>\d{{1,2}})(?::?(?P<m>\d{{2}}))?{_E}")
_BARE_OFFSET = re.compile(r"(?<![\w:/.'])(?P<sign>[+-])(?P<h>\d{2}):?(?P<m>\d{2})" + _E)
_NAMED_ZONE = re.compile(rf"{_B}(?P<key>[a-z][a-z0-9_+-]*(?:/[a-z0-9_+-]+)+|[a-z]{{2,5}}){_E}")

_ISO_DATE = re.compile(rf"{_B}(?P<y>\d{{4}})(?P<sep>[-/])(?P<m>\d{{1,2}})(?P=sep)(?P<d>\d{{1,2}}){_E}")
_PAST_TO = re.compile(
    rf"{_B}(?P<minutes>half|quarter|\d{{1,2}})\s+(?:minutes?\s+)?(?P<dir>past|after|to|before)\s+(?P<h>\d{{1,2}})"
    rf"(?:\s*(?P<ampm>am|pm))?{_E}"
)
_H_TIME = re.compile(rf"{_B}(?P<h>\d{{1,2}})h(?P<m>\d{{2}})?{_E}")
_AMPM_TIME = re.compile(rf"{_B}(?P<h>\d{{1,2}})(?:[:.](?P<m>\d{{2}}))?\s*(?P<ampm>am|pm){_E}")
_CLOCK_TIME = re.compile(rf"{_B}(?P<h>\d{{1,2}}):(?P<m>\d{{2}})(?::(?P<s>\d{{2}}))?{_E}")
_NAMED_TIME = re.compile(rf"{_B}(?P<name>noon|midday|midnight){_E}")
_MONTH_DATE = re.compile(
    rf"{_B}(?:(?:the\s+)?(?P<d1>\d{{1,2}}){_ORD}?\s+(?:of\s+)?{_MON}|(?P<month2>{_alternatives(_MONTHS)})\.?\s+"
    rf"(?:the\s+)?(?P<d2>\d{{1,2}}){_ORD}?)(?:\s+(?P<y>\d{{4}}))?{_E}"
)
_NUMERIC_DATE = re.compile(
    rf"{_B}(?P<a>\d{{1,2}})(?P<sep>[/.-])(?P<b>\d{{1,2}})(?:(?P=sep)(?P<y>\d{{4}}|\d{{2}}))?\.?{_E}"
)
_ORDINAL_DAY = re.compile(rf"{_B}(?:the\s+)?(?P<d>\d{{1,2}}){_ORD}{_E}")
_AFTER_TOMORROW = re.compile(rf"{_B}(?:the\s+)?day\s+after\s+(?:tomorrow|tmrw|tmr){_E}")
_TOMORROW = re.compile(rf"{_B}(?:tomorrow|tmrw|tmr|tmw|tomorow|tommorow|tommorrow|2morrow){_E}")
_YESTERDAY = re.compile(rf"{_B}yesterday{_E}")
_TODAY = re.compile(rf"{_B}(?P<word>today|tonight|this\s+(?:morning|afternoon|evening))(?:'s)?{_E}")
_IN_DAYS = re.compile(rf"{_B}in\s+(?P<n>\d{{1,3}}|an?)\s+(?P<unit>days?|weeks?){_E}")
_WEEK_WEEKDAY = re.compile(
    rf"{_B}(?:(?P<which1>next|this)\s+week\s+(?:on\s+)?{_WD}|(?P<wd2>{_alternatives(_WEEKDAYS)})\s+(?:of\s+)?"
    rf"(?P<which2>next|this)\s+week){_E}"
)
_WEEKDAY = re.compile(rf"{_B}(?:(?P<mode>next|this\s+coming|this|coming)\s+)?{_WD}{_E}")
_VAGUE_DAY = re.compile(
    rf"{_B}(?P<phrase>(?:next|this)\s+(?:week|month|year)|weekend|this\s+weekend|next\s+weekend){_E}"
)
_CONTEXT = re.compile(rf"{_B}(?:in\s+the\s+|at\s+)?(?P<word>morning|afternoon|evening|night){_E}")
_BARE_HOUR = re.compile(rf"{_B}(?P<h>\d{{1,2}})(?:\s*o'?\s?clock)?{_E}")


@dataclass(frozen=True)
class Reading:
    """A start time as it was read: the instant (aware, UTC) and, in words, each choice the reader made."""

    instant: datetime
    notes: tuple[str, ...] = ()


@dataclass
class _Time:
    hour: int
    minute: int
    second: int
    kind: str  # "24": a 24-hour time; "am"/"pm": said so; "bare": an hour 1-11 that says neither
    shown: str
    named_hour: int = 0  # the hour as typed, which decides am or pm: "quarter to 9" is 08:45 in the morning


@dataclass
class _Parts:
    zone: tzinfo
    zone_label: str = ""
    abbreviation: tuple[str, str, int] | None = None  # name, key, offset minutes it stands for
    time: _Time | None = None
    day: tuple[str, int] | None = None  # ("plus", days), or ("coming"/"next"/"nextweek"/"thisweek", weekday)
    ymd: tuple[int | None, int, int] | None = None
    day_of_month: int | None = None
    weekday_check: int | None = None
    context: str | None = None  # "morning", "afternoon", "evening", "night"
    tonight: bool = False
    named: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def parse_when(text: str, *, tz: str, now: datetime) -> datetime:
    """Read a start time typed by a user in zone `tz`, relative to `now`, as an aware UTC datetime.

    ISO 8601 with an offset keeps its offset; anything without one is wall-clock time in `tz`.
    Past times are returned as they are: callers decide with `require_future`.
    """
    return read_when(text, tz=tz, now=now).instant


def read_when(text: str, *, tz: str, now: datetime) -> Reading:
    """Like `parse_when`, and say how the text was read (which half of the day, which week, which zone)."""
    require_aware(now, "now")
    zi = zone(tz)
    if len(text) > MAX_WHEN_LENGTH:
        raise InvalidTime(f"The time {quote(text)} is too long (at most {MAX_WHEN_LENGTH} characters). {WHEN_EXAMPLES}")
    cleaned = " ".join(text.split())
    if not cleaned:
        raise InvalidTime(f"Please give a time. {WHEN_EXAMPLES}")
    try:
        return _parse_iso(cleaned, zi) or _parse_relative(cleaned, zi, now) or _Reader(cleaned, zi, now).read()
    except (OverflowError, ValueError) as exc:
        if isinstance(exc, InvalidInput):
            raise
        raise InvalidTime(f"The time {quote(cleaned)} is out of range. {WHEN_EXAMPLES}") from None


def _parse_iso(text: str, zi: ZoneInfo) -> Reading | None:
    if not _ISO_START.match(text):
        return None
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None  # "2026-12-01 7pm" is not ISO; the grammar reads it
    if parsed.tzinfo is None:
        return Reading(localize(parsed, zi))
    return Reading(parsed.astimezone(UTC))


def _parse_relative(text: str, zi: ZoneInfo, now: datetime) -> Reading | None:
    lowered = text.lower()
    match = re.fullmatch(r"in\s+(?P<ahead>.+)|(?P<from_now>.+?)\s+from\s+now", lowered)
    if match is None:
        return None
    body = match["ahead"] or match["from_now"]
    try:
        duration = parse_duration(body)
    except DurationProblem as problem:
        if problem.reason == "calendar":
            raise InvalidTime(
                f"The time {quote(text)} counts in months or years, which differ in length: write the date "
                "instead, such as '3 Feb 20:00' or '2027-02-03 20:00'."
            ) from None
        if problem.reason == "fraction":
            raise InvalidTime(f"The time {quote(text)} is not a whole number of seconds from now.") from None
        return None  # "in the evening", "in 2 days at 8pm": the grammar reads those
    when = now.astimezone(UTC)
    if duration.days:
        # Whole days and weeks move the calendar, so "in 2 days" keeps the local time of day across DST.
        wall = now.astimezone(zi).replace(tzinfo=None, fold=0) + timedelta(days=duration.days)
        when = localize(wall, zi)
    return Reading(when + timedelta(seconds=duration.seconds))


def localize(wall: datetime, zi: tzinfo) -> datetime:
    """Wall-clock time in a zone as UTC: a repeated time is its first occurrence, a skipped one moves forward."""
    return wall.replace(tzinfo=zi, fold=0).astimezone(UTC)


def _normalize(text: str) -> str:
    lowered = text.lower().replace("\u2019", "'")
    lowered = re.sub(r"\b([ap])\.m\.?", r"\1m", lowered)
    lowered = re.sub(r"(\d{4}-\d{2}-\d{2})t(\d)", r"\1 \2", lowered)
    lowered = re.sub(r"[,;!?()]", " ", lowered).replace("@", " at ")
    lowered = re.sub(r"(?<!\d)\.$", "", " ".join(lowered.split()))  # "8pm." but not the dot of "3.12."
    return _NUMBER_WORD.sub(lambda m: str(NUMBER_WORDS[m[1]]), lowered)


class _Reader:
    def __init__(self, original: str, zi: ZoneInfo, now: datetime) -> None:
        self.original = original
        self.home = zi
        self.now = now
        self.text = _normalize(original)
        self.parts = _Parts(zone=zi)

    # Scanning: each recognised piece is cut out of the text; whatever remains must be filler words.

    def _take(self, pattern: re.Pattern[str]) -> list[re.Match[str]]:
        matches = list(pattern.finditer(self.text))
        for match in reversed(matches):
            self.text = f"{self.text[: match.start()]} | {self.text[match.end() :]}"
        return matches

    def _one(self, pattern: re.Pattern[str], what: str, found: list[str]) -> re.Match[str] | None:
        matches = self._take(pattern)
        found.extend(match[0] for match in matches)
        if len(found) > 1:
            shown = " and ".join(quote(piece) for piece in found)
            raise InvalidTime(f"The time {quote(self.original)} gives more than one {what} ({shown}); give one.")
        return matches[0] if matches else None

    def read(self) -> Reading:
        self._read_zone()
        times: list[str] = []
        dates: list[str] = []
        if m := self._one(_ISO_DATE, "date", dates):
            self.parts.ymd = (int(m["y"]), int(m["m"]), int(m["d"]))
        self._read_time(times)
        if m := self._one(_MONTH_DATE, "date", dates):
            year = int(m["y"]) if m["y"] else None
            month = _MONTHS[m["month"] or m["month2"]]
            self.parts.ymd = (year, month, int(m["d1"] or m["d2"]))
        if m := self._one(_NUMERIC_DATE, "date", dates):
            self.parts.ymd = self._numeric_date(m)
        if m := self._one(_ORDINAL_DAY, "date", dates):
            self.parts.day_of_month = int(m["d"])
        self._read_day(dates)
        self._read_context()
        if m := self._one(_BARE_HOUR, "time of day", times):
            self.parts.time = self._bare(int(m["h"]), 0, m[0])
        leftover = [word for word in self.text.split() if word not in _FILLER]
        if leftover:
            if not times and not dates and self.parts.context is None and not self.parts.named:
                raise InvalidTime(f"Could not understand the time {quote(self.original)}. {WHEN_EXAMPLES}")
            words = " ".join(leftover)
            raise InvalidTime(
                f"Could not understand {quote(words)} in the time {quote(self.original)}. Write the day and the time "
                "of day alone, such as 'thursday 20:00', 'the 5th at 8pm' or '2026-12-03 20:00'."
            )
        return self._resolve()

    def _read_zone(self) -> None:
        found: list[str] = []
        for pattern in (_OFFSET_ZONE, _BARE_OFFSET):
            for m in self._take(pattern):
                minutes = int(m["h"]) * 60 + int(m["m"] or 0)
                if minutes > 18 * 60:
                    raise InvalidTime(f"The zone offset {quote(m[0])} is out of range; offsets go up to 18 hours.")
                sign = -1 if m["sign"] == "-" else 1
                self.parts.zone = timezone(sign * timedelta(minutes=minutes))
                self.parts.zone_label = m[0].upper().replace(" ", "")
                found.append(m[0])
        for m in list(_NAMED_ZONE.finditer(self.text)):
            key = m["key"]
            if key in AMBIGUOUS_ABBREVIATIONS:
                self._refuse_ambiguous(key)
            if key in ABBREVIATIONS:
                abbreviation = ABBREVIATIONS[key]
                self.parts.zone = zone(abbreviation.key)
                self.parts.zone_label = (
                    abbreviation.name
                    if abbreviation.key == abbreviation.name
                    else f"{abbreviation.name} ({abbreviation.key})"
                )
                if abbreviation.offset_minutes is not None and abbreviation.key != "UTC":
                    self.parts.abbreviation = (abbreviation.name, abbreviation.key, abbreviation.offset_minutes)
            elif "/" in key:
                self.parts.zone = zone(key)  # an unknown name is refused with the zone's own message
                self.parts.zone_label = canonical_zone_key(key) or key
            else:
                continue
            found.append(m[0])
            self.text = f"{self.text[: m.start()]}{' ' * len(m[0])}{self.text[m.end() :]}"
        if len(found) > 1:
            shown = " and ".join(quote(piece) for piece in found)
            raise InvalidTime(f"The time {quote(self.original)} names more than one time zone ({shown}); give one.")
        if found:
            self.parts.named.append("zone")

    def _refuse_ambiguous(self, key: str) -> None:
        candidates = AMBIGUOUS_ABBREVIATIONS[key]
        meanings = ", ".join(f"{place} ({iana})" for place, iana in candidates[:-1])
        meanings += f" or {candidates[-1][0]} ({candidates[-1][1]})"
        example = re.sub(rf"(?i)\b{key}\b", candidates[0][1], self.original, count=1)
        raise InvalidTime(
            f"{key.upper()} can mean {meanings}. Write the zone's IANA name instead, such as {quote(example)}."
        )

    def _read_time(self, times: list[str]) -> None:
        if m := self._one(_PAST_TO, "time of day", times):
            minutes = {"half": 30, "quarter": 15}.get(m["minutes"]) or int(m["minutes"])
            hour = int(m["h"])
            if minutes >= 60 or not 1 <= hour <= 12:
                raise InvalidTime(f"{quote(m[0])} is not a time of day. Write it as 7:30pm or 19:30.")
            named = hour
            if m["dir"] in ("to", "before"):
                hour, minutes = (hour - 1) or 12, 60 - minutes
            if m["ampm"]:
                self.parts.time = self._twelve(hour, minutes, m["ampm"], m[0], named)
            else:
                self.parts.time = self._bare(hour, minutes, m[0], named)
        if m := self._one(_H_TIME, "time of day", times):
            self.parts.time = self._clock(int(m["h"]), int(m["m"] or 0), 0, m[0])
        if m := self._one(_AMPM_TIME, "time of day", times):
            self.parts.time = self._twelve(int(m["h"]), int(m["m"] or 0), m["ampm"], m[0])
        if m := self._one(_CLOCK_TIME, "time of day", times):
            hour = int(m["h"])
            if len(m["h"]) == 1 and 1 <= hour <= 11:
                self.parts.time = self._bare(hour, int(m["m"]), m[0])
            else:
                self.parts.time = self._clock(hour, int(m["m"]), int(m["s"] or 0), m[0])
        if m := self._one(_NAMED_TIME, "time of day", times):
            if m["name"] == "midnight":
                self.parts.time = _Time(0, 0, 0, "midnight", m[0])
            else:
                self.parts.time = _Time(12, 0, 0, "24", m[0])

    def _clock(self, hour: int, minute: int, second: int, shown: str) -> _Time:
        if hour == 24 and minute == 0 and second == 0:
            raise InvalidTime(f"{quote(shown)} is not a time of day: write 00:00 with the next day's date.")
        if hour > 23 or minute > 59 or second > 59:
            raise InvalidTime(f"{quote(shown)} is not a time of day. Write times as 19:30 or 7:30pm.")
        return _Time(hour, minute, second, "24", shown)

    def _twelve(self, hour: int, minute: int, ampm: str, shown: str, named: int | None = None) -> _Time:
        if not 1 <= hour <= 12 or minute > 59:
            raise InvalidTime(f"{quote(shown)} is not a time of day: with am or pm the hour goes from 1 to 12.")
        # "quarter to 1pm" is 12:45, in the afternoon like the 1pm it counts to
        pm = ampm == "pm" if named is None or named == hour else (ampm == "pm") != (named == 12)
        return _Time(hour % 12 + (12 if pm else 0), minute, 0, ampm, shown)

    def _bare(self, hour: int, minute: int, shown: str, named: int | None = None) -> _Time:
        if minute > 59:
            raise InvalidTime(f"{quote(shown)} is not a time of day. Write times as 19:30 or 7:30pm.")
        if 1 <= hour <= 11:
            return _Time(hour, minute, 0, "bare", shown, hour if named is None else named)
        return self._clock(hour, minute, 0, shown)

    def _numeric_date(self, m: re.Match[str]) -> tuple[int | None, int, int]:
        first, second = int(m["a"]), int(m["b"])
        year = None if m["y"] is None else int(m["y"]) + (2000 if len(m["y"]) == 2 else 0)
        day_first = (first, second)
        month_first = (second, first)
        valid = [reading for reading in (day_first, month_first) if 1 <= reading[1] <= 12 and 1 <= reading[0] <= 31]
        shown = quote(m[0])
        if m["sep"] == "." and m["y"] is None and not m[0].endswith("."):
            valid = []  # 3.12. is a date, written as in German; 1.5 alone is more likely a number or a time
        if not valid:
            raise InvalidTime(f"{shown} is not a date. Write dates as 2026-12-03 or 3 Dec, and times of day as 20:30.")
        if m["sep"] == "." or day_first == month_first or len(valid) == 1:
            day, month = day_first if m["sep"] == "." or day_first in valid else month_first
            return (year, month, day)
        key = self.home.key
        order = date_order(key)
        if order is None:
            one, other = (f"{d} {_MONTH_NAMES[mo - 1]}" for d, mo in (day_first, month_first))
            raise InvalidTime(
                f"{shown} could be {one} or {other}, and people in {key} write dates both ways. Write the month "
                f"by name, such as '{day_first[0]} {_MONTH_NAMES[day_first[1] - 1][:3]}', or as ISO, such as "
                f"'{year or self.now.year}-{day_first[1]:02d}-{day_first[0]:02d}'."
            )
        day, month = day_first if order == "day" else month_first
        first_word = "day" if order == "day" else "month"
        self.parts.notes.append(f"{m[0]} read {first_word} first, as usual in {key}: {day} {_MONTH_NAMES[month - 1]}")
        return (year, month, day)

    def _read_day(self, dates: list[str]) -> None:
        if m := self._one(_AFTER_TOMORROW, "day", dates):
            self.parts.day = ("plus", 2)
        if m := self._one(_TOMORROW, "day", dates):
            self.parts.day = ("plus", 1)
        if m := self._one(_YESTERDAY, "day", dates):
            self.parts.day = ("plus", -1)  # read, so that the caller can say it is in the past
        if m := self._one(_IN_DAYS, "day", dates):
            count = 1 if m["n"] in ("a", "an") else int(m["n"])
            self.parts.day = ("plus", count * (7 if m["unit"].startswith("week") else 1))
        today = self._take(_TODAY)
        if len(today) > 1:
            raise InvalidTime(f"The time {quote(self.original)} names the day twice; give it once.")
        if today:
            if dates:
                raise InvalidTime(
                    f"The time {quote(self.original)} gives more than one day ({quote(dates[0])} and "
                    f"{quote(today[0][0])}); give one."
                )
            dates.append(today[0][0])
            word = today[0]["word"]
            self.parts.day = ("plus", 0)
            if word == "tonight":
                self.parts.context, self.parts.tonight = "night", True
            elif word.startswith("this"):
                self.parts.context = word.split()[-1]
        weekdays = self._take(_WEEK_WEEKDAY)
        plain = self._take(_WEEKDAY)
        if len(weekdays) + len(plain) > 1:
            raise InvalidTime(f"The time {quote(self.original)} names more than one weekday; give one.")
        if weekdays:
            m = weekdays[0]
            which = m["which1"] or m["which2"]
            self._weekday(_WEEKDAYS[m["wd"] or m["wd2"]], f"{which}week", m[0], dates)
        elif plain:
            m = plain[0]
            mode = "next" if m["mode"] == "next" else "coming"
            self._weekday(_WEEKDAYS[m["wd"]], mode, m[0], dates)
        vague = self._take(_VAGUE_DAY)
        if vague:
            phrase = vague[0]["phrase"]
            raise InvalidTime(
                f"{quote(phrase)} is not one day. Name the day and time, such as 'saturday 20:00', "
                "'next week monday 18:00' or '2026-12-12 20:00'."
            )

    def _weekday(self, weekday: int, mode: str, shown: str, dates: list[str]) -> None:
        if dates:  # "thursday 3 dec": the date decides, the weekday must agree with it
            self.parts.weekday_check = weekday
            return
        dates.append(shown)
        self.parts.day = (mode, weekday)

    def _read_context(self) -> None:
        for m in self._take(_CONTEXT):
            word = m["word"]
            if self.parts.context not in (None, word) and not (self.parts.tonight and word in ("evening", "night")):
                raise InvalidTime(
                    f"The time {quote(self.original)} says both {self.parts.context} and {word}; give one."
                )
            if not self.parts.tonight:
                self.parts.context = word

    # Resolving: the pieces become one instant.

    def _resolve(self) -> Reading:
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
                f"{day:%d %b %Y} is a {_WEEKDAY_NAMES[day.weekday()]}, not a {_WEEKDAY_NAMES[parts.weekday_check]}. "
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

    def _hour(self, time: _Time) -> int:
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
                f"next {_WEEKDAY_NAMES[value]} read as the first one after today, {chosen:%a %d %b}; "
                f"for the one a week later write '{_WEEKDAY_NAMES[value].lower()} next week'"
                if ahead < 7
                else f"next {_WEEKDAY_NAMES[value]} read as a week from today, {chosen:%a %d %b}"
            )
            return chosen
        if ahead == 0 and at_(today) <= self.now:
            ahead = 7
        return today + timedelta(days=ahead)

    def _date(self, year: int, month: int, day_number: int) -> date:
        try:
            return date(year, month, day_number)
        except ValueError:
            month_name = _MONTH_NAMES[month - 1] if 1 <= month <= 12 else f"month {month}"
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
