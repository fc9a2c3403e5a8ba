"""The production shape end to end: `soonish migrate`, one API and two workers as processes on PostgreSQL.

Reminders of several events reach the sink once each, on time, whichever worker runs them; with one
worker killed, the other carries on.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.embedded import DevServer, free_port
from tests.processes import Process, run_soonish, stack_env
from tests.sinks import HttpSink

# The send activity's retries back off 1 s, then 2 s: a duplicate from a retry would land within this.
PAST_BACKOFF = 3.5


@dataclass
class Production:
    api: httpx.AsyncClient
    workers: list[Process]
    sink: HttpSink


@pytest.fixture(scope="module")
async def production(
    tmp_path_factory: pytest.TempPathFactory, postgres_admin: str | None, dev_server: DevServer
) -> AsyncIterator[Production]:
    """A migrated PostgreSQL database, `soonish api` and two `soonish worker` processes, shared by this module.

    The workers run with SOONISH_MIGRATE_ON_START=false, as in production. One member, whose destination is
    the sink, subscribes to every event.
    """
    tmp_path = tmp_path_factory.mktemp("production")
    if postgres_admin is None:
        pytest.skip("no PostgreSQL server reachable")
    import asyncpg

    conn = await asyncpg.connect(postgres_admin.replace("+asyncpg", ""))
    await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    await conn.close()
    port = free_port()
    env = stack_env(
        tmp_path,
        database_url=postgres_admin,
        temporal_address=dev_server.address,
        name="pg",
        api_port=port,
        SOONISH_MIGRATE_ON_START="false",
    )
    run_soonish(["migrate"], env, tmp_path)
    key = run_soonish(["api-key", "create", "--name", "ops"], env, tmp_path).strip().splitlines()[-1]
    processes = [Process("api", ["api"], env, tmp_path)] + [
        Process(f"worker-{n}", ["worker"], env, tmp_path) for n in (1, 2)
    ]
    sink = HttpSink()
    try:
        await asyncio.gather(*(p.wait_for_output("Press Ctrl-C to stop.") for p in processes))
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as api:
            await _post(api, "/integrations", {"url": sink.url("/member"), "tags": ["hook"]})
            yield Production(api=api, workers=processes[1:], sink=sink)
    finally:
        codes = [await p.stop() for p in processes if p.popen.returncode is None]
        sink.close()
    assert set(codes) <= {0}, "a process did not exit cleanly"


async def _post(api: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(path, json=body)
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


async def _event_with_member(api: httpx.AsyncClient, sink: HttpSink, name: str, start_in: float) -> float:
    """An event with a channel and one member reminded 3 s before its start; the reminder's due instant."""
    start = (datetime.now(UTC) + timedelta(seconds=start_in)).isoformat()
    body = {
        "name": name,
        "start_time": start,
        "channel_url": sink.url(f"/{name}/channel"),
        "default_time_delta_seconds": [3],
    }
    event = await _post(api, "/events", body)
    sub = await _post(api, f"/events/{event['id']}/subscribe", {"tags": ["hook"], "custom_time_delta_seconds": [3]})
    return datetime.fromisoformat(sub["next_reminders"][0]).timestamp()


async def _until(predicate: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def _member_reminders(sink: HttpSink, name: str) -> int:
    return sum(1 for r in sink.to("/member") if r.body["title"] == f"Reminder: {name}")


async def test_two_workers_on_postgres_deliver_each_reminder_once_on_time(production: Production) -> None:
    """Four events' channel and member reminders, spread over two workers, each arrive once within a second."""
    sink = production.sink
    names = [f"e{n}" for n in range(4)]
    dues = {name: await _event_with_member(production.api, sink, name, 8) for name in names}
    await _until(lambda: all(sink.to(f"/{n}/channel") and _member_reminders(sink, n) for n in names), 25)
    await asyncio.sleep(PAST_BACKOFF)
    for name in names:
        (received,) = sink.to(f"/{name}/channel")
        assert 0 <= received.at - dues[name] < 1.0
        assert _member_reminders(sink, name) == 1


async def test_with_one_worker_killed_the_other_delivers(production: Production) -> None:
    """After one of the two workers is killed, a reminder still arrives once, from the other."""
    sink = production.sink
    production.workers[0].kill()
    await _event_with_member(production.api, sink, "survivor", 7)
    # The reminder is due 4 s from now, the event starts 3 s later. A task waiting for the killed worker (the next
    # task of a workflow it had cached, or an activity handed to it as it died) goes to the other within 3 s (the
    # sticky queue's timeout) or 5 s (the heartbeat timeout): before the start, so the reminder is still sent.
    await _until(lambda: sink.to("/survivor/channel") and _member_reminders(sink, "survivor"), 20)
    await asyncio.sleep(PAST_BACKOFF)
    assert len(sink.to("/survivor/channel")) == 1
    assert _member_reminders(sink, "survivor") == 1
