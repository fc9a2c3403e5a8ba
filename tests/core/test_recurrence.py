"""Reading `repeat:` text into RRULEs, and expanding a series on its zone's wall clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import islice
from zoneinfo import ZoneInfo

import pytest

from core.errors import InvalidInput
from core.recurrence import REPEAT_EXAMPLES, Change, Series, localize, normalize_rule, series_reminders
from core.timeparse import Frequency

BERLIN = ZoneInfo("Europe/Berlin")
# Fri 12 Mar 2027, 20:00 in Berlin (UTC+1; the clocks go forward on Sun 28 Mar).
START = datetime(2027, 3, 12, 19, tzinfo=UTC)


def local(instants: list[datetime], tz: ZoneInfo = BERLIN) -> list[str]:
    return [i.astimezone(tz).strftime("%a %d %b %H:%M") for i in instants]


def starts(rule: str, start: datetime = START, tz: str = "Europe/Berlin", n: int = 5) -> list[datetime]:
    return list(islice(Series(start=start, end=start, tz=tz, rule=rule).starts(), n))


@pytest.mark.parametrize(
    ("typed", "rule"),
    [
        ("daily", "FREQ=DAILY"),
        ("weekly", "FREQ=WEEKLY"),
        ("Every Friday", "FREQ=WEEKLY;BYDAY=FR"),
        ("every 2 weeks", "FREQ=WEEKLY;INTERVAL=2"),
        ("every monday and thursday", "FREQ=WEEKLY;BYDAY=MO,TH"),
        ("monthly on the last friday", "FREQ=MONTHLY;BYDAY=-1FR"),
        ("monthly on the first monday", "FREQ=MONTHLY;BYDAY=1MO"),
        ("monthly on the last day", "FREQ=MONTHLY;BYMONTHDAY=-1"),
        ("monthly on the 15th", "FREQ=MONTHLY;BYMONTHDAY=15"),
        ("every weekday", "FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR"),
        ("FREQ=WEEKLY;BYDAY=FR", "FREQ=WEEKLY;BYDAY=FR"),
        ("RRULE:freq=weekly;byday=fr;interval=2", "FREQ=WEEKLY;INTERVAL=2;BYDAY=FR"),
        ("RRULE:FREQ=MONTHLY;BYDAY=FR;BYSETPOS=-1;COUNT=4", "FREQ=MONTHLY;BYDAY=FR;BYSETPOS=-1;COUNT=4"),
        ("FREQ=WEEKLY;UNTIL=20270402", "FREQ=WEEKLY;UNTIL=20270402T215959Z"),
    ],
)
def test_phrases_and_rrule_text_normalize_to_one_rule(typed: str, rule: str) -> None:
    """Each accepted way of writing a repetition comes out as the same normalized RRULE."""
    assert normalize_rule(typed, start=START, tz="Europe/Berlin") == rule


def test_count_and_until_end_the_rule() -> None:
    """count adds COUNT; until adds UNTIL in UTC; either is honoured when expanded."""
    counted = normalize_rule("weekly", start=START, tz="Europe/Berlin", count=3)
    assert counted == "FREQ=WEEKLY;COUNT=3"
    assert local(starts(counted)) == ["Fri 12 Mar 20:00", "Fri 19 Mar 20:00", "Fri 26 Mar 20:00"]
    until = datetime(2027, 4, 2, 18, tzinfo=UTC)  # 20:00 in Berlin, summer time: the last occurrence itself
    bounded = normalize_rule("weekly", start=START, tz="Europe/Berlin", until=until)
    assert bounded == "FREQ=WEEKLY;UNTIL=20270402T180000Z"
    assert local(starts(bounded, n=10))[-1] == "Fri 02 Apr 20:00"
    assert len(starts(bounded, n=10)) == 4


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("", "The repetition is empty."),
        ("sometimes", "'sometimes' is not a repetition Soonish understands."),
        ("every blursday", "'blursday' is not a day of the week."),
        ("hourly", "at most daily"),
        ("every 30 minutes", "at most daily"),
        ("FREQ=MINUTELY", "FREQ=MINUTELY is more often than that"),
        ("FREQ=DAILY;BYHOUR=8,20", "BYHOUR is not accepted"),
        ("FREQ=DAILY;BYMINUTE=0,30", "BYMINUTE is not accepted"),
        ("FREQ=WEEKLY;BYDAY=XX", "is not a valid RRULE"),
        ("FREQ=WEEKLY;FOO=1", "The RRULE part FOO is not accepted."),
        ("FREQ=WEEKLY;INTERVAL=0", "INTERVAL must be a whole number from 1 to 999."),
        ("monthly on the 30th", 'use "monthly on the last day"'),
        ("FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30", "has no occurrence at all"),
    ],
)
def test_bad_repeat_text_says_how_to_write_it(typed: str, says: str) -> None:
    """Text that is not a repetition Soonish reads is refused, with the reason and the accepted forms."""
    with pytest.raises(InvalidInput) as caught:
        normalize_rule(typed, start=START, tz="Europe/Berlin")
    assert says in caught.value.message
    assert caught.value.message.endswith(f"Write the repetition as {REPEAT_EXAMPLES}.")


def test_count_out_of_range_and_both_ends_are_refused() -> None:
    """count beyond the cap, or both count and until, are refused naming the field."""
    with pytest.raises(InvalidInput) as caught:
        normalize_rule("weekly", start=START, tz="Europe/Berlin", count=1001)
    assert caught.value.field == "count"
    with pytest.raises(InvalidInput, match="not both"):
        normalize_rule("weekly", start=START, tz="Europe/Berlin", count=3, until=START + timedelta(days=30))
    with pytest.raises(InvalidInput, match="already says when the series ends"):
        normalize_rule("FREQ=WEEKLY;COUNT=2", start=START, tz="Europe/Berlin", count=3)


def test_weekly_series_keeps_its_wall_clock_across_both_dst_changes() -> None:
    """20:00 in Berlin every week from March to November: the UTC hour changes twice, the local time never."""
    found = starts("FREQ=WEEKLY", n=40)
    assert {i.astimezone(BERLIN).strftime("%a %H:%M") for i in found} == {"Fri 20:00"}
    assert [i.astimezone(UTC).hour for i in found[:4]] == [19, 19, 19, 18]
    assert [found[33].astimezone(UTC).hour, found[34].astimezone(UTC).hour] == [18, 19]  # 29 Oct, 5 Nov 2027


def test_month_end_rules_pick_the_last_friday_and_the_last_day() -> None:
    """The last Friday and the last day of each month, February included."""
    assert local(starts("FREQ=MONTHLY;BYDAY=-1FR", n=3)) == ["Fri 26 Mar 20:00", "Fri 30 Apr 20:00", "Fri 28 May 20:00"]
    feb = datetime(2028, 1, 31, 19, tzinfo=UTC)
    assert local(starts("FREQ=MONTHLY;BYMONTHDAY=-1", start=feb, n=3)) == [
        "Mon 31 Jan 20:00",
        "Tue 29 Feb 20:00",
        "Fri 31 Mar 20:00",
    ]


def test_a_local_time_the_clocks_skip_moves_forward_by_the_gap() -> None:
    """A daily 02:30 in Berlin is 03:30 (summer time) on the night the clocks skip 02:00-03:00, then 02:30 again."""
    first = localize(datetime(2027, 3, 27, 2, 30), "Europe/Berlin")
    found = starts("FREQ=DAILY", start=first, n=3)
    assert local(found) == ["Sat 27 Mar 02:30", "Sun 28 Mar 03:30", "Mon 29 Mar 02:30"]
    assert found[1] - found[0] == timedelta(hours=24)


def test_a_repeated_local_time_means_its_first_pass() -> None:
    """02:30 on the night Berlin's clocks go back is the first 02:30 (summer time, UTC+2)."""
    first = localize(datetime(2027, 10, 30, 2, 30), "Europe/Berlin")
    found = starts("FREQ=DAILY", start=first, n=2)
    assert found[1] == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)


def test_cancelled_and_moved_occurrences() -> None:
    """A cancelled occurrence is left out of what is upcoming; a moved one keeps its identity, at its new time."""
    rule = "FREQ=WEEKLY;COUNT=4"
    originals = starts(rule)
    moved_to = originals[2] + timedelta(days=1)
    series = Series(
        start=START,
        end=START + timedelta(hours=3),
        tz="Europe/Berlin",
        rule=rule,
        changes={
            originals[1]: Change(originals[1], "cancelled"),
            originals[2]: Change(originals[2], "moved", moved_to, moved_to + timedelta(hours=3)),
        },
    )
    assert [o.status for o in series.occurrences()] == ["scheduled", "cancelled", "moved", "scheduled"]
    assert [o.start for o in series.upcoming(START - timedelta(days=1), 5)] == [originals[0], moved_to, originals[3]]
    assert series.last_end() == originals[3] + timedelta(hours=3)
    assert Series(start=START, end=START, tz="Europe/Berlin", rule="FREQ=WEEKLY").last_end() is None


def test_series_reminders_come_for_every_occurrence_with_the_occurrence_they_are_for() -> None:
    """A 1h offset gives one reminder per occurrence; `only` keeps one occurrence; a limit keeps the earliest."""
    series = Series(start=START, end=START, tz="Europe/Berlin", rule="FREQ=WEEKLY")
    found = series_reminders(series, offsets=[3600], frequency=Frequency.NONE, after=START - timedelta(days=1), limit=6)
    assert [due for due, _ in found] == [o - timedelta(hours=1) for o in starts("FREQ=WEEKLY", n=6)]
    assert [o.original for _, o in found] == starts("FREQ=WEEKLY", n=6)
    third = starts("FREQ=WEEKLY", n=3)[2]
    only = series_reminders(
        series, offsets=[3600, 86400], frequency=Frequency.NONE, after=START - timedelta(days=2), limit=20, only=third
    )
    assert [due for due, _ in only] == [third - timedelta(days=1), third - timedelta(hours=1)]
    countdown = series_reminders(
        series, offsets=[], frequency=Frequency.DAILY, after=START - timedelta(hours=1), limit=10
    )
    # A daily countdown of a weekly series counts down to each occurrence from the one before.
    assert len(countdown) == 10
    assert local([d for d, _ in countdown])[:3] == ["Sat 13 Mar 20:00", "Sun 14 Mar 20:00", "Mon 15 Mar 20:00"]
