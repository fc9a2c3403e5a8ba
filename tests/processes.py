"""Soonish processes started the way an operator would: the `soonish` command with settings in its environment."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from bot.embedded import find_executable


def soonish_env(data_dir: Path, **settings: str) -> dict[str, str]:
    """The environment of a Soonish process: the machine's PATH and locale, and only the given settings."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER")}
    env.update({"SOONISH_DATA_DIR": str(data_dir), "PYTHONUNBUFFERED": "1"}, **settings)
    return env


class Process:
    """One `soonish ...` process, its output captured to a file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log_dir: Path, *, stdin: int | None = None):
        self.name = name
        self.log = log_dir / f"{name}.log"
        self._out = self.log.open("ab")
        self.popen = subprocess.Popen(
            [find_executable("soonish"), *args],
            env=env,
            cwd=log_dir,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
        )

    def output(self) -> str:
        """Everything the process printed so far."""
        return self.log.read_text(errors="replace")

    async def wait_for_output(self, text: str, timeout: float = 60.0) -> None:
        """Wait until the process printed `text`."""
        deadline = time.monotonic() + timeout
        while text not in self.output():
            if self.popen.poll() is not None:
                raise AssertionError(f"{self.name} exited with {self.popen.returncode}:\n{self.output()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} did not print {text!r}:\n{self.output()[-3000:]}")
            await asyncio.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL, as a crash or an out-of-memory kill would."""
        self.popen.kill()
        self.popen.wait()

    async def stop(self, sig: int | None = signal.SIGTERM, timeout: float = 30.0) -> int:
        """Ask the process to stop (or, with no signal, let it end); return its exit code; kill it if it hangs."""
        if self.popen.poll() is None:
            if sig is not None:
                self.popen.send_signal(sig)
            deadline = time.monotonic() + timeout
            while self.popen.poll() is None and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if self.popen.poll() is None:
                self.popen.kill()
                self.popen.wait()
                self._out.close()
                raise AssertionError(f"{self.name} did not stop within {timeout}s:\n{self.output()[-3000:]}")
        self._out.close()
        return self.popen.returncode


def run_soonish(args: list[str], env: dict[str, str], cwd: Path) -> str:
    """Run a one-shot `soonish` command and return what it printed; fail on a non-zero exit."""
    done = subprocess.run(
        [find_executable("soonish"), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


async def until_up(client: httpx.AsyncClient, timeout: float = 20.0) -> None:
    """Wait until a `soonish api` process answers on `client`'s base URL."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if (await client.get("/docs")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError("the API did not come up")


async def wait_until(predicate: Callable[[], object], timeout: float) -> None:
    """Poll `predicate` until it is true; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


def stack_env(
    data_dir: Path, *, database_url: str, temporal_address: str, name: str, api_port: int, **settings: str
) -> dict[str, str]:
    """The environment of one test's `soonish` processes: its database, the test's Temporal server, a workflow
    id prefix and task queue of its own (`name` and the port), its API port, and private addresses allowed
    (the test's sinks are on loopback)."""
    return soonish_env(
        data_dir,
        DATABASE_URL=database_url,
        TEMPORAL_ADDRESS=temporal_address,
        SOONISH_INSTANCE=f"{name}{api_port}",
        TEMPORAL_TASK_QUEUE=f"{name}{api_port}",
        SOONISH_ALLOW_PRIVATE_URLS="true",
        SOONISH_API_PORT=str(api_port),
        **settings,
    )
