"""Tests for reading time zones, start times, reminder offsets and countdown frequencies."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from core.errors import InvalidInput, InvalidTime
from core.timeparse import (
    Frequency,
    date_order,
    format_offset,
    format_offsets,
    parse_frequency,
    parse_offsets,
    parse_when,
    read_when,
    require_future,
    zone,
)

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)  # a Saturday; 13:00 in Berlin, 07:00 in New York
BERLIN = "Europe/Berlin"
EXAMPLES = "Try 'tomorrow 7pm', 'in 2 hours', 'next friday 18:00' or '2026-12-01 19:00'."
ZONE_EXAMPLES = "Use an IANA name such as Europe/Berlin or America/New_York."
OFFSET_EXAMPLES = "Use a number and a unit, such as 30m, 1h 30m, 1.5h, an hour or 2 days; separate several with commas."


def utc(*args: int) -> datetime:
    """Build an aware UTC datetime."""
    return datetime(*args, tzinfo=UTC)


# zone


def test_zone_accepts_utc() -> None:
    """'UTC' is a valid zone."""
    assert zone("UTC").key == "UTC"


def test_zone_is_case_insensitive() -> None:
    """A zone typed in the wrong case resolves to its canonical IANA key."""
    assert zone(" europe/berlin ").key == BERLIN


def test_zone_rejects_unknown_name() -> None:
    """An unknown zone is named in the error, with examples."""
    with pytest.raises(InvalidInput) as caught:
        zone("Mars/Olympus")
    assert caught.value.message == f"Unknown time zone 'Mars/Olympus'. {ZONE_EXAMPLES}"


def test_zone_rejects_empty_name() -> None:
    """An empty zone asks for one."""
    with pytest.raises(InvalidInput) as caught:
        zone("  ")
    assert caught.value.message == f"A time zone is required. {ZONE_EXAMPLES}"


@pytest.mark.parametrize(
    "name", ["../etc/passwd", "/etc/localtime", "Europe/../UTC", "Europe", "localtime", "posixrules", "a\0b"]
)
def test_zone_rejects_paths_and_non_zones(name: str) -> None:
    """Paths, directories and host-specific files are not zones."""
    with pytest.raises(InvalidInput, match=r"^Unknown time zone "):
        zone(name)


def test_zone_error_truncates_long_names() -> None:
    """A very long zone name is quoted back at most 80 characters long."""
    with pytest.raises(InvalidInput) as caught:
        zone("x" * 300)
    assert caught.value.message == f"Unknown time zone '{'x' * 79}…'. {ZONE_EXAMPLES}"


# parse_when: ISO 8601


def test_iso_with_offset_keeps_its_offset() -> None:
    """An ISO time with an offset means that instant, whatever the zone."""
    assert parse_when("2026-12-01T19:00:00+05:00", tz=BERLIN, now=NOW) == utc(2026, 12, 1, 14, 0)


def test_iso_with_z_is_utc() -> None:
    """A trailing Z means UTC."""
    assert parse_when("2026-12-01T19:00Z", tz=BERLIN, now=NOW) == utc(2026, 12, 1, 19, 0)


def test_naive_iso_is_wall_clock_in_zone() -> None:
    """An ISO time without an offset is read in the given zone."""
    assert parse_when("2026-12-01 19:00", tz="America/New_York", now=NOW) == utc(2026, 12, 2, 0, 0)


def test_naive_iso_in_summer_uses_summer_offset() -> None:
    """A summer date gets the zone's summer offset, not today's."""
    assert parse_when("2027-07-01 09:00", tz=BERLIN, now=NOW) == utc(2027, 7, 1, 7, 0)


def test_result_is_utc() -> None:
    """The result is an aware datetime in UTC."""
    assert parse_when("tomorrow 7pm", tz=BERLIN, now=NOW).tzinfo is UTC


def test_repeated_local_time_means_first_occurrence() -> None:
    """02:30 on the night clocks go back is the first 02:30 (summer time)."""
    assert parse_when("2026-10-25 02:30", tz=BERLIN, now=NOW) == utc(2026, 10, 25, 0, 30)


def test_skipped_local_time_moves_forward() -> None:
    """02:30 on the night clocks go forward does not exist and becomes 03:30 summer time."""
    assert parse_when("2027-03-28 02:30", tz=BERLIN, now=NOW) == utc(2027, 3, 28, 1, 30)


def test_past_time_is_returned_not_rejected() -> None:
    """A time in the past is parsed; rejecting it is the caller's decision."""
    assert parse_when("2026-06-01 09:00", tz=BERLIN, now=NOW) == utc(2026, 6, 1, 7, 0)


# parse_when: natural language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("tomorrow 7pm", utc(2026, 11, 29, 18, 0)),
        ("in 2 hours", utc(2026, 11, 28, 14, 0)),
        ("next friday 18:00", utc(2026, 12, 4, 17, 0)),
        ("Dec 3 19:30", utc(2026, 12, 3, 18, 30)),
        ("2026-12-01 19:00", utc(2026, 12, 1, 18, 0)),
    ],
)
def test_natural_language_is_relative_to_now_in_zone(text: str, expected: datetime) -> None:
    """Everyday phrases are read against `now` on the zone's wall clock."""
    assert parse_when(text, tz=BERLIN, now=NOW) == expected


def test_bare_time_of_day_is_understood() -> None:
    """A bare '7pm' is today at 19:00 local."""
    assert parse_when("7pm", tz=BERLIN, now=NOW) == utc(2026, 11, 28, 18, 0)


def test_bare_time_already_passed_is_tomorrow() -> None:
    """A bare time earlier than now today means tomorrow."""
    assert parse_when("noon", tz=BERLIN, now=NOW) == utc(2026, 11, 29, 11, 0)


def test_zone_in_text_wins_over_given_zone() -> None:
    """'tomorrow 7pm UTC' is 19:00 UTC even for a Berlin user."""
    assert parse_when("tomorrow 7pm UTC", tz=BERLIN, now=NOW) == utc(2026, 11, 29, 19, 0)


def test_in_hours_is_exact_across_dst() -> None:
    """'in 2 hours' is two real hours even when the clocks go back in between."""
    now = utc(2026, 10, 25, 0, 30)  # 02:30 summer time, half an hour before the change
    assert parse_when("in 2 hours", tz=BERLIN, now=now) == utc(2026, 10, 25, 2, 30)


def test_in_days_keeps_local_time_across_dst() -> None:
    """'in 2 days' lands at the same local time of day after a clock change."""
    now = utc(2026, 10, 24, 12, 0)  # 14:00 summer time
    assert parse_when("in 2 days", tz=BERLIN, now=now) == utc(2026, 10, 26, 13, 0)


def test_tomorrow_uses_the_offset_of_that_day() -> None:
    """'tomorrow 9am' on the day before clocks go back is 09:00 winter time."""
    now = utc(2026, 10, 24, 12, 0)
    assert parse_when("tomorrow 9am", tz=BERLIN, now=now) == utc(2026, 10, 25, 8, 0)


def test_natural_repeated_time_matches_iso_reading() -> None:
    """A repeated local time reads the same in a phrase as through ISO (first occurrence)."""
    now = utc(2026, 10, 24, 12, 0)
    assert parse_when("tomorrow 02:30", tz=BERLIN, now=now) == utc(2026, 10, 25, 0, 30)


def test_combined_relative_duration() -> None:
    """'in an hour and 30 minutes' adds both parts."""
    assert parse_when("in an hour and 30 minutes", tz=BERLIN, now=NOW) == utc(2026, 11, 28, 13, 30)


def test_from_now_phrase() -> None:
    """'90 minutes from now' is read like 'in 90 minutes'."""
    assert parse_when("90 minutes from now", tz=BERLIN, now=NOW) == utc(2026, 11, 28, 13, 30)


# parse_when: errors


def test_garbage_text_is_rejected_with_examples() -> None:
    """Text that is not a time is quoted back with examples."""
    with pytest.raises(InvalidTime) as caught:
        parse_when("whenever you like", tz=BERLIN, now=NOW)
    assert caught.value.message == f"Could not understand the time 'whenever you like'. {EXAMPLES}"


@pytest.mark.parametrize("text", ["de", "no"])
def test_words_of_other_languages_are_not_dates(text: str) -> None:
    """Short words are not read as dates in some other language."""
    with pytest.raises(InvalidTime, match=r"^Could not understand the time "):
        parse_when(text, tz=BERLIN, now=NOW)


def test_empty_text_asks_for_a_time() -> None:
    """Blank input asks for a time."""
    with pytest.raises(InvalidTime) as caught:
        parse_when("   ", tz=BERLIN, now=NOW)
    assert caught.value.message == f"Please give a time. {EXAMPLES}"


def test_overlong_text_is_rejected() -> None:
    """More than 200 characters is refused before parsing, quoted at most 80 characters long."""
    with pytest.raises(InvalidTime) as caught:
        parse_when("tomorrow " * 30, tz=BERLIN, now=NOW)
    quoted = ("tomorrow " * 9)[:79]
    assert caught.value.message == f"The time '{quoted}…' is too long (at most 200 characters). {EXAMPLES}"


def test_unparseable_long_text_is_quoted_truncated() -> None:
    """An unparseable input under the limit is still quoted at most 80 characters long."""
    with pytest.raises(InvalidTime) as caught:
        parse_when("z" * 150, tz=BERLIN, now=NOW)
    assert caught.value.message == f"Could not understand the time '{'z' * 79}…'. {EXAMPLES}"


def test_out_of_range_duration_is_rejected() -> None:
    """A relative time beyond the calendar is an error, not a crash."""
    with pytest.raises(InvalidTime) as caught:
        parse_when("in 99999999999999 hours", tz=BERLIN, now=NOW)
    assert caught.value.message == f"The time 'in 99999999999999 hours' is out of range. {EXAMPLES}"


def test_unknown_zone_is_rejected_by_parse_when() -> None:
    """parse_when refuses an unknown zone with the zone's message."""
    with pytest.raises(InvalidInput) as caught:
        parse_when("tomorrow 7pm", tz="Nowhere/Land", now=NOW)
    assert caught.value.message == f"Unknown time zone 'Nowhere/Land'. {ZONE_EXAMPLES}"


def test_naive_now_is_a_programming_error() -> None:
    """A naive `now` is a bug in the caller, not a user error."""
    with pytest.raises(ValueError, match="now must be a timezone-aware datetime"):
        parse_when("tomorrow 7pm", tz=BERLIN, now=datetime(2026, 11, 28, 12, 0))


# require_future


def test_require_future_rejects_past() -> None:
    """A past start time is refused with the time in UTC when no zone is given."""
    with pytest.raises(InvalidTime) as caught:
        require_future(utc(2026, 11, 27, 10, 0), now=NOW)
    assert caught.value.message == "The start time Fri 27 Nov 2026, 10:00 UTC is in the past."


def test_require_future_shows_the_users_zone() -> None:
    """A past start time is written on the user's own wall clock, not in UTC."""
    with pytest.raises(InvalidTime) as caught:
        require_future(utc(2026, 11, 27, 10, 0), now=NOW, tz="America/New_York")
    assert caught.value.message == "The start time Fri 27 Nov 2026, 05:00 America/New_York is in the past."


def test_require_future_rejects_now_itself() -> None:
    """A time equal to now is not in the future."""
    with pytest.raises(InvalidTime):
        require_future(NOW, now=NOW)


def test_require_future_names_what_is_checked() -> None:
    """The message names the field the caller checks."""
    with pytest.raises(InvalidTime) as caught:
        require_future(utc(2026, 11, 27, 10, 0), now=NOW, what="end time")
    assert caught.value.message == "The end time Fri 27 Nov 2026, 10:00 UTC is in the past."


def test_require_future_accepts_future() -> None:
    """A future time passes."""
    require_future(utc(2026, 11, 28, 12, 1), now=NOW)


# parse_offsets


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("30m", 1_800),
        ("1h30m", 5_400),
        ("2 days", 172_800),
        ("1 week", 604_800),
        ("90 minutes", 5_400),
        ("45s", 45),
        ("1H", 3_600),
    ],
)
def test_single_offset_units(text: str, seconds: int) -> None:
    """Each unit spelling reads as the right number of seconds."""
    assert parse_offsets(text) == (seconds,)


def test_comma_separated_offsets() -> None:
    """'1d, 1h' gives both offsets, largest first."""
    assert parse_offsets("1d, 1h") == (86_400, 3_600)


def test_spaced_parts_are_one_offset() -> None:
    """'1h 30m' is one reminder 90 minutes before, not two."""
    assert parse_offsets("1h 30m") == (5_400,)


def test_smaller_unit_first_is_refused() -> None:
    """'30m 1h' could be two reminders or one: it is refused with how to write either."""
    with pytest.raises(InvalidTime) as caught:
        parse_offsets("30m 1h")
    assert caught.value.message == (
        "The reminder offset '30m 1h' repeats a unit or puts a smaller one first: write one offset largest unit "
        "first (1h 30m is 90 minutes), and separate several offsets with commas (1d, 1h)."
    )


def test_offsets_are_deduplicated_and_sorted() -> None:
    """Equal offsets written differently count once; the result is largest first."""
    assert parse_offsets("1h, 1d, 60m, 3600s") == (86_400, 3_600)


def test_int_offsets_are_seconds() -> None:
    """A sequence of ints is taken as seconds."""
    assert parse_offsets([60, 3_600]) == (3_600, 60)


def test_sequence_of_strings_is_one_offset_each() -> None:
    """Each string in a sequence is one offset."""
    assert parse_offsets(["1h", "2 days", ""]) == (172_800, 3_600)


def test_empty_text_means_no_offsets() -> None:
    """An empty string gives no offsets."""
    assert parse_offsets("") == ()


def test_limits_are_inclusive() -> None:
    """1 second and 365 days are both allowed."""
    assert parse_offsets("365d, 1s") == (31_536_000, 1)


def test_ten_offsets_are_allowed() -> None:
    """Exactly ten offsets are accepted."""
    assert len(parse_offsets(",".join(f"{n}m" for n in range(1, 11)))) == 10


def test_zero_offset_is_too_short() -> None:
    """'0m' is refused by name."""
    with pytest.raises(InvalidTime) as caught:
        parse_offsets("1h, 0m")
    assert caught.value.message == "The reminder offset '0m' is too short: it must be at least 1 second."


def test_zero_int_offset_is_too_short() -> None:
    """An int offset of 0 is refused, in seconds."""
    with pytest.raises(InvalidTime) as caught:
        parse_offsets([0])
    assert caught.value.message == "The reminder offset 0 seconds is too short: it must be at least 1 second."


def test_negative_offset_is_rejected() -> None:
    """'-1h' is refused as negative."""
    with pytest.raises(InvalidTime) as caught:
        parse_offsets("-1h")
    assert caught.value.message == "The reminder offset '-1h' cannot be negative: it counts back from the start."


def test_negative_int_offset_is_rejected() -> None:
    """A negative int offset is refused as negative."""
    with pytest.raises(InvalidTime) as caught:
        parse_offsets([-5])
    assert caught.value.message == "The reminder offset -5 seconds cannot be negative: it counts back from the start."


def test_unknown_unit_is_rejected() -> None:
    """'5x' is named as not an offset."""
    with pytest.raises(InvalidTime) as caught:
        parse_offsets("1h, 5x")
    assert caught.value.message == f"'5x' is not a reminder offset. {OFFSET_EXAMPLES}"


def test_number_without_unit_is_rejected() -> None:
    """A bare number in text is ambiguous and asks for a unit."""
    with pytest.raises(InvalidTime) as caught:
        parse_offsets("30")
    assert caught.value.message == "The reminder offset '30' needs a unit: s, m, h, d or w (for example 30m)."


def test_offset_over_a_year_is_rejected() -> None:
    """'400d' is refused as too long."""
    with pytest.raises(InvalidTime) as caught:
        parse_offsets("400d")
    assert caught.value.message == "The reminder offset '400d' is too long: it can be at most 365 days."


def test_int_offset_over_a_year_is_rejected() -> None:
    """An int offset over 365 days is refused as too long."""
    with pytest.raises(InvalidTime) as caught:
        parse_offsets([366 * 86_400])
    assert caught.value.message == "The reminder offset 31622400 seconds is too long: it can be at most 365 days."


def test_bool_is_not_an_offset() -> None:
    """True is not taken for 1 second."""
    with pytest.raises(InvalidTime) as caught:
        parse_offsets([True])
    assert caught.value.message == f"'True' is not a reminder offset. {OFFSET_EXAMPLES}"


def test_more_than_ten_offsets_are_rejected() -> None:
    """Eleven distinct offsets are too many."""
    with pytest.raises(InvalidTime) as caught:
        parse_offsets(",".join(f"{n}m" for n in range(1, 12)))
    assert caught.value.message == "At most 10 reminder offsets are allowed; got 11."


def test_overlong_offset_text_is_rejected() -> None:
    """An offsets text over 200 characters is refused before parsing."""
    with pytest.raises(InvalidTime) as caught:
        parse_offsets("1h, " * 60)
    assert caught.value.message == "The list of reminder offsets is too long (at most 200 characters)."


# format_offset


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(45, "45s"), (3_600, "1h"), (5_400, "1h30m"), (86_400, "1d"), (1_209_600, "2w"), (90_061, "1d1h1m1s"), (0, "0s")],
)
def test_format_offset(seconds: int, text: str) -> None:
    """Offsets are written with w/d/h/m/s, largest unit first, without spaces."""
    assert format_offset(seconds) == text


def test_format_offset_rejects_negative() -> None:
    """A negative offset cannot be written."""
    with pytest.raises(ValueError, match="cannot be negative"):
        format_offset(-1)


def test_format_offsets_round_trips() -> None:
    """What format_offsets writes, parse_offsets reads back unchanged."""
    offsets = (1_209_600, 90_061, 5_400, 45)
    assert format_offsets(offsets) == "2w, 1d1h1m1s, 1h30m, 45s"
    assert parse_offsets(format_offsets(offsets)) == offsets


def test_format_no_offsets_is_empty() -> None:
    """No offsets format as an empty string."""
    assert format_offsets(()) == ""


# parse_frequency


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("daily", Frequency.DAILY),
        ("HOURLY", Frequency.HOURLY),
        (" Weekly ", Frequency.WEEKLY),
        ("none", Frequency.NONE),
    ],
)
def test_frequency_names_are_case_insensitive(text: str, expected: Frequency) -> None:
    """Frequency names are read regardless of case and surrounding spaces."""
    assert parse_frequency(text) is expected


@pytest.mark.parametrize("text", [None, "", "  "])
def test_missing_frequency_is_none(text: str | None) -> None:
    """No frequency means no countdown."""
    assert parse_frequency(text) is Frequency.NONE


def test_unknown_frequency_names_accepted_values() -> None:
    """An unknown frequency lists the accepted ones."""
    with pytest.raises(InvalidInput) as caught:
        parse_frequency("monthly")
    assert caught.value.message == "Unknown countdown frequency 'monthly'. Use one of: none, hourly, daily, weekly."


# read_when: how a phrase was read

TUESDAY = datetime(2026, 12, 1, 14, 30, tzinfo=UTC)  # Tue 1 Dec 2026, 15:30 in Berlin


def test_bare_hour_reading_is_explained() -> None:
    """An hour without am/pm says which half of the day it was taken as, and how to choose."""
    reading = read_when("thursday at 8", tz=BERLIN, now=TUESDAY)
    assert reading.instant == utc(2026, 12, 3, 19, 0)
    assert reading.notes == ("8 without am/pm read as 20:00 (add am or pm to choose)",)


def test_next_weekday_reading_is_explained() -> None:
    """'next saturday' says it was taken as the first one after today, and how to write the one after."""
    reading = read_when("next sat 10am", tz=BERLIN, now=TUESDAY)
    assert reading.notes == (
        "next Saturday read as the first one after today, Sat 05 Dec; for the one a week later write "
        "'saturday next week'",
    )


def test_numeric_date_order_is_explained() -> None:
    """A numeric date read by the zone's habit says which order was used."""
    reading = read_when("03/04 19:00", tz=BERLIN, now=TUESDAY)
    assert reading.notes == ("03/04 read day first, as usual in Europe/Berlin: 3 April",)


def test_zone_in_the_text_is_named() -> None:
    """A zone taken from the text is named with the zone it stands for."""
    assert read_when("8pm PST", tz=BERLIN, now=TUESDAY).notes == ("read in PST (America/Los_Angeles)",)


def test_a_time_passed_today_says_it_means_tomorrow() -> None:
    """An explicit time already passed today says it was moved to tomorrow."""
    reading = read_when("3pm", tz=BERLIN, now=TUESDAY)
    assert (reading.instant, reading.notes) == (utc(2026, 12, 2, 14, 0), ("tomorrow, as 15:00 has passed today",))


def test_a_plain_phrase_needs_no_explanation() -> None:
    """A phrase with nothing to choose carries no notes."""
    assert read_when("tomorrow 19:00", tz=BERLIN, now=TUESDAY).notes == ()


def test_month_first_zone_reads_month_first() -> None:
    """In a US zone 03/04 is the 4th of March."""
    assert date_order("America/New_York") == "month"
    assert read_when("03/04 19:00", tz="America/New_York", now=TUESDAY).instant == utc(2027, 3, 5, 0, 0)


def test_zones_without_a_habit_have_no_date_order() -> None:
    """UTC and Canada have no single day/month order."""
    assert (date_order("UTC"), date_order("America/Toronto"), date_order("Asia/Kolkata")) == (None, None, "day")
