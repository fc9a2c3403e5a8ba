"""Slack destinations: `soonishslack://TEAM/CHANNEL` posted with that workspace's bot token via chat.postMessage.

The token comes from a `TokenSource`: the one token of a single-workspace bot, or each workspace's own from its
installation. A channel gets at most one message per `interval` seconds (Slack allows about one per second per
channel); other channels are not held up by it. A 429 waits its Retry-After. A destination whose workspace is not
the event's, or not the token's, is refused: one workspace's events never post into another's channels. So is a
workspace the app is no longer installed in.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import Any, Protocol

import httpx

from core.destinations.base import Destination, Outcome, refused
from core.notices import Instant, Message, SnoozeOffer, local

log = logging.getLogger(__name__)

SLACK_SCHEME = "soonishslack"
DEFAULT_API_URL = "https://slack.com/api/"
MAX_RETRY_AFTER = 60.0
MAX_ATTEMPTS = 4
TIMEOUT = 10.0
# The action id of a reminder's "Remind me again" button; its value is the reminder (`EVENT_ID:UNIX_SECONDS`).
SNOOZE_ACTION = "soonish_snooze"
# Slack's answers meaning the token no longer works: trying again cannot help until the app is installed again.
DEAD_TOKEN = frozenset(("invalid_auth", "not_authed", "token_revoked", "token_expired", "account_inactive"))
NOT_INSTALLED = (
    "Soonish is not installed in this Slack workspace any more (it was uninstalled or its access was revoked); "
    "a workspace admin can install it again"
)


class TokenSource(Protocol):
    """Where a workspace's bot token comes from."""

    async def bot_token(self, team: str) -> str | None:
        """The bot token for workspace `team`, or None when the app is not installed there."""
        ...


class OneToken:
    """The single bot token of a bot that serves one workspace (SLACK_BOT_TOKEN)."""

    def __init__(self, token: str) -> None:
        self._token = token

    async def bot_token(self, team: str) -> str | None:
        """The one token, whatever the workspace (auth.test then tells whether it is that workspace's)."""
        return self._token


def slack_url(team: str, channel: str) -> str:
    """The destination of a Slack channel, or of a user's direct message when `channel` is a user id."""
    return f"{SLACK_SCHEME}://{team}/{channel}"


def escape(text: str) -> str:
    """Slack's escaping of user text, so nothing in it becomes a mention, link or markup token."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def date(when: datetime, fallback: str) -> str:
    """An instant in Slack's `<!date>` markup, shown in each reader's zone; `fallback` where it cannot be."""
    return f"<!date^{int(when.timestamp())}^{{date_short_pretty}} at {{time}}|{escape(fallback)}>"


def slack_time(instant: Instant) -> str:
    """A message's instant in Slack's date markup, with a plain fallback in the event's zone."""
    return date(instant.at, local(instant))


def is_direct(channel: str) -> bool:
    """Whether a destination's channel is a member (their direct message): Slack user ids start with U or W."""
    return channel[:1] in ("U", "W")


def snooze_blocks(text: str, offer: SnoozeOffer) -> list[dict[str, Any]]:
    """A reminder as blocks: its text, and the actions block with its "Remind me again" button."""
    button = {
        "type": "button",
        "action_id": SNOOZE_ACTION,
        "text": {"type": "plain_text", "text": offer.label},
        "value": offer.ref,
    }
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}},
        {"type": "actions", "block_id": "soonish_snooze", "elements": [button]},
    ]


def _retry_after(value: str | None) -> float:
    try:
        return min(max(float(value or 1), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return 1.0


class SlackAdapter:
    """Posts the bot's own Slack destinations, each with its own workspace's bot token."""

    scheme = SLACK_SCHEME
    platform = "slack"

    def __init__(
        self,
        *,
        token: str | None = None,
        tokens: TokenSource | None = None,
        api_url: str = DEFAULT_API_URL,
        interval: float = 1.0,
    ) -> None:
        if (token is None) == (tokens is None):
            raise ValueError("give the one bot token or a source of each workspace's token")
        self._tokens: TokenSource = tokens if tokens is not None else OneToken(token or "")
        self._api = api_url.rstrip("/") + "/"
        self.interval = interval
        self._last: dict[str, float] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._teams: dict[str, str] = {}  # token -> the workspace auth.test says it belongs to
        self._http: httpx.AsyncClient | None = None

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=TIMEOUT, follow_redirects=False)
        return self._http

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _token_team(self, token: str) -> tuple[str | None, str | None]:
        """The workspace the token belongs to (auth.test, asked once per token), or Slack's error code."""
        if token not in self._teams:
            response = await self._client().post(self._api + "auth.test", headers=_auth(token))
            data: dict[str, Any] = response.json() if response.status_code < 400 else {}
            if not data.get("ok"):
                return None, str(data.get("error") or f"HTTP {response.status_code}")
            self._teams[token] = str(data.get("team_id") or "")
        return self._teams[token], None

    async def send(self, destination: Destination, message: Message, *, key: str | None) -> Outcome:
        """Post into the event's own workspace; never raises for a delivery problem."""
        # Slack ids are upper case and urlsplit lower-cases the host, so read the text itself.
        team, _, channel = destination.url.split("://", 1)[1].partition("/")
        channel = channel.strip("/")
        if not team or not channel or "/" in channel:
            return refused("that is not a Slack destination of this bot")
        if team != destination.tenant:
            return refused("that Slack channel is not in this event's workspace")
        try:
            token = await self._tokens.bot_token(team)
        except Exception as exc:  # the installations' database; the delivery is tried again later
            log.warning("the Slack installation of %s could not be read: %s", team, type(exc).__name__)
            return Outcome(False, "the Slack workspace's installation could not be read")
        if not token:
            return refused(NOT_INSTALLED)
        try:
            token_team, problem = await self._token_team(token)
        except (httpx.HTTPError, ValueError) as exc:
            return Outcome(False, f"Slack could not be reached ({type(exc).__name__})")
        if problem in DEAD_TOKEN:
            return refused(f"{NOT_INSTALLED} ({problem})")
        if problem is not None:
            return Outcome(False, f"Slack did not accept the bot's token ({problem[:100]})")
        if token_team != team:
            return refused("the bot's Slack token does not belong to this event's workspace")
        title, body = message.render(when=slack_time, text=escape)
        text = f"*{title}*\n{body}" if title else body
        # Only a direct message offers "Remind me again": in a channel, anyone could press it.
        extra = {"blocks": snooze_blocks(text, message.snooze)} if message.snooze and is_direct(channel) else {}
        failure = await self._post(token, channel, text, extra)
        if failure is None:
            return Outcome(True)
        code, error = failure
        if code in DEAD_TOKEN:
            self._teams.pop(token, None)
            return refused(f"{NOT_INSTALLED} ({code})")
        log.warning("a Slack reminder was not delivered: %s", error)
        return Outcome(False, error)

    async def _post(
        self, token: str, channel: str, text: str, extra: dict[str, Any] | None = None
    ) -> tuple[str, str] | None:
        """Send `text` to `channel`; None when Slack accepted it, else Slack's error code and a reason."""
        # Holding the channel's lock while waiting keeps that channel to one message per interval.
        async with self._locks.setdefault(channel, asyncio.Lock()):
            for _ in range(MAX_ATTEMPTS):
                wait = self._last.get(channel, 0.0) + self.interval - time.monotonic()
                if wait > 0:
                    await asyncio.sleep(wait)
                try:
                    response = await self._client().post(
                        self._api + "chat.postMessage",
                        json={"channel": channel, "text": text, **(extra or {})},
                        headers=_auth(token),
                    )
                except httpx.HTTPError as exc:
                    return "", f"Slack could not be reached ({type(exc).__name__})"
                finally:
                    self._last[channel] = time.monotonic()
                if response.status_code == 429:
                    await asyncio.sleep(_retry_after(response.headers.get("Retry-After")))
                    continue
                if response.status_code >= 400:
                    return "", f"Slack answered HTTP {response.status_code}"
                try:
                    data = response.json()
                except ValueError:
                    return "", "Slack gave an unreadable answer"
                if data.get("ok"):
                    return None
                code = str(data.get("error") or "unknown error")[:100]
                return code, f"Slack refused the message: {code}"
        return "ratelimited", "Slack kept rate-limiting the message"


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
