"""Database engine, sessions and migrations, for SQLite (aiosqlite) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

MIGRATIONS = Path(__file__).parent / "migrations"
# Key of the PostgreSQL advisory lock held while migrating (any constant that no other application uses).
MIGRATION_LOCK_KEY = 0x50_6F_6F_6E_69_73_68

log = logging.getLogger(__name__)


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer release than this one."""


def create_engine(url: str) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys and a busy timeout so several processes can share it."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            # The driver's own transaction handling stays on: it begins a transaction at the first write, so
            # reads before it never pin an old snapshot and concurrent writers wait (busy_timeout) instead of
            # failing. The service layer therefore uses no SAVEPOINTs, which that handling would break.
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


class SerialWriteSessions(async_sessionmaker[AsyncSession]):
    """SQLite: the transactions this process opens with `begin()` run one at a time, in the order asked.

    SQLite lets one writer in at a time. Left to its busy handler, concurrent writers of one process poll
    for the lock with sleeps of up to 100 ms each, so a burst of commands waits seconds in the tail while
    the database sits idle between polls. Queued on a lock instead, each starts as soon as the one before
    it commits. Writers in other processes (a worker of its own) still meet the busy handler. Nothing in a
    `begin()` block waits for anything but the database, so holding the lock through it is short.
    """

    def __init__(self, engine: AsyncEngine, **kwargs: Any) -> None:
        super().__init__(engine, **kwargs)
        # One lock per event loop: an asyncio lock cannot be shared across loops.
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()

    @contextlib.asynccontextmanager
    async def _serial(self) -> AsyncIterator[AsyncSession]:
        lock = self._locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())
        async with lock, super().begin() as session:
            yield session

    def begin(self) -> Any:  # an async context manager giving the session, as async_sessionmaker.begin's
        """A session in a transaction that commits at the end, after this process's earlier ones."""
        return self._serial()


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit, so results can be built from them; on SQLite, write
    transactions of one process queue on a lock (SerialWriteSessions)."""
    if engine.dialect.name == "sqlite":
        return SerialWriteSessions(engine, expire_on_commit=False)
    return async_sessionmaker(engine, expire_on_commit=False)


def _alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    command.upgrade(_alembic_config(connection), "head")


@dataclass(frozen=True)
class SchemaState:
    """Where the database's schema is, against what this release needs."""

    current: frozenset[str]
    head: frozenset[str]

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def too_new(self) -> bool:
        """The database holds a revision this release does not know: a newer release migrated it."""
        known = {rev.revision for rev in ScriptDirectory.from_config(_alembic_config()).walk_revisions()}
        return bool(self.current - known)

    def describe(self) -> str:
        return f"the database schema is at {', '.join(sorted(self.current)) or 'no revision (empty)'}"


def _state(connection: Connection) -> SchemaState:
    current = frozenset(MigrationContext.configure(connection).get_current_heads())
    head = frozenset(ScriptDirectory.from_config(_alembic_config()).get_heads())
    return SchemaState(current=current, head=head)


async def schema_state(engine: AsyncEngine) -> SchemaState:
    """The schema revision the database is at, and the one this release needs."""
    async with engine.connect() as connection:
        return await connection.run_sync(_state)


def _sqlite_file(engine: AsyncEngine) -> Path | None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database)


@contextlib.asynccontextmanager
async def _file_lock(path: Path) -> AsyncIterator[None]:
    """An exclusive lock on `path` held across processes (released by the kernel if the process dies)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("another process is migrating the database; waiting for it")
            await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


async def migrate(engine: AsyncEngine) -> SchemaState:
    """Bring the schema to the newest revision, one process at a time; safe to run at every start.

    PostgreSQL: an advisory lock held by the migrating transaction (DDL is transactional there, so a
    second process waits, then finds the schema current). SQLite: a lock file beside the database.
    Returns the state before migrating.
    """
    sqlite_file = _sqlite_file(engine)
    lock = _file_lock(sqlite_file.with_name(sqlite_file.name + ".migrate-lock")) if sqlite_file else None
    async with contextlib.AsyncExitStack() as stack:
        if lock is not None:
            await stack.enter_async_context(lock)
        async with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            before = await connection.run_sync(_state)
            if before.too_new:
                raise SchemaTooNew(f"{before.describe()}, which this release does not know; upgrade Soonish")
            if not before.up_to_date:
                await connection.run_sync(_upgrade)
    return before


def migrate_sync(url: str) -> None:
    """Run the migrations from synchronous code (the CLI)."""

    async def _run() -> None:
        engine = create_engine(url)
        try:
            await migrate(engine)
        finally:
            await engine.dispose()

    asyncio.run(_run())
