"""Settings: read from the environment, with safe defaults for one machine and strict rules for production."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from core.config import Settings, explain


def _settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> Settings:
    for name in ("DATABASE_URL", "TEMPORAL_ADDRESS", "SOONISH_SECRET_KEY", "SOONISH_ENV", "SOONISH_API_PORT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SOONISH_DATA_DIR", str(tmp_path / "var"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return Settings(_env_file=None)  # type: ignore[call-arg]


def test_defaults_suit_one_machine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """With nothing set: SQLite under the data dir, embedded Temporal, API on loopback:8000, private URLs refused."""
    settings = _settings(monkeypatch, tmp_path)
    assert settings.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path / 'var' / 'soonish.db'}"
    assert settings.temporal_address is None
    assert (settings.api_host, settings.api_port) == ("127.0.0.1", 8000)
    assert settings.allow_private_urls is False


def test_environment_overrides_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings come from their environment variables."""
    settings = _settings(
        monkeypatch,
        tmp_path,
        DATABASE_URL="postgresql+asyncpg://soonish@db/soonish",
        TEMPORAL_ADDRESS="temporal:7233",
        SOONISH_API_PORT="9000",
        SOONISH_ALLOW_PRIVATE_URLS="true",
    )
    assert settings.resolved_database_url == "postgresql+asyncpg://soonish@db/soonish"
    assert settings.temporal_address == "temporal:7233"
    assert settings.api_port == 9000
    assert settings.allow_private_urls is True


def test_development_key_is_generated_once_and_private(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Without SOONISH_SECRET_KEY a key is written to the data dir, mode 0600, and reused by the next process."""
    first = _settings(monkeypatch, tmp_path).encryption_key
    second = _settings(monkeypatch, tmp_path).encryption_key
    key_file = tmp_path / "var" / "secret.key"
    assert first == second
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_production_requires_a_real_secret_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """SOONISH_ENV=production refuses to start without a key, or with a placeholder one."""
    with pytest.raises(ValidationError, match="SOONISH_SECRET_KEY must be set"):
        _settings(monkeypatch, tmp_path, SOONISH_ENV="production")
    with pytest.raises(ValidationError, match="SOONISH_SECRET_KEY must be set"):
        _settings(monkeypatch, tmp_path, SOONISH_ENV="production", SOONISH_SECRET_KEY="changeme")


def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A port out of range is a configuration error, not a crash later."""
    with pytest.raises(ValidationError, match="SOONISH_API_PORT"):
        _settings(monkeypatch, tmp_path, SOONISH_API_PORT="70000")


def test_secret_key_must_be_a_fernet_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A key that cannot encrypt is refused at start with how to make a good one; a good one is used as given."""
    with pytest.raises(ValidationError, match="not a Fernet key") as refused:
        _settings(monkeypatch, tmp_path, SOONISH_SECRET_KEY="hunter2-but-longer")
    assert "not a Fernet key" in explain(refused.value)
    assert "hunter2" not in explain(refused.value)
    good = "u1Xn0lJY7fW0tq3sQb1rj3P2e1w9mFvD6sB2zQH3c5E="
    assert _settings(monkeypatch, tmp_path, SOONISH_SECRET_KEY=good).encryption_key == good.encode()
    assert not (tmp_path / "var" / "secret.key").exists()


def test_quotas_have_defaults_and_read_count_per_window(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Quotas default to a community's sensible values; COUNT/WINDOW and 'off' set them."""
    assert str(_settings(monkeypatch, tmp_path).quotas.event_creates_per_user) == "20/1h"
    settings = _settings(
        monkeypatch, tmp_path, SOONISH_QUOTA_EVENTS_PER_USER="5/10m", SOONISH_QUOTA_TEST_SENDS_PER_DESTINATION="off"
    )
    assert (settings.quotas.event_creates_per_user.limit, settings.quotas.event_creates_per_user.window_seconds) == (
        5,
        600,
    )
    assert settings.quotas.test_sends_per_destination.limit is None


def test_bad_quota_is_explained(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A quota that is not COUNT/WINDOW names the setting and how to write one."""
    for value in ("twenty", "0/1h", "5/0m", "5/40d"):
        with pytest.raises(ValidationError) as caught:
            _settings(monkeypatch, tmp_path, SOONISH_QUOTA_SUBSCRIBES_PER_USER=value)
        message = explain(caught.value)
        assert message.startswith("SOONISH_QUOTA_SUBSCRIBES_PER_USER: Value error, "), value
        assert "quota" in message and value not in message, message


def test_public_url_defaults_to_the_local_api_and_must_be_http(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """SOONISH_PUBLIC_URL (where calendar feed URLs point) defaults to the local API; a non-web address is refused."""
    monkeypatch.delenv("SOONISH_PUBLIC_URL", raising=False)
    assert _settings(monkeypatch, tmp_path).public_url == "http://127.0.0.1:8000"
    given = "https://soonish.example.org/api"
    assert _settings(monkeypatch, tmp_path, SOONISH_PUBLIC_URL=given).public_url == given
    for bad in ("soonish.example.org", "ftp://soonish.example.org", "https://", "https://a b"):
        with pytest.raises(ValidationError, match="SOONISH_PUBLIC_URL"):
            _settings(monkeypatch, tmp_path, SOONISH_PUBLIC_URL=bad)


def test_slack_oauth_needs_both_credentials_and_the_signing_secret(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A client id without its secret is refused by name; the Slack bot runs with OAuth once it has a signing secret."""
    for name in (
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
        "SLACK_CLIENT_ID",
        "SLACK_CLIENT_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ValidationError) as half:
        _settings(monkeypatch, tmp_path, SLACK_CLIENT_ID="1234.5678")
    assert "SLACK_CLIENT_ID and SLACK_CLIENT_SECRET go together" in explain(half.value)
    worker = _settings(monkeypatch, tmp_path, SLACK_CLIENT_ID="1234.5678", SLACK_CLIENT_SECRET="s3cret-value")
    assert worker.slack_oauth and not worker.slack_enabled  # a worker delivers; the Slack bot needs the signing secret
    settings = _settings(
        monkeypatch, tmp_path, SLACK_CLIENT_ID="1234.5678", SLACK_CLIENT_SECRET="s", SLACK_SIGNING_SECRET="x"
    )
    assert settings.slack_oauth and settings.slack_enabled and settings.slack_bot_token is None
    assert settings.slack_scopes.split(",") == ["commands", "chat:write", "chat:write.public", "im:write", "users:read"]


def test_slack_scopes_must_be_a_comma_separated_list(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """SLACK_SCOPES with spaces or other separators is refused by name."""
    with pytest.raises(ValidationError) as error:
        _settings(monkeypatch, tmp_path, SLACK_SCOPES="commands chat:write")
    assert "slack_scopes" in explain(error.value).lower() or "SLACK_SCOPES" in explain(error.value)
