"""Tests for the instants at which an event's reminders fire."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.errors import InvalidInput
from core.reminders import reminder_instants
from core.timeparse import Frequency

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
BERLIN = "Europe/Berlin"
HOUR = 3_600
DAY = 86_400


def utc(*args: int) -> datetime:
    """Build an aware UTC datetime."""
    return datetime(*args, tzinfo=UTC)


def berlin(*args: int) -> datetime:
    """Build an aware Berlin wall-clock datetime."""
    return datetime(*args, tzinfo=ZoneInfo(BERLIN))


def test_offsets_give_start_minus_each_offset() -> None:
    """Each offset is an exact duration before the start, ascending."""
    instants = reminder_instants(
        start=utc(2026, 12, 1, 18, 0), tz=BERLIN, offsets=(DAY, HOUR), frequency=Frequency.NONE, after=NOW
    )
    assert instants == [utc(2026, 11, 30, 18, 0), utc(2026, 12, 1, 17, 0)]


def test_any_aware_input_gives_utc_output() -> None:
    """A start in another zone still gives UTC instants."""
    instants = reminder_instants(
        start=berlin(2026, 12, 1, 19, 0), tz=BERLIN, offsets=(HOUR,), frequency=Frequency.NONE, after=NOW
    )
    assert instants == [utc(2026, 12, 1, 17, 0)]
    assert instants[0].tzinfo is UTC


def test_offsets_are_exact_across_dst() -> None:
    """An offset of one day before a start just after the clocks go back is 24 real hours."""
    instants = reminder_instants(
        start=berlin(2026, 10, 25, 9, 0),
        tz=BERLIN,
        offsets=(DAY,),
        frequency=Frequency.NONE,
        after=NOW - timedelta(days=60),
    )
    assert instants == [utc(2026, 10, 24, 8, 0)]  # 10:00 summer time, not 09:00


def test_after_is_exclusive() -> None:
    """Instants at or before `after` are left out."""
    start = utc(2026, 12, 1, 18, 0)
    instants = reminder_instants(
        start=start, tz=BERLIN, offsets=(3 * DAY, DAY, HOUR), frequency=Frequency.NONE, after=utc(2026, 11, 30, 18, 0)
    )
    assert instants == [utc(2026, 12, 1, 17, 0)]


def test_offset_colliding_with_daily_countdown_fires_once() -> None:
    """A one-day offset and the daily countdown on the same instant give one instant."""
    instants = reminder_instants(
        start=berlin(2026, 12, 1, 19, 0), tz=BERLIN, offsets=(DAY,), frequency=Frequency.DAILY, after=NOW
    )
    assert instants == [utc(2026, 11, 28, 18, 0), utc(2026, 11, 29, 18, 0), utc(2026, 11, 30, 18, 0)]


def test_daily_countdown_keeps_local_time_when_clocks_go_back() -> None:
    """Daily at 09:00 Berlin is 07:00 UTC before 25 Oct 2026 and 08:00 UTC from that day on."""
    instants = reminder_instants(
        start=berlin(2026, 10, 28, 9, 0),
        tz=BERLIN,
        offsets=(),
        frequency=Frequency.DAILY,
        after=utc(2026, 10, 22, 12, 0),
    )
    assert instants == [
        utc(2026, 10, 23, 7, 0),
        utc(2026, 10, 24, 7, 0),
        utc(2026, 10, 25, 8, 0),
        utc(2026, 10, 26, 8, 0),
        utc(2026, 10, 27, 8, 0),
    ]
    assert {instant.astimezone(ZoneInfo(BERLIN)).hour for instant in instants} == {9}


def test_daily_countdown_keeps_local_time_when_clocks_go_forward() -> None:
    """Daily at 09:00 Berlin is 08:00 UTC before 28 Mar 2027 and 07:00 UTC from that day on."""
    instants = reminder_instants(
        start=berlin(2027, 3, 30, 9, 0), tz=BERLIN, offsets=(), frequency=Frequency.DAILY, after=utc(2027, 3, 26, 12, 0)
    )
    assert instants == [utc(2027, 3, 27, 8, 0), utc(2027, 3, 28, 7, 0), utc(2027, 3, 29, 7, 0)]


def test_daily_countdown_on_skipped_local_time_moves_forward() -> None:
    """02:30 does not exist on 28 Mar 2027 in Berlin; that day's reminder is at 03:30 summer time."""
    instants = reminder_instants(
        start=berlin(2027, 3, 29, 2, 30), tz=BERLIN, offsets=(), frequency=Frequency.DAILY, after=utc(2027, 3, 27, 0, 0)
    )
    assert instants == [utc(2027, 3, 27, 1, 30), utc(2027, 3, 28, 1, 30)]
    assert instants[1].astimezone(ZoneInfo(BERLIN)).hour == 3


def test_daily_countdown_on_repeated_local_time_uses_first() -> None:
    """02:30 happens twice on 25 Oct 2026 in Berlin; that day's reminder is the first (summer time)."""
    instants = reminder_instants(
        start=berlin(2026, 10, 26, 2, 30),
        tz=BERLIN,
        offsets=(),
        frequency=Frequency.DAILY,
        after=utc(2026, 10, 24, 0, 0),
    )
    assert instants == [utc(2026, 10, 24, 0, 30), utc(2026, 10, 25, 0, 30)]


def test_hourly_countdown_is_every_exact_hour() -> None:
    """Hourly gives start minus each whole hour, strictly after `after`."""
    instants = reminder_instants(
        start=utc(2026, 11, 28, 16, 0), tz=BERLIN, offsets=(), frequency=Frequency.HOURLY, after=NOW
    )
    assert instants == [utc(2026, 11, 28, 13, 0), utc(2026, 11, 28, 14, 0), utc(2026, 11, 28, 15, 0)]


def test_hourly_countdown_ignores_wall_clock_changes() -> None:
    """Hourly stays one real hour apart across the night the clocks go back."""
    instants = reminder_instants(
        start=utc(2026, 10, 25, 3, 0),
        tz=BERLIN,
        offsets=(),
        frequency=Frequency.HOURLY,
        after=utc(2026, 10, 24, 23, 30),
    )
    assert instants == [utc(2026, 10, 25, 0, 0), utc(2026, 10, 25, 1, 0), utc(2026, 10, 25, 2, 0)]


def test_weekly_countdown_is_same_local_time_each_week() -> None:
    """Weekly gives the start's local time 7, 14... days before, across a clock change."""
    instants = reminder_instants(
        start=berlin(2026, 11, 3, 9, 0),
        tz=BERLIN,
        offsets=(),
        frequency=Frequency.WEEKLY,
        after=utc(2026, 10, 10, 0, 0),
    )
    assert instants == [utc(2026, 10, 13, 7, 0), utc(2026, 10, 20, 7, 0), utc(2026, 10, 27, 8, 0)]


def test_limit_keeps_the_earliest() -> None:
    """`limit` returns only the soonest instants."""
    instants = reminder_instants(
        start=utc(2026, 11, 28, 20, 0), tz=BERLIN, offsets=(30 * 60,), frequency=Frequency.HOURLY, after=NOW, limit=3
    )
    assert instants == [utc(2026, 11, 28, 13, 0), utc(2026, 11, 28, 14, 0), utc(2026, 11, 28, 15, 0)]


def test_limit_counts_an_early_offset() -> None:
    """An offset earlier than the countdown takes a place within `limit`."""
    instants = reminder_instants(
        start=utc(2026, 11, 28, 20, 0),
        tz=BERLIN,
        offsets=(7 * HOUR + 30 * 60,),
        frequency=Frequency.HOURLY,
        after=NOW,
        limit=2,
    )
    assert instants == [utc(2026, 11, 28, 12, 30), utc(2026, 11, 28, 13, 0)]


def test_limit_zero_gives_nothing() -> None:
    """A limit of 0 returns no instants."""
    assert (
        reminder_instants(
            start=utc(2026, 12, 1, 18, 0), tz=BERLIN, offsets=(HOUR,), frequency=Frequency.DAILY, after=NOW, limit=0
        )
        == []
    )


def test_start_not_after_after_gives_nothing() -> None:
    """An event that has started has no reminders left."""
    assert reminder_instants(start=NOW, tz=BERLIN, offsets=(HOUR,), frequency=Frequency.HOURLY, after=NOW) == []


def test_far_future_hourly_countdown_is_quick() -> None:
    """An hourly countdown two years ahead, asked for the last day only, does not walk the two years."""
    start = utc(2028, 11, 28, 12, 0)
    began = time.perf_counter()
    instants = reminder_instants(
        start=start, tz=BERLIN, offsets=(), frequency=Frequency.HOURLY, after=start - timedelta(days=1)
    )
    elapsed = time.perf_counter() - began
    assert instants == [start - timedelta(hours=k) for k in range(23, 0, -1)]
    assert elapsed < 0.05


def test_far_future_daily_countdown_with_limit_is_quick() -> None:
    """A daily countdown two years ahead with a limit computes only the first few instants."""
    began = time.perf_counter()
    instants = reminder_instants(
        start=berlin(2028, 11, 28, 19, 0), tz=BERLIN, offsets=(), frequency=Frequency.DAILY, after=NOW, limit=3
    )
    elapsed = time.perf_counter() - began
    assert instants == [utc(2026, 11, 28, 18, 0), utc(2026, 11, 29, 18, 0), utc(2026, 11, 30, 18, 0)]
    assert elapsed < 0.05


def test_naive_start_is_a_programming_error() -> None:
    """A naive start is a bug in the caller."""
    with pytest.raises(ValueError, match="start must be a timezone-aware datetime"):
        reminder_instants(
            start=datetime(2026, 12, 1, 18, 0), tz=BERLIN, offsets=(HOUR,), frequency=Frequency.NONE, after=NOW
        )


def test_non_positive_offset_is_a_programming_error() -> None:
    """Offsets must already be validated positive seconds."""
    with pytest.raises(ValueError, match="offsets must be positive seconds"):
        reminder_instants(start=utc(2026, 12, 1, 18, 0), tz=BERLIN, offsets=(0,), frequency=Frequency.NONE, after=NOW)


def test_unknown_zone_is_rejected() -> None:
    """An unknown zone is refused with the zone's message."""
    with pytest.raises(InvalidInput, match=r"^Unknown time zone 'Nowhere/Land'"):
        reminder_instants(
            start=utc(2026, 12, 1, 18, 0), tz="Nowhere/Land", offsets=(), frequency=Frequency.DAILY, after=NOW
        )
