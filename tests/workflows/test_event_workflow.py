"""EventWorkflow on the time-skipping server: offsets, countdowns, moves, cancellation, collisions, lateness."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from core.models import NotificationLog
from core.service import EventDraft, add_integration, create_event, subscribe
from tests.conftest import MEMBER, ORGANIZER
from tests.sinks import HttpSink
from tests.workflows.conftest import Skipping, eventually


async def _log(sk: Skipping) -> list[NotificationLog]:
    async with sk.rt.core.sessions() as session:
        return list((await session.execute(select(NotificationLog).order_by(NotificationLog.id))).scalars())


async def test_offsets_fire_once_each(skipping: Skipping, sink: HttpSink) -> None:
    """A member reminded 1d and 1h before gets exactly those two reminders."""
    core = skipping.rt.core
    start = skipping.clock() + timedelta(days=2)
    event = await create_event(core=core, actor=ORGANIZER, draft=EventDraft(name="Raid", start=start))
    await add_integration(core=core, actor=MEMBER, url=sink.url("/m"), tags="hook")
    await subscribe(core=core, actor=MEMBER, ref=event.code, tags="hook", custom_time_delta_seconds="1d, 1h")
    await skipping.advance(timedelta(days=1, minutes=1))
    await eventually(lambda: _count(sink, "/m", 1))
    await skipping.advance(timedelta(hours=23))
    await eventually(lambda: _count(sink, "/m", 2))
    await skipping.advance(timedelta(hours=2))
    assert len(sink.to("/m")) == 2
    assert "starts in 1d" in sink.to("/m")[0].body["message"]
    assert "starts in 1h" in sink.to("/m")[1].body["message"]


async def _count(sink: HttpSink, path: str, n: int) -> bool:
    return len(sink.to(path)) >= n
