"""No secret in the logs of real `soonish api` and `soonish worker` processes running at DEBUG."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from bot.embedded import DevServer, free_port
from tests.core.test_logs import (
    BOT_TOKEN,
    HEADER_VALUE,
    PASSWORD,
    PATH_TOKEN,
    QUERY_VALUE,
    SLACK_TOKEN,
    TOPIC,
    assert_clean,
)
from tests.processes import Process, run_soonish, stack_env, until_up, wait_until
from tests.sinks import HttpSink


async def test_api_and_worker_logs_hold_no_secret_at_debug(
    tmp_path: Path, dev_server: DevServer, sink: HttpSink
) -> None:
    """Test sends (one failing, to an ntfy topic) by the api, and a webhook channel reminder and an ntfy reminder
    by the worker, log no secret at DEBUG; both processes log the (masked) request lines of Apprise's client."""
    port = free_port()
    env = stack_env(
        tmp_path,
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'soonish.db'}",
        temporal_address=dev_server.address,
        name="logs",
        api_port=port,
        SOONISH_LOG_LEVEL="DEBUG",
        DISCORD_TOKEN=BOT_TOKEN,
        SLACK_BOT_TOKEN=SLACK_TOKEN,
    )
    key = run_soonish(["api-key", "create", "--name", "alice"], env, tmp_path).strip().splitlines()[-1]
    hook = f"/hook/{PATH_TOKEN}?q={QUERY_VALUE}"
    url = f"json://user:{PASSWORD}@127.0.0.1:{sink.port}/hook/{PATH_TOKEN}?-q={QUERY_VALUE}&+X-Token={HEADER_VALUE}"
    api = Process("api", ["api"], env, tmp_path)
    worker = Process("worker", ["worker"], env, tmp_path)
    try:
        await api.wait_for_output("Press Ctrl-C to stop.")
        await worker.wait_for_output("Press Ctrl-C to stop.")
        headers = {"Authorization": f"Bearer {key}"}
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=30) as client:
            await until_up(client)
            added = await client.post("/integrations", json={"url": url, "label": "hook"})
            assert added.status_code == 201, added.text
            assert (await client.post("/integrations/hook/test")).json()["delivered"] is True
            topic = await client.post("/integrations", json={"url": f"ntfy://127.0.0.1:{sink.port}/{TOPIC}"})
            assert topic.status_code == 201, topic.text
            sink.fail_next("/", 500)
            assert (await client.post(f"/integrations/{topic.json()['id']}/test")).json()["delivered"] is False
            start = (datetime.now(UTC) + timedelta(seconds=6)).isoformat()
            body = {"name": "Secret", "start_time": start, "channel_url": url, "default_time_delta_seconds": [3]}
            event = await client.post("/events", json=body)
            assert event.status_code == 201, event.text
            # Alice is reminded on her ntfy topic too, which the worker sends through Apprise's own plugin.
            subscribed = await client.post(
                f"/events/{event.json()['id']}/subscribe", json={"tags": ["ntfy"], "custom_time_delta_seconds": [3]}
            )
            assert subscribed.status_code == 201, subscribed.text
            await wait_until(lambda: len(sink.to(hook)) >= 2 and len(sink.to("/")) >= 1, timeout=30)
    finally:
        codes = [await api.stop(), await worker.stop()]
    assert codes == [0, 0]
    assert all(r.headers["X-Token"] == HEADER_VALUE for r in sink.to(hook))  # the secrets were on the wire
    for process in (api, worker):
        log = process.output()
        assert_clean(log)
        assert "DEBUG urllib3.connectionpool" in log, f"{process.name} logged no request line:\n{log[-2000:]}"
    assert "Apprise ntfy plugin reported a warning (HTTP status 500)" in api.output()
