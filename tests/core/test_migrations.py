"""Migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

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


async def test_calendar_feeds_migration_downgrades_and_upgrades_again(database_url: str) -> None:
    """Downgrading past the calendar feeds migration removes its table and index; upgrading restores them."""

    def step(sync: Connection, target: str, up: bool) -> set[str]:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = sync
        (command.upgrade if up else command.downgrade)(config, target)
        names = set(inspect(sync).get_table_names())
        names |= {i["name"] or "" for i in inspect(sync).get_indexes("event_participants")}
        return names

    engine = create_engine(database_url)
    try:
        await migrate(engine)
        async with engine.begin() as connection:
            down = await connection.run_sync(step, "0005-1", False)
        async with engine.begin() as connection:
            up = await connection.run_sync(step, "head", True)
    finally:
        await engine.dispose()
    assert "calendar_feeds" not in down and "ix_event_participants_user_id" not in down
    assert {"calendar_feeds", "ix_event_participants_user_id"} <= up


async def test_follows_migration_downgrades_and_upgrades_again(database_url: str) -> None:
    """Downgrading past the follows migration removes its tables and columns; upgrading restores them."""

    def step(sync: Connection, target: str, up: bool) -> set[str]:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = sync
        (command.upgrade if up else command.downgrade)(config, target)
        names = set(inspect(sync).get_table_names())
        names |= {f"users.{c['name']}" for c in inspect(sync).get_columns("users")}
        names |= {f"events.{c['name']}" for c in inspect(sync).get_columns("events")}
        return names

    engine = create_engine(database_url)
    try:
        await migrate(engine)
        async with engine.begin() as connection:
            down = await connection.run_sync(step, "0007-1", False)
        async with engine.begin() as connection:
            up = await connection.run_sync(step, "head", True)
    finally:
        await engine.dispose()
    added = {"channel_follows", "public_feeds", "users.default_tags", "events.channel_key"}
    assert not added & down and "users.default_offsets" in down
    assert added <= up


async def test_slack_installations_migration_downgrades_and_upgrades_again(database_url: str) -> None:
    """Downgrading past migration 0008 removes the Slack stores' tables and the zone flag; upgrading restores them."""

    def step(sync: Connection, target: str, up: bool) -> set[str]:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        config.attributes["connection"] = sync
        (command.upgrade if up else command.downgrade)(config, target)
        return set(inspect(sync).get_table_names()) | {c["name"] for c in inspect(sync).get_columns("users")}

    engine = create_engine(database_url)
    try:
        await migrate(engine)
        async with engine.begin() as connection:
            down = await connection.run_sync(step, "0008-1", False)
        async with engine.begin() as connection:
            up = await connection.run_sync(step, "head", True)
    finally:
        await engine.dispose()
    ours = {"slack_installations", "slack_bots", "slack_oauth_states", "timezone_set"}
    assert not ours & down
    assert ours <= up
