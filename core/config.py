"""Typed settings read from the environment and `.env`; the only place configuration is defined."""

from __future__ import annotations

import os
import secrets
import time
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = frozenset({"", "changeme", "change-me", "secret", "placeholder"})


class Settings(BaseSettings):
    """Every setting Soonish reads. `.env.example` documents each one."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Literal["development", "production"] = Field(default="development", validation_alias="SOONISH_ENV")
    data_dir: Path = Field(default=Path("var"), validation_alias="SOONISH_DATA_DIR")
    database_url: str | None = Field(default=None, validation_alias="DATABASE_URL")
    temporal_address: str | None = Field(default=None, validation_alias="TEMPORAL_ADDRESS")
    temporal_namespace: str = Field(default="default", validation_alias="TEMPORAL_NAMESPACE")
    temporal_task_queue: str = Field(default="soonish-reminders", validation_alias="TEMPORAL_TASK_QUEUE")
    temporal_port: int = Field(default=7233, ge=0, le=65535, validation_alias="TEMPORAL_PORT")
    temporal_ui_port: int = Field(default=8233, validation_alias="TEMPORAL_UI_PORT")
    secret_key: SecretStr | None = Field(default=None, validation_alias="SOONISH_SECRET_KEY")
    api_host: str = Field(default="127.0.0.1", validation_alias="SOONISH_API_HOST")
    api_port: int = Field(default=8000, ge=0, le=65535, validation_alias="SOONISH_API_PORT")
    # Where the HTTP API is reached from outside: private calendar feed URLs point there.
    public_url: str = Field(
        default="http://127.0.0.1:8000", pattern=r"^https?://[^\s/]+(/[^\s]*)?$", validation_alias="SOONISH_PUBLIC_URL"
    )
    allow_private_urls: bool = Field(default=False, validation_alias="SOONISH_ALLOW_PRIVATE_URLS")
    instance: str = Field(default="soonish", pattern=r"^[a-z0-9][a-z0-9-]{0,31}$", validation_alias="SOONISH_INSTANCE")
    late_after_seconds: float = Field(default=60.0, gt=0, validation_alias="SOONISH_LATE_AFTER_SECONDS")
    send_ahead_seconds: float = Field(default=3.0, ge=0, le=30, validation_alias="SOONISH_SEND_AHEAD_SECONDS")
    discord_token: SecretStr | None = Field(default=None, validation_alias="DISCORD_TOKEN")
    discord_api_base: str = Field(
        default="https://discord.com/api/v10", pattern=r"^https?://", validation_alias="DISCORD_API_BASE"
    )
    discord_gateway_url: str | None = Field(default=None, pattern=r"^wss?://", validation_alias="DISCORD_GATEWAY_URL")
    discord_sync_commands: bool = Field(default=True, validation_alias="DISCORD_SYNC_COMMANDS")
    log_level: str = Field(default="INFO", validation_alias="SOONISH_LOG_LEVEL")
    # Slack: the bot runs when SLACK_BOT_TOKEN is set; Socket Mode with SLACK_APP_TOKEN, else HTTP (signing secret).
    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")
    slack_host: str = Field(default="127.0.0.1", validation_alias="SLACK_HOST")
    slack_port: int = Field(default=3000, ge=0, le=65535, validation_alias="SLACK_PORT")
    slack_path: str = Field(default="/slack/events", pattern=r"^/", validation_alias="SLACK_PATH")
    slack_channel_interval_seconds: float = Field(
        default=1.0, ge=0, le=60, validation_alias="SLACK_CHANNEL_INTERVAL_SECONDS"
    )

    @model_validator(mode="after")
    def _refuse_placeholder_secret_in_production(self) -> Settings:
        if self.environment == "production":
            key = self.secret_key.get_secret_value() if self.secret_key else ""
            if key.strip().lower() in PLACEHOLDER_SECRETS:
                raise ValueError("SOONISH_SECRET_KEY must be set to a real key when SOONISH_ENV=production")
        if self.secret_key is not None and self.secret_key.get_secret_value():
            from cryptography.fernet import Fernet

            try:
                Fernet(self.secret_key.get_secret_value().encode())
            except ValueError:
                raise ValueError(
                    "SOONISH_SECRET_KEY is not a Fernet key (32 url-safe base64-encoded bytes); make one with "
                    '`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`'
                ) from None
        return self

    @property
    def slack_enabled(self) -> bool:
        """Whether the Slack bot should run: a bot token, and an app token or a signing secret to receive with."""
        token = self.slack_bot_token.get_secret_value() if self.slack_bot_token else ""
        return bool(token) and bool(self.slack_app_token or self.slack_signing_secret)

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'soonish.db').resolve()}"

    @cached_property
    def encryption_key(self) -> bytes:
        """The Fernet key for secrets at rest; in development one is generated once into the data dir."""
        if self.secret_key is not None and self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value().encode()
        path = self.data_dir / "secret.key"
        if path.exists():
            return path.read_bytes().strip()
        from cryptography.fernet import Fernet

        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = Fernet.generate_key()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process of this installation wrote it first
            time.sleep(0.1)
            return path.read_bytes().strip()
        with os.fdopen(fd, "wb") as fh:
            fh.write(key)
        return key


def explain(error: ValidationError) -> str:
    """A configuration error as the operator should see it: which setting and why, never the value given."""
    parts = []
    for item in error.errors(include_input=False, include_url=False):
        where = ".".join(str(part) for part in item["loc"])
        parts.append(f"{where}: {item['msg']}" if where else str(item["msg"]))
    return "; ".join(parts)


def new_token() -> str:
    """A random URL-safe token, used for API keys."""
    return secrets.token_urlsafe(32)
