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
from sqlalchemy import insert, select

from bot.embedded import DevServer
from bot.runtime import Runtime, open_runtime
from core.models import EventParticipant, Integration, NotificationLog, User
from core.secrets import fingerprint
from core.service import EventDraft, add_integration, create_event, subscribe
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
    """One event whose EVENTS subscribers (each with a json:// hook to the sink) are all due `lead` s from now.

    The last subscriber goes through the service (which plans the event); the others are stored in bulk, as
    their `/subscribe` commands would have left them, so the setup fits well before the instant.
    """
    core = s.rt.core
    due = (core.clock() + timedelta(seconds=lead)).replace(microsecond=0)
    event = await create_event(
        core=core, actor=ORGANIZER, draft=EventDraft(name="Burst", start=due + timedelta(minutes=10))
    )
    now = core.clock()
    async with core.sessions.begin() as session:
        await session.execute(
            insert(User),
            [{"platform": "console", "tenant": "guild-a", "platform_user_id": f"e{i}"} for i in range(1, EVENTS)],
        )
        users = (await session.execute(select(User.id, User.platform_user_id).where(User.tenant == "guild-a"))).all()
        members = [(uid, name) for uid, name in users if name.startswith("e")]
        await session.execute(
            insert(Integration),
            [
                {
                    "user_id": uid,
                    "label": name,
                    "url_encrypted": core.secrets.encrypt(sink.url(f"/{name}")),
                    "url_fingerprint": fingerprint(sink.url(f"/{name}")),
                    "masked_url": "json://127.0.0.1/***",
                    "tags": "hook",
                }
                for uid, name in members
            ],
        )
        await session.execute(
            insert(EventParticipant),
            [
                {
                    "event_id": event.id,
                    "user_id": uid,
                    "tags": "hook",
                    "custom_time_delta_seconds": "600",
                    "custom_frequency": "none",
                    "joined_at": now,
                }
                for uid, _ in members
            ],
        )
    last = Actor(platform="console", tenant="guild-a", user_id="e0", display_name="E0")
    await add_integration(core=core, actor=last, url=sink.url("/e0"), tags="hook")
    await subscribe(core=core, actor=last, ref=event.code, tags="hook", custom_time_delta_seconds="10m")
    assert core.clock() < due - timedelta(seconds=3), "setup took too long for the chosen lead"
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
        await _burst(setup, sink, lead=20)
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
    await _burst(setup, sink, lead=20)
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
    late = [r for r in rows if r.status == "sent" and arrived[f"/{names[r.user_id or 0]}"] > killed_at]
    assert late and all(r.late for r in late)


async def _names(s: Setup) -> dict[int, str]:
    """User id to platform user id (the path of their hook)."""
    async with s.rt.core.sessions() as session:
        return {uid: name for uid, name in (await session.execute(select(User.id, User.platform_user_id))).all()}
