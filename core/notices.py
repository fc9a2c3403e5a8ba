"""The words of the messages Soonish sends: reminders and cancellation notices."""

from __future__ import annotations

from datetime import datetime

from core.timeparse import format_offset, zone


def _local(start: datetime, tz: str) -> str:
    local = start.astimezone(zone(tz))
    return f"{local:%a %d %b %Y, %H:%M} ({tz})"


def reminder(
    *, name: str, start: datetime, tz: str, due: datetime, location: str, link: str, late: bool
) -> tuple[str, str]:
    """Title and body of a reminder due at `due`."""
    lead = max(0, round((start - due).total_seconds() / 60) * 60)
    lines = [f"{name} starts in {format_offset(lead) if lead else 'a moment'}: {_local(start, tz)}."]
    if location:
        lines.append(f"Where: {location}")
    if link:
        lines.append(f"Link: {link}")
    if late:
        lines.append("(This reminder is late: Soonish could not send it on time.)")
    return f"Reminder: {name}", "\n".join(lines)


def cancellation(*, name: str, start: datetime, tz: str) -> tuple[str, str]:
    """Title and body of the notice that an event was cancelled."""
    return f"Cancelled: {name}", f"{name}, planned for {_local(start, tz)}, has been cancelled."
