"""iCalendar (RFC 5545) documents of events: one event's .ics, and a member's feed with their own alarms."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Alarm, Calendar, vDuration, vRecur
from icalendar import Event as VEvent

PRODID = "-//Soonish//Soonish event reminders//EN"
UTC_ZONES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Zulu", "Etc/Zulu", "Universal", "Etc/Universal"})
# How often a calendar app should fetch a feed again (RFC 7986 REFRESH-INTERVAL, and its older X- spelling).
REFRESH = timedelta(hours=1)
STATUS = {"scheduled": "CONFIRMED", "completed": "CONFIRMED", "cancelled": "CANCELLED"}


@dataclass(frozen=True)
class CalendarEntry:
    """One event as a calendar shows it; a series adds its rule and the occurrences it leaves out."""

    uid: str
    summary: str
    start: datetime
    end: datetime
    timezone: str
    status: str
    sequence: int
    created: datetime
    modified: datetime
    description: str = ""
    location: str = ""
    link: str = ""
    # Seconds before the start at which the calendar app itself should remind (a member's own offsets).
    alarms: tuple[int, ...] = ()
    # RFC 5545 RRULE value ("FREQ=WEEKLY;BYDAY=FR") and the original starts of occurrences left out.
    rrule: str | None = None
    exdates: tuple[datetime, ...] = ()
    # Set on one moved or cancelled occurrence of a series: the original start it replaces (same UID).
    recurrence_id: datetime | None = None


def event_uid(event_id: int, code: str) -> str:
    """The UID of an event: stable for its whole life, whatever changes."""
    return f"event-{event_id}-{code.lower()}@soonish"


def sequence_of(created: datetime, schedule_changed: datetime, *, cancelled: bool) -> int:
    """A SEQUENCE that only grows: seconds from creation to the last change of the time, plus one once cancelled.

    Calendar apps replace their copy when SEQUENCE grows; counting elapsed seconds needs no stored counter.
    """
    seconds = max(0.0, (schedule_changed - created).total_seconds())
    whole = int(seconds) + (1 if seconds > int(seconds) else 0)
    return whole + (1 if cancelled else 0)


def _local(instant: datetime, tz: str) -> datetime:
    # Wall-clock time with its TZID keeps a series on its local time across DST; UTC needs no VTIMEZONE.
    return instant.astimezone(UTC if tz in UTC_ZONES else ZoneInfo(tz))


def _component(entry: CalendarEntry) -> VEvent:
    event = VEvent()
    event.add("uid", entry.uid)
    event.add("dtstamp", entry.modified)
    event.add("created", entry.created)
    event.add("last-modified", entry.modified)
    event.add("sequence", entry.sequence)
    event.add("summary", entry.summary)
    event.add("dtstart", _local(entry.start, entry.timezone))
    event.add("dtend", _local(entry.end, entry.timezone))
    event.add("status", STATUS.get(entry.status, "CONFIRMED"))
    if entry.description:
        event.add("description", entry.description)
    if entry.location:
        event.add("location", entry.location)
    if entry.link:
        event.add("url", entry.link)
    if entry.rrule:
        event.add("rrule", vRecur.from_ical(entry.rrule))
    for excluded in entry.exdates:
        event.add("exdate", _local(excluded, entry.timezone))
    if entry.recurrence_id is not None:
        event.add("recurrence-id", _local(entry.recurrence_id, entry.timezone))
    if entry.status != "cancelled":
        for offset in sorted(set(entry.alarms), reverse=True):
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", f"Reminder: {entry.summary}")
            alarm.add("trigger", timedelta(seconds=-offset))
            event.add_component(alarm)
    return event


def calendar_document(entries: Sequence[CalendarEntry], *, name: str, feed: bool = False) -> bytes:
    """An RFC 5545 calendar holding `entries`, with a VTIMEZONE for every zone they use."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    if feed:
        calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
        calendar.add("x-published-ttl", vDuration(REFRESH))
    for entry in entries:
        calendar.add_component(_component(entry))
    if entries:
        # Transitions from just before the first start to a year past the last end (three for a series, whose
        # occurrences go on): enough for every instant shown.
        first = min(e.start for e in entries) - timedelta(days=1)
        last = max(e.end + timedelta(days=366 * (3 if e.rrule else 1)) for e in entries)
        calendar.add_missing_timezones(first_date=first.date(), last_date=last.date())
    return bytes(calendar.to_ical())
