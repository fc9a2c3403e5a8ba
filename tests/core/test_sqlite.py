"""The SQLite connections of the async engine: what a statement reports, failed transactions rolled back, reads
that leave the file free to write, and one hand-off to the driver's thread per statement."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from core import sqlite
from core.db import create_engine, session_factory


@pytest.fixture
async def engine(sqlite_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(sqlite_url)
    async with engine.begin() as connection:
        await connection.execute(text("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL)"))
    yield engine
    await engine.dispose()


async def _names(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        return list((await connection.execute(text("SELECT name FROM item ORDER BY id"))).scalars())


async def test_statements_report_rows_counts_and_ids(engine: AsyncEngine) -> None:
    """Inserted ids, RETURNING rows, counts of changed rows and many-row inserts come back as SQLite gives them."""
    async with engine.begin() as connection:
        first = await connection.exec_driver_sql("INSERT INTO item (name) VALUES ('a')")
        assert first.lastrowid == 1
        returned = await connection.execute(text("INSERT INTO item (name) VALUES ('b') RETURNING id, name"))
        assert returned.all() == [(2, "b")]
        await connection.execute(text("INSERT INTO item (name) VALUES (:name)"), [{"name": n} for n in "cde"])
        changed = await connection.execute(text("UPDATE item SET name = name || '!' WHERE id > 3"))
        assert changed.rowcount == 2
        rows = await connection.execute(text("SELECT id, name FROM item ORDER BY id"))
        assert rows.fetchmany(2) == [(1, "a"), (2, "b")]
        assert rows.fetchone() == (3, "c")
        assert rows.all() == [(4, "d!"), (5, "e!")]
    assert await _names(engine) == ["a", "b", "c", "d!", "e!"]


async def test_a_failed_transaction_leaves_nothing_and_its_connection_works_on(engine: AsyncEngine) -> None:
    """A transaction whose second write fails keeps none of its writes; the next one on the same connection
    commits as usual."""
    sessions = session_factory(engine)
    with pytest.raises(IntegrityError):
        async with sessions.begin() as session:
            await session.execute(text("INSERT INTO item (name) VALUES ('kept?')"))
            await session.execute(text("INSERT INTO item (name) VALUES ('kept?')"))
    async with sessions.begin() as session:
        await session.execute(text("INSERT INTO item (name) VALUES ('next')"))
    assert await _names(engine) == ["next"]
    assert engine.pool.checkedin() == 1  # the same connection served all three


async def test_a_transaction_that_only_read_leaves_the_file_free_to_write(engine: AsyncEngine, sqlite_url: str) -> None:
    """After a transaction that only read, another connection writes at once, without waiting for a lock."""
    sessions = session_factory(engine)
    async with sessions.begin() as session:
        assert (await session.execute(text("SELECT count(*) FROM item"))).scalar_one() == 0
    other = create_engine(sqlite_url)
    try:
        async with other.begin() as connection:
            await connection.execute(text("PRAGMA busy_timeout=0"))  # a lock would fail the write at once
            await connection.execute(text("INSERT INTO item (name) VALUES ('other')"))
    finally:
        await other.dispose()
    async with sessions.begin() as session:
        assert (await session.execute(text("SELECT name FROM item"))).scalars().all() == ["other"]


async def test_a_write_held_open_elsewhere_is_met_by_the_busy_timeout(engine: AsyncEngine, sqlite_url: str) -> None:
    """A writer that finds the file locked past its busy timeout gets SQLite's error, and its transaction and
    connection recover."""
    other = create_engine(sqlite_url)
    try:
        async with other.connect() as holder:
            await holder.execute(text("INSERT INTO item (name) VALUES ('held')"))  # not committed yet
            with pytest.raises(OperationalError, match="database is locked"):
                async with engine.begin() as connection:
                    await connection.execute(text("PRAGMA busy_timeout=50"))
                    await connection.execute(text("INSERT INTO item (name) VALUES ('blocked')"))
            await holder.commit()
    finally:
        await other.dispose()
    async with engine.begin() as connection:
        await connection.execute(text("INSERT INTO item (name) VALUES ('after')"))
    assert await _names(engine) == ["held", "after"]


async def test_each_statement_is_one_hand_off_and_a_read_commits_none(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A statement costs one call on the driver's thread; a transaction that only read costs no commit or
    rollback call; one that wrote costs one commit."""
    calls: list[str] = []
    original = sqlite.Connection._execute

    async def counted(self: sqlite.Connection, fn: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(getattr(fn, "__name__", "statement"))
        return await original(self, fn, *args, **kwargs)

    sessions = session_factory(engine)
    async with sessions.begin() as session:  # the connection is made before counting starts
        await session.execute(text("SELECT 1"))
    monkeypatch.setattr(sqlite.Connection, "_execute", counted)
    async with sessions.begin() as session:
        await session.execute(text("SELECT count(*) FROM item"))
        await session.execute(text("SELECT name FROM item"))
    assert calls == ["<lambda>", "<lambda>"]
    calls.clear()
    async with sessions.begin() as session:
        await session.execute(text("INSERT INTO item (name) VALUES ('x')"))
    assert calls == ["<lambda>", "commit"]
