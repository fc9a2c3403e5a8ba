"""The Slack app: `build_app` wires the listeners and the one error handler onto a slack-bolt AsyncApp."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.dispatch import APOLOGY
from bot.live import LiveAnnouncements
from bot.slack.identity import WorkspaceProfiles
from bot.slack.installations import SealedInstallationStore, state_store
from bot.slack.listeners import actions, commands, home, views
from bot.slack.markup import escape
from core.config import Settings
from core.errors import SoonishError
from core.service import Core

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://slack.com/api/"
# slack-bolt's asyncio runner resets an acknowledgement to None when a listener fails right after ack() and
# it has not yet returned that ack to Slack (it polls every 10 ms); waiting longer than that keeps the ack.
ACK_SETTLE_SECONDS = 0.05
# An announcement answered 429 is sent again after Slack's Retry-After, this many times.
RATE_LIMIT_RETRIES = 3


@dataclass(frozen=True)
class OAuthInstall:
    """What installing the app into many workspaces needs: the app's credentials, its scopes, where to keep them."""

    client_id: str
    client_secret: str
    scopes: tuple[str, ...]
    installations: SealedInstallationStore
    redirect_uri: str | None = None


class Workspaces:
    """A Web API client for a workspace, outside any request: the one token's, or the workspace's installation's."""

    def __init__(self, client: AsyncWebClient, installations: SealedInstallationStore | None) -> None:
        self._client = client
        self._installations = installations

    async def client(self, team: str) -> AsyncWebClient | None:
        """The client to call Slack with for `team`; None when the app is not installed there."""
        if self._installations is None:
            return self._client
        token = await self._installations.bot_token(team)
        if token is None:
            return None
        return AsyncWebClient(
            token=token,
            base_url=self._client.base_url,
            team_id=team,
            retry_handlers=list(self._client.retry_handlers),
            logger=self._client.logger,
        )


def build_app(
    core: Core,
    *,
    bot_token: str | None = None,
    signing_secret: str = "",
    api_url: str = DEFAULT_API_URL,
    oauth: OAuthInstall | None = None,
) -> AsyncApp:
    """The configured app, shared by `soonish slack`, `soonish up` and the tests; its Web API calls go to `api_url`.

    With `bot_token` it serves that token's workspace; with `oauth` it is installed into workspaces at
    /slack/install and answers each with the token its installation saved.
    """
    if (bot_token is None) == (oauth is None):
        raise ValueError("give the one bot token or the OAuth install settings")
    client = AsyncWebClient(token=bot_token, base_url=api_url.rstrip("/") + "/")
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES))
    if oauth is None:
        app = AsyncApp(client=client, signing_secret=signing_secret, logger=log)
    else:
        settings = AsyncOAuthSettings(
            client_id=oauth.client_id,
            client_secret=oauth.client_secret,
            scopes=list(oauth.scopes),
            user_scopes=[],
            redirect_uri=oauth.redirect_uri,
            install_page_rendering_enabled=False,  # /slack/install goes straight to Slack's consent page
            installation_store=oauth.installations,
            installation_store_bot_only=True,
            state_store=state_store(oauth.installations.engine),
            logger=log,
        )
        app = AsyncApp(client=client, signing_secret=signing_secret, logger=log, oauth_settings=settings)
        # app_uninstalled and tokens_revoked delete the workspace's installation, so nothing is sent there again.
        app.enable_token_revocation_listeners()
    workspaces = Workspaces(client, oauth.installations if oauth else None)
    live = LiveAnnouncements(partial(commands.edit_announcement, workspaces, core))
    commands.register(app, core, live, WorkspaceProfiles())
    actions.register(app, core, live)
    home.register(app, core, live)
    views.register(app, core)
    app.error(on_error)
    return app


def app_from_settings(
    core: Core, settings: Settings, *, installations: SealedInstallationStore | None = None
) -> AsyncApp:
    """`build_app` with the tokens and Web API address of the settings.

    OAuth when SLACK_CLIENT_ID is set (with the runtime's `installations`), else SLACK_BOT_TOKEN's one workspace.
    """
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
    if settings.slack_oauth:
        if installations is None or settings.slack_client_id is None or settings.slack_client_secret is None:
            raise ValueError("Slack OAuth needs the installation store of the runtime")
        oauth = OAuthInstall(
            client_id=settings.slack_client_id,
            client_secret=settings.slack_client_secret.get_secret_value(),
            scopes=tuple(settings.slack_scopes.split(",")),
            installations=installations,
            redirect_uri=settings.slack_redirect_uri,
        )
        return build_app(core, signing_secret=secret, api_url=settings.slack_api_url, oauth=oauth)
    if settings.slack_bot_token is None:
        raise ValueError("SLACK_BOT_TOKEN is not set")
    return build_app(
        core,
        bot_token=settings.slack_bot_token.get_secret_value(),
        signing_secret=secret,
        api_url=settings.slack_api_url,
    )


async def on_error(
    error: Exception,
    body: dict[str, Any],
    ack: AsyncAck,
    respond: AsyncRespond | None,
    client: AsyncWebClient,
) -> None:
    """Show a business error to the asking user only; log anything else and apologise, still within the window."""
    if isinstance(error, SoonishError):
        text = escape(error.message)  # it may quote what the user typed
    else:
        log.error("Slack request failed: %s", type(error).__name__, exc_info=error)
        text = APOLOGY
    if ack.response is None:
        await ack()
    else:
        await asyncio.sleep(ACK_SETTLE_SECONDS)
    if respond is not None:  # Bolt gives one whenever the payload has a response_url
        await respond(text=text, response_type="ephemeral", replace_original=False)
        return
    view = body.get("view") or {}
    channel, user = str(view.get("private_metadata") or ""), str((body.get("user") or {}).get("id") or "")
    if channel and user:
        await client.chat_postEphemeral(channel=channel, user=user, text=text)
