"""Fixtures that start real servers: Temporal (dev and time-skipping), SQLite files, PostgreSQL, HTTP sinks."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from temporalio.testing import WorkflowEnvironment

from bot.embedded import DevServer, find_executable
from bot.runtime import Runtime, open_runtime
from core.config import Settings
from core.views import Actor
from tests.sinks import HttpSink

POSTGRES_ADMIN = os.environ.get("SOONISH_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(scope="session")
async def dev_server() -> AsyncIterator[DevServer]:
    """A real Temporal dev server (in memory) for the whole run."""
    server = await DevServer.start(db_file=None, headless=True)
    yield server
    server.stop()


@pytest.fixture(scope="module")
async def time_env() -> AsyncIterator[WorkflowEnvironment]:
    """A time-skipping Temporal test server for each test module: the test server fails a skip of months with a
    transport error once a workflow on it has continued as new, as other modules' tests leave it."""
    env = await WorkflowEnvironment.start_time_skipping(
        test_server_existing_path=find_executable("temporal-test-server")
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
async def postgres_admin() -> AsyncIterator[str | None]:
    """A throw-away PostgreSQL database for this run, or None where no server is reachable (never in CI)."""
    try:
        conn = await asyncpg.connect(POSTGRES_ADMIN.replace("+asyncpg", ""), timeout=5)
    except (OSError, asyncpg.PostgresError):
        if os.environ.get("CI"):
            raise
        yield None
        return
    name = f"soonish_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    await conn.execute(f'CREATE DATABASE "{name}"')
    base = POSTGRES_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    yield f"{base}/{name}"
    await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await conn.close()


@pytest.fixture(params=["sqlite", "postgres"])
async def database_url(request: pytest.FixtureRequest, tmp_path: Path, postgres_admin: str | None) -> str:
    """A fresh, empty database: a SQLite file, or the run's PostgreSQL database with its schema wiped."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'soonish.db'}"
    if postgres_admin is None:
        pytest.skip("no PostgreSQL server reachable")
    conn = await asyncpg.connect(postgres_admin.replace("+asyncpg", ""))
    await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    await conn.close()
    return postgres_admin


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite database file (for tests that are about Temporal, not the database)."""
    return f"sqlite+aiosqlite:///{tmp_path / 'soonish.db'}"


def make_settings(data_dir: Path, database_url: str, temporal_address: str, **extra: Any) -> Settings:
    """Settings for one test: its own data dir, database, workflow id prefix and task queue."""
    instance = "t" + uuid.uuid4().hex[:12]
    values: dict[str, Any] = {
        "SOONISH_DATA_DIR": data_dir,
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": temporal_address,
        "SOONISH_INSTANCE": instance,
        "TEMPORAL_TASK_QUEUE": instance,
        "SOONISH_ALLOW_PRIVATE_URLS": False,
        "SOONISH_SEND_AHEAD_SECONDS": 0,
    }
    values.update(extra)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class SkewClock:
    """The service's clock, moved forward with the time-skipping server's time."""

    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@pytest.fixture
async def runtime(tmp_path: Path, database_url: str, dev_server: DevServer) -> AsyncIterator[Runtime]:
    """The core on a fresh database (SQLite and PostgreSQL) and the real dev server; no worker runs."""
    settings = make_settings(tmp_path, database_url, dev_server.address)
    async with open_runtime(settings) as rt:
        yield rt


@pytest.fixture
def sink() -> Iterator[HttpSink]:
    """A local HTTP server that receives json:// notifications."""
    server = HttpSink()
    yield server
    server.close()


ORGANIZER = Actor(platform="console", tenant="guild-a", user_id="org", display_name="Olga")
MEMBER = Actor(platform="console", tenant="guild-a", user_id="mem", display_name="Max")
STRANGER = Actor(platform="console", tenant="guild-b", user_id="str", display_name="Sam")
