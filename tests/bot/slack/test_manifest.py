"""The Slack app manifest in docs/ matches what the Slack front end serves."""

from __future__ import annotations

import inspect
import json
from pathlib import Path
from urllib.parse import urlsplit

from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings

from bot.slack.listeners.commands import COMMANDS
from core.config import SLACK_BOT_SCOPES, Settings

MANIFEST = Path(__file__).parents[3] / "docs" / "slack-app-manifest.json"


def test_manifest_declares_every_command_and_the_request_urls() -> None:
    """Its slash commands are the ones the app listens to, and every request URL is HTTPS at SLACK_PATH."""
    manifest = json.loads(MANIFEST.read_text())
    commands = manifest["features"]["slash_commands"]
    assert sorted(c["command"] for c in commands) == sorted(COMMANDS)
    path = Settings.model_fields["slack_path"].default
    settings = manifest["settings"]
    urls = [c["url"] for c in commands]
    urls += [settings["interactivity"]["request_url"], settings["event_subscriptions"]["request_url"]]
    assert all(urlsplit(u).scheme == "https" and urlsplit(u).path == path for u in urls)
    assert all(c["description"] and not c["should_escape"] for c in commands)


def test_manifest_asks_for_the_scopes_the_bot_uses() -> None:
    """It asks for posting, public channels, DMs, commands and workspace roles, and nothing else."""
    scopes = json.loads(MANIFEST.read_text())["oauth_config"]["scopes"]["bot"]
    assert sorted(scopes) == ["chat:write", "chat:write.public", "commands", "im:write", "users:read"]
    assert Settings.model_fields["slack_scopes"].default.split(",") == list(SLACK_BOT_SCOPES) == scopes


def test_manifest_redirects_installs_to_the_oauth_redirect_path_over_https() -> None:
    """Its one OAuth redirect URL is HTTPS at the path the app serves installs back at."""
    (url,) = json.loads(MANIFEST.read_text())["oauth_config"]["redirect_urls"]
    served = inspect.signature(AsyncOAuthSettings).parameters  # the app keeps Bolt's paths
    assert urlsplit(url).scheme == "https" and urlsplit(url).path == served["redirect_uri_path"].default
    assert served["install_path"].default == "/slack/install"


def test_manifest_enables_the_home_tab_and_hears_uninstalls() -> None:
    """App Home is on; the app hears app_home_opened (it publishes the tab), app_uninstalled and tokens_revoked."""
    manifest = json.loads(MANIFEST.read_text())
    assert manifest["features"]["app_home"]["home_tab_enabled"] is True
    events = manifest["settings"]["event_subscriptions"]["bot_events"]
    assert sorted(events) == ["app_home_opened", "app_uninstalled", "tokens_revoked"]
