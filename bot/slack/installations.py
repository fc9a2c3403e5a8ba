"""Slack installations from the OAuth install flow, one per workspace, kept in the project database.

slack_sdk's SQLAlchemy stores on the project's own async engine (tables made by migration 0008), wrapped so that
every token is encrypted with the project's secret box before it is saved and decrypted after it is read.
"""

from __future__ import annotations

import copy
import logging
import time
from typing import TypeVar

from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.installation_store.models.bot import Bot
from slack_sdk.oauth.installation_store.models.installation import Installation
from slack_sdk.oauth.installation_store.sqlalchemy import AsyncSQLAlchemyInstallationStore
from slack_sdk.oauth.state_store.sqlalchemy import AsyncSQLAlchemyOAuthStateStore
from sqlalchemy import MetaData, String
from sqlalchemy.ext.asyncio import AsyncEngine

from core.secrets import SecretBox, SecretUnreadable

log = logging.getLogger(__name__)

# The fields of an installation that let someone act as the app; each is stored encrypted.
INSTALLATION_SECRETS = ("bot_token", "bot_refresh_token", "user_token", "user_refresh_token", "incoming_webhook_url")
BOT_SECRETS = ("bot_token", "bot_refresh_token")
# Room for a token in its encrypted form (migration 0008 widens slack_sdk's 200 characters to this).
SEALED_LENGTH = 1000
# How long an install link's state stays valid (Slack's own examples use ten minutes).
STATE_SECONDS = 600
# A workspace's token is looked up again after this long, so a reminder to thousands reads the database once.
TOKEN_SECONDS = 2.0

Record = TypeVar("Record", Installation, Bot)


class SealedInstallationStore(AsyncInstallationStore):
    """slack_sdk's SQLAlchemy installation store, with every token encrypted at rest.

    Soonish uses only bot tokens: when the bot token is revoked the workspace's installation goes with it.
    """

    def __init__(self, *, client_id: str, engine: AsyncEngine, secrets: SecretBox) -> None:
        self._store = AsyncSQLAlchemyInstallationStore(client_id=client_id, engine=engine, logger=log)
        self._box = secrets
        self.engine = engine
        self._tokens: dict[str, tuple[float, str | None]] = {}

    @property
    def logger(self) -> logging.Logger:
        return log

    def _seal(self, record: Record, fields: tuple[str, ...]) -> Record:
        sealed = copy.copy(record)
        for field in fields:
            value = getattr(record, field, None)
            if value:
                setattr(sealed, field, self._box.encrypt(value))
        return sealed

    def _open(self, record: Record | None, fields: tuple[str, ...]) -> Record | None:
        if record is None:
            return None
        try:
            for field in fields:
                value = getattr(record, field, None)
                if value:
                    setattr(record, field, self._box.decrypt(value))
        except SecretUnreadable:
            log.error(
                "The Slack installation of workspace %s cannot be decrypted (SOONISH_SECRET_KEY changed?); "
                "install the app there again.",
                record.team_id,
            )
            return None
        return record

    async def async_save(self, installation: Installation) -> None:
        """Save an installation (and its bot), tokens encrypted."""
        self._tokens.pop(installation.team_id or "", None)
        await self._store.async_save(self._seal(installation, INSTALLATION_SECRETS))

    async def async_save_bot(self, bot: Bot) -> None:
        """Save a bot installation, tokens encrypted."""
        self._tokens.pop(bot.team_id or "", None)
        await self._store.async_save_bot(self._seal(bot, BOT_SECRETS))

    async def async_find_bot(
        self, *, enterprise_id: str | None, team_id: str | None, is_enterprise_install: bool | None = False
    ) -> Bot | None:
        """The workspace's newest bot installation, tokens decrypted."""
        found = await self._store.async_find_bot(
            enterprise_id=enterprise_id, team_id=team_id, is_enterprise_install=is_enterprise_install
        )
        return self._open(found, BOT_SECRETS)

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> Installation | None:
        """The workspace's newest installation, tokens decrypted."""
        found = await self._store.async_find_installation(
            enterprise_id=enterprise_id, team_id=team_id, user_id=user_id, is_enterprise_install=is_enterprise_install
        )
        return self._open(found, INSTALLATION_SECRETS)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        """Forget the workspace's bot token, and with it the installation (Soonish cannot work without it)."""
        self._tokens.pop(team_id or "", None)
        await self._store.async_delete_bot(enterprise_id=enterprise_id, team_id=team_id)
        await self._store.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id)

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        """Forget the workspace's installations (one user's, if `user_id` is given)."""
        self._tokens.pop(team_id or "", None)
        await self._store.async_delete_installation(enterprise_id=enterprise_id, team_id=team_id, user_id=user_id)

    async def bot_token(self, team: str) -> str | None:
        """The bot token of workspace `team`, or None when Soonish is not installed there (any more)."""
        now = time.monotonic()
        known = self._tokens.get(team)
        if known is not None and now - known[0] < TOKEN_SECONDS:
            return known[1]
        bot = await self.async_find_bot(enterprise_id=None, team_id=team)
        token = bot.bot_token if bot is not None else None
        self._tokens[team] = (now, token)
        return token


def tables() -> MetaData:
    """The stores' tables as migration 0008 makes them: slack_sdk's own, with room for the encrypted tokens."""
    metadata = MetaData()
    AsyncSQLAlchemyInstallationStore.build_installations_table(metadata, "slack_installations")
    AsyncSQLAlchemyInstallationStore.build_bots_table(metadata, "slack_bots")
    AsyncSQLAlchemyOAuthStateStore.build_oauth_states_table(metadata, "slack_oauth_states")
    for table in metadata.tables.values():
        for name in INSTALLATION_SECRETS:
            if name in table.c:
                table.c[name].type = String(SEALED_LENGTH)
    return metadata


def state_store(engine: AsyncEngine) -> AsyncSQLAlchemyOAuthStateStore:
    """The store of install links' one-time states, in the project database."""
    return AsyncSQLAlchemyOAuthStateStore(expiration_seconds=STATE_SECONDS, engine=engine, logger=log)
