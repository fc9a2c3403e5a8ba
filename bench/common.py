"""Shared helpers for the benchmark scripts: settings on a temp data dir, the embedded runtime, percentiles."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.embedded import free_port  # noqa: E402
from bot.runtime import Runtime, open_runtime  # noqa: E402
from core.config import Settings  # noqa: E402
from core.service import Core  # noqa: E402
from tests.processes import Process, soonish_env  # noqa: E402

# temporalio on 3.11 can abort at interpreter exit if a call is still settling (sdk-python issue 300).
EXIT_PAUSE = 0.1


QUOTA_SETTINGS = tuple(
    str(field.validation_alias) for name, field in Settings.model_fields.items() if name.startswith("quota_")
)


def bench_settings(data_dir: Path, **extra: Any) -> Settings:
    """Settings for the embedded default: SQLite file and Temporal dev server state in `data_dir`, free ports."""
    values: dict[str, Any] = {
        "SOONISH_DATA_DIR": data_dir,
        "DATABASE_URL": None,
        "TEMPORAL_ADDRESS": None,
        "TEMPORAL_PORT": free_port(),
        "TEMPORAL_UI_PORT": free_port(),
        "SOONISH_LOG_LEVEL": "WARNING",
        # The benchmarks measure throughput, which the quotas exist to cap.
        **{name: "off" for name in QUOTA_SETTINGS},
    }
    values.update(extra)
    return Settings(_env_file=None, **values)


@asynccontextmanager
async def embedded(settings: Settings, *, worker: bool = True) -> AsyncIterator[Runtime]:
    """open_runtime(embed_temporal=True) with the worker running in this process; everything stopped on exit."""
    async with open_runtime(settings, embed_temporal=True) as rt:
        if worker:
            async with rt.worker():
                yield rt
        else:
            yield rt
    await asyncio.sleep(EXIT_PAUSE)


class _CountActivityFailures(logging.Filter):
    """Counts the worker's "Completing activity as failed" warnings instead of printing their tracebacks."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: Counter[str] = Counter()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.getMessage().startswith("Completing activity as failed") and record.exc_info:
            exc = record.exc_info[1]
            self.counts[f"{type(exc).__name__}: {str(exc).splitlines()[0][:80]}"] += 1
            return False
        return True


def count_activity_failures() -> Counter[str]:
    """From now on, activity failures logged by the worker are counted (returned Counter), not printed."""
    counter = _CountActivityFailures()
    logging.getLogger("temporalio.activity").addFilter(counter)
    return counter.counts


def percentile(sorted_values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of an ascending sequence."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(p / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass
class Stats:
    """p50 / p99 / max (and mean) of a list of samples."""

    values: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        ordered = sorted(self.values)
        if not ordered:
            return {"n": 0, "p50": math.nan, "p99": math.nan, "max": math.nan, "mean": math.nan}
        return {
            "n": len(ordered),
            "p50": percentile(ordered, 50),
            "p99": percentile(ordered, 99),
            "max": ordered[-1],
            "mean": sum(ordered) / len(ordered),
        }


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A plain-text table with right-aligned columns (the first left-aligned)."""
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    lines = []
    for n, row in enumerate(cells):
        parts = [c.ljust(widths[i]) if i == 0 else c.rjust(widths[i]) for i, c in enumerate(row)]
        lines.append("  ".join(parts))
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "-"
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"
    return str(value)


def machine() -> str:
    """One line about the machine and interpreter."""
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f", {int(line.split()[1]) // 1024} MiB RAM"
                break
    except OSError:
        pass
    return (
        f"{os.cpu_count()} CPU(s), {model}{mem}, Python {platform.python_version()} on {platform.system()}\n"
        f"{code_version()}"
    )


def code_version() -> str:
    """A fingerprint of the product code measured (bot/, core/, workflows/) and when it last changed."""
    digest = hashlib.sha256()
    newest = 0.0
    for package in ("bot", "core", "workflows"):
        for path in sorted((ROOT / package).rglob("*.py")):
            digest.update(str(path.relative_to(ROOT)).encode())
            digest.update(path.read_bytes())
            newest = max(newest, path.stat().st_mtime)
    changed = datetime.fromtimestamp(newest, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return f"code sha256 {digest.hexdigest()[:12]} (bot/ core/ workflows/, last modified {changed})"


def _proc_ticks(pid: int | str) -> int:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    fields = raw.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _machine_ticks() -> tuple[int, int]:
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except OSError:
        return 0, 0
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values) - idle, sum(values)


def wait_for_quiet(max_wait: float, *, busy_below: float = 0.2, seconds: int = 5) -> str:
    """Wait (up to `max_wait` s) until the machine has been idle for `seconds` s in a row; say how it went.

    The benchmark machine may be shared; figures taken while other work runs are slower than they should be.
    """
    began = time.monotonic()
    quiet = 0
    last = _machine_ticks()
    while time.monotonic() - began < max_wait:
        time.sleep(1)
        now = _machine_ticks()
        total = now[1] - last[1]
        share = (now[0] - last[0]) / total if total else 0.0
        last = now
        quiet = quiet + 1 if share < busy_below else 0
        if quiet >= seconds:
            waited = time.monotonic() - began
            return f"machine idle (<{busy_below:.0%} busy) for {seconds} s, after {waited:.0f} s of waiting"
    return f"WARNING: the machine was not idle within {max_wait:.0f} s; other processes are competing for CPU"


class CpuMeter:
    """CPU time (in core-seconds) used during a window: by this process, the dev server, and everything else.

    The machine may be shared; `other` shows how much of it went to processes that are not this benchmark.
    """

    def __init__(self, dev_server_pid: int | None) -> None:
        self._pid = dev_server_pid
        self._hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.start()

    def _sample(self) -> tuple[float, int, int, int]:
        busy, _total = _machine_ticks()
        temporal = _proc_ticks(self._pid) if self._pid else 0
        return time.monotonic(), busy, _proc_ticks("self"), temporal

    def start(self) -> None:
        self._begin = self._sample()

    def measure(self) -> dict[str, float]:
        """Since start(): wall seconds and core-seconds used by the machine, this process, the dev server, others."""
        end = self._sample()
        busy, own, temporal = ((end[i] - self._begin[i]) / self._hz for i in (1, 2, 3))
        return {
            "wall": end[0] - self._begin[0],
            "busy": busy,
            "own": own,
            "temporal": temporal,
            "other": max(0.0, busy - own - temporal),
        }

    def report(self) -> str:
        m = self.measure()
        cores = os.cpu_count() or 1
        return (
            f"CPU over {m['wall']:.1f} s: machine {m['busy'] / m['wall'] * 100 / cores:.0f}% busy of {cores} cores; "
            f"core-seconds used by this process {m['own']:.1f}, the dev server {m['temporal']:.1f}, "
            f"other processes {m['other']:.1f}"
        )


class TimedScheduler:
    """Wraps the core's scheduler to time the workflow signal-with-start part of each call."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.samples: list[float] = []

    async def changed(self, event_id: int, reason: str) -> None:
        began = time.perf_counter()
        try:
            await self._inner.changed(event_id, reason)
        finally:
            self.samples.append((time.perf_counter() - began) * 1000)


def timed_core(core: Core) -> tuple[Core, TimedScheduler]:
    """The same core with its scheduler wrapped in a TimedScheduler."""
    timed = TimedScheduler(core.scheduler)
    return replace(core, scheduler=timed), timed


async def run_clients(clients: int, operations: int, op: Callable[[int], Awaitable[None]]) -> tuple[list[float], int]:
    """Run `operations` calls of `op(i)` from `clients` concurrent loops; returns (latencies in ms, errors)."""
    counter = iter(range(operations))
    latencies: list[float] = []
    errors = 0

    async def client() -> None:
        nonlocal errors
        for i in counter:
            began = time.perf_counter()
            try:
                await op(i)
            except Exception as exc:
                errors += 1
                if errors <= 3:
                    print(f"  error in operation {i}: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}")
                continue
            latencies.append((time.perf_counter() - began) * 1000)

    await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, errors


def worker_env(settings: Settings, rt: Runtime) -> dict[str, str]:
    """The environment of a `soonish worker` process on this benchmark's database and dev server."""
    assert rt.dev_server is not None
    quotas = {name: "off" for name in QUOTA_SETTINGS}
    return soonish_env(
        settings.data_dir,
        DATABASE_URL=settings.resolved_database_url,
        TEMPORAL_ADDRESS=rt.dev_server.address,
        SOONISH_INSTANCE=settings.instance,
        TEMPORAL_TASK_QUEUE=settings.temporal_task_queue,
        SOONISH_ALLOW_PRIVATE_URLS="true",
        SOONISH_SEND_AHEAD_SECONDS=f"{settings.send_ahead_seconds:g}",
        SOONISH_LOG_LEVEL="WARNING",
        **quotas,
    )


@asynccontextmanager
async def worker_processes_of(rt: Runtime, count: int) -> AsyncIterator[list[Process]]:
    """`count` `soonish worker` processes on this benchmark's database and dev server, stopped on exit."""
    workers = [
        Process(f"worker-{n + 1}", ["worker"], worker_env(rt.settings, rt), rt.settings.data_dir) for n in range(count)
    ]
    try:
        for worker in workers:
            await worker.wait_for_output("Press Ctrl-C to stop.")
        yield workers
    finally:
        for worker in workers:
            await worker.stop()
