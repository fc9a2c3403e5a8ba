"""The shared text rendering of the core's results, as the text front ends show it."""

from __future__ import annotations

from datetime import UTC, datetime

from bot import render
from core.views import EventView, TimeReading

START = datetime(2026, 12, 3, 19, 0, tzinfo=UTC)


def _view(reading: TimeReading | None) -> EventView:
    return EventView(
        id=1,
        code="K3XQ7D",
        name="Game night",
        start_at=START,
        end_at=START,
        timezone="Europe/Berlin",
        status="scheduled",
        organizer="Olga",
        default_offsets=(3600,),
        description="",
        location="",
        link="",
        channel=None,
        subscriber_count=0,
        start_reading=reading,
    )


def test_event_reply_says_how_the_start_was_read_in_the_readers_zone() -> None:
    """After a create or move, the reply says how the typed start was read, on the reader's own clock."""
    reading = TimeReading("thursday at 8", ("8 without am/pm read as 20:00 (add am or pm to choose)",))
    text = render.event(_view(reading), render.local_time("America/New_York"))
    assert (
        "  Read 'thursday at 8' as Thu 03 Dec 2026, 14:00 America/New_York: "
        "8 without am/pm read as 20:00 (add am or pm to choose)."
    ) in text.splitlines()


def test_event_details_without_a_typed_start_have_no_reading_line() -> None:
    """/event info, or a start given as an instant, shows no 'Read' line."""
    assert "Read " not in render.event(_view(None), render.local_time("Europe/Berlin"))
