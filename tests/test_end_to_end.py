"""The whole reminder path on the real dev server: HTTP API -> core -> workflow -> Apprise -> a local HTTP sink.

The API and the worker run as `soonish api` and `soonish worker` processes, as in production.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.client import Client

from bot.embedded import DevServer, free_port
from core.scheduling import workflow_id
from tests.processes import Process, run_soonish, stack_env, until_up, wait_until
from tests.sinks import HttpSink

PASSWORD = "S3cretPassw0rdXY"
TOKEN = "tok3nQ9ZZ81abc"


@dataclass
class Stack:
    """A running API and worker over one SQLite file, and an API client with a key."""

    api: httpx.AsyncClient
    worker: Process
    api_process: Process
    env: dict[str, str]
    data_dir: Path
    database: Path
    restarts: int = 0

    def restart_worker(self) -> None:
        self.restarts += 1
        self.worker = Process(f"worker-{self.restarts}", ["worker"], self.env, self.data_dir)


@pytest.fixture
async def stack(tmp_path: Path, dev_server: DevServer) -> AsyncIterator[Stack]:
    """`soonish api` and `soonish worker` against the dev server; both must stop cleanly at the end."""
    database = tmp_path / "soonish.db"
    port = free_port()
    env = stack_env(
        tmp_path,
        database_url=f"sqlite+aiosqlite:///{database}",
        temporal_address=dev_server.address,
        name="e2e",
        api_port=port,
        SOONISH_LATE_AFTER_SECONDS="1",
        SOONISH_LOG_LEVEL="DEBUG",
    )
    run_soonish(["migrate"], env, tmp_path)
    key = run_soonish(["api-key", "create", "--name", "alice"], env, tmp_path).strip().splitlines()[-1]
    api = Process("api", ["api"], env, tmp_path)
    worker = Process("worker", ["worker"], env, tmp_path)
    s = None
    try:
        await api.wait_for_output("Press Ctrl-C to stop.")
        await worker.wait_for_output("Press Ctrl-C to stop.")
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as client:
            await until_up(client)
            s = Stack(api=client, worker=worker, api_process=api, env=env, data_dir=tmp_path, database=database)
            yield s
    finally:
        codes = [await p.stop() for p in (api, s.worker if s else worker)]
    assert codes == [0, 0], "a process did not exit cleanly"


def _in(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


async def _post(api: httpx.AsyncClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await api.post(path, json=body)
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


async def test_reminder_arrives_on_time_exactly_once(stack: Stack, sink: HttpSink) -> None:
    """A member's reminder and the channel's reach the sink within a second of the due instant, once each."""
    event = await _post(
        stack.api,
        "/events",
        {
            "name": "Launch",
            "start_time": _in(9),
            "channel_url": sink.url("/channel"),
            "default_time_delta_seconds": [4],
        },
    )
    await _post(stack.api, "/integrations", {"url": sink.url("/member"), "tags": ["hook"]})
    sub = await _post(
        stack.api, f"/events/{event['id']}/subscribe", {"tags": ["hook"], "custom_time_delta_seconds": [4]}
    )
    due = datetime.fromisoformat(sub["next_reminders"][0]).timestamp()
    await wait_until(lambda: sink.to("/member") and sink.to("/channel"), timeout=20)
    await asyncio.sleep(2)
    for path in ("/member", "/channel"):
        received = sink.to(path)
        assert len(received) == 1
        assert 0 <= received[0].at - due < 1.0, f"{path} arrived {received[0].at - due:.3f}s after due"
        assert received[0].body["title"] == "Reminder: Launch"
    log = (await stack.api.get(f"/events/{event['id']}/deliveries")).json()
    assert sorted(row["status"] for row in log) == ["sent", "sent"]


async def test_member_who_subscribes_just_before_the_instant_still_gets_it(stack: Stack, sink: HttpSink) -> None:
    """A member who subscribes 1.5 s before a reminder instant, when its sends are already under way (they start
    3 s ahead), gets that reminder too, once; the member already subscribed gets theirs once and on time."""
    event = await _post(stack.api, "/events", {"name": "Drop-in", "start_time": _in(16)})
    await _post(stack.api, "/integrations", {"url": sink.url("/early"), "tags": ["hook"]})
    sub = await _post(
        stack.api, f"/events/{event['id']}/subscribe", {"tags": ["hook"], "custom_time_delta_seconds": [6]}
    )
    due = datetime.fromisoformat(sub["next_reminders"][0]).timestamp()
    bob = run_soonish(["api-key", "create", "--name", "bob"], stack.env, stack.data_dir).strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {bob}"}
    added = await stack.api.post("/integrations", json={"url": sink.url("/late"), "tags": ["hook"]}, headers=headers)
    assert added.status_code == 201, added.text
    await asyncio.sleep(max(0.0, due - 1.5 - time.time()))
    late = await stack.api.post(
        f"/events/{event['id']}/subscribe",
        json={"tags": ["hook"], "custom_time_delta_seconds": [6]},
        headers=headers,
    )
    assert late.status_code == 201, late.text
    assert time.time() < due, "the late subscribe itself came after the instant"
    await wait_until(lambda: sink.to("/early") and sink.to("/late"), timeout=20)
    await asyncio.sleep(2)
    assert [len(sink.to(p)) for p in ("/early", "/late")] == [1, 1]
    assert 0 <= sink.to("/early")[0].at - due < 1.0
    assert sink.to("/late")[0].body["title"] == "Reminder: Drop-in"


async def test_failing_destination_is_retried_alone(stack: Stack, sink: HttpSink) -> None:
    """A destination answering 500 twice gets the reminder once on the third try; its healthy sibling only once."""
    event = await _post(stack.api, "/events", {"name": "Retry", "start_time": _in(8)})
    await _post(stack.api, "/integrations", {"url": sink.url("/flaky"), "tags": ["hook"], "label": "flaky"})
    await _post(stack.api, "/integrations", {"url": sink.url("/healthy"), "tags": ["hook"], "label": "healthy"})
    sink.fail_next("/flaky", 500, 500)
    await _post(stack.api, f"/events/{event['id']}/subscribe", {"tags": ["hook"], "custom_time_delta_seconds": [4]})
    await wait_until(lambda: sink.to("/flaky"), timeout=30)
    await asyncio.sleep(1)
    assert len(sink.to("/flaky")) == 1
    assert sink.attempts["/flaky"] == 3
    assert len(sink.to("/healthy")) == 1
    assert sink.attempts["/healthy"] == 1
    log = (await stack.api.get(f"/events/{event['id']}/deliveries")).json()
    assert sorted((row["status"], row["attempts"]) for row in log) == [("sent", 1), ("sent", 3)]


async def test_worker_killed_before_due_still_delivers_once_marked_late(stack: Stack, sink: HttpSink) -> None:
    """With the worker killed before the due time and restarted after it, the reminder goes out once, marked late."""
    # The start is well after the due instant, so a restarted worker slow to come up still finds it useful.
    event = await _post(stack.api, "/events", {"name": "Crash", "start_time": _in(30)})
    await _post(stack.api, "/integrations", {"url": sink.url("/m"), "tags": ["hook"]})
    sub = await _post(
        stack.api, f"/events/{event['id']}/subscribe", {"tags": ["hook"], "custom_time_delta_seconds": [24]}
    )
    due = datetime.fromisoformat(sub["next_reminders"][0]).timestamp()
    await _wait_for_timer(stack, event["id"], sub["next_reminders"][0])
    stack.worker.kill()
    await asyncio.sleep(max(0.0, due - time.time()) + 2)
    assert sink.to("/m") == []
    stack.restart_worker()
    await wait_until(lambda: sink.to("/m"), timeout=45)
    await asyncio.sleep(1.5)
    assert len(sink.to("/m")) == 1
    assert "late" in sink.to("/m")[0].body["message"]
    log = (await stack.api.get(f"/events/{event['id']}/deliveries")).json()
    assert [(row["status"], row["late"]) for row in log] == [("sent", True)]


async def _wait_for_timer(stack: Stack, event_id: int, due: str) -> None:
    """Wait until the event's workflow has planned the reminder (so the kill lands while it sleeps)."""
    client = await Client.connect(stack.env["TEMPORAL_ADDRESS"])
    handle = client.get_workflow_handle(workflow_id(stack.env["SOONISH_INSTANCE"], event_id))
    expected = datetime.fromisoformat(due)
    for _ in range(200):
        if expected in await handle.query("upcoming", result_type=list[datetime]):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the workflow never planned the reminder")


async def test_secrets_never_appear_in_clear(stack: Stack, sink: HttpSink) -> None:
    """A URL's password and token are not in any API answer, process log, or the database file."""
    url = sink.url("/secret").replace("json://", f"json://user:{PASSWORD}@") + f"?+X-Token={TOKEN}"
    event = await _post(
        stack.api,
        "/events",
        {"name": "Secret", "start_time": _in(16), "channel_url": url, "default_time_delta_seconds": [8]},
    )
    added = await stack.api.post("/integrations", json={"url": url, "tags": ["hook"]})
    listed = await stack.api.get("/integrations")
    await _post(stack.api, f"/events/{event['id']}/subscribe", {"tags": ["hook"], "custom_time_delta_seconds": [8]})
    await wait_until(lambda: len(sink.to("/secret")) >= 2, timeout=30)
    assert sink.to("/secret")[0].headers.get("X-Token") == TOKEN  # the secret did its job...
    answers = [
        added.text,
        listed.text,
        (await stack.api.get(f"/events/{event['id']}")).text,
        (await stack.api.get(f"/events/{event['id']}/deliveries")).text,
    ]
    await stack.worker.stop()
    stack.restart_worker()  # (so the fixture can stop it again cleanly)
    await stack.worker.wait_for_output("Press Ctrl-C to stop.")
    stored = b"".join(p.read_bytes() for p in stack.data_dir.glob("soonish.db*"))
    logs = "".join(path.read_text() for path in stack.data_dir.glob("*.log"))
    for secret in (PASSWORD, TOKEN):  # ...and is nowhere else
        assert all(secret not in answer for answer in answers)
        assert secret not in logs
        assert secret.encode() not in stored
