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
from sqlalchemy.util import await_only

from core import sqlite

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
        # One hand-off to the driver's thread per statement (core/sqlite.py), a 30 s busy timeout.
        engine = create_async_engine(url, async_creator=sqlite.connector(url, timeout=30))

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

        _take_turn_before_writes(engine)
        return engine
    return create_async_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


_TURN = "soonish_write_turn"


@dataclass
class _WriteTurn:
    """A `begin()` transaction's place in its process's queue of SQLite writers, taken at its first write."""

    lock: asyncio.Lock
    held: bool = False
    over: bool = False

    def take(self) -> None:
        """Wait for the turn (called from the database calls, which run in SQLAlchemy's greenlet)."""
        if not self.held and not self.over:
            await_only(self.lock.acquire())
            self.held = True

    def release(self) -> None:
        self.over = True
        if self.held:
            self.held = False
            self.lock.release()


def _take_turn_before_writes(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "before_cursor_execute")
    def _before(conn: Connection, _cursor: Any, _sql: str, _params: Any, context: Any, _many: bool) -> None:
        turn = conn.info.get(_TURN)
        if turn is not None and context is not None and (context.isinsert or context.isupdate or context.isdelete):
            turn.take()


class SerialWriteSessions(async_sessionmaker[AsyncSession]):
    """SQLite: the transactions this process opens with `begin()` write one at a time, in the order asked.

    SQLite lets one writer in at a time. Left to its busy handler, concurrent writers of one process poll
    for the lock with sleeps of up to 100 ms each, so a burst of commands waits seconds in the tail while
    the database sits idle between polls. Queued on a lock instead, each starts writing as soon as the one
    before it commits. The turn is taken at a transaction's first INSERT, UPDATE or DELETE, where SQLite's
    driver begins the transaction (the reads before it are not part of it), so reads never queue. Writers
    in other processes (a worker of its own) still meet the busy handler. Nothing in a `begin()` block waits
    for anything but the database, so a turn is short.
    """

    def __init__(self, engine: AsyncEngine, **kwargs: Any) -> None:
        super().__init__(engine, **kwargs)
        # One lock per event loop: an asyncio lock cannot be shared across loops.
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()

    @contextlib.asynccontextmanager
    async def _serial(self) -> AsyncIterator[AsyncSession]:
        turn = _WriteTurn(self._locks.setdefault(asyncio.get_running_loop(), asyncio.Lock()))
        info: dict[Any, Any] | None = None
        try:
            async with super().begin() as session:
                info = (await session.connection()).sync_connection.info  # type: ignore[union-attr]
                info[_TURN] = turn
                yield session
        finally:
            turn.release()
            if info is not None and info.get(_TURN) is turn:
                del info[_TURN]

    def begin(self) -> Any:  # an async context manager giving the session, as async_sessionmaker.begin's
        """A session in a transaction that commits at the end; on SQLite its writes wait for this process's
        earlier writing transactions to commit."""
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
