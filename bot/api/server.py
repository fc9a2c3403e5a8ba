"""The uvicorn server the HTTP API runs in, for the CLI and the tests alike."""

from __future__ import annotations

import contextlib
from collections.abc import Generator

import uvicorn
from fastapi import FastAPI


class Server(uvicorn.Server):
    """A uvicorn server that leaves signals to the process: `soonish` stops everything it runs, in order."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


def make_server(app: FastAPI, *, host: str, port: int) -> uvicorn.Server:
    """A server for `app`; run it with `await server.serve()` and stop it with `server.should_exit = True`."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        # Errors are logged by the app itself, without bodies; per-request lines would only add noise.
        access_log=False,
        server_header=False,
    )
    return Server(config)
