"""Fan-out on the real dev server, in real time: an event with more subscribers than one batch."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.embedded import DevServer
from bot.runtime import Runtime, open_runtime
from core.models import EventParticipant, User
from core.service import EventDraft, create_event, subscribe
from tests.conftest import MEMBER, ORGANIZER, make_settings
from workflows.messages import CHUNK_SIZE as BATCH_SIZE


@pytest.fixture
async def live(tmp_path: Path, sqlite_url: str, dev_server: DevServer) -> AsyncIterator[Runtime]:
    """The core and a worker on the dev server, over a fresh SQLite file."""
    async with open_runtime(make_settings(tmp_path, sqlite_url, dev_server.address)) as rt, rt.worker():
        yield rt


async def test_large_subscriber_list_is_sent_in_batches_once_each(live: Runtime) -> None:
    """An event with more subscribers than one batch reaches every one of them exactly once."""
    core = live.core
    start = core.clock() + timedelta(seconds=12)
    event = await create_event(core=core, actor=ORGANIZER, draft=EventDraft(name="Town hall", start=start))
    count = BATCH_SIZE * 2 + 37
    async with core.sessions.begin() as session:
        users = [User(platform="console", tenant="guild-a", platform_user_id=f"u{i}") for i in range(count)]
        session.add_all(users)
        await session.flush()
        session.add_all(
            EventParticipant(
                event_id=event.id, user_id=u.id, tags="dm", custom_time_delta_seconds="5", joined_at=core.clock()
            )
            for u in users
        )
    received: list[str] = []

    def listener(who: str, title: str, body: str) -> None:
        received.append(who)

    core.sender.console.listen(listener)
    try:
        await subscribe(core=core, actor=MEMBER, ref=event.code, custom_time_delta_seconds="5s")  # signals
        deadline = time.monotonic() + 60
        while len(received) < count + 1 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        await asyncio.sleep(1)
    finally:
        core.sender.console.unlisten(listener)
    assert len(received) == len(set(received)) == count + 1
