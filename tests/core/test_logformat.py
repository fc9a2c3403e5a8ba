"""LOG_FORMAT=json: each record is one JSON object with the event id, workflow id and front end as fields."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bot.embedded import DevServer, free_port
from core.logformat import JsonFormatter, log_fields
from tests.processes import Process, run_soonish, stack_env
from tests.sinks import HttpSink


def _format(record: logging.LogRecord) -> dict[str, object]:
    line = JsonFormatter().format(record)
    assert "\n" not in line
    parsed: dict[str, object] = json.loads(line)
    return parsed


def _record(message: str, **extra: object) -> logging.LogRecord:
    record = logging.LogRecord("soonish.test", logging.WARNING, __file__, 1, message, (), None)
    record.__dict__.update(extra)
    return record


def test_fields_come_from_the_log_context() -> None:
    """Inside log_fields, a record carries the front end and the event id it was given."""
    with log_fields(frontend="discord", event_id=42):
        entry = _format(_record("hello %s"))
    assert entry["frontend"] == "discord"
    assert entry["event_id"] == 42
    assert entry["message"] == "hello %s"
    assert entry["level"] == "WARNING"


def test_temporal_activity_records_name_their_workflow_and_event() -> None:
    """A record from Temporal's activity logger names the workflow id and the event id taken from it."""
    entry = _format(_record("Completing activity as failed", temporal_activity={"workflow_id": "soonish-event-17"}))
    assert entry["workflow_id"] == "soonish-event-17"
    assert entry["event_id"] == 17


def test_an_exception_stays_inside_the_one_line() -> None:
    """A traceback is a field of the same JSON line, not lines of its own."""
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("soonish.test", logging.ERROR, __file__, 1, "failed", (), None)
        import sys

        record.exc_info = sys.exc_info()
    entry = _format(record)
    assert "ValueError: boom" in str(entry["exception"])


async def test_a_json_worker_logs_parseable_lines_with_the_workflow_and_no_secret(
    tmp_path: Path, dev_server: DevServer, sink: HttpSink
) -> None:
    """A worker with LOG_FORMAT=json retrying a failing destination writes JSON lines naming the workflow, no secret."""
    api_port = free_port()
    env = stack_env(
        tmp_path,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'soonish.db'}",
        temporal_address=dev_server.address,
        name="j",
        api_port=api_port,
        SOONISH_LOG_LEVEL="DEBUG",
        LOG_FORMAT="json",
    )
    run_soonish(["migrate"], env, tmp_path)
    key = run_soonish(["api-key", "create", "--name", "ops"], env, tmp_path).strip().splitlines()[-1]
    secret_url = sink.url("/fail").replace("json://", "json://user:s3cretpass@") + "?token=abcdef123"
    sink.fail_next("/fail", 500, 500, 500)
    processes = [Process("api", ["api"], env, tmp_path), Process("worker", ["worker"], env, tmp_path)]
    try:
        await asyncio.gather(*(p.wait_for_output("Press Ctrl-C to stop.") for p in processes))
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{api_port}", headers=headers, timeout=30) as api:
            start = (datetime.now(UTC) + timedelta(seconds=5)).isoformat()
            event = (await api.post("/events", json={"name": "Logged", "start_time": start})).json()
            assert (await api.post("/integrations", json={"url": secret_url, "tags": ["hook"]})).status_code == 201
            body = {"tags": ["hook"], "custom_time_delta_seconds": [3]}
            assert (await api.post(f"/events/{event['id']}/subscribe", json=body)).status_code == 201
            deadline = time.monotonic() + 30
            while sink.attempts["/fail"] < 2:
                assert time.monotonic() < deadline, "the destination was not retried"
                await asyncio.sleep(0.05)
    finally:
        codes = [await p.stop() for p in processes]
    assert codes == [0, 0]
    output = processes[1].output()
    entries = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert entries, output[-2000:]
    workflow = f"j{api_port}-event-{event['id']}"
    assert any(e.get("workflow_id") == workflow and e.get("event_id") == event["id"] for e in entries), output[-3000:]
    assert "s3cretpass" not in output and "abcdef123" not in output
