"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from core.db import create_engine, migrate
from core.models import Base


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    """After every migration, no table, column, index or constraint differs from core.models."""
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        async with engine.connect() as connection:
            diff = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
            )
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    finally:
        await engine.dispose()
    assert diff == []
    assert "calendar_feeds" in tables
