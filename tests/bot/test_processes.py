"""Soonish processes started as an operator starts them: together on a fresh database, with ports taken, stopped."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

from bot.embedded import DevServer, find_executable, free_port, port_free
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


def _processes_mentioning(text: str) -> list[str]:
    listing = subprocess.run(["ps", "-ww", "-eo", "pid,args"], capture_output=True, text=True, check=True).stdout
    return [line for line in listing.splitlines() if text in line and "ps -eo" not in line]


async def _gone(text: str, timeout: float = 10.0) -> list[str]:
    """The processes still mentioning `text` after waiting up to `timeout` for them to end."""
    deadline = time.monotonic() + timeout
    while (left := _processes_mentioning(text)) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    return left


def _up_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    ports = {name: str(free_port()) for name in ("SOONISH_API_PORT", "TEMPORAL_PORT", "TEMPORAL_UI_PORT")}
    return soonish_env(tmp_path / "var", **{**ports, **extra})


def _python_start_up(env: dict[str, str], cwd: Path) -> float:
    """Seconds that `soonish --help` takes: starting Python and importing Soonish, before any of its work."""
    started = time.monotonic()
    subprocess.run([find_executable("soonish"), "--help"], env=env, cwd=cwd, capture_output=True, check=True)
    return time.monotonic() - started


async def test_up_with_the_api_port_taken_exits_at_once_naming_the_setting(tmp_path: Path) -> None:
    """`soonish up` with its API port in use says so in one line naming SOONISH_API_PORT and exits non-zero."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = _up_env(tmp_path, SOONISH_API_PORT=str(port))
        # A busy machine can take many seconds just to start Python; the 15 s are counted after that.
        start_up = _python_start_up(env, tmp_path)
        up = Process("up", ["up", "--no-console"], env, tmp_path)
        started = time.monotonic()
        code = await up.stop(None, timeout=15 + 2 * start_up)
        elapsed = time.monotonic() - started
    lines = up.output().strip().splitlines()
    assert code != 0
    assert elapsed < 15 + 2 * start_up
    assert lines == [
        f"Cannot start the HTTP API: port {port} on 127.0.0.1 is already in use. "
        "Stop what uses it, or set SOONISH_API_PORT to a free port."
    ]
    assert await _gone(str(tmp_path / "var")) == []


async def test_up_stops_everything_when_its_temporal_server_dies(tmp_path: Path) -> None:
    """When the embedded Temporal server ends, `soonish up` says so, stops the API and exits non-zero."""
    env = _up_env(tmp_path)
    up = Process("up", ["up", "--no-console"], env, tmp_path)
    try:
        await up.wait_for_output("Press Ctrl-C to stop.")
        (temporal,) = _processes_mentioning(str(tmp_path / "var" / "temporal.db"))
        os.kill(int(temporal.split()[0]), signal.SIGKILL)
        code = await up.stop(None, timeout=15)
    finally:
        if up.popen.poll() is None:
            await up.stop()
    assert code != 0
    assert "The embedded Temporal server stopped" in up.output()
    assert port_free("127.0.0.1", int(env["SOONISH_API_PORT"]))


async def test_a_killed_up_takes_its_temporal_server_with_it(tmp_path: Path) -> None:
    """`kill -9` of `soonish up` leaves no embedded Temporal server behind."""
    up = Process("up", ["up", "--no-console"], _up_env(tmp_path), tmp_path)
    try:
        await up.wait_for_output("Press Ctrl-C to stop.")
        assert _processes_mentioning(str(tmp_path / "var" / "temporal.db")) != []
    finally:
        up.kill()
    assert await _gone(str(tmp_path / "var" / "temporal.db")) == []


async def test_sigterm_ends_a_process_still_starting(tmp_path: Path, sqlite_url: str, dev_server: DevServer) -> None:
    """SIGTERM ends a worker that is still waiting at start-up (for `soonish migrate`) within seconds."""
    env = _env(tmp_path, sqlite_url, dev_server, SOONISH_MIGRATE_ON_START="false")
    worker = Process("worker", ["worker"], env, tmp_path)
    await worker.wait_for_output("Waiting for the database schema")
    code = await worker.stop(signal.SIGTERM, timeout=5)
    assert code != 0
    assert "Traceback" not in worker.output()


def test_api_key_commands_create_list_and_revoke(tmp_path: Path, sqlite_url: str) -> None:
    """`soonish api-key create --tenant`, `list` and `revoke` work on the database alone, and never list the key."""
    env = soonish_env(tmp_path, DATABASE_URL=sqlite_url)
    created = run_soonish(["api-key", "create", "--name", "ci", "--tenant", "guild-7"], env, tmp_path).splitlines()
    key = created[-1]
    assert created[0] == "API key 1 for 'ci' in tenant 'guild-7' (shown once, store it now):"
    assert key.startswith("snk_")
    listed = run_soonish(["api-key", "list"], env, tmp_path)
    assert "ci" in listed and "guild-7" in listed and key not in listed
    revoked = run_soonish(["api-key", "revoke", "1"], env, tmp_path)
    assert revoked.strip() == "API key 1 ('ci', tenant 'guild-7') is revoked; requests with it are refused."
    assert run_soonish(["api-key", "list"], env, tmp_path).startswith("No API keys.")


async def test_a_failing_worker_ends_the_process_saying_why(
    tmp_path: Path, sqlite_url: str, dev_server: DevServer
) -> None:
    """A worker whose namespace does not exist ends the process non-zero with one line naming TEMPORAL_NAMESPACE."""
    env = _env(tmp_path, sqlite_url, dev_server, TEMPORAL_NAMESPACE="no-such-namespace")
    worker = Process("worker", ["worker"], env, tmp_path)
    code = await worker.stop(None, timeout=30)
    assert code == 1, worker.output()[-2000:]
    assert worker.output().strip().splitlines()[-1] == (
        "The Temporal namespace 'no-such-namespace' does not exist on this server: create it "
        "(temporal operator namespace create, or in Temporal Cloud), or set TEMPORAL_NAMESPACE."
    )
    assert "Traceback" not in worker.output()
