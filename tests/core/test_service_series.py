"""Series in the service layer (SQLite and PostgreSQL): refusals change nothing; a series moved as a whole."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from bot.runtime import Runtime
from core import service
from core.errors import Conflict, InvalidInput, InvalidTime, NotFound, SchedulerUnavailable
from core.service import EventPatch
from tests.conftest import ORGANIZER
from tests.core.helpers import new_event, refused, unreachable_core

BERLIN = ZoneInfo("Europe/Berlin")
SERIES = {"start": "2027-03-12 20:00", "timezone": "Europe/Berlin", "repeat": "every friday", "count": 4}


async def test_bad_repeat_text_changes_nothing(runtime: Runtime) -> None:
    """A repetition more often than daily is refused with its reason; no row, no workflow."""
    message = await refused(runtime, new_event(runtime, start="2027-03-12 20:00", repeat="FREQ=HOURLY"), InvalidInput)
    assert message.startswith("A series can repeat at most daily; FREQ=HOURLY is more often than that.")
    message = await refused(runtime, new_event(runtime, start="2027-03-12 20:00", count=3), InvalidInput)
    assert "give repeat too" in message


async def test_refused_occurrence_changes_change_nothing(runtime: Runtime) -> None:
    """A move past a neighbour, an unknown date and a second cancel are refused and leave everything as it was."""
    event = await new_event(runtime, **SERIES)
    core = runtime.core
    past_next = service.move_occurrence(
        core=core, actor=ORGANIZER, ref=event.code, occurrence="fri 19 mar", start="2027-03-27 20:00"
    )
    assert "between the occurrences before and after it" in await refused(runtime, past_next, InvalidTime)
    unknown = service.cancel_occurrence(core=core, actor=ORGANIZER, ref=event.code, occurrence="sat 13 mar")
    assert "no occurrence on Sat 13 Mar 2027" in await refused(runtime, unknown, NotFound)
    await service.cancel_occurrence(core=core, actor=ORGANIZER, ref=event.code, occurrence="fri 19 mar")
    again = service.cancel_occurrence(core=core, actor=ORGANIZER, ref=event.code, occurrence="fri 19 mar")
    assert "already cancelled" in await refused(runtime, again, Conflict)
    first = service.change_series_from(
        core=core, actor=ORGANIZER, ref=event.code, occurrence="fri 12 mar", patch=EventPatch(name="x")
    )
    assert "That is the first occurrence" in await refused(runtime, first, Conflict)


async def test_a_series_moved_as_a_whole_snaps_to_its_rule_and_forgets_old_changes(runtime: Runtime) -> None:
    """Moving a series' start to a Tuesday starts it on the next Friday, at the new time; earlier cancels go."""
    event = await new_event(runtime, **SERIES)
    core = runtime.core
    await service.cancel_occurrence(core=core, actor=ORGANIZER, ref=event.code, occurrence="fri 19 mar")
    moved = await service.update_event(
        core=core, actor=ORGANIZER, ref=event.code, patch=EventPatch(start="2027-03-16 19:00")
    )
    assert moved.start_at.astimezone(BERLIN).strftime("%a %d %b %H:%M") == "Fri 19 Mar 19:00"
    listed = await service.list_occurrences(core=core, actor=ORGANIZER, ref=event.code)
    assert [o.status for o in listed] == ["scheduled"] * 4
    assert [o.start_at.astimezone(BERLIN).strftime("%d %b %H:%M") for o in listed] == [
        "19 Mar 19:00",
        "26 Mar 19:00",
        "02 Apr 19:00",
        "09 Apr 19:00",
    ]


async def test_a_series_move_the_scheduler_cannot_hear_changes_nothing(runtime: Runtime) -> None:
    """With Temporal unreachable, moving a series is undone, its cancelled occurrence included."""
    event = await new_event(runtime, **SERIES)
    await service.cancel_occurrence(core=runtime.core, actor=ORGANIZER, ref=event.code, occurrence="fri 19 mar")
    core = await unreachable_core(runtime)
    attempt = service.update_event(
        core=core, actor=ORGANIZER, ref=event.code, patch=EventPatch(start="2027-03-16 19:00")
    )
    await refused(runtime, attempt, SchedulerUnavailable)
    listed = await service.list_occurrences(core=runtime.core, actor=ORGANIZER, ref=event.code)
    assert [o.status for o in listed] == ["scheduled", "cancelled", "scheduled", "scheduled"]


@pytest.mark.timeout(10)
async def test_an_occurrence_of_an_open_ended_series_is_moved_at_once(runtime: Runtime) -> None:
    """A daily series without an end: one occurrence moves between its neighbours without reading the series to
    its last representable day (millions of occurrences, which took far longer than this test's limit)."""
    event = await new_event(runtime, start="2027-03-12 20:00", timezone="Europe/Berlin", repeat="daily")
    moved = await service.move_occurrence(
        core=runtime.core, actor=ORGANIZER, ref=event.code, occurrence="sat 13 mar", start="2027-03-13 18:00"
    )
    assert moved.start_at.astimezone(BERLIN).strftime("%a %d %b %H:%M") == "Sat 13 Mar 18:00"
    listed = await service.list_occurrences(core=runtime.core, actor=ORGANIZER, ref=event.code, limit=3)
    assert [o.status for o in listed] == ["scheduled", "moved", "scheduled"]
