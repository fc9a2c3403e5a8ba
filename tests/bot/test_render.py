"""The shared text rendering of the core's results, as the text front ends show it."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

from bot import render
from bot.discord.embeds import event_embed
from bot.slack.blocks import event_blocks
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


def test_a_series_shows_its_rule_and_next_dates_on_every_front_end() -> None:
    """Text replies, the Discord embed and the Slack blocks each show a series' rule and its next dates."""
    dates = tuple(START + timedelta(weeks=k) for k in range(5))
    view = dataclasses.replace(_view(None), recurrence="FREQ=WEEKLY;BYDAY=TH", next_occurrences=dates)
    text = render.event(view, render.local_time("Europe/Berlin"))
    assert "Repeats: FREQ=WEEKLY;BYDAY=TH" in text
    assert "Next dates: Thu 03 Dec 2026, 20:00 Europe/Berlin; Thu 10 Dec 2026, 20:00 Europe/Berlin;" in text
    fields = {f.name: f.value for f in event_embed(view).fields}
    assert fields["Repeats"] == "FREQ=WEEKLY;BYDAY=TH"
    assert fields["Next dates"] is not None
    assert fields["Next dates"].splitlines() == [
        f"<t:{int(d.timestamp())}:F> (<t:{int(d.timestamp())}:R>)" for d in dates
    ]
    slack = "\n".join(str(b.to_dict()) for b in event_blocks(view))
    assert "Repeats `FREQ=WEEKLY;BYDAY=TH`" in slack
    assert all(f"<!date^{int(d.timestamp())}^" in slack for d in dates)
