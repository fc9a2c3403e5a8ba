"""Random text never makes the time readers fail in any way but a user-facing refusal."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import InvalidInput
from core.timeparse import parse_offsets, read_when

ZONES = ("Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Sydney", "UTC", "America/Los_Angeles")
# Pieces of what members type, so that random phrases get past the first word often enough to test the grammar.
WORDS = (
    "next",
    "this",
    "week",
    "tomorrow",
    "tmrw",
    "tonight",
    "today",
    "at",
    "on",
    "the",
    "of",
    "in",
    "and",
    "a",
    "an",
    "half",
    "past",
    "quarter",
    "to",
    "from",
    "now",
    "morning",
    "evening",
    "night",
    "noon",
    "midnight",
    "monday",
    "thu",
    "sat",
    "dec",
    "march",
    "5th",
    "31st",
    "8",
    "9",
    "12",
    "19h",
    "19h30",
    "7pm",
    "8:30",
    "08:30",
    "24:00",
    "03/04",
    "3.12.",
    "2026-12-03",
    "12/25",
    "IST",
    "CET",
    "PST",
    "AEST",
    "utc+2",
    "+05:30",
    "Europe/London",
    "Mars/Base",
    "hours",
    "min",
    "days",
    "weeks",
    "months",
    "1.5",
    "o'clock",
    ",",
    "@",
    "-",
)
NOW = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 31), timezones=st.just(UTC))
PHRASES = st.lists(st.sampled_from(WORDS), min_size=1, max_size=7).map(" ".join)


def _check_reading(text: str, zone: str, now: datetime) -> None:
    try:
        reading = read_when(text, tz=zone, now=now)
    except InvalidInput as refused:
        assert refused.message.strip()
        return
    assert reading.instant.tzinfo is UTC
    assert reading.instant.utcoffset() == timedelta(0)


@settings(max_examples=400, deadline=None)
@given(text=st.text(max_size=80), zone=st.sampled_from(ZONES), now=NOW)
def test_random_text_is_read_or_refused(text: str, zone: str, now: datetime) -> None:
    """Any text is either an aware UTC instant or a refusal with a message, never another exception."""
    _check_reading(text, zone, now)


@settings(max_examples=600, deadline=None)
@given(text=PHRASES, zone=st.sampled_from(ZONES), now=NOW)
def test_random_phrases_of_time_words_are_read_or_refused(text: str, zone: str, now: datetime) -> None:
    """Random phrases made of time words are either an aware UTC instant or a refusal, never another exception."""
    _check_reading(text, zone, now)


@settings(max_examples=300, deadline=None)
@given(text=PHRASES, zone=st.sampled_from(ZONES), now=NOW)
def test_readings_without_a_named_month_stay_within_two_months(text: str, zone: str, now: datetime) -> None:
    """A phrase that names no month, year or distance never lands months away: no silent jump."""
    try:
        reading = read_when(text, tz=zone, now=now)
    except InvalidInput:
        return
    lowered = text.lower()
    names_far = any(word in lowered for word in ("dec", "march", "2026", "/", ".", "in ", "week", "from now"))
    if not names_far:
        assert reading.instant - now <= timedelta(days=62)


@settings(max_examples=400, deadline=None)
@given(text=st.text(max_size=80))
def test_random_offsets_text_is_read_or_refused(text: str) -> None:
    """Any offsets text is either whole positive seconds, largest first, or a refusal with a message."""
    try:
        offsets = parse_offsets(text)
    except InvalidInput as refused:
        assert refused.message.strip()
        return
    assert all(isinstance(seconds, int) and seconds >= 1 for seconds in offsets)
    assert list(offsets) == sorted(set(offsets), reverse=True)


@settings(max_examples=300, deadline=None)
@given(
    parts=st.lists(
        st.tuples(
            st.one_of(st.integers(0, 400).map(str), st.sampled_from(("a", "an", "1.5", ".5", "half", "two"))),
            st.sampled_from(("s", "m", "min", "h", "hours", "d", "days", "w", "week", "month", "yr")),
        ),
        min_size=1,
        max_size=4,
    ),
    joiner=st.sampled_from((" ", "", " and ", ", ")),
)
def test_random_unit_lists_are_read_or_refused(parts: list[tuple[str, str]], joiner: str) -> None:
    """Lists of numbers and units are either offsets of whole seconds or a refusal, never another exception."""
    text = joiner.join(f"{number} {unit}" for number, unit in parts)
    try:
        offsets = parse_offsets(text)
    except InvalidInput:
        return
    assert all(1 <= seconds <= 365 * 86_400 for seconds in offsets)
