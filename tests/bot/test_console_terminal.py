"""The console at a real terminal (a pseudo-terminal): line editing and history, quiet logs, a clean Ctrl-C."""

from __future__ import annotations

import asyncio
import os
import pty
import signal
import subprocess
import time
from pathlib import Path

from bot.embedded import find_executable, free_port
from tests.processes import soonish_env


class Terminal:
    """`soonish console` on a pseudo-terminal: type into it and read its screen output."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.master, slave = pty.openpty()
        self.popen = subprocess.Popen(
            [find_executable("soonish"), "console"],
            env={**env, "TERM": "xterm"},
            cwd=cwd,
            stdin=slave,
            stdout=slave,
            stderr=slave,
            start_new_session=True,
        )
        os.close(slave)
        os.set_blocking(self.master, False)
        self.screen = ""

    def _drain(self) -> None:
        while True:
            try:
                chunk = os.read(self.master, 65536)
            except (BlockingIOError, OSError):
                return
            if not chunk:
                return
            self.screen += chunk.decode(errors="replace")

    async def wait_for(self, text: str, count: int = 1, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.screen.count(text) < count:
            self._drain()
            assert self.popen.poll() is None or self.screen.count(text) >= count, self.screen[-3000:]
            assert time.monotonic() < deadline, f"{text!r} x{count} not shown:\n{self.screen[-3000:]}"
            await asyncio.sleep(0.05)

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode())

    async def stop(self, timeout: float = 20) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGINT)
        deadline = time.monotonic() + timeout
        while self.popen.poll() is None and time.monotonic() < deadline:
            self._drain()
            await asyncio.sleep(0.05)
        if self.popen.poll() is None:
            self.popen.kill()
        code = self.popen.wait()
        self._drain()
        os.close(self.master)
        return code


async def test_console_edits_lines_and_recalls_history(tmp_path: Path) -> None:
    """At a terminal, Up recalls the last command, the line can be edited, logs stay in var/soonish.log, Ctrl-C ends."""
    env = soonish_env(tmp_path / "var", TEMPORAL_PORT=str(free_port()), TEMPORAL_UI_PORT=str(free_port()))
    terminal = Terminal(env, tmp_path)
    try:
        await terminal.wait_for("soonish> ")
        terminal.type("/timezone Europe/Berlim\r")
        await terminal.wait_for("soonish> ", count=2)
        terminal.type("\x1b[A\x7fn\r")  # Up, Backspace, "n", Enter: the last command, mended
        await terminal.wait_for("Your time zone is Europe/Berlin.")
        terminal.type("\x1b[A\r")  # Up, Enter: the same command again
        await terminal.wait_for("Your time zone is Europe/Berlin.", count=2)
    finally:
        code = await terminal.stop()
    assert code == 0, terminal.screen[-2000:]
    assert "^[[A" not in terminal.screen
    assert " INFO " not in terminal.screen and "Traceback" not in terminal.screen
    assert "temporalio" in (tmp_path / "var" / "soonish.log").read_text()
    assert "/timezone Europe/Berlin" in (tmp_path / "var" / "console_history").read_text()
