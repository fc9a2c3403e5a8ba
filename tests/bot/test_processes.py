"""Soonish processes started as an operator starts them: together on a fresh database, with ports taken, stopped."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.embedded import DevServer, free_port
from tests.processes import Process, run_soonish, soonish_env


def _env(tmp_path: Path, database_url: str, dev_server: DevServer, **extra: str) -> dict[str, str]:
    port = free_port()
    return soonish_env(
        tmp_path,
        DATABASE_URL=database_url,
        TEMPORAL_ADDRESS=dev_server.address,
        SOONISH_INSTANCE=f"p{port}",
        TEMPORAL_TASK_QUEUE=f"p{port}",
        SOONISH_API_PORT=str(port),
        **extra,
    )


async def test_api_and_worker_started_together_on_a_fresh_database_both_come_up(
    tmp_path: Path, database_url: str, dev_server: DevServer
) -> None:
    """`soonish api` and `soonish worker` started at once on an empty database (SQLite, PostgreSQL) both run."""
    env = _env(tmp_path, database_url, dev_server)
    processes = [Process("api", ["api"], env, tmp_path), Process("worker", ["worker"], env, tmp_path)]
    try:
        await asyncio.gather(*(p.wait_for_output("Press Ctrl-C to stop.") for p in processes))
    finally:
        codes = [await p.stop() for p in processes]
    assert codes == [0, 0], "\n".join(p.output()[-2000:] for p in processes)
    assert all("Traceback" not in p.output() for p in processes)


async def test_without_migrate_on_start_a_worker_waits_for_soonish_migrate(
    tmp_path: Path, sqlite_url: str, dev_server: DevServer
) -> None:
    """With SOONISH_MIGRATE_ON_START=false a worker on an empty database says it waits, and starts after migrate."""
    env = _env(tmp_path, sqlite_url, dev_server, SOONISH_MIGRATE_ON_START="false")
    worker = Process("worker", ["worker"], env, tmp_path)
    try:
        await worker.wait_for_output("Waiting for the database schema")
        assert "Run `soonish migrate`" in worker.output()
        assert "Press Ctrl-C to stop." not in worker.output()
        assert "Database migrated to revision" in run_soonish(["migrate"], env, tmp_path)
        await worker.wait_for_output("Press Ctrl-C to stop.", timeout=30)
    finally:
        code = await worker.stop()
    assert code == 0, worker.output()[-2000:]
