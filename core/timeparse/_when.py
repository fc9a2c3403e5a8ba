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
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from core.errors import InvalidInput, InvalidTime

from ._common import quote, require_aware
from ._durations import NUMBER_WORDS, DurationProblem, parse_duration
from ._resolve import WHEN_EXAMPLES, Parts, Reading, Resolver, TimeOfDay, localize
from ._vocabulary import (
    AFTER_TOMORROW,
    AMPM_TIME,
    BARE_HOUR,
    BARE_OFFSET,
    CLOCK_TIME,
    CONTEXT,
    FILLER,
    H_TIME,
    IN_DAYS,
    ISO_DATE,
    ISO_START,
    MONTH_DATE,
    MONTH_NAMES,
    MONTHS,
    NAMED_TIME,
    NAMED_ZONE,
    NUMBER_WORD,
    NUMERIC_DATE,
    OFFSET_ZONE,
    ORDINAL_DAY,
    PAST_TO,
    TODAY,
    TOMORROW,
    VAGUE_DAY,
    WEEK_WEEKDAY,
    WEEKDAY,
    WEEKDAYS,
    YESTERDAY,
)
from ._zones import ABBREVIATIONS, AMBIGUOUS_ABBREVIATIONS, canonical_zone_key, date_order, zone, zone_of_city

MAX_WHEN_LENGTH = 200


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
    if not ISO_START.match(text):
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


def _normalize(text: str) -> str:
    lowered = text.lower().replace("\u2019", "'")
    lowered = re.sub(r"\b([ap])\.m\.?", r"\1m", lowered)
    lowered = re.sub(r"(\d{4}-\d{2}-\d{2})t(\d)", r"\1 \2", lowered)
    lowered = re.sub(r"[,;!?()]", " ", lowered).replace("@", " at ")
    lowered = re.sub(r"(?<!\d)\.$", "", " ".join(lowered.split()))  # "8pm." but not the dot of "3.12."
    return NUMBER_WORD.sub(lambda m: str(NUMBER_WORDS[m[1]]), lowered)


class _Reader:
    """Cuts the recognised pieces out of a phrase; any word left over that is not filler refuses the phrase."""

    def __init__(self, original: str, zi: ZoneInfo, now: datetime) -> None:
        self.original = original
        self.home = zi
        self.now = now
        self.text = _normalize(original)
        self.parts = Parts(zone=zi)

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
        if m := self._one(ISO_DATE, "date", dates):
            self.parts.ymd = (int(m["y"]), int(m["m"]), int(m["d"]))
        self._read_time(times)
        if m := self._one(MONTH_DATE, "date", dates):
            year = int(m["y"]) if m["y"] else None
            month = MONTHS[m["month"] or m["month2"]]
            self.parts.ymd = (year, month, int(m["d1"] or m["d2"]))
        if m := self._one(NUMERIC_DATE, "date", dates):
            self.parts.ymd = self._numeric_date(m)
        if m := self._one(ORDINAL_DAY, "date", dates):
            self.parts.day_of_month = int(m["d"])
        self._read_day(dates)
        self._read_context()
        if m := self._one(BARE_HOUR, "time of day", times):
            self.parts.time = self._bare(int(m["h"]), 0, m[0])
        leftover = [word for word in self.text.split() if word not in FILLER]
        if leftover:
            if not times and not dates and self.parts.context is None and not self.parts.named:
                raise InvalidTime(f"Could not understand the time {quote(self.original)}. {WHEN_EXAMPLES}")
            words = " ".join(leftover)
            if city := zone_of_city(words):
                example = re.sub(rf"(?i)\b{re.escape(words)}\b", city, " ".join(self.original.split()), count=1)
                raise InvalidTime(
                    f"{quote(words)} is not a zone name: write the zone as {city}, such as {quote(example)}."
                )
            raise InvalidTime(
                f"Could not understand {quote(words)} in the time {quote(self.original)}. Write the day and the time "
                "of day alone, such as 'thursday 20:00', 'the 5th at 8pm' or '2026-12-03 20:00'."
            )
        return Resolver(self.original, self.now, self.parts).reading()

    def _read_zone(self) -> None:
        found: list[str] = []
        for pattern in (OFFSET_ZONE, BARE_OFFSET):
            for m in self._take(pattern):
                minutes = int(m["h"]) * 60 + int(m["m"] or 0)
                if minutes > 18 * 60:
                    raise InvalidTime(f"The zone offset {quote(m[0])} is out of range; offsets go up to 18 hours.")
                sign = -1 if m["sign"] == "-" else 1
                self.parts.zone = timezone(sign * timedelta(minutes=minutes))
                self.parts.zone_label = m[0].upper().replace(" ", "")
                found.append(m[0])
        for m in list(NAMED_ZONE.finditer(self.text)):
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
        if m := self._one(PAST_TO, "time of day", times):
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
        if m := self._one(H_TIME, "time of day", times):
            self.parts.time = self._clock(int(m["h"]), int(m["m"] or 0), 0, m[0])
        if m := self._one(AMPM_TIME, "time of day", times):
            self.parts.time = self._twelve(int(m["h"]), int(m["m"] or 0), m["ampm"], m[0])
        if m := self._one(CLOCK_TIME, "time of day", times):
            hour = int(m["h"])
            if len(m["h"]) == 1 and 1 <= hour <= 11:
                self.parts.time = self._bare(hour, int(m["m"]), m[0])
            else:
                self.parts.time = self._clock(hour, int(m["m"]), int(m["s"] or 0), m[0])
        if m := self._one(NAMED_TIME, "time of day", times):
            if m["name"] == "midnight":
                self.parts.time = TimeOfDay(0, 0, 0, "midnight", m[0])
            else:
                self.parts.time = TimeOfDay(12, 0, 0, "24", m[0])

    def _clock(self, hour: int, minute: int, second: int, shown: str) -> TimeOfDay:
        if hour == 24 and minute == 0 and second == 0:
            raise InvalidTime(f"{quote(shown)} is not a time of day: write 00:00 with the next day's date.")
        if hour > 23 or minute > 59 or second > 59:
            raise InvalidTime(f"{quote(shown)} is not a time of day. Write times as 19:30 or 7:30pm.")
        return TimeOfDay(hour, minute, second, "24", shown)

    def _twelve(self, hour: int, minute: int, ampm: str, shown: str, named: int | None = None) -> TimeOfDay:
        if not 1 <= hour <= 12 or minute > 59:
            raise InvalidTime(f"{quote(shown)} is not a time of day: with am or pm the hour goes from 1 to 12.")
        # "quarter to 1pm" is 12:45, in the afternoon like the 1pm it counts to
        pm = ampm == "pm" if named is None or named == hour else (ampm == "pm") != (named == 12)
        return TimeOfDay(hour % 12 + (12 if pm else 0), minute, 0, ampm, shown)

    def _bare(self, hour: int, minute: int, shown: str, named: int | None = None) -> TimeOfDay:
        if minute > 59:
            raise InvalidTime(f"{quote(shown)} is not a time of day. Write times as 19:30 or 7:30pm.")
        if 1 <= hour <= 11:
            return TimeOfDay(hour, minute, 0, "bare", shown, hour if named is None else named)
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
            one, other = (f"{d} {MONTH_NAMES[mo - 1]}" for d, mo in (day_first, month_first))
            raise InvalidTime(
                f"{shown} could be {one} or {other}, and people in {key} write dates both ways. Write the month "
                f"by name, such as '{day_first[0]} {MONTH_NAMES[day_first[1] - 1][:3]}', or as ISO, such as "
                f"'{year or self.now.year}-{day_first[1]:02d}-{day_first[0]:02d}'."
            )
        day, month = day_first if order == "day" else month_first
        first_word = "day" if order == "day" else "month"
        self.parts.notes.append(f"{m[0]} read {first_word} first, as usual in {key}: {day} {MONTH_NAMES[month - 1]}")
        return (year, month, day)

    def _read_day(self, dates: list[str]) -> None:
        if m := self._one(AFTER_TOMORROW, "day", dates):
            self.parts.day = ("plus", 2)
        if m := self._one(TOMORROW, "day", dates):
            self.parts.day = ("plus", 1)
        if m := self._one(YESTERDAY, "day", dates):
            self.parts.day = ("plus", -1)  # read, so that the caller can say it is in the past
        if m := self._one(IN_DAYS, "day", dates):
            count = 1 if m["n"] in ("a", "an") else int(m["n"])
            self.parts.day = ("plus", count * (7 if m["unit"].startswith("week") else 1))
        today = self._take(TODAY)
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
        weekdays = self._take(WEEK_WEEKDAY)
        plain = self._take(WEEKDAY)
        if len(weekdays) + len(plain) > 1:
            raise InvalidTime(f"The time {quote(self.original)} names more than one weekday; give one.")
        if weekdays:
            m = weekdays[0]
            which = m["which1"] or m["which2"]
            self._weekday(WEEKDAYS[m["wd"] or m["wd2"]], f"{which}week", m[0], dates)
        elif plain:
            m = plain[0]
            mode = "next" if m["mode"] == "next" else "coming"
            self._weekday(WEEKDAYS[m["wd"]], mode, m[0], dates)
        vague = self._take(VAGUE_DAY)
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
        for m in self._take(CONTEXT):
            word = m["word"]
            if self.parts.context not in (None, word) and not (self.parts.tonight and word in ("evening", "night")):
                raise InvalidTime(
                    f"The time {quote(self.original)} says both {self.parts.context} and {word}; give one."
                )
            if not self.parts.tonight:
                self.parts.context = word
