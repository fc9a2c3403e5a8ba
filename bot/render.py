"""Plain-text rendering of the core's results; each platform supplies how it writes an instant."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from core.timeparse import format_offsets, zone
from core.views import (
    CalendarFeedView,
    DeliveryLog,
    EventView,
    FollowsView,
    IntegrationTestResult,
    IntegrationView,
    OccurrenceView,
    PublicFeedView,
    SubscriptionView,
    UserView,
)

TimeFormat = Callable[[datetime], str]


def local_time(tz: str) -> TimeFormat:
    """Instants written in one zone: `Fri 04 Dec 2026, 20:00 Europe/Berlin`."""
    zi = zone(tz)
    return lambda when: f"{when.astimezone(zi):%a %d %b %Y, %H:%M} {tz}"


def start_reading(view: EventView, when: TimeFormat) -> str:
    """How a typed start time was read, in the reader's own zone; empty when the start was not typed as text."""
    reading = view.start_reading
    if reading is None:
        return ""
    line = f"Read '{reading.typed}' as {when(view.start_at)}"
    return line + (": " + "; ".join(reading.notes) + "." if reading.notes else ".")


def event(view: EventView, when: TimeFormat) -> str:
    """An event's full details; after a create or update, how its typed start time was read."""
    lines = [f"{view.name} [{view.code}] (id {view.id}, {view.status})", f"  Starts: {when(view.start_at)}"]
    if read := start_reading(view, when):
        lines.append(f"  {read}")
    if view.end_at != view.start_at:
        lines.append(f"  Ends:   {when(view.end_at)}")
    lines.append(f"  Organizer: {view.organizer} · {view.subscriber_count} subscribed")
    lines.append(f"  Reminders: {format_offsets(view.default_offsets) or 'none'} before (channel and default)")
    for label, value in (("Where", view.location), ("Link", view.link), ("About", view.description)):
        if value:
            lines.append(f"  {label}: {value}")
    if view.channel:
        lines.append(f"  Channel: {view.channel}")
    if view.recurrence:
        lines.append(f"  Repeats: {view.recurrence}")
        lines.append("  Next dates: " + ("; ".join(when(t) for t in view.next_occurrences) or "none left"))
    return "\n".join(lines)


def occurrence_cancelled(view: OccurrenceView, when: TimeFormat) -> str:
    """The answer to cancelling one occurrence of a series."""
    return f"The occurrence of {when(view.original_start)} is cancelled; its subscribers are being told."


def occurrence_moved(view: OccurrenceView, when: TimeFormat) -> str:
    """The answer to moving one occurrence of a series."""
    return f"The occurrence of {when(view.original_start)} now starts {when(view.start_at)}."


def event_line(view: EventView, when: TimeFormat) -> str:
    """An event in a list."""
    return f"[{view.code}] {view.name} · {when(view.start_at)} · {view.subscriber_count} subscribed"


def events(views: Sequence[EventView], when: TimeFormat) -> str:
    """A list of events."""
    if not views:
        return "No upcoming events. Create one with /event create."
    return "\n".join(event_line(v, when) for v in views)


def subscription(view: SubscriptionView, when: TimeFormat) -> str:
    """A subscription and its next reminders."""
    how = ", ".join(view.tags)
    timing = format_offsets(view.custom_time_delta_seconds)
    if view.custom_frequency != "none":
        timing = f"{timing} + {view.custom_frequency} countdown" if timing else f"{view.custom_frequency} countdown"
    lines = [f"Subscribed to {view.event_name} [{view.event_code}] via {how}; reminders: {timing}."]
    if view.occurrence is not None:
        lines.append(f"Only the occurrence of {when(view.occurrence)}.")
    if view.next_reminders:
        lines.append("Next: " + "; ".join(when(t) for t in view.next_reminders))
    else:
        lines.append("No reminder is left before the start.")
    return "\n".join(lines)


def integration(view: IntegrationView) -> str:
    """One destination, masked."""
    line = f"#{view.id} {view.label}: {view.url} · tags {', '.join(view.tags)}"
    if view.last_error:
        line += f" · last error: {view.last_error}"
    return line


def integrations(views: Sequence[IntegrationView]) -> str:
    """The user's destinations."""
    if not views:
        return "You have no destinations. Add one with /integration add URL tags:TAG."
    return "\n".join(integration(v) for v in views)


def test_result(result: IntegrationTestResult) -> str:
    """How a test message went."""
    if result.delivered:
        return f"Test message delivered to {result.integration.label}."
    return f"Test message to {result.integration.label} failed: {result.error}"


def deliveries(log: DeliveryLog, when: TimeFormat) -> str:
    """An event's delivery log; says so when it shows only the newest part of it."""
    if not log.entries:
        return "Nothing delivered yet."
    lines = []
    if not log.complete:
        lines.append(
            f"The newest {len(log.entries)} of {log.total} deliveries; the whole log: "
            f"GET /events/{log.event_id}/deliveries?offset={len(log.entries)} on the HTTP API."
        )
    for d in log.entries:
        flags = " (late)" if d.late else ""
        error = f" · {d.error}" if d.error else ""
        lines.append(f"{when(d.due_at)} {d.kind} → {d.recipient} via {d.destination}: {d.status}{flags}{error}")
    return "\n".join(lines)


def user(view: UserView) -> str:
    """A user's settings."""
    return f"Your time zone is {view.timezone}."


def settings(view: UserView) -> str:
    """A member's defaults for subscribing without options."""
    remind = format_offsets(view.default_offsets) or "the event's own"
    tags = ", ".join(view.default_tags) or "every tag you have"
    return (
        f"Your defaults: reminders {remind}; tags {tags}; time zone {view.timezone}. They apply to /subscribe "
        "without options, the Subscribe buttons and the channels you /follow. "
        'Change them with /settings remind:"1d, 1h" tags:dm (remind:none or tags:none clears one).'
    )


def follows(view: FollowsView) -> str:
    """The channels a member follows."""
    if not view.follows:
        return "You follow no channel. Run /follow in a channel to follow it."
    return "You follow: " + ", ".join(f.channel for f in view.follows)


def public_feed(view: PublicFeedView) -> str:
    """A public feed's URL, or that it is off."""
    what = "this channel" if view.scope == "channel" else "every channel here"
    if view.url is None:
        return f"The public calendar of {what} is off; its URL no longer works."
    first = "has a new URL; the previous one no longer works" if view.rotated else "is"
    return (
        f"The public calendar of {what} {first}:\n{view.url}\n"
        "It lists the upcoming events (no subscribers, no reminders); anyone with the URL can read it. "
        "/calendar public rotate gives it a new URL, /calendar public off turns it off."
    )


def calendar_hint(view: EventView) -> str:
    """How to get an event into a calendar."""
    lines = []
    if view.ics_url:
        lines.append(f"  Add to calendar (.ics): {view.ics_url}")
    lines.append(
        "  Calendar: subscribe, then /calendar gives your private feed URL (with your reminders); "
        f"HTTP API: GET /events/{view.id}/ics"
    )
    return "\n".join(lines)


def calendar_feed(view: CalendarFeedView, *, rotated: bool = False) -> str:
    """A member's private feed URL, for their eyes only."""
    first = "Your calendar feed has a new URL; the previous one no longer works." if rotated else "Your calendar feed:"
    return (
        f"{first}\n{view.url}\n"
        "Add it to your calendar app as a subscription (by URL). It lists every event you subscribe to, with your "
        "reminders. Anyone with this URL can read it: keep it private, and use /calendar rotate if it leaks."
    )
