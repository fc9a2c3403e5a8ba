"""Series through the shared chat grammar and dispatcher, as every text front end runs them."""

from __future__ import annotations

import re

from bot.dispatch import execute_line
from bot.runtime import Runtime
from core import service
from tests.conftest import MEMBER, ORGANIZER
from tests.core.helpers import table_rows

CREATE = (
    '/event create name:"Game night" start:"2027-03-12 20:00" end:"2027-03-12 23:00" timezone:Europe/Berlin '
    'repeat:"every friday" count:6'
)


def next_dates(text: str) -> list[str]:
    (line,) = [line for line in text.splitlines() if "Next dates:" in line]
    return re.findall(r"\w{3} (\d{2} \w{3}) \d{4}, (\d{2}:\d{2})", line)


async def test_create_a_series_and_see_its_next_five_dates(runtime: Runtime) -> None:
    """/event create with repeat and count answers with the rule and the next five dates, in the reader's zone."""
    await service.set_timezone(core=runtime.core, actor=ORGANIZER, timezone="Europe/Berlin")
    reply = await execute_line(CREATE, core=runtime.core, actor=ORGANIZER)
    assert "Repeats: FREQ=WEEKLY;BYDAY=FR;COUNT=6" in reply.text, reply.text
    expected = [("12 Mar", "20:00"), ("19 Mar", "20:00"), ("26 Mar", "20:00"), ("02 Apr", "20:00"), ("09 Apr", "20:00")]
    assert next_dates(reply.text) == expected
    assert reply.event is not None
    info = await execute_line(f"/event info {reply.event.code}", core=runtime.core, actor=MEMBER)
    assert "Repeats: FREQ=WEEKLY;BYDAY=FR;COUNT=6" in info.text


async def test_bad_repeat_text_is_refused_privately_and_creates_nothing(runtime: Runtime) -> None:
    """A repetition Soonish cannot read gets its message, privately, and no event."""
    before = await table_rows(runtime)
    reply = await execute_line(
        '/event create name:"Game night" start:"2027-03-12 20:00" repeat:"every fortnight-ish"',
        core=runtime.core,
        actor=ORGANIZER,
    )
    assert reply.private
    assert reply.text.startswith("'every fortnight-ish' is not a repetition Soonish understands.")
    assert "monthly on the last friday" in reply.text
    rows = await table_rows(runtime)
    assert rows["events"] == before["events"] == []


async def test_cancel_move_and_change_from_a_date_through_chat(runtime: Runtime) -> None:
    """occurrence: cancels or moves one date, from: changes the series from a date on; info shows the result."""
    core = runtime.core
    await service.set_timezone(core=core, actor=ORGANIZER, timezone="Europe/Berlin")
    created = await execute_line(CREATE, core=core, actor=ORGANIZER)
    assert created.event is not None
    code = created.event.code

    stranger = await execute_line(f'/event cancel {code} occurrence:"fri 19 mar"', core=core, actor=MEMBER)
    assert stranger.private and "Only the event's organizer" in stranger.text
    cancelled = await execute_line(f'/event cancel {code} occurrence:"fri 19 mar"', core=core, actor=ORGANIZER)
    assert "Fri 19 Mar 2027, 20:00" in cancelled.text and "is cancelled" in cancelled.text
    missing = await execute_line(f'/event cancel {code} occurrence:"sat 20 mar"', core=core, actor=ORGANIZER)
    assert missing.private and "no occurrence on Sat 20 Mar 2027" in missing.text

    moved = await execute_line(
        f'/event update {code} occurrence:"fri 26 mar" start:"2027-03-27 18:00"', core=core, actor=ORGANIZER
    )
    assert "now starts Sat 27 Mar 2027, 18:00" in moved.text, moved.text
    info = await execute_line(f"/event info {code}", core=core, actor=ORGANIZER)
    assert next_dates(info.text) == [
        ("12 Mar", "20:00"),
        ("27 Mar", "18:00"),
        ("02 Apr", "20:00"),
        ("09 Apr", "20:00"),
        ("16 Apr", "20:00"),
    ]

    split = await execute_line(
        f'/event update {code} from:"fri 9 apr" start:"2027-04-09 21:00"', core=core, actor=ORGANIZER
    )
    assert split.event is not None and split.event.code != code, split.text
    assert next_dates(split.text) == [("09 Apr", "21:00"), ("16 Apr", "21:00")]
    old = await execute_line(f"/event info {code}", core=core, actor=ORGANIZER)
    assert next_dates(old.text) == [("12 Mar", "20:00"), ("27 Mar", "18:00"), ("02 Apr", "20:00")]


async def test_subscribe_to_one_occurrence(runtime: Runtime) -> None:
    """/subscribe with occurrence: follows that date only: its reminders are for it alone."""
    core = runtime.core
    created = await execute_line(CREATE, core=core, actor=ORGANIZER)
    assert created.event is not None
    reply = await execute_line(
        f'/subscribe {created.event.code} tags:dm remind:"1h" occurrence:"fri 2 apr"', core=core, actor=MEMBER
    )
    assert "Only the occurrence of Fri 02 Apr 2027, 18:00" in reply.text, reply.text
    (nxt,) = [line for line in reply.text.splitlines() if line.startswith("Next:")]
    assert nxt == "Next: Fri 02 Apr 2027, 17:00 UTC"
