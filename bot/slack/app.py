"""The Slack app: `build_app` wires the listeners and the one error handler onto a slack-bolt AsyncApp."""

from __future__ import annotations

import asyncio
import logging
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from bot.dispatch import APOLOGY
from bot.live import LiveAnnouncements
from bot.slack.identity import WorkspaceRoles
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


def build_app(core: Core, *, bot_token: str, signing_secret: str = "", api_url: str = DEFAULT_API_URL) -> AsyncApp:
    """The configured app, shared by `soonish slack`, `soonish up` and the tests; its Web API calls go to `api_url`."""
    client = AsyncWebClient(token=bot_token, base_url=api_url.rstrip("/") + "/")
    client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=RATE_LIMIT_RETRIES))
    app = AsyncApp(client=client, signing_secret=signing_secret, logger=log)
    live = LiveAnnouncements(partial(commands.edit_announcement, client, core))
    commands.register(app, core, live, WorkspaceRoles())
    actions.register(app, core, live)
    home.register(app, core, live)
    views.register(app, core)
    app.error(on_error)
    return app


def app_from_settings(core: Core, settings: Settings) -> AsyncApp:
    """`build_app` with the tokens and Web API address of the settings (SLACK_BOT_TOKEN must be set)."""
    if settings.slack_bot_token is None:
        raise ValueError("SLACK_BOT_TOKEN is not set")
    secret = settings.slack_signing_secret.get_secret_value() if settings.slack_signing_secret else ""
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
