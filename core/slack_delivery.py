"""Slack as a reminder destination: `soonishslack://TEAM/CHANNEL` is posted with the bot token via chat.postMessage."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx
from apprise.decorators import notify

log = logging.getLogger(__name__)

SLACK_SCHEME = "soonishslack"
MAX_RETRY_AFTER = 60.0
MAX_ATTEMPTS = 4
TIMEOUT = 10.0


def slack_url(team: str, channel: str) -> str:
    """The destination of a Slack channel, or of a user's direct message when `channel` is a user id."""
    return f"{SLACK_SCHEME}://{team}/{channel}"


@dataclass
class SlackPoster:
    """Posts messages with one bot token, at most one per `interval` seconds per channel, retrying 429s."""

    token: str
    api_url: str = "https://slack.com/api/"
    interval: float = 1.0
    _last: dict[str, float] = field(default_factory=dict)
    _locks: dict[str, threading.Lock] = field(default_factory=dict)
    _guard: threading.Lock = field(default_factory=threading.Lock)

    def _lock(self, channel: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(channel, threading.Lock())

    def post(self, channel: str, text: str) -> str | None:
        """Send `text` to `channel`; None when Slack accepted it, else a reason without the token."""
        url = self.api_url.rstrip("/") + "/chat.postMessage"
        headers = {"Authorization": f"Bearer {self.token}"}
        # Holding the channel's lock while waiting keeps that channel to one message per interval.
        with self._lock(channel), httpx.Client(timeout=TIMEOUT, follow_redirects=False) as http:
            for _ in range(MAX_ATTEMPTS):
                wait = self._last.get(channel, 0.0) + self.interval - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                try:
                    response = http.post(url, headers=headers, json={"channel": channel, "text": text})
                except httpx.HTTPError as exc:
                    return f"Slack could not be reached ({type(exc).__name__})"
                finally:
                    self._last[channel] = time.monotonic()
                if response.status_code == 429:
                    time.sleep(_retry_after(response.headers.get("Retry-After")))
                    continue
                if response.status_code >= 400:
                    return f"Slack answered HTTP {response.status_code}"
                try:
                    data = response.json()
                except ValueError:
                    return "Slack gave an unreadable answer"
                if data.get("ok"):
                    return None
                return f"Slack refused the message: {str(data.get('error', 'unknown error'))[:100]}"
        return "Slack kept rate-limiting the message"


def _retry_after(value: str | None) -> float:
    try:
        return min(max(float(value or 1), 0.0), MAX_RETRY_AFTER)
    except ValueError:
        return 1.0


_poster: SlackPoster | None = None


def configure_slack(poster: SlackPoster | None) -> None:
    """Set (or clear) how this process posts to Slack; without it Slack destinations fail with a clear reason."""
    global _poster
    _poster = poster


def slack_configured() -> bool:
    """Whether Slack destinations can be delivered from this process."""
    return _poster is not None


@notify(on=SLACK_SCHEME, name="Soonish Slack")  # type: ignore[untyped-decorator, no-untyped-call]
def _to_slack(body: str, title: str, notify_type: str, meta: dict[str, Any], *args: Any, **kwargs: Any) -> bool:
    poster = _poster
    if poster is None:
        log.warning("a Slack reminder could not be sent: SLACK_BOT_TOKEN is not set in this process")
        return False
    # Slack ids are upper case; Apprise lower-cases the host, so read the original URL.
    channel = urlsplit(str(meta.get("url") or "")).path.strip("/")
    if not channel:
        return False
    error = poster.post(channel, f"*{title}*\n{body}" if title else body)
    if error:
        log.warning("a Slack reminder was not delivered: %s", error)
    return error is None
