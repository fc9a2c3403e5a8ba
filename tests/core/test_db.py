"""Migrations: one process at a time, whatever the database, and a schema newer than the release is refused;
on SQLite, a process's writers take turns."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select, text

from core.db import SchemaTooNew, create_engine, migrate, schema_state, session_factory
from core.models import QuotaUse, utcnow


async def test_concurrent_migrations_on_a_fresh_database_all_succeed(database_url: str) -> None:
    """Three migrations started at once on an empty database (SQLite, PostgreSQL) all finish; one did the work."""
    engines = [create_engine(database_url) for _ in range(3)]
    try:
        befores = await asyncio.gather(*(migrate(engine) for engine in engines))
        after = await schema_state(engines[0])
    finally:
        for engine in engines:
            await engine.dispose()
    assert sorted(before.up_to_date for before in befores) == [False, True, True]
    assert after.up_to_date


async def test_a_schema_from_a_newer_release_is_refused(database_url: str) -> None:
    """A database at a revision this release does not know is not touched, and the error says to upgrade."""
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
        with pytest.raises(SchemaTooNew, match="upgrade Soonish"):
            await migrate(engine)
        assert (await schema_state(engine)).current == frozenset({"9999_future"})
    finally:
        await engine.dispose()


async def test_sqlite_writers_of_one_process_take_turns_and_readers_do_not_wait(sqlite_url: str) -> None:
    """While one transaction has written and not committed, a read-only transaction finishes at once and a
    second writer waits for the commit (on a lock, not in SQLite's busy handler), then sees the first's row."""
    engine = create_engine(sqlite_url)

    @event.listens_for(engine.sync_engine, "connect")
    def _no_busy_handler(dbapi_connection: Any, _record: Any) -> None:
        # A writer that met SQLite's lock would fail at once ("database is locked") instead of waiting.
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    try:
        await migrate(engine)
        sessions = session_factory(engine)
        wrote, release = asyncio.Event(), asyncio.Event()
        order: list[str] = []

        async def first() -> None:
            async with sessions.begin() as session:
                await session.execute(insert(QuotaUse).values(action="a", scope="s", at=utcnow()))
                wrote.set()
                await release.wait()
                order.append("first commits")

        async def second() -> int:
            await wrote.wait()
            async with sessions.begin() as session:
                await session.execute(insert(QuotaUse).values(action="a", scope="s", at=utcnow()))
                order.append("second wrote")
                return int((await session.execute(select(func.count()).select_from(QuotaUse))).scalar_one())

        async def reader() -> int:
            await wrote.wait()
            async with sessions.begin() as session:
                return int((await session.execute(select(func.count()).select_from(QuotaUse))).scalar_one())

        tasks = [asyncio.create_task(first()), asyncio.create_task(second())]
        assert await asyncio.wait_for(reader(), 2) == 0  # the uncommitted row is not seen, and nothing waited
        assert order == []
        release.set()
        await tasks[0]
        assert await asyncio.wait_for(tasks[1], 5) == 2
        assert order == ["first commits", "second wrote"]
    finally:
        await engine.dispose()


async def test_sqlite_writer_that_fails_gives_the_next_one_its_turn(sqlite_url: str) -> None:
    """A transaction that raises after writing rolls back and frees the turn for the next writer."""
    engine = create_engine(sqlite_url)
    try:
        await migrate(engine)
        sessions = session_factory(engine)
        with pytest.raises(RuntimeError):
            async with sessions.begin() as session:
                await session.execute(insert(QuotaUse).values(action="a", scope="s", at=utcnow()))
                raise RuntimeError("the command failed")

        async def write() -> None:
            async with sessions.begin() as session:
                await session.execute(insert(QuotaUse).values(action="a", scope="s", at=utcnow()))

        await asyncio.wait_for(asyncio.gather(*(write() for _ in range(5))), 10)
        async with sessions() as session:
            assert (await session.execute(select(func.count()).select_from(QuotaUse))).scalar_one() == 5
    finally:
        await engine.dispose()
