"""Memory of one worker with many open events: N events (default 10,000), each with one subscriber and a reminder
a day ahead, all planned by their event workflows on one `soonish worker` process of its own (as in production).

The events, members and subscriptions are written to the database in bulk (what their commands would have left);
each event's workflow is then started through the product's scheduler, as `/event create` starts it. Once every
event has planned its reminders, the worker's resident memory (VmRSS) and its peak (VmHWM) are read from /proc.

    .venv/bin/python bench/memory.py [--events 10000] [--clients 50]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select

from bench.common import CpuMeter, bench_settings, embedded, machine, run_clients, wait_for_quiet, worker_env
from core.models import Event, EventDetails, EventParticipant, PlannedReminder, User
from tests.processes import Process

BULK = 500


def memory_mb(pid: int) -> tuple[float, float]:
    """VmRSS and VmHWM (peak) of process `pid`, in MiB."""
    values: dict[str, float] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024
    return values["VmRSS"], values["VmHWM"]


async def main(events: int, clients: int, quiet: float) -> int:
    print(f"machine: {machine()}")
    if quiet:
        print(wait_for_quiet(quiet))
    with tempfile.TemporaryDirectory(prefix="soonish-bench-") as tmp:
        settings = bench_settings(Path(tmp))
        async with embedded(settings, worker=False) as rt:
            core = rt.core
            worker = Process("worker", ["worker"], worker_env(settings, rt), Path(tmp))
            try:
                await worker.wait_for_output("Press Ctrl-C to stop.")
                idle_rss, _ = memory_mb(worker.popen.pid)
                now = core.clock()
                start = now + timedelta(days=2)
                async with core.sessions.begin() as session:
                    organizer = (
                        await session.execute(
                            insert(User).returning(User.id),
                            [{"platform": "console", "tenant": "bench", "platform_user_id": "org"}],
                        )
                    ).scalar_one()
                    members: list[int] = []
                    for i in range(0, events, BULK):
                        found = await session.execute(
                            insert(User).returning(User.id),
                            [
                                {"platform": "console", "tenant": "bench", "platform_user_id": f"m{n}"}
                                for n in range(i, min(events, i + BULK))
                            ],
                        )
                        members += list(found.scalars())
                    ids: list[int] = []
                    for i in range(0, events, BULK):
                        found = await session.execute(
                            insert(Event).returning(Event.id),
                            [
                                {
                                    "code": f"B{n:07d}",
                                    "tenant": "bench",
                                    "name": f"Event {n}",
                                    "start_at": start + timedelta(minutes=n % 1440),
                                    "end_at": start + timedelta(minutes=n % 1440, hours=2),
                                    "timezone": "Europe/Berlin",
                                    "organizer_id": organizer,
                                    "created_at": now,
                                    "schedule_changed_at": now,
                                }
                                for n in range(i, min(events, i + BULK))
                            ],
                        )
                        ids += list(found.scalars())
                    for i in range(0, events, BULK):
                        part = ids[i : i + BULK]
                        await session.execute(insert(EventDetails), [{"event_id": e} for e in part])
                        await session.execute(
                            insert(EventParticipant),
                            [
                                {
                                    "event_id": e,
                                    "user_id": members[i + k],
                                    "tags": "dm",
                                    "custom_time_delta_seconds": "86400",
                                    "custom_frequency": "none",
                                    "joined_at": now,
                                }
                                for k, e in enumerate(part)
                            ],
                        )
                print(f"{events} events, each with one subscriber, written in bulk")
                meter = CpuMeter(rt.dev_server.process.pid if rt.dev_server else None)
                began = time.perf_counter()

                async def start_one(i: int) -> None:
                    await core.scheduler.changed(ids[i], "created")

                _, errors = await run_clients(clients, events, start_one)
                started_s = time.perf_counter() - began
                print(f"{events} event workflows started in {started_s:.1f} s ({errors} errors)")
                deadline = time.monotonic() + 600
                planned = 0
                while time.monotonic() < deadline:
                    async with core.sessions() as session:
                        planned = await session.scalar(select(func.count(func.distinct(PlannedReminder.event_id)))) or 0
                    if planned >= events:
                        break
                    await asyncio.sleep(1)
                planned_s = time.perf_counter() - began
                print(f"{planned} of {events} events planned {planned_s:.1f} s after the first start")
                await asyncio.sleep(5)  # let the worker settle after the last plan
                rss, peak = memory_mb(worker.popen.pid)
                print(meter.report())
            finally:
                await worker.stop()
    print(f"worker memory: idle before the events {idle_rss:.0f} MiB; with {planned} open events {rss:.0f} MiB")
    print(f"(peak {peak:.0f} MiB)")
    print(
        f"RESULT memory events={events} planned={planned} worker_rss_mb={rss:.0f} worker_peak_mb={peak:.0f} "
        f"worker_idle_mb={idle_rss:.0f} start_s={started_s:.1f} planned_s={planned_s:.1f}"
    )
    return 0 if planned >= events else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=10_000, help="open events (default 10,000)")
    parser.add_argument("--clients", type=int, default=50, help="concurrent workflow starts (default 50)")
    parser.add_argument(
        "--quiet-wait", type=float, default=0.0, help="wait up to this many seconds for an idle machine first"
    )
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.events, args.clients, args.quiet_wait)))
