"""Migrations: one process at a time, whatever the database, and a schema newer than the release is refused."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from core.db import SchemaTooNew, create_engine, migrate, schema_state


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
