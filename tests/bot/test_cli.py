"""The `soonish` command as a user runs it: `up` on a fresh machine, the console from a pipe, clean exits."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path

import httpx

from bot.embedded import free_port
from tests.processes import Process, soonish_env


def _processes_mentioning(text: str) -> list[str]:
    listing = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    return [line for line in listing.splitlines() if text in line and "ps -eo" not in line]


async def test_up_starts_everything_and_stops_cleanly(tmp_path: Path) -> None:
    """`soonish up` on an empty data dir starts Temporal, the worker and the API, says where, and leaves nothing."""
    api_port, temporal_port, ui_port = free_port(), free_port(), free_port()
    env = soonish_env(
        tmp_path / "var",
        SOONISH_API_PORT=str(api_port),
        TEMPORAL_PORT=str(temporal_port),
        TEMPORAL_UI_PORT=str(ui_port),
    )
    up = Process("up", ["up"], env, tmp_path)
    try:
        await up.wait_for_output("Press Ctrl-C to stop.")
        out = up.output()
        assert f"127.0.0.1:{temporal_port} (embedded dev server" in out
        assert f"Temporal UI  http://127.0.0.1:{ui_port}" in out
        assert f"HTTP API     http://127.0.0.1:{api_port}" in out
        assert "Worker       task queue soonish-reminders" in out
        async with httpx.AsyncClient() as client:
            docs = await client.get(f"http://127.0.0.1:{api_port}/docs")
            unauthenticated = await client.get(f"http://127.0.0.1:{api_port}/events")
        assert docs.status_code == 200
        assert unauthenticated.status_code == 401
        assert (tmp_path / "var" / "soonish.db").exists()
        assert (tmp_path / "var" / "temporal.db").exists()
        assert oct((tmp_path / "var" / "secret.key").stat().st_mode & 0o777) == "0o600"
    finally:
        code = await up.stop(signal.SIGINT)
    assert code == 0, up.output()[-2000:]
    assert "Traceback" not in up.output()
    assert _processes_mentioning(str(tmp_path / "var" / "temporal.db")) == []


async def test_console_reads_commands_from_a_pipe_and_prints_reminders(tmp_path: Path) -> None:
    """Piped commands create an event and subscribe; the reminder prints once for the user and once for the channel."""
    env = soonish_env(tmp_path / "var", TEMPORAL_PORT=str(free_port()), TEMPORAL_UI_PORT=str(free_port()))
    console = Process("console", ["console"], env, tmp_path, stdin=subprocess.PIPE)
    assert console.popen.stdin is not None
    try:
        await console.wait_for_output("Press Ctrl-C to stop.")
        lines = [
            "/timezone Europe/Berlin",
            '/event create name:"Game night" start:"in 9 seconds" remind:"4s"',
            '/subscribe "Game night" remind:"4s"',
            '/event create name:Oops start:"yesterday 10:00"',
            "/integration add json://127.0.0.1/hook",
            "/frobnicate",
        ]
        console.popen.stdin.write(("\n".join(lines) + "\n").encode())
        console.popen.stdin.flush()
        await console.wait_for_output(">> [you] Reminder: Game night", timeout=30)
        await console.wait_for_output(">> [#local] Reminder: Game night", timeout=5)
        await asyncio.sleep(1.5)
        console.popen.stdin.close()
        code = await console.stop(None)  # end of input ends the console
    finally:
        if console.popen.poll() is None:
            await console.stop()
    out = console.output()
    assert code == 0, out[-2000:]
    assert "Your time zone is Europe/Berlin." in out
    assert "Event created." in out
    assert "Read 'in 9 seconds' as " in out
    assert "Subscribed to Game night" in out
    assert "is in the past." in out
    assert "not on the public internet" in out
    assert "Unknown command /frobnicate." in out
    assert out.count(">> [you] Reminder: Game night") == 1
    assert out.count(">> [#local] Reminder: Game night") == 1
