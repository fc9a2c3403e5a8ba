"""/healthz, /readyz and /metrics: on the API, and on SOONISH_METRICS_PORT of a worker, over real HTTP."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from bot.api.server import make_server
from bot.embedded import DevServer, free_port
from bot.probes import Probes, probe_app
from bot.runtime import open_runtime
from tests.conftest import make_settings
from tests.processes import Process, run_soonish, stack_env
from tests.proxy import TcpProxy
from tests.sinks import HttpSink


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """Serve `app` on a free loopback port and yield a client for it."""
    port = free_port()
    server = make_server(app, host="127.0.0.1", port=port)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not task.done(), "the server stopped before it started"
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client
    finally:
        server.should_exit = True
        await task


def sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus text page (0 when absent)."""
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            found = dict(re.findall(r'(\w+)="([^"]*)"', line.split("}")[0]))
            if all(found.get(k) == v for k, v in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_readyz_turns_false_when_temporal_stops(tmp_path: Path, sqlite_url: str) -> None:
    """/readyz answers 200 with database and Temporal reachable, and 503 naming Temporal once it is stopped."""
    temporal = await DevServer.start(db_file=None, headless=True)
    try:
        async with open_runtime(make_settings(tmp_path, sqlite_url, temporal.address)) as rt:
            probes = Probes(sessions=rt.core.sessions, client=rt.client)
            async with serve(probe_app(probes)) as http:
                before = await http.get("/readyz")
                temporal.stop()
                after = await http.get("/readyz")
                alive = await http.get("/healthz")
    finally:
        temporal.stop()
    assert (before.status_code, before.json()) == (200, {"ready": True, "database": "ok", "temporal": "ok"})
    assert after.status_code == 503
    assert after.json()["ready"] is False
    assert after.json()["database"] == "ok"
    assert after.json()["temporal"] != "ok"
    assert (alive.status_code, alive.json()) == (200, {"alive": True})


async def test_readyz_turns_false_when_the_database_stops(
    tmp_path: Path, postgres_admin: str | None, dev_server: DevServer
) -> None:
    """/readyz answers 503 naming the database once PostgreSQL is unreachable, and the password never shows."""
    if postgres_admin is None:
        pytest.skip("no PostgreSQL server reachable")
    proxy = await TcpProxy("127.0.0.1:5432").start()
    url = postgres_admin.replace("@127.0.0.1:5432/", f":pw-never-shown@{proxy.address}/")
    try:
        async with open_runtime(make_settings(tmp_path, url, dev_server.address)) as rt:
            probes = Probes(sessions=rt.core.sessions, client=rt.client)
            async with serve(probe_app(probes)) as http:
                before = await http.get("/readyz")
                await proxy.stop()
                after = await http.get("/readyz")
    finally:
        await proxy.stop()
    assert before.json() == {"ready": True, "database": "ok", "temporal": "ok"}
    assert after.status_code == 503
    assert after.json()["database"] != "ok"
    assert after.json()["temporal"] == "ok"
    assert "pw-never-shown" not in after.text and str(proxy.port) not in after.text


async def test_metrics_count_a_delivery_and_its_lateness(tmp_path: Path, dev_server: DevServer, sink: HttpSink) -> None:
    """A worker with SOONISH_METRICS_PORT counts a sent reminder, records its lateness, and shows Temporal's metrics."""
    api_port, metrics_port = free_port(), free_port()
    env = stack_env(
        tmp_path,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'soonish.db'}",
        temporal_address=dev_server.address,
        name="m",
        api_port=api_port,
        SOONISH_METRICS_PORT=str(metrics_port),
    )
    run_soonish(["migrate"], env, tmp_path)
    key = run_soonish(["api-key", "create", "--name", "ops"], env, tmp_path).strip().splitlines()[-1]
    processes = [Process("api", ["api"], env, tmp_path), Process("worker", ["worker"], env, tmp_path)]
    try:
        await asyncio.gather(*(p.wait_for_output("Press Ctrl-C to stop.") for p in processes))
        async with (
            httpx.AsyncClient(
                base_url=f"http://127.0.0.1:{api_port}", headers={"Authorization": f"Bearer {key}"}, timeout=30
            ) as api,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{metrics_port}", timeout=30) as worker,
        ):
            start = (datetime.now(UTC) + timedelta(seconds=6)).isoformat()
            event = (await api.post("/events", json={"name": "Metered", "start_time": start})).json()
            await api.post("/integrations", json={"url": sink.url("/m"), "tags": ["hook"]})
            await api.post(
                f"/events/{event['id']}/subscribe", json={"tags": ["hook"], "custom_time_delta_seconds": [3]}
            )
            deadline = time.monotonic() + 20
            while not sink.to("/m"):
                assert time.monotonic() < deadline, "the reminder never arrived"
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)
            worker_metrics = (await worker.get("/metrics")).text
            api_metrics = (await api.get("/metrics")).text
            ready = (await worker.get("/readyz")).json()
    finally:
        codes = [await p.stop() for p in processes]
    assert codes == [0, 0]
    sent = {"status": "sent", "kind": "reminder", "platform": "json"}
    assert sample(worker_metrics, "soonish_deliveries_total", **sent) == 1
    assert sample(worker_metrics, "soonish_delivery_lateness_seconds_count", kind="reminder") == 1
    assert sample(worker_metrics, "soonish_delivery_lateness_seconds_sum", kind="reminder") < 1
    assert sample(worker_metrics, "soonish_send_duration_seconds_count", platform="json", result="ok") == 1
    assert "temporal_" in worker_metrics  # the SDK's own metrics, forwarded
    assert sample(api_metrics, "soonish_commands_total", frontend="api", command="POST /events", outcome="ok") == 1
    assert str(sink.port) not in worker_metrics + api_metrics
    assert ready == {"ready": True, "database": "ok", "temporal": "ok"}
