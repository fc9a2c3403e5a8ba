"""A webhook sink in its own process, as the destination of a real deployment would be: it records the arrival
time of every POST and answers 200, so the benchmark's own process shares no CPU time (or GIL) with it.

    python bench/sink.py --port PORT        # the role the benchmarks start; GET /_dump returns what arrived
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web


@dataclass(frozen=True)
class Arrival:
    """One POST the sink answered: its path and when it arrived (epoch seconds, the sink's clock)."""

    path: str
    at: float


class SinkProcess:
    """Starts `bench/sink.py` on a free loopback port; `url(path)` is a json:// URL that posts to it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--port", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        while True:
            try:
                self.count()
                return
            except OSError:
                if time.monotonic() > deadline or self._process.poll() is not None:
                    self.close()
                    raise RuntimeError("the sink process did not start") from None
                time.sleep(0.05)

    @property
    def pid(self) -> int:
        """The sink's process id (its CPU time is not the product's)."""
        return self._process.pid

    def url(self, path: str) -> str:
        """A json:// Apprise URL for `path` on this sink."""
        return f"json://127.0.0.1:{self.port}{path}"

    def _get(self, what: str) -> object:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/_{what}", timeout=30) as answer:
            return json.loads(answer.read())

    def count(self) -> int:
        """How many POSTs arrived so far."""
        value = self._get("count")
        assert isinstance(value, int)
        return value

    def arrivals(self) -> list[Arrival]:
        """Every POST that arrived so far, in order."""
        value = self._get("dump")
        assert isinstance(value, list)
        return [Arrival(path, at) for path, at in value]

    def close(self) -> None:
        """Stop the sink process."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def serve(port: int) -> None:
    """Record every POST's path and arrival time; answer 200 at once."""
    arrived: list[tuple[str, float]] = []

    async def record(request: web.Request) -> web.Response:
        at = time.time()
        await request.read()
        arrived.append((request.path, at))
        return web.Response()

    async def count(_: web.Request) -> web.Response:
        return web.json_response(len(arrived))

    async def dump(_: web.Request) -> web.Response:
        return web.json_response(arrived)

    app = web.Application()
    app.router.add_get("/_count", count)
    app.router.add_get("/_dump", dump)
    app.router.add_post("/{tail:.*}", record)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None, backlog=1024)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    serve(parser.parse_args().port)
