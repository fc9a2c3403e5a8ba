"""Calendar documents as calendar apps read them: zones, series rules and exclusions, alarms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import icalendar
import recurring_ical_events

from core.calendars import CalendarEntry, calendar_document

MADE = datetime(2027, 1, 1, tzinfo=UTC)


def entry(**fields: object) -> CalendarEntry:
    """A game night in Berlin unless told otherwise."""
    values: dict[str, object] = {
        "uid": "event-1-abcdef@soonish",
        "summary": "Game night",
        "start": datetime(2027, 3, 19, 19, tzinfo=UTC),  # 20:00 in Berlin, a week before summer time
        "end": datetime(2027, 3, 19, 21, tzinfo=UTC),
        "timezone": "Europe/Berlin",
        "status": "scheduled",
        "sequence": 0,
        "created": MADE,
        "modified": MADE,
        **fields,
    }
    return CalendarEntry(**values)  # type: ignore[arg-type]


def expand(document: bytes) -> list[datetime]:
    """The start of every occurrence a calendar app shows."""
    calendar = icalendar.Calendar.from_ical(document)
    found = recurring_ical_events.of(calendar).between(datetime(2027, 1, 1), datetime(2028, 1, 1))
    return sorted(e.start for e in found)


def test_weekly_series_keeps_its_local_time_across_dst_and_skips_excluded_dates() -> None:
    """A weekly rule over the DST change stays at 20:00 Berlin time, and an EXDATE occurrence is not shown."""
    series = entry(rrule="FREQ=WEEKLY;COUNT=4", exdates=(datetime(2027, 4, 2, 18, tzinfo=UTC),))
    starts = expand(calendar_document([series], name="Series"))
    assert [f"{s:%Y-%m-%d %H:%M %Z}" for s in starts] == [
        "2027-03-19 20:00 CET",
        "2027-03-26 20:00 CET",
        "2027-04-09 20:00 CEST",
    ]
    assert [s.astimezone(UTC).hour for s in starts] == [19, 19, 18]


def test_moved_occurrence_replaces_the_one_it_was_moved_from() -> None:
    """An occurrence entry with RECURRENCE-ID under the series' UID shows at its new time instead of the original."""
    series = entry(rrule="FREQ=WEEKLY;COUNT=3")
    moved = entry(
        start=datetime(2027, 3, 27, 17, tzinfo=UTC),
        end=datetime(2027, 3, 27, 19, tzinfo=UTC),
        recurrence_id=datetime(2027, 3, 26, 19, tzinfo=UTC),
        sequence=1,
    )
    starts = expand(calendar_document([series, moved], name="Series"))
    assert [s.astimezone(UTC) for s in starts] == [
        datetime(2027, 3, 19, 19, tzinfo=UTC),
        datetime(2027, 3, 27, 17, tzinfo=UTC),
        datetime(2027, 4, 2, 18, tzinfo=UTC),
    ]


def test_event_in_a_zone_carries_its_vtimezone_and_utc_needs_none() -> None:
    """An event in Berlin has DTSTART with TZID and a VTIMEZONE for it; a UTC event is written in UTC without one."""
    berlin = icalendar.Calendar.from_ical(calendar_document([entry()], name="x"))
    assert [str(tz["TZID"]) for tz in berlin.walk("VTIMEZONE")] == ["Europe/Berlin"]
    assert berlin.walk("VEVENT")[0]["DTSTART"].params["TZID"] == "Europe/Berlin"
    utc = calendar_document([entry(timezone="UTC")], name="x")
    assert b"DTSTART:20270319T190000Z" in utc
    assert b"VTIMEZONE" not in utc


def test_alarms_are_one_per_offset_and_absent_once_cancelled() -> None:
    """Offsets become VALARM triggers before the start, once each; a cancelled entry has none."""
    scheduled = icalendar.Calendar.from_ical(calendar_document([entry(alarms=(3600, 86400, 3600))], name="x"))
    assert [a["TRIGGER"].dt for a in scheduled.walk("VALARM")] == [timedelta(days=-1), timedelta(hours=-1)]
    cancelled = icalendar.Calendar.from_ical(calendar_document([entry(alarms=(3600,), status="cancelled")], name="x"))
    assert cancelled.walk("VALARM") == []
    assert str(cancelled.walk("VEVENT")[0]["STATUS"]) == "CANCELLED"


def test_empty_feed_is_a_valid_calendar() -> None:
    """A member with no subscription gets a calendar with no events that still parses, refresh hint included."""
    calendar = icalendar.Calendar.from_ical(calendar_document([], name="Soonish", feed=True))
    assert calendar.walk("VEVENT") == []
    assert str(calendar["REFRESH-INTERVAL"].to_ical().decode()) == "PT1H"
