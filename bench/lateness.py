"""Lateness of many reminders due at the same instant, on the embedded default (one slot dispatcher sends them).

N events (default 1,000), each with one subscriber whose only destination is a json:// integration pointing at a
local HTTP sink; every reminder is due at the same instant D. Lateness = sink arrival time - D. The sink runs in
its own process. The worker runs in this process (as `soonish up` runs it), or with `--workers N` as N
`soonish worker` processes of their own (as in production); `--kill-after S --restart-after R` then SIGKILLs the
first worker S seconds after D and starts a new one R seconds after the kill.

    .venv/bin/python bench/lateness.py [--events 1000] [--send-ahead 20] [--lead 150] [--clients 20]
    .venv/bin/python bench/lateness.py --workers 1 --kill-after 0.5 --restart-after 3
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select
from temporalio.api.enums.v1 import EventType, WorkflowTaskFailedCause

from bench.common import (
    CpuMeter,
    Stats,
    bench_settings,
    count_activity_failures,
    embedded,
    machine,
    run_clients,
    table,
    wait_for_quiet,
    worker_env,
    worker_processes_of,
)
from bench.sink import SinkProcess
from bot.embedded import free_port
from bot.runtime import Runtime
from core.models import NotificationLog
from core.planning import slot_of, slot_workflow_id
from core.service import EventDraft, add_integration, create_event, subscribe
from core.views import Actor
from tests.processes import Process

ORGANIZER = Actor(platform="console", tenant="bench", user_id="org", display_name="Organizer")
OFFSET = 60  # seconds: every subscriber wants the reminder one minute before the start
SETUP_ATTEMPTS = 50
T = TypeVar("T")


async def main(
    events: int,
    send_ahead: float,
    lead: float,
    clients: int,
    wait: float,
    quiet: float,
    worker_processes: int,
    kill_after: float | None,
    restart_after: float,
) -> int:
    print(f"machine: {machine()}")
    if quiet:
        print(wait_for_quiet(quiet))
    worker_process = worker_processes > 0
    where = f"{worker_processes} process(es) of its own" if worker_process else "this process"
    print(f"events: {events}, send-ahead: {send_ahead:g} s, setup clients: {clients}, worker in {where}")
    if kill_after is not None:
        print(f"the worker is SIGKILLed {kill_after:g} s after due and a new one started {restart_after:g} s later")
    failures = count_activity_failures()
    sink = SinkProcess(free_port())
    try:
        with tempfile.TemporaryDirectory(prefix="soonish-bench-") as tmp:
            settings = bench_settings(Path(tmp), SOONISH_ALLOW_PRIVATE_URLS=True, SOONISH_SEND_AHEAD_SECONDS=send_ahead)
            async with (
                embedded(settings, worker=not worker_process) as rt,
                worker_processes_of(rt, worker_processes) as workers,
            ):
                core = rt.core
                t0 = datetime.now(UTC)
                due = (t0 + timedelta(seconds=lead)).replace(microsecond=0) + timedelta(seconds=1)
                start = due + timedelta(seconds=OFFSET)
                print(f"all reminders due at {due.isoformat()} ({(due - t0).total_seconds():.1f} s from now)")

                event_ids: list[int] = []

                retried: Counter[str] = Counter()

                async def attempt(what: str, call: Callable[[], Awaitable[T]]) -> T:
                    # Setup is not what is measured: a failed call is retried (and counted) so every event exists.
                    for n in range(SETUP_ATTEMPTS):
                        try:
                            return await call()
                        except Exception as exc:
                            if n == SETUP_ATTEMPTS - 1:
                                raise
                            retried[f"{what}: {type(exc).__name__}: {str(exc).splitlines()[0][:60]}"] += 1
                            await asyncio.sleep(0.01 * (n + 1))
                    raise AssertionError("unreachable")

                async def setup(i: int) -> None:
                    member = Actor(platform="console", tenant="bench", user_id=f"s{i}")
                    draft = EventDraft(name=f"E{i}", start=start)
                    event = await attempt("create_event", lambda: create_event(core=core, actor=ORGANIZER, draft=draft))
                    event_ids.append(event.id)
                    url = sink.url(f"/e{i}")
                    await attempt(
                        "add_integration", lambda: add_integration(core=core, actor=member, url=url, tags="hook")
                    )
                    await attempt(
                        "subscribe",
                        lambda: subscribe(
                            core=core, actor=member, ref=event.code, tags="hook", custom_time_delta_seconds=[OFFSET]
                        ),
                    )

                meter = CpuMeter(rt.dev_server.process.pid if rt.dev_server else None)
                began = time.perf_counter()
                latencies, errors = await run_clients(clients, events, setup)
                setup_s = time.perf_counter() - began
                setup_cpu = meter.report()
                ready = datetime.now(UTC)
                margin = (due - ready).total_seconds() - send_ahead
                print(
                    f"setup: {len(latencies)} events in {setup_s:.1f} s = {len(latencies) / setup_s:.1f} events/s "
                    f"(create + add_integration + subscribe each; {errors} errors); "
                    f"{margin:.1f} s to spare before the workflows wake"
                )
                if retried:
                    print(f"setup calls that failed and were retried: {sum(retried.values())}")
                    for reason, n in retried.most_common():
                        print(f"  {n:6}  {reason}")
                if margin < 2:
                    print("WARNING: setup ran into the wake-up time; raise --lead for a clean measurement")
                expected = len(latencies)

                print(f"setup {setup_cpu}")
                wake = due - timedelta(seconds=send_ahead)
                await asyncio.sleep(max(0.0, (wake - datetime.now(UTC)).total_seconds() - 1))
                meter.start()
                killed = 0
                if kill_after is not None:
                    await asyncio.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds() + kill_after))
                    workers[0].kill()
                    killed_at = datetime.now(UTC)
                    await asyncio.sleep(0.3)  # let the requests already on the wire land
                    killed = len({r.path for r in sink.arrivals()})
                    await asyncio.sleep(restart_after)
                    workers.append(Process("worker-restarted", ["worker"], worker_env(settings, rt), Path(tmp)))
                    print(
                        f"worker SIGKILLed {(killed_at - due).total_seconds():.2f} s after due, with {killed} of "
                        f"{expected} delivered; a new worker started {restart_after:g} s later"
                    )
                deadline = due + timedelta(seconds=wait)
                while await asyncio.to_thread(sink.count) < expected and datetime.now(UTC) < deadline:
                    await asyncio.sleep(0.2)
                    if datetime.now(UTC) > due + timedelta(seconds=2) and await _settled(core, expected):
                        await asyncio.sleep(0.5)  # what settled was sent before it was recorded
                        break
                received = sink.arrivals()
                first: dict[str, float] = {}
                for r in received:
                    first[r.path] = min(r.at, first.get(r.path, r.at))
                arrived = list(first.values())
                duplicates = len(received) - len(first)
                fire_cpu = meter.report()
                due_ts = due.timestamp()
                late = Stats([(at - due_ts) * 1000 for at in arrived])

                # The log rows are updated after the sends; give the last transactions time to commit.
                settle = time.monotonic() + 30
                while True:
                    async with core.sessions() as session:
                        rows = (await session.execute(select(NotificationLog))).scalars().all()
                    if all(r.status != "pending" for r in rows) or time.monotonic() > settle:
                        break
                    await asyncio.sleep(0.5)
                statuses = Counter(r.status for r in rows)
                marked_late = sum(1 for r in rows if r.late)
                phases, anomalies = await _phases(rt, event_ids, wake, due)
                logged = Stats([(r.updated_at - due).total_seconds() * 1000 for r in rows if r.status == "sent"])

        s = late.summary()
        early = sum(1 for v in late.values if v < 0)
        print()
        print(f"reminders due at the same instant: {expected}, send-ahead {send_ahead:g} s; times in ms after due")
        print(
            table(
                ["measure", "n", "p50", "p99", "max", "min"],
                [
                    [
                        "sink arrival - due",
                        s["n"],
                        s["p50"],
                        s["p99"],
                        s["max"],
                        min(late.values, default=float("nan")),
                    ],
                    [
                        "log updated_at - due (sent)",
                        logged.summary()["n"],
                        logged.summary()["p50"],
                        logged.summary()["p99"],
                        logged.summary()["max"],
                        min(logged.values, default=float("nan")),
                    ],
                ],
            )
        )
        print(
            f"arrived: {len(arrived)}/{expected} within {wait:g} s of due; before due: {early}; "
            f"duplicate deliveries: {duplicates}; "
            f"log statuses: {dict(statuses)}; marked late: {marked_late}; setup rate {expected / setup_s:.1f} events/s"
        )
        print(f"from 1 s before the wake-up to the last arrival: {fire_cpu}")
        print()
        print(
            f"where the time went (from the workflows' histories), ms after the wake-up instant due - {send_ahead:g} s"
        )
        print(table(["step", "n", "p50", "p99", "max", "min"], [[k, *_cols(v)] for k, v in phases.items()]))
        print("activity timeouts, failures and retries in the histories:", dict(anomalies) or "none")
        print("activity failures logged by the worker:", dict(failures) or "none")
        print(
            f"RESULT lateness events={expected} delivered={len(arrived)} duplicates={duplicates} "
            f"p50_ms={s['p50']:.0f} p99_ms={s['p99']:.0f} max_ms={s['max']:.0f} pending={statuses.get('pending', 0)} "
            f"send_ahead_s={send_ahead:g} workers={worker_processes or 'in-process'} "
            f"failed={statuses.get('failed', 0)}"
            + (f" killed_after_s={kill_after:g} delivered_before_kill={killed}" if kill_after is not None else "")
        )
    finally:
        sink.close()
    await asyncio.sleep(0.1)
    return 0 if len(arrived) == expected and not duplicates else 1


async def _settled(core: Any, expected: int) -> bool:
    """Every reminder has a log row and none is still pending (nothing more will be sent).

    Counted in the database: this is polled every 0.2 s while the instant's sends run on this process's event
    loop, and loading every row's status each time took from the worker what the bench measures.
    """
    pending = func.count().filter(NotificationLog.status == "pending")
    async with core.sessions() as session:
        rows, still_pending = (await session.execute(select(func.count(), pending))).one()
    return bool(rows >= expected and still_pending == 0)


def _cols(values: list[float]) -> list[object]:
    st = Stats(values).summary()
    return [st["n"], st["p50"], st["p99"], st["max"], min(values, default=float("nan"))]


async def _phases(
    rt: Runtime, event_ids: list[int], wake: datetime, due: datetime
) -> tuple[dict[str, list[float]], Counter[str]]:
    """From the slot dispatcher's history (one workflow for the whole instant): when preparation ran, and when
    each chunk's send activity was scheduled, started and completed (server-side times); and a count of the
    activity timeouts, failures and retries found in it."""
    steps: dict[str, list[float]] = {
        "prepare activity scheduled": [],
        "prepare activity completed": [],
        "chunk send scheduled": [],
        "chunk send started": [],
        "chunk send completed": [],
    }
    anomalies: Counter[str] = Counter()

    def ms(event: Any) -> float:
        return float((event.event_time.ToDatetime(tzinfo=UTC) - wake).total_seconds() * 1000)

    handle = rt.client.get_workflow_handle(slot_workflow_id(rt.settings.instance, slot_of(due)))
    history = await handle.fetch_history()
    kinds: dict[int, str] = {}
    for ev in history.events:
        _count_anomalies(ev, kinds, anomalies)
        if ev.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            name = ev.activity_task_scheduled_event_attributes.activity_type.name
            steps["prepare activity scheduled" if name == "prepare_slot" else "chunk send scheduled"].append(ms(ev))
        elif ev.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            if kinds.get(ev.activity_task_started_event_attributes.scheduled_event_id) == "send_notifications":
                steps["chunk send started"].append(ms(ev))
        elif ev.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            kind = kinds.get(ev.activity_task_completed_event_attributes.scheduled_event_id)
            steps["prepare activity completed" if kind == "prepare_slot" else "chunk send completed"].append(ms(ev))
    anomalies[f"slot history length {len(history.events)}"] += 1
    return steps, anomalies


def _count_anomalies(ev: Any, kinds: dict[int, str], anomalies: Counter[str]) -> None:
    if ev.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
        kinds[ev.event_id] = ev.activity_task_scheduled_event_attributes.activity_type.name
    elif ev.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        attrs = ev.activity_task_started_event_attributes
        if attrs.attempt > 1:
            anomalies[f"{kinds.get(attrs.scheduled_event_id, '?')} ran more than one attempt"] += 1
        if attrs.last_failure.message:
            anomalies[
                f"{kinds.get(attrs.scheduled_event_id, '?')} retried after: {attrs.last_failure.message[:90]}"
            ] += 1
    elif ev.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT:
        attrs = ev.activity_task_timed_out_event_attributes
        anomalies[f"{kinds.get(attrs.scheduled_event_id, '?')} timed out"] += 1
    elif ev.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED:
        attrs = ev.activity_task_failed_event_attributes
        reason = attrs.failure.message.splitlines()[0][:70] if attrs.failure.message else "?"
        anomalies[f"{kinds.get(attrs.scheduled_event_id, '?')} failed for good: {reason}"] += 1
    elif ev.event_type == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED:
        anomalies["event workflow FAILED (no further reminders for its event)"] += 1
    elif ev.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
        cause = WorkflowTaskFailedCause.Name(ev.workflow_task_failed_event_attributes.cause)
        anomalies[f"workflow task failed ({cause.removeprefix('WORKFLOW_TASK_FAILED_CAUSE_').lower()})"] += 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1000, help="events, one reminder each (default 1000)")
    parser.add_argument(
        "--send-ahead", type=float, default=20.0, help="SOONISH_SEND_AHEAD_SECONDS (default 20, the product default)"
    )
    parser.add_argument("--lead", type=float, default=150.0, help="seconds from now to the due instant (default 150)")
    parser.add_argument("--clients", type=int, default=20, help="concurrent setup clients (default 20)")
    parser.add_argument("--wait", type=float, default=120.0, help="seconds after due to wait for arrivals")
    parser.add_argument(
        "--quiet-wait", type=float, default=0.0, help="wait up to this many seconds for an idle machine first"
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="run this many `soonish worker` processes instead of the in-process worker",
    )
    parser.add_argument(
        "--kill-after", type=float, default=None, help="SIGKILL the worker this long after due (seconds)"
    )
    parser.add_argument(
        "--restart-after", type=float, default=3.0, help="start a new worker this long after the kill (default 3)"
    )
    args = parser.parse_args()
    sys.exit(
        asyncio.run(
            main(
                args.events,
                args.send_ahead,
                args.lead,
                args.clients,
                args.wait,
                args.quiet_wait,
                max(args.workers, 1 if args.kill_after is not None else 0),
                args.kill_after,
                args.restart_after,
            )
        )
    )
