"""Fixtures for workflow tests on the time-skipping server: a worker, a clock that follows skipped time."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from temporalio.api.testservice.v1 import SleepRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from bot.runtime import Runtime, open_runtime
from tests.conftest import SkewClock, make_settings


@dataclass
class Skipping:
    """The core and a worker on the time-skipping server; `advance` moves both clocks together."""

    env: WorkflowEnvironment
    clock: SkewClock
    rt: Runtime
    _worker: Worker | None = None
    _running: asyncio.Task[None] | None = None

    async def advance(self, delta: timedelta) -> None:
        """Let `delta` of workflow time pass (timers fire, activities run)."""
        # As env.sleep, with a long RPC deadline: activities that run inside the window hold the virtual clock
        # in real time, and a big fan-out can take longer than the default deadline.
        request = SleepRequest()
        request.duration.FromTimedelta(delta)
        await self.env.client.test_service.unlock_time_skipping_with_sleep(request, timeout=timedelta(minutes=5))
        self.clock.offset += delta

    async def resume_worker(self) -> None:
        """Start a worker (as a restarted worker process would)."""
        # A fresh connection, as a restarted worker process would have (one worker per queue per client).
        client = await Client.connect(self.env.client.service_client.config.target_host)
        self._worker = self.rt.worker(client)
        self._running = asyncio.create_task(self._worker.run())

    async def pause_worker(self) -> None:
        """Stop the worker: from now on nothing runs the workflows or activities."""
        if self._worker is not None and self._running is not None:
            await self._worker.shutdown()
            await self._running
            self._worker = self._running = None


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 15.0) -> None:
    """Wait (in real time) until `check()` holds."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


@pytest.fixture
async def skipping(time_env: WorkflowEnvironment, tmp_path: Path, sqlite_url: str) -> AsyncIterator[Skipping]:
    """A runtime whose scheduler talks to the time-skipping server, with a worker running."""
    address = time_env.client.service_client.config.target_host
    settings = make_settings(tmp_path, sqlite_url, address, SOONISH_ALLOW_PRIVATE_URLS=True)
    clock = SkewClock()
    clock.offset = (await time_env.get_current_time()) - clock()
    async with open_runtime(settings, clock=clock) as rt, rt.worker():
        yield Skipping(env=time_env, clock=clock, rt=rt)
