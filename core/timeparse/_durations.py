"""Durations people type ("1h 30m", "an hour and a half", "1.5h", "90 min"), reminder offsets and their text form."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction

from core.errors import InvalidTime

from ._common import quote

MAX_OFFSETS = 10
MIN_OFFSET_SECONDS = 1
MAX_OFFSET_SECONDS = 365 * 86_400
MAX_OFFSETS_TEXT_LENGTH = 200
OFFSET_EXAMPLES = "Use a number and a unit, such as 30m, 1h 30m, 1.5h, an hour or 2 days; separate several with commas."

_UNIT_SECONDS = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3_600),
    **dict.fromkeys(("d", "day", "days"), 86_400),
    **dict.fromkeys(("w", "wk", "wks", "week", "weeks"), 604_800),
}
# Months and years have no fixed length, so they are named only to be refused with a message that says so.
_CALENDAR_UNITS = frozenset(("mo", "mos", "mth", "mths", "month", "months", "y", "yr", "yrs", "year", "years"))
_ALL_UNITS = "|".join(sorted((*_UNIT_SECONDS, *_CALENDAR_UNITS), key=len, reverse=True))
NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}
_WORDS = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
_PART = re.compile(
    rf"(?:(?P<number>[0-9]+(?:\.[0-9]+)?|\.[0-9]+)\s*|(?P<word>{_WORDS})\s+)(?P<unit>{_ALL_UNITS})(?![a-z])", re.ASCII
)
_HALF = re.compile(rf"half\s+(?:an?\s+)?(?P<unit>{_ALL_UNITS})(?![a-z])", re.ASCII)
_AND_A_HALF = re.compile(r"\s*and\s+a\s+half(?![a-z])", re.ASCII)
_JOINER = re.compile(r"\s+(?:and\s+)?|and\s+", re.ASCII)
_FORMAT_UNITS = (("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1))


class DurationProblem(Exception):
    """Why a text is not a duration: 'unreadable', 'calendar' (months, years), 'order' or 'fraction'."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Duration:
    """A typed duration: whole calendar days (from days and weeks) and seconds (from smaller units)."""

    days: int
    seconds: int

    @property
    def total_seconds(self) -> int:
        """The whole duration in seconds."""
        return self.days * 86_400 + self.seconds


def parse_duration(text: str) -> Duration:
    """Read one duration; its parts go from larger units to smaller ("1d 2h 30m"), each unit at most once."""
    body = " ".join(text.lower().split())
    if not body:
        raise DurationProblem("unreadable")
    parts: list[tuple[Fraction, str]] = []
    position = 0
    while position < len(body):
        if parts and (half := _AND_A_HALF.match(body, position)):
            amount, unit = parts[-1]
            parts[-1] = (amount + Fraction(1, 2), unit)
            position = half.end()
            continue
        if parts and (joiner := _JOINER.match(body, position)):
            position = joiner.end()
            if position >= len(body):
                raise DurationProblem("unreadable")
        if half := _HALF.match(body, position):
            parts.append((Fraction(1, 2), half["unit"]))
            position = half.end()
            continue
        part = _PART.match(body, position)
        if part is None:
            raise DurationProblem("unreadable")
        amount = Fraction(part["number"]) if part["number"] else Fraction(NUMBER_WORDS[part["word"]])
        parts.append((amount, part["unit"]))
        position = part.end()
    if any(unit in _CALENDAR_UNITS for _, unit in parts):
        raise DurationProblem("calendar")
    sizes = [_UNIT_SECONDS[unit] for _, unit in parts]
    if any(later >= earlier for earlier, later in itertools.pairwise(sizes)):
        raise DurationProblem("order")
    amounts = [amount * _UNIT_SECONDS[unit] for amount, unit in parts]
    day_amount = sum((a for a, size in zip(amounts, sizes, strict=True) if size >= 86_400), Fraction(0))
    second_amount = sum((a for a, size in zip(amounts, sizes, strict=True) if size < 86_400), Fraction(0))
    days, day_rest = divmod(day_amount, 86_400)
    seconds = second_amount + day_rest
    if seconds.denominator != 1:
        raise DurationProblem("fraction")
    return Duration(days=int(days), seconds=int(seconds))


def parse_offsets(value: str | Sequence[int] | Sequence[str]) -> tuple[int, ...]:
    """Read reminder offsets before an event as seconds, unique and largest first.

    Text is a comma-separated list ("1d, 1h 30m"): each item is one offset, so "1h 30m" is 90 minutes.
    In a sequence, each int is seconds and each string is one offset.
    """
    if isinstance(value, str):
        if len(value) > MAX_OFFSETS_TEXT_LENGTH:
            raise InvalidTime(
                f"The list of reminder offsets is too long (at most {MAX_OFFSETS_TEXT_LENGTH} characters)."
            )
        items = [item.strip() for item in re.split(r"[,;]", value)]
        seconds = [_parse_offset_text(item) for item in items if item]
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


def _parse_offset_item(item: object) -> int:
    if isinstance(item, str):
        return _parse_offset_text(item.strip())
    if isinstance(item, bool) or not isinstance(item, int):
        raise InvalidTime(f"{quote(str(item))} is not a reminder offset. {OFFSET_EXAMPLES}")
    return _checked_offset(item, f"{item} seconds")


def _parse_offset_text(item: str) -> int:
    shown = quote(item)
    if item.startswith("-"):
        raise InvalidTime(f"The reminder offset {shown} cannot be negative: it counts back from the start.")
    if item.isascii() and item.isdigit():
        raise InvalidTime(f"The reminder offset {shown} needs a unit: s, m, h, d or w (for example {item}m).")
    try:
        duration = parse_duration(item)
    except DurationProblem as problem:
        raise InvalidTime(_offset_problem(shown, problem.reason)) from None
    return _checked_offset(duration.total_seconds, shown)


def _offset_problem(shown: str, reason: str) -> str:
    if reason == "calendar":
        return (
            f"The reminder offset {shown} is in months or years, which differ in length: "
            "write it in days or weeks, such as 30d or 4w."
        )
    if reason == "order":
        return (
            f"The reminder offset {shown} repeats a unit or puts a smaller one first: write one offset largest unit "
            "first (1h 30m is 90 minutes), and separate several offsets with commas (1d, 1h)."
        )
    if reason == "fraction":
        return f"The reminder offset {shown} is not a whole number of seconds."
    return f"{shown} is not a reminder offset. {OFFSET_EXAMPLES}"


def _checked_offset(seconds: int, shown: str) -> int:
    if seconds < 0:
        raise InvalidTime(f"The reminder offset {shown} cannot be negative: it counts back from the start.")
    if seconds < MIN_OFFSET_SECONDS:
        raise InvalidTime(f"The reminder offset {shown} is too short: it must be at least 1 second.")
    if seconds > MAX_OFFSET_SECONDS:
        raise InvalidTime(f"The reminder offset {shown} is too long: it can be at most 365 days.")
    return seconds
