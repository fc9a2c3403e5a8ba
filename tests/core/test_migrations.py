"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import Connection

from bot.slack.installations import tables as slack_tables
from core.db import MIGRATIONS, create_engine, migrate
from core.models import Base


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    """After every migration, no table, column, index or constraint differs from core.models and the Slack stores."""
    engine = create_engine(database_url)
    try:
        await migrate(engine)
        async with engine.connect() as connection:
            diff = await connection.run_sync(
                lambda sync: compare_metadata(MigrationContext.configure(sync), [Base.metadata, slack_tables()])
            )
            tables = await connection.run_sync(lambda sync: set(inspect(sync).get_table_names()))
    finally:
        await engine.dispose()
    assert diff == []
    assert "calendar_feeds" in tables
    assert {"slack_installations", "slack_bots", "slack_oauth_states"} <= tables


# Each migration since the first, and what it adds: tables, `table.column`s and indexes.
ADDED = {
    "0005": {"calendar_feeds", "ix_event_participants_user_id"},
    "0006": {
        "occurrence_exceptions",
        "events.recurrence",
        "event_participants.occurrence_start",
        "notification_log.occurrence_start",
    },
    "0007": {"channel_follows", "public_feeds", "users.default_tags", "events.channel_key"},
    "0008": {"slack_installations", "slack_bots", "slack_oauth_states", "users.timezone_set"},
    "0009": {"snoozes"},
}


def _schema(sync: Connection) -> set[str]:
    """Every table, `table.column` and index name of the database."""
    found = inspect(sync)
    names: set[str] = set()
    for table in found.get_table_names():
        names.add(table)
        names |= {f"{table}.{c['name']}" for c in found.get_columns(table)}
        names |= {i["name"] or "" for i in found.get_indexes(table)}
    return names


@pytest.mark.parametrize("revision", sorted(ADDED))
async def test_a_migration_downgrades_and_upgrades_again(database_url: str, revision: str) -> None:
    """Downgrading to just before a migration removes what it added and keeps what came before; upgrading
    restores it."""

    def step(sync: Connection, target: str, up: bool) -> set[str]:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = sync
        (command.upgrade if up else command.downgrade)(config, target)
        return _schema(sync)

    engine = create_engine(database_url)
    try:
        await migrate(engine)
        async with engine.begin() as connection:
            down = await connection.run_sync(step, f"{revision}-1", False)
        async with engine.begin() as connection:
            up = await connection.run_sync(step, "head", True)
    finally:
        await engine.dispose()
    added = ADDED[revision]
    assert not added & down
    assert {"users.default_offsets", "events.start_at"} <= down
    assert added <= up
