"""Slack installations in the project database (SQLite and PostgreSQL): tokens sealed at rest, found per workspace."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from cryptography.fernet import Fernet
from slack_sdk.oauth.installation_store.models.installation import Installation
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.slack.installations import SealedInstallationStore, state_store
from core.db import create_engine, migrate
from core.secrets import SecretBox

CLIENT_ID = "1234.5678"
# As long as Slack's rotating tokens get: it must fit the columns in its encrypted form on PostgreSQL too.
BOT_TOKEN = "xoxe.xoxb-1-" + "B" * 140
REFRESH = "xoxe-1-" + "R" * 140


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    """A migrated database."""
    engine = create_engine(database_url)
    await migrate(engine)
    yield engine
    await engine.dispose()


def installation(team: str, token: str = BOT_TOKEN) -> Installation:
    return Installation(
        app_id="A0APP",
        enterprise_id=None,
        team_id=team,
        team_name=f"Team {team}",
        bot_token=token,
        bot_id="B0BOT",
        bot_user_id="U0BOT",
        bot_scopes="commands,chat:write",
        bot_refresh_token=REFRESH,
        user_id="U0INSTALLER",
        token_type="bot",
    )


async def test_tokens_are_stored_sealed_and_found_per_workspace(engine: AsyncEngine) -> None:
    """A saved installation's tokens are in no column in clear, and each workspace finds its own token."""
    store = SealedInstallationStore(client_id=CLIENT_ID, engine=engine, secrets=SecretBox(Fernet.generate_key()))
    await store.async_save(installation("T0ONE", BOT_TOKEN))
    await store.async_save(installation("T0TWO", BOT_TOKEN.replace("B", "C")))
    assert await store.bot_token("T0ONE") == BOT_TOKEN
    assert await store.bot_token("T0TWO") == BOT_TOKEN.replace("B", "C")
    assert await store.bot_token("T0NONE") is None
    found = await store.async_find_installation(enterprise_id=None, team_id="T0ONE")
    assert found is not None and (found.bot_token, found.bot_refresh_token) == (BOT_TOKEN, REFRESH)
    async with engine.connect() as connection:
        stored = [
            str(value)
            for table in ("slack_installations", "slack_bots")
            for row in (await connection.execute(text(f"SELECT * FROM {table}"))).all()
            for value in row
        ]
    assert stored and not any("xox" in value or "RRRR" in value for value in stored)


async def test_revoking_the_bot_token_forgets_the_workspace(engine: AsyncEngine) -> None:
    """tokens_revoked deletes the bot; the installation (and its copy of the token) goes with it."""
    store = SealedInstallationStore(client_id=CLIENT_ID, engine=engine, secrets=SecretBox(Fernet.generate_key()))
    await store.async_save(installation("T0ONE"))
    await store.async_save(installation("T0TWO"))
    await store.async_delete_bot(enterprise_id=None, team_id="T0ONE")
    assert await store.async_find_installation(enterprise_id=None, team_id="T0ONE") is None
    assert await store.bot_token("T0ONE") is None
    assert await store.bot_token("T0TWO") == BOT_TOKEN


async def test_tokens_under_another_key_are_not_used(engine: AsyncEngine) -> None:
    """With a different SOONISH_SECRET_KEY a stored token cannot be read, and the workspace counts as not installed."""
    await SealedInstallationStore(
        client_id=CLIENT_ID, engine=engine, secrets=SecretBox(Fernet.generate_key())
    ).async_save(installation("T0ONE"))
    other = SealedInstallationStore(client_id=CLIENT_ID, engine=engine, secrets=SecretBox(Fernet.generate_key()))
    assert await other.bot_token("T0ONE") is None


async def test_an_install_state_is_accepted_once(engine: AsyncEngine) -> None:
    """The OAuth state store on the project database accepts an issued state once, and an unknown one never."""
    states = state_store(engine)
    issued = await states.async_issue()
    assert await states.async_consume("never-issued") is False
    assert await states.async_consume(issued) is True
    assert await states.async_consume(issued) is False
