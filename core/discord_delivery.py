"""Discord destinations: a custom Apprise schema that posts through the bot's REST API (channels and DMs).

Apprise's own Discord plugin posts to webhooks only and cannot send direct messages, so channel and DM
reminders go through the bot's REST API with its token, configured once per process. A DM to a member
whose DMs are closed (error 50007) goes to the event's channel with a mention instead, and a note says so.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from apprise.decorators import notify

log = logging.getLogger(__name__)

DISCORD_SCHEME = "soonishdiscord"
DEFAULT_API_BASE = "https://discord.com/api/v10"
DMS_CLOSED = 50007
MAX_RATE_LIMIT_WAITS = 8
MAX_RATE_LIMIT_WAIT = 60.0
MAX_CONTENT = 2000
TIMEOUT = 15.0


@dataclass(frozen=True)
class _Bot:
    token: str
    base_url: str


_bot: _Bot | None = None
_notes: dict[str, str] = {}
_notes_lock = threading.Lock()


def configure_discord(*, token: str, base_url: str = DEFAULT_API_BASE) -> None:
    """Let this process send to Discord destinations with the bot's token."""
    global _bot
    _bot = _Bot(token=token, base_url=base_url.rstrip("/"))


def channel_url(channel_id: int | str) -> str:
    """The destination of a Discord channel, posted to by the bot."""
    return f"{DISCORD_SCHEME}://channel/{int(channel_id)}"


def dm_url(user_id: int | str, fallback: str | None = None) -> str:
    """The direct-message destination of a Discord member; `fallback` is a channel destination for closed DMs."""
    url = f"{DISCORD_SCHEME}://dm/{int(user_id)}"
    if fallback and (channel := _channel_of(fallback)) is not None:
        url += f"?fallback={channel}"
    return url


def _channel_of(url: str) -> int | None:
    parts = urlsplit(url)
    if parts.scheme != DISCORD_SCHEME or parts.hostname != "channel":
        return None
    tail = parts.path.strip("/")
    return int(tail) if tail.isdigit() else None


def take_note(ref: str) -> str | None:
    """The note a send left under `ref` (for example: DMs closed, sent in the channel), once."""
    with _notes_lock:
        return _notes.pop(ref, None)


class _Refused(Exception):
    def __init__(self, status: int, code: int | None) -> None:
        super().__init__(f"Discord answered {status}" + (f" (code {code})" if code is not None else ""))
        self.status = status
        self.code = code


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def _call(bot: _Bot, method: str, path: str, payload: dict[str, Any]) -> dict[str, Any]:
    """One REST call; a 429 waits its `retry_after` and tries again, so bursts are slowed, not lost."""
    body = json.dumps(payload).encode()
    for _ in range(MAX_RATE_LIMIT_WAITS):
        request = urllib.request.Request(  # noqa: S310 - the base URL is the operator's setting
            bot.base_url + path,
            data=body,
            method=method,
            headers={
                "Authorization": f"Bot {bot.token}",
                "Content-Type": "application/json",
                "User-Agent": "DiscordBot (https://github.com/soonish, 0.1) Soonish",
            },
        )
        try:
            with _opener.open(request, timeout=TIMEOUT) as response:
                raw = response.read()
                result: dict[str, Any] = json.loads(raw) if raw else {}
                return result
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                data = json.loads(raw) if raw else {}
            except ValueError:
                data = {}
            if exc.code == 429:
                wait = float(data.get("retry_after") or exc.headers.get("Retry-After") or 1.0)
                time.sleep(min(max(wait, 0.0), MAX_RATE_LIMIT_WAIT))
                continue
            raise _Refused(exc.code, data.get("code") if isinstance(data, dict) else None) from None
    raise _Refused(429, None)


def _post(bot: _Bot, channel: int, content: str, mention: int | None = None) -> None:
    allowed: dict[str, Any] = {"parse": [], "users": [str(mention)] if mention else []}
    _call(bot, "POST", f"/channels/{channel}/messages", {"content": content[:MAX_CONTENT], "allowed_mentions": allowed})


@notify(on=DISCORD_SCHEME, name="Soonish Discord bot")  # type: ignore[untyped-decorator, no-untyped-call]
def _to_discord(body: str, title: str, notify_type: str, meta: dict[str, Any], *args: Any, **kwargs: Any) -> bool:
    bot = _bot
    if bot is None:
        log.warning("a Discord reminder was due but this process has no DISCORD_TOKEN")
        return False
    kind = str(meta.get("host") or "")
    target = str(meta.get("fullpath") or meta.get("path") or "").strip("/")
    query = {k: v for k, v in (meta.get("qsd") or {}).items()}
    if not target.isdigit():
        return False
    content = f"**{title}**\n{body}" if title else body
    try:
        if kind == "channel":
            _post(bot, int(target), content)
            return True
        if kind != "dm":
            return False
        try:
            dm = _call(bot, "POST", "/users/@me/channels", {"recipient_id": target})
            _post(bot, int(dm["id"]), content)
            return True
        except _Refused as exc:
            fallback = str(query.get("fallback") or "")
            if exc.code != DMS_CLOSED or not fallback.isdigit():
                raise
            _post(bot, int(fallback), f"<@{target}> {content}", mention=int(target))
            if ref := str(query.get("ref") or ""):
                with _notes_lock:
                    _notes[ref] = "direct messages are closed; sent in the event's channel with a mention"
            return True
    except (_Refused, urllib.error.URLError, OSError, ValueError, KeyError) as exc:
        log.warning("Discord delivery failed: %s", exc if isinstance(exc, _Refused) else type(exc).__name__)
        return False


def ref_url(url: str, ref: str) -> str:
    """`url` carrying a reference under which the send can leave a note."""
    return f"{url}{'&' if '?' in url else '?'}ref={ref}"
