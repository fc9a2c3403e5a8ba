"""A real HTTP server that records what Apprise posts to it, and can answer with scripted failures."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    """One request the sink answered with a success."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]
    at: float


class HttpSink:
    """Listens on 127.0.0.1; `url(path)` is a json:// Apprise URL that posts here."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.attempts: dict[str, int] = defaultdict(int)
        self._script: dict[str, deque[int]] = {}
        self._lock = threading.Lock()
        # Seconds to hold each answer after recording the request, as a slow destination would.
        self.delay = 0.0
        # A Set-Cookie header for every answer, as a service keeping sessions would send.
        self.cookie: str | None = None
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                with sink._lock:
                    sink.attempts[self.path] += 1
                    script = sink._script.get(self.path)
                    status = script.popleft() if script else 200
                    if status < 300:
                        body = json.loads(raw or b"{}")
                        sink.received.append(Received(self.path, dict(self.headers), body, time.time()))
                if sink.delay:
                    time.sleep(sink.delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                if sink.cookie:
                    self.send_header("Set-Cookie", sink.cookie)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str = "/hook") -> str:
        """A json:// Apprise URL for `path` on this sink."""
        return f"json://127.0.0.1:{self.port}{path}"

    def fail_next(self, path: str, *statuses: int) -> None:
        """Answer the next requests to `path` with these statuses, then 200."""
        self._script[path] = deque(statuses)

    def to(self, path: str) -> list[Received]:
        """What `path` received successfully."""
        with self._lock:
            return [r for r in self.received if r.path == path]

    def close(self) -> None:
        """Stop listening."""
        self._server.shutdown()
        self._server.server_close()


class ConnectionRecorder:
    """Listens on 127.0.0.1 and records every connection made to it, whatever is sent (or not) over it.

    It answers each connection with one fixed HTTP response (200 unless told), after `hold` seconds, then closes it.
    """

    def __init__(
        self, response: bytes = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", *, hold: float = 0
    ) -> None:
        self.connections = 0
        self._response = response
        self._hold = hold
        self._lock = threading.Lock()
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(0.2)
        self.port = self._socket.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._socket.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with self._lock:
                self.connections += 1
            with conn:
                conn.settimeout(1.0)
                with contextlib.suppress(OSError):
                    conn.recv(65536)
                    if self._hold:
                        self._stop.wait(self._hold)
                    conn.sendall(self._response)

    def close(self) -> None:
        """Stop listening."""
        self._stop.set()
        self._thread.join(timeout=5)
        self._socket.close()
