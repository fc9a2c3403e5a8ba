"""Many reminders at one instant on real `soonish worker` processes: shared by two workers, and a worker killed
mid-instant; every destination gets its reminder at most once and every log row ends settled."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.embedded import DevServer
from bot.runtime import Runtime, open_runtime
from core.models import Event, NotificationLog
from core.service import EventDraft, create_event
from core.views import Actor
from tests.conftest import make_settings
from tests.processes import Process, soonish_env
from tests.sinks import HttpSink
from workflows.slot_workflow import SEND_HEARTBEAT

EVENTS = 300
# Events with a typed channel URL come from the HTTP API.
ORGANIZER = Actor(platform="api", tenant="guild-a", user_id="org", display_name="Olga")
# A duplicate from a taken-over chunk would come within a heartbeat timeout and the first retry's backoff.
PAST_RETRIES = SEND_HEARTBEAT.total_seconds() + 5


@dataclass
class Setup:
    """The core in this process (no worker) and the environment of worker processes on the same database."""

    rt: Runtime
    env: dict[str, str]
    data_dir: Path


@pytest.fixture
async def setup(tmp_path: Path, dev_server: DevServer) -> AsyncIterator[Setup]:
    """A core on a SQLite file; workers are started by each test as separate processes."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'soonish.db'}"
    settings = make_settings(tmp_path, url, dev_server.address, SOONISH_ALLOW_PRIVATE_URLS=True)
    env = soonish_env(
        tmp_path,
        DATABASE_URL=url,
        TEMPORAL_ADDRESS=dev_server.address,
        SOONISH_INSTANCE=settings.instance,
        TEMPORAL_TASK_QUEUE=settings.temporal_task_queue,
        SOONISH_ALLOW_PRIVATE_URLS="true",
        SOONISH_LATE_AFTER_SECONDS="1",
        SOONISH_SEND_AHEAD_SECONDS="1",
    )
    async with open_runtime(settings) as rt:
        yield Setup(rt=rt, env=env, data_dir=tmp_path)


async def _burst(s: Setup, sink: HttpSink, lead: float) -> datetime:
    """EVENTS events whose channel reminders all fall on one instant `lead` seconds from now."""
    due = (s.rt.core.clock() + timedelta(seconds=lead)).replace(microsecond=0)
    for i in range(EVENTS):
        await create_event(
            core=s.rt.core,
            actor=ORGANIZER,
            draft=EventDraft(
                name=f"Event {i}",
                start=due + timedelta(minutes=10),
                default_offsets="10m",
                channel_url=sink.url(f"/e{i}"),
            ),
        )
    assert s.rt.core.clock() < due - timedelta(seconds=3), "setup took too long for the chosen lead"
    return due


async def _rows(s: Setup) -> list[NotificationLog]:
    async with s.rt.core.sessions() as session:
        return list((await session.execute(select(NotificationLog))).scalars())


async def _settled(s: Setup, timeout: float) -> list[NotificationLog]:
    deadline = time.monotonic() + timeout
    while True:
        rows = await _rows(s)
        if len(rows) == EVENTS and all(r.status != "pending" for r in rows):
            return rows
        assert time.monotonic() < deadline, f"{sum(r.status == 'pending' for r in rows)} of {len(rows)} still pending"
        await asyncio.sleep(0.2)


async def _workers(s: Setup, *names: str) -> list[Process]:
    workers = [Process(name, ["worker"], s.env, s.data_dir) for name in names]
    for w in workers:
        await w.wait_for_output("Press Ctrl-C to stop.")
    return workers


async def test_two_workers_share_a_burst_and_deliver_each_once(setup: Setup, sink: HttpSink) -> None:
    """Two worker processes on one instant of 300 reminders deliver every one of them exactly once."""
    workers = await _workers(setup, "worker-a", "worker-b")
    try:
        await _burst(setup, sink, lead=40)
        rows = await _settled(setup, timeout=60)
        await asyncio.sleep(PAST_RETRIES)
    finally:
        codes = [await w.stop() for w in workers]
    assert codes == [0, 0]
    counts = Counter(r.path for r in sink.received)
    assert len(counts) == EVENTS
    assert set(counts.values()) == {1}
    assert Counter(r.status for r in rows) == {"sent": EVENTS}


async def test_worker_killed_mid_instant_sends_each_at_most_once(setup: Setup, sink: HttpSink) -> None:
    """A worker killed while sending an instant and restarted 3 s later: nothing twice, the rest late, none pending."""
    sink.delay = 0.05  # slow enough that the kill lands in the middle of the instant
    [worker] = await _workers(setup, "worker-1")
    await _burst(setup, sink, lead=40)
    deadline = time.monotonic() + 60
    while not sink.received:
        assert time.monotonic() < deadline, "nothing was sent"
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.5)
    worker.kill()
    killed_at = time.time()
    before = len(sink.received)
    await asyncio.sleep(3)
    [worker] = await _workers(setup, "worker-2")
    try:
        rows = await _settled(setup, timeout=90)
        await asyncio.sleep(PAST_RETRIES)
    finally:
        assert await worker.stop() == 0
    counts = Counter(r.path for r in sink.received)
    assert set(counts.values()) == {1}, "a destination got its reminder twice"
    assert 0 < before < EVENTS, "the kill did not land mid-instant"
    status = Counter(r.status for r in rows)
    interrupted = [r for r in rows if r.status == "failed" and "interrupted" in (r.error or "")]
    assert status["sent"] + len(interrupted) == EVENTS
    assert len(counts) >= status["sent"]
    arrived = {r.path: r.at for r in sink.received}
    names = await _names(setup)
    late = [r for r in rows if r.status == "sent" and arrived[f"/e{names[r.event_id]}"] > killed_at]
    assert late and all(r.late for r in late)


async def _names(s: Setup) -> dict[int, str]:
    """Event id to the number in its name (the path of its channel)."""
    async with s.rt.core.sessions() as session:
        return {e.id: e.name.split()[-1] for e in (await session.execute(select(Event))).unique().scalars()}
