"""When an event's reminders fire: fixed offsets before its start plus an optional countdown, as UTC instants."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from core.timeparse import Frequency, zone

_HOUR = timedelta(hours=1)
_WALL_CLOCK_PERIOD = {Frequency.DAILY: timedelta(days=1), Frequency.WEEKLY: timedelta(days=7)}
# Largest difference between two UTC offsets of one zone (UTC-12 to UTC+14): a wall-clock countdown instant
# is never further than this from the same number of exact days before the start.
_MAX_OFFSET_SWING = timedelta(hours=26)


def reminder_instants(
    *,
    start: datetime,
    tz: str,
    offsets: Sequence[int],
    frequency: Frequency,
    after: datetime,
    limit: int | None = None,
) -> list[datetime]:
    """Return the UTC instants, ascending and unique, strictly between `after` and `start`, at which to remind.

    Each offset (seconds) gives `start - offset`. A countdown adds `start` minus every whole hour (HOURLY), or
    the start's local wall-clock time in `tz` on every previous day (DAILY) or week (WEEKLY); a local time that
    does not exist that day is moved forward by the gap and a repeated one means its first occurrence.
    `limit` keeps only the earliest instants. Cost grows with the instants returned, not with how far away
    the start is.
    """
    _require_aware(start, "start")
    _require_aware(after, "after")
    if limit is not None and limit < 0:
        raise ValueError(f"limit cannot be negative, got {limit}")
    if any(offset <= 0 for offset in offsets):
        raise ValueError(f"offsets must be positive seconds, got {list(offsets)}")
    zi = zone(tz)
    start = start.astimezone(UTC)
    after = after.astimezone(UTC)
    if limit == 0 or start <= after:
        return []

    chosen: set[datetime] = set()
    for offset in offsets:
        try:
            instant = start - timedelta(seconds=offset)
        except OverflowError:
            continue  # reaches back before year 1, so before `after` too
        if after < instant:
            chosen.add(instant)
    for count, instant in enumerate(_countdown(start=start, zi=zi, frequency=frequency, after=after)):
        # The countdown comes earliest first, so past `limit` of its own none can make the cut.
        if limit is not None and count >= limit:
            break
        chosen.add(instant)

    instants = sorted(chosen)
    return instants if limit is None else instants[:limit]


def _countdown(*, start: datetime, zi: ZoneInfo, frequency: Frequency, after: datetime) -> Iterator[datetime]:
    """Yield the countdown instants strictly between `after` and `start`, ascending and unique."""
    if frequency is Frequency.HOURLY:
        # Exact hours: the furthest k with start - k hours > after is found by integer division.
        last = (start - after - timedelta(microseconds=1)) // _HOUR
        for k in range(last, 0, -1):
            yield start - k * _HOUR
        return
    period = _WALL_CLOCK_PERIOD.get(frequency)
    if period is None:
        return
    wall = start.astimezone(zi).replace(tzinfo=None, fold=0)
    # Begin a little before the first instant after `after` (an offset change shifts it by up to a day)
    # instead of walking back from the start; never below year 1.
    last = min((start - after + _MAX_OFFSET_SWING) // period, (wall.toordinal() - 1) // period.days)
    previous: datetime | None = None
    for k in range(last, 0, -1):
        try:
            # fold=0: a repeated local time means its first occurrence; a skipped one moves forward by the gap.
            instant = (wall - k * period).replace(tzinfo=zi, fold=0).astimezone(UTC)
        except OverflowError:
            continue
        # Instants never go backwards as k falls (that would take a clock moving forward by more than a day),
        # but two can coincide when a zone skips a calendar day (Samoa, 30 Dec 2011).
        if after < instant < start and instant != previous:
            previous = instant
            yield instant


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
