"""Fixtures for the front ends: the HTTP API served by a real uvicorn server on a free loopback port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from bot.api.app import build_api
from bot.api.server import make_server
from bot.embedded import free_port
from bot.runtime import Runtime
from core.service import Core

HOST = "127.0.0.1"


@asynccontextmanager
async def serve_api(core: Core) -> AsyncIterator[httpx.AsyncClient]:
    """Run the API over `core` on a free port; yield a client for it; stop the server afterwards."""
    port = free_port(HOST)
    server = make_server(build_api(core), host=HOST, port=port)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
                raise RuntimeError("the API server stopped before it started")
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=30) as client:
            yield client
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def api(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """A client for the HTTP API running over the test's core (SQLite and PostgreSQL)."""
    async with serve_api(runtime.core) as client:
        yield client
