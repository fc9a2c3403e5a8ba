"""Typed settings read from the environment and `.env`; the only place configuration is defined."""

from __future__ import annotations

import os
import secrets
import time
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import AfterValidator, AliasChoices, Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.quotas import Quotas, parse_quota


def _quota_text(value: str) -> str:
    return str(parse_quota(value))


# Kept as text in the settings (pydantic-settings would read a structured type as JSON) and read by `quotas`.
QuotaSetting = Annotated[str, AfterValidator(_quota_text)]
DEFAULT_QUOTAS = Quotas()

# The bot scopes of docs/slack-app-manifest.json: what an OAuth install asks for unless SLACK_SCOPES says otherwise.
SLACK_BOT_SCOPES = ("commands", "chat:write", "chat:write.public", "im:write", "users:read")

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
    # Clusters and Temporal Cloud: TLS (with a private CA), client certificates (mTLS), an API key.
    temporal_tls: bool | None = Field(default=None, validation_alias="TEMPORAL_TLS")
    temporal_tls_server_ca: Path | None = Field(default=None, validation_alias="TEMPORAL_TLS_SERVER_CA")
    temporal_tls_server_name: str | None = Field(default=None, validation_alias="TEMPORAL_TLS_SERVER_NAME")
    temporal_tls_client_cert: Path | None = Field(default=None, validation_alias="TEMPORAL_TLS_CLIENT_CERT")
    temporal_tls_client_key: Path | None = Field(default=None, validation_alias="TEMPORAL_TLS_CLIENT_KEY")
    temporal_api_key: SecretStr | None = Field(default=None, validation_alias="TEMPORAL_API_KEY")
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
    send_ahead_seconds: float = Field(default=20.0, ge=0, le=30, validation_alias="SOONISH_SEND_AHEAD_SECONDS")
    # How much later the "Remind me again" button on a direct-message reminder sends it again.
    snooze_seconds: int = Field(default=600, ge=1, le=86400, validation_alias="SOONISH_SNOOZE_SECONDS")
    discord_token: SecretStr | None = Field(default=None, validation_alias="DISCORD_TOKEN")
    discord_api_base: str = Field(
        default="https://discord.com/api/v10", pattern=r"^https?://", validation_alias="DISCORD_API_BASE"
    )
    discord_gateway_url: str | None = Field(default=None, pattern=r"^wss?://", validation_alias="DISCORD_GATEWAY_URL")
    discord_sync_commands: bool = Field(default=True, validation_alias="DISCORD_SYNC_COMMANDS")
    discord_scheduled_events: bool = Field(default=True, validation_alias="DISCORD_SCHEDULED_EVENTS")
    log_level: str = Field(default="INFO", validation_alias="SOONISH_LOG_LEVEL")
    log_format: Literal["text", "json"] = Field(
        default="text", validation_alias=AliasChoices("SOONISH_LOG_FORMAT", "LOG_FORMAT")
    )
    metrics_host: str = Field(default="127.0.0.1", validation_alias="SOONISH_METRICS_HOST")
    metrics_port: int | None = Field(default=None, ge=1, le=65535, validation_alias="SOONISH_METRICS_PORT")
    migrate_on_start: bool = Field(default=True, validation_alias="SOONISH_MIGRATE_ON_START")
    # Slack: the bot runs when SLACK_BOT_TOKEN is set; Socket Mode with SLACK_APP_TOKEN, else HTTP (signing secret).
    # With SLACK_CLIENT_ID and SLACK_CLIENT_SECRET it is installed into any number of workspaces (OAuth, HTTP mode).
    slack_bot_token: SecretStr | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_client_id: str | None = Field(default=None, pattern=r"^[0-9A-Za-z.]+$", validation_alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(default=None, validation_alias="SLACK_CLIENT_SECRET")
    slack_scopes: str = Field(
        default=",".join(SLACK_BOT_SCOPES), pattern=r"^[a-z:.]+(,[a-z:.]+)*$", validation_alias="SLACK_SCOPES"
    )
    slack_redirect_uri: str | None = Field(default=None, pattern=r"^https?://", validation_alias="SLACK_REDIRECT_URI")
    slack_signing_secret: SecretStr | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="SLACK_API_URL")
    slack_host: str = Field(default="127.0.0.1", validation_alias="SLACK_HOST")
    slack_port: int = Field(default=3000, ge=0, le=65535, validation_alias="SLACK_PORT")
    slack_path: str = Field(default="/slack/events", pattern=r"^/", validation_alias="SLACK_PATH")
    slack_channel_interval_seconds: float = Field(
        default=1.0, ge=0, le=60, validation_alias="SLACK_CHANNEL_INTERVAL_SECONDS"
    )

    # Quotas (COUNT/WINDOW such as 20/1h, or off), counted in the database so every process shares them.
    quota_event_creates_per_user: QuotaSetting = Field(
        default=str(DEFAULT_QUOTAS.event_creates_per_user), validation_alias="SOONISH_QUOTA_EVENTS_PER_USER"
    )
    quota_event_creates_per_tenant: QuotaSetting = Field(
        default=str(DEFAULT_QUOTAS.event_creates_per_tenant), validation_alias="SOONISH_QUOTA_EVENTS_PER_TENANT"
    )
    quota_subscribes_per_user: QuotaSetting = Field(
        default=str(DEFAULT_QUOTAS.subscribes_per_user), validation_alias="SOONISH_QUOTA_SUBSCRIBES_PER_USER"
    )
    quota_subscribes_per_tenant: QuotaSetting = Field(
        default=str(DEFAULT_QUOTAS.subscribes_per_tenant), validation_alias="SOONISH_QUOTA_SUBSCRIBES_PER_TENANT"
    )
    quota_test_sends_per_user: QuotaSetting = Field(
        default=str(DEFAULT_QUOTAS.test_sends_per_user), validation_alias="SOONISH_QUOTA_TEST_SENDS_PER_USER"
    )
    quota_test_sends_per_tenant: QuotaSetting = Field(
        default=str(DEFAULT_QUOTAS.test_sends_per_tenant), validation_alias="SOONISH_QUOTA_TEST_SENDS_PER_TENANT"
    )
    quota_test_sends_per_destination: QuotaSetting = Field(
        default=str(DEFAULT_QUOTAS.test_sends_per_destination),
        validation_alias="SOONISH_QUOTA_TEST_SENDS_PER_DESTINATION",
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

    @model_validator(mode="after")
    def _check_temporal_tls_files(self) -> Settings:
        files = (
            ("TEMPORAL_TLS_SERVER_CA", self.temporal_tls_server_ca),
            ("TEMPORAL_TLS_CLIENT_CERT", self.temporal_tls_client_cert),
            ("TEMPORAL_TLS_CLIENT_KEY", self.temporal_tls_client_key),
        )
        for name, path in files:
            if path is not None and not path.is_file():
                raise ValueError(f"{name} names {path}, which is not a readable file (a PEM file is expected)")
        if (self.temporal_tls_client_cert is None) != (self.temporal_tls_client_key is None):
            raise ValueError("TEMPORAL_TLS_CLIENT_CERT and TEMPORAL_TLS_CLIENT_KEY go together: set both or neither")
        if self.temporal_tls is False and (self.temporal_tls_server_ca or self.temporal_tls_client_cert):
            raise ValueError("TEMPORAL_TLS=false contradicts the TEMPORAL_TLS_* certificate files that are set")
        return self

    @model_validator(mode="after")
    def _check_slack_oauth(self) -> Settings:
        secret = self.slack_client_secret.get_secret_value() if self.slack_client_secret else ""
        if bool(self.slack_client_id) != bool(secret):
            raise ValueError("SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together: set both or neither")
        return self

    @property
    def temporal_uses_tls(self) -> bool:
        """TLS to Temporal: when asked for, when any certificate is given, or with an API key (Temporal Cloud)."""
        if self.temporal_tls is not None:
            return self.temporal_tls
        api_key = self.temporal_api_key.get_secret_value() if self.temporal_api_key else ""
        return bool(self.temporal_tls_server_ca or self.temporal_tls_client_cert or api_key)

    @property
    def slack_oauth(self) -> bool:
        """Whether Slack runs for many workspaces: installed with OAuth, each workspace with its own token."""
        return bool(self.slack_client_id and self.slack_client_secret)

    @property
    def slack_enabled(self) -> bool:
        """Whether the Slack bot should run: a bot token (or OAuth), and an app token or a signing secret."""
        token = self.slack_bot_token.get_secret_value() if self.slack_bot_token else ""
        if self.slack_oauth:  # the install pages and Slack's requests are served over HTTP
            return bool(self.slack_signing_secret)
        return bool(token) and bool(self.slack_app_token or self.slack_signing_secret)

    @property
    def quotas(self) -> Quotas:
        """The quotas the service enforces."""
        return Quotas(
            event_creates_per_user=parse_quota(self.quota_event_creates_per_user),
            event_creates_per_tenant=parse_quota(self.quota_event_creates_per_tenant),
            subscribes_per_user=parse_quota(self.quota_subscribes_per_user),
            subscribes_per_tenant=parse_quota(self.quota_subscribes_per_tenant),
            test_sends_per_user=parse_quota(self.quota_test_sends_per_user),
            test_sends_per_tenant=parse_quota(self.quota_test_sends_per_tenant),
            test_sends_per_destination=parse_quota(self.quota_test_sends_per_destination),
        )

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
