"""One event with many subscribers (default 10,000): time from the due instant to the last delivery.

Embedded default (SQLite file, embedded dev server, in-process worker). With `--scheme json` (the default)
every subscriber has one json:// integration pointing at a local HTTP sink (in its own process)
and each reminder is an HTTP POST; with `--scheme console` each is a direct message through the in-process
console destination, counted by a console listener. The event and one subscription go through
the service (so the workflow is started and signalled); the other participants are bulk-inserted with the ORM
models, which is what 9,999 `/subscribe` commands would have left in the database.

    .venv/bin/python bench/fanout.py [--subscribers 10000] [--send-ahead 20] [--lead 45] [--scheme json]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import tempfile
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client

from bench.common import (
    CpuMeter,
    Stats,
    bench_settings,
    count_activity_failures,
    embedded,
    machine,
    table,
    wait_for_quiet,
    worker_processes_of,
)
from bench.sink import SinkProcess
from bot.embedded import free_port
from core.models import EventParticipant, Integration, NotificationLog, User
from core.planning import slot_of, slot_workflow_id
from core.secrets import fingerprint
from core.service import EventDraft, add_integration, create_event, subscribe
from core.views import Actor

ORGANIZER = Actor(platform="console", tenant="bench", user_id="org", display_name="Organizer")
OFFSET = 60  # seconds before the start
CHUNK = 2000  # rows per bulk INSERT


async def main(
    subscribers: int, send_ahead: float, lead: float, wait: float, quiet: float, scheme: str, worker_processes: int
) -> int:
    print(f"machine: {machine()}")
    if quiet:
        print(wait_for_quiet(quiet))
    print(f"subscribers: {subscribers}, send-ahead: {send_ahead:g} s, scheme: {scheme}")
    sink = SinkProcess(free_port())
    tag = "hook" if scheme == "json" else "dm"
    deliveries: list[tuple[float, str]] = []
    lock = threading.Lock()

    def listener(user: str, title: str, body: str) -> None:
        with lock:
            deliveries.append((time.time(), user))

    failures = count_activity_failures()
    with tempfile.TemporaryDirectory(prefix="soonish-bench-") as tmp:
        settings = bench_settings(Path(tmp), SOONISH_SEND_AHEAD_SECONDS=send_ahead, SOONISH_ALLOW_PRIVATE_URLS=True)
        async with embedded(settings, worker=not worker_processes) as rt, worker_processes_of(rt, worker_processes):
            core = rt.core
            core.sender.console.listen(listener)
            t0 = datetime.now(UTC)
            due = (t0 + timedelta(seconds=lead)).replace(microsecond=0) + timedelta(seconds=1)
            start = due + timedelta(seconds=OFFSET)
            event = await create_event(core=core, actor=ORGANIZER, draft=EventDraft(name="Launch", start=start))

            began = time.perf_counter()
            joined = datetime.now(UTC)
            async with core.sessions.begin() as session:
                for lo in range(1, subscribers, CHUNK):
                    hi = min(subscribers, lo + CHUNK)
                    await session.execute(
                        insert(User),
                        [
                            {"platform": "console", "tenant": "bench", "platform_user_id": f"f{i}"}
                            for i in range(lo, hi)
                        ],
                    )
                users = (
                    await session.execute(
                        select(User.id, User.platform_user_id).where(
                            User.tenant == "bench", User.platform_user_id.like("f%")
                        )
                    )
                ).all()
                ids = [uid for uid, _ in users]
                if scheme == "json":
                    hooks = [
                        {
                            "user_id": uid,
                            "label": "hook",
                            "url_encrypted": core.secrets.encrypt(sink.url(f"/{name}")),
                            "url_fingerprint": fingerprint(sink.url(f"/{name}")),
                            "masked_url": "json://127.0.0.1/***",
                            "tags": "hook",
                        }
                        for uid, name in users
                    ]
                    for lo in range(0, len(hooks), CHUNK):
                        await session.execute(insert(Integration), hooks[lo : lo + CHUNK])
                rows = [
                    {
                        "event_id": event.id,
                        "user_id": uid,
                        "tags": tag,
                        "custom_time_delta_seconds": str(OFFSET),
                        "custom_frequency": "none",
                        "joined_at": joined,
                    }
                    for uid in ids
                ]
                for lo in range(0, len(rows), CHUNK):
                    await session.execute(insert(EventParticipant), rows[lo : lo + CHUNK])
            # The one real subscription: goes through the service and signals the workflow.
            if scheme == "json":
                await add_integration(
                    core=core,
                    actor=Actor(platform="console", tenant="bench", user_id="f0"),
                    url=sink.url("/f0"),
                    tags="hook",
                )
            await subscribe(
                core=core,
                actor=Actor(platform="console", tenant="bench", user_id="f0"),
                ref=event.code,
                tags=tag,
                custom_time_delta_seconds=[OFFSET],
            )
            insert_s = time.perf_counter() - began
            expected = len(rows) + 1
            margin = (due - datetime.now(UTC)).total_seconds() - send_ahead
            print(f"{expected} participants stored in {insert_s:.1f} s; reminder due at {due.isoformat()}")
            if margin < 1:
                print("WARNING: the setup ran into the wake-up time; raise --lead")

            wake = due - timedelta(seconds=send_ahead)
            await asyncio.sleep(max(0.0, (wake - datetime.now(UTC)).total_seconds() - 1))
            meter = CpuMeter(rt.dev_server.process.pid if rt.dev_server else None)
            deadline = due + timedelta(seconds=wait)

            def arrived() -> list[tuple[float, str]]:
                if scheme == "json":
                    return [(r.at, r.path) for r in sink.arrivals()]
                with lock:
                    return list(deliveries)

            def count() -> int:
                if scheme == "json":
                    return sink.count()
                with lock:
                    return len(deliveries)

            while await asyncio.to_thread(count) < expected and datetime.now(UTC) < deadline:
                await asyncio.sleep(0.2)
            cpu = meter.report()
            got = arrived()

            settle = time.monotonic() + 30
            while True:
                async with core.sessions() as session:
                    statuses = Counter(
                        (status, late)
                        for status, late in (
                            await session.execute(select(NotificationLog.status, NotificationLog.late))
                        ).all()
                    )
                if not any(s == "pending" for s, _ in statuses) or time.monotonic() > settle:
                    break
                await asyncio.sleep(0.5)

            batches = await _batches(rt.client, slot_workflow_id(settings.instance, slot_of(due)), due)
    sink.close()

    due_ts = due.timestamp()
    times = sorted(at - due_ts for at, _ in got)
    users = Counter(user for _, user in got)
    print()
    print(f"one event, {expected} subscribers ({scheme}), send-ahead {send_ahead:g} s; seconds after due")
    rows_out = [
        ["deliveries", len(got)],
        ["distinct recipients", len(users)],
        ["duplicates", sum(n - 1 for n in users.values() if n > 1)],
        ["first delivery", times[0] if times else float("nan")],
        ["median delivery", Stats(times).summary()["p50"]],
        ["last delivery", times[-1] if times else float("nan")],
        ["deliveries/s (first to last)", (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else float("nan")],
    ]
    print(table(["measure", "value"], rows_out))
    print(f"log rows (status, late): {dict(statuses)}")
    print(f"from 1 s before the wake-up to the last delivery: {cpu}")
    print("activity failures logged by the worker:", dict(failures) or "none")
    if batches:
        print()
        print(f"send_notifications activities (chunks of the slot), seconds after due: {len(batches)}")
        durations = [b[2] - b[1] for b in batches]
        d = Stats(durations).summary()
        waits = [b[1] - b[0] for b in batches]
        print(
            table(
                ["measure", "value"],
                [
                    ["first batch scheduled", batches[0][0]],
                    ["first batch started", batches[0][1]],
                    ["first batch completed", batches[0][2]],
                    ["last batch completed", batches[-1][2]],
                    ["batch duration p50", d["p50"]],
                    ["batch duration max", d["max"]],
                    ["gap between batches (schedule - previous completion) max", max(_gaps(batches), default=0.0)],
                    ["scheduled-to-started max", max(waits)],
                ],
            )
        )
    dup = sum(n - 1 for n in users.values() if n > 1)
    last = times[-1] if times else float("nan")
    print(
        f"RESULT fanout subscribers={expected} scheme={scheme} delivered={len(users)} duplicates={dup} "
        f"first_s={times[0] if times else float('nan'):.2f} p50_s={Stats(times).summary()['p50']:.2f} last_s={last:.2f}"
    )
    await asyncio.sleep(0.1)
    return 0 if len(users) == expected else 1


def _gaps(batches: list[tuple[float, float, float]]) -> list[float]:
    return [b[0] - a[2] for a, b in itertools.pairwise(batches)]


async def _batches(client: Client, wf_id: str, due: datetime) -> list[tuple[float, float, float]]:
    """(scheduled, started, completed) of each send_notifications activity, seconds after due."""
    handle = client.get_workflow_handle(wf_id)
    history = await handle.fetch_history()
    scheduled: dict[int, float] = {}
    started: dict[int, float] = {}
    out: list[tuple[float, float, float]] = []

    def sec(ev: Any) -> float:
        return float((ev.event_time.ToDatetime(tzinfo=UTC) - due).total_seconds())

    for ev in history.events:
        if (
            ev.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
            and ev.activity_task_scheduled_event_attributes.activity_type.name == "send_notifications"
        ):
            scheduled[ev.event_id] = sec(ev)
        elif ev.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            sid = ev.activity_task_started_event_attributes.scheduled_event_id
            if sid in scheduled:
                started[sid] = sec(ev)
        elif ev.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            sid = ev.activity_task_completed_event_attributes.scheduled_event_id
            if sid in scheduled:
                out.append((scheduled[sid], started.get(sid, float("nan")), sec(ev)))
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, default=10_000, help="subscribers of the one event (default 10000)")
    parser.add_argument("--send-ahead", type=float, default=20.0, help="SOONISH_SEND_AHEAD_SECONDS (default 20)")
    parser.add_argument("--lead", type=float, default=45.0, help="seconds from now to the due instant (default 45)")
    parser.add_argument("--wait", type=float, default=240.0, help="seconds after due to wait for deliveries")
    parser.add_argument(
        "--quiet-wait", type=float, default=0.0, help="wait up to this many seconds for an idle machine first"
    )
    parser.add_argument("--scheme", choices=["json", "console"], default="json", help="destination kind (default json)")
    parser.add_argument(
        "--workers", type=int, default=0, help="run N `soonish worker` processes instead of the in-process worker"
    )
    args = parser.parse_args()
    if args.workers and args.scheme != "json":
        parser.error("--workers needs --scheme json (console deliveries are counted in this process)")
    sys.exit(
        asyncio.run(
            main(args.subscribers, args.send_ahead, args.lead, args.wait, args.quiet_wait, args.scheme, args.workers)
        )
    )
