"""The words of the messages Soonish sends (reminders, cancellation notices, tests), before a platform writes them.

A message keeps its instants as instants: each destination writes them its own way (Discord and Slack in their
native timestamp markup, which every reader sees in their own zone; everything else as text in the recipient's
zone when it is known, else the event's), and escapes the user's text as its platform needs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from core.timeparse import format_offset, zone


@dataclass(frozen=True)
class Instant:
    """A moment in a message, with the zone the event was given in."""

    at: datetime
    tz: str


Segment = str | Instant

# How much later "Remind me again" sends a reminder once more, unless SOONISH_SNOOZE_SECONDS says otherwise.
SNOOZE_SECONDS = 600


def duration_words(seconds: int) -> str:
    """A duration as a label says it: "10 minutes", "1 hour", "45 seconds"."""
    for unit, size in (("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds % size == 0 and seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} seconds"


@dataclass(frozen=True)
class SnoozeOffer:
    """The "Remind me again" button of a reminder: which reminder (event and due instant), and how much later.

    Only direct messages on Discord and Slack show it; every other destination ignores it.
    """

    event_id: int
    due: datetime
    seconds: int = SNOOZE_SECONDS

    @property
    def label(self) -> str:
        """The button's text."""
        return f"Remind me again in {duration_words(self.seconds)}"

    @property
    def ref(self) -> str:
        """The reminder as the `snooze` command reads it: `EVENT_ID:UNIX_SECONDS`."""
        return f"{self.event_id}:{int(self.due.timestamp())}"


@dataclass(frozen=True)
class Message:
    """A title and a body made of text and instants."""

    title: str
    body: tuple[Segment, ...]
    snooze: SnoozeOffer | None = None
    # Its plain text by reader's zone, written once: thousands of webhook reminders share a message and a few
    # zones, and a sender writes it ahead of the instant (`plain`) so that at the instant only the sends remain.
    _plain: dict[str | None, tuple[str, str]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def render(self, *, when: Callable[[Instant], str], text: Callable[[str], str] = str) -> tuple[str, str]:
        """Title and body, with instants written by `when` and text passed through `text` (an escaper)."""
        body = "".join(when(part) if isinstance(part, Instant) else text(part) for part in self.body)
        return text(self.title), body

    def plain(self, tz: str | None = None) -> tuple[str, str]:
        """Title and body as plain text: instants in the event's zone, and in `tz` (the recipient's) if it differs."""
        written = self._plain.get(tz)
        if written is None:
            written = self._plain[tz] = self.render(when=lambda instant: local(instant, tz))
        return written


def local(instant: Instant, tz: str | None = None) -> str:
    """An instant as text in the event's zone, naming it, and also in the reader's zone `tz` when that differs."""
    shown = instant.at.astimezone(zone(instant.tz))
    text = f"{shown:%a %d %b %Y, %H:%M} ({instant.tz})"
    if tz and tz != instant.tz:
        try:
            theirs = instant.at.astimezone(zone(tz))
        except ValueError:
            return text
        same_day = theirs.date() == shown.date()
        text = text[:-1] + f"; {theirs:%H:%M}" + ("" if same_day else f" on {theirs:%a %d %b}") + f" {tz} for you)"
    return text


def reminder(
    *,
    name: str,
    start: datetime,
    tz: str,
    due: datetime,
    location: str,
    link: str,
    late: bool,
    again: bool = False,
    snooze: SnoozeOffer | None = None,
) -> Message:
    """A reminder due at `due`; `again` for one a member snoozed, `snooze` for the button that snoozes it."""
    lead = max(0, round((start - due).total_seconds() / 60) * 60)
    body: list[Segment] = [f"{name} starts in {format_offset(lead) if lead else 'a moment'}: ", Instant(start, tz), "."]
    if location:
        body.append(f"\nWhere: {location}")
    if link:
        body.append(f"\nLink: {link}")
    if late:
        body.append("\n(This reminder is late: Soonish could not send it on time.)")
    if again:
        body.append("\n(You asked to be reminded again.)")
    return Message(f"Reminder again: {name}" if again else f"Reminder: {name}", tuple(body), snooze)


def cancellation(*, name: str, start: datetime, tz: str) -> Message:
    """The notice that an event was cancelled."""
    return Message(f"Cancelled: {name}", (f"{name}, planned for ", Instant(start, tz), ", has been cancelled."))


def test() -> Message:
    """The message a member's test of a destination sends."""
    return Message("Soonish test", ("This is a test from Soonish: reminders will reach you here.",))
