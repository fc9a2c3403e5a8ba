"""Reading calendars as a calendar app does: parsed with icalendar, expanded with recurring-ical-events."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import icalendar
import recurring_ical_events

PUBLIC_URL = "https://soonish.example.test/api"
CALENDAR_TYPE = "text/calendar; charset=utf-8"


def feed_path(url: str) -> str:
    """The path of a feed URL on the test server, after checking the URL starts at the public URL."""
    assert url.startswith(PUBLIC_URL + "/calendar/"), url
    return url.removeprefix(PUBLIC_URL)


def parse(response: httpx.Response) -> icalendar.Calendar:
    """The calendar an answer carries, after checking it is one."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == CALENDAR_TYPE
    return icalendar.Calendar.from_ical(response.content)


def occurrences(calendar: icalendar.Calendar) -> list[Any]:
    """Every event occurrence a calendar app would show, in a window far wider than any event's."""
    now = datetime.now(UTC)
    found = recurring_ical_events.of(calendar).between(now - timedelta(days=800), now + timedelta(days=800))
    return sorted(found, key=lambda e: (e.start, str(e["UID"])))


def instants(calendar: icalendar.Calendar) -> list[tuple[str, datetime, datetime]]:
    """(summary, start, end) of every occurrence, as UTC instants."""
    return [(str(e["SUMMARY"]), e.start.astimezone(UTC), e.end.astimezone(UTC)) for e in occurrences(calendar)]


def listed(event: dict[str, Any]) -> tuple[str, datetime, datetime]:
    """(name, start, end) of an event as the HTTP API lists it."""
    return (
        event["name"],
        datetime.fromisoformat(event["start_time"]).astimezone(UTC),
        datetime.fromisoformat(event["end_time"]).astimezone(UTC),
    )


def triggers(calendar: icalendar.Calendar) -> dict[str, list[int]]:
    """For each event summary, the seconds before its start at which its alarms go off, largest first."""
    return {
        str(e["SUMMARY"]): sorted((-int(a["TRIGGER"].dt.total_seconds()) for a in e.walk("VALARM")), reverse=True)
        for e in calendar.walk("VEVENT")
    }
