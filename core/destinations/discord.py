"""Discord destinations: channel and direct messages posted through the bot's REST API.

Apprise's Discord plugin posts to webhooks only and cannot send direct messages, so the bot posts itself,
with its token. Every send of the process shares one connection pool and one view of Discord's rate limits
(the per-route buckets from the `X-RateLimit-*` headers and the global limit per bot), so concurrent sends
wait their turn instead of each being punished with a 429. A message carries a nonce derived from its
delivery, with `enforce_nonce`, so a retried send never posts twice. A member's DM channel id is cached;
a member whose DMs are closed (error 50007) is remembered for a while, and reminded in the event's channel
with a mention instead, when there is one.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from core.destinations.base import Destination, Outcome, refused
from core.notices import Instant, Message, SnoozeOffer

log = logging.getLogger(__name__)

DISCORD_SCHEME = "soonishdiscord"
DEFAULT_API_BASE = "https://discord.com/api/v10"
DMS_CLOSED = 50007
MAX_CONTENT = 2000
MAX_ATTEMPTS = 6
MAX_RATE_LIMIT_WAIT = 60.0
GLOBAL_PER_SECOND = 50
# How long a closed-DM member is sent to the channel before their DMs are tried again.
CLOSED_DMS_RECHECK = 6 * 3600.0
TIMEOUT = 15.0
USER_AGENT = "DiscordBot (https://github.com/soonish, 0.1) Soonish"


def channel_url(channel_id: int | str) -> str:
    """The destination of a Discord channel, posted to by the bot."""
    return f"{DISCORD_SCHEME}://channel/{int(channel_id)}"


def dm_url(user_id: int | str, fallback: str | None = None) -> str:
    """The direct-message destination of a Discord member; `fallback` is a channel destination for closed DMs."""
    url = f"{DISCORD_SCHEME}://dm/{int(user_id)}"
    if fallback and (channel := channel_of(fallback)) is not None:
        url += f"?fallback={channel}"
    return url


def channel_of(url: str) -> int | None:
    """The channel id of a Discord channel destination, or None."""
    parts = urlsplit(url)
    if parts.scheme != DISCORD_SCHEME or parts.hostname != "channel":
        return None
    tail = parts.path.strip("/")
    return int(tail) if tail.isdigit() else None


def discord_time(instant: Instant) -> str:
    """Discord's timestamp markup: every reader sees the full date and time in their own zone, and how soon."""
    stamp = int(instant.at.timestamp())
    return f"<t:{stamp}:F> (<t:{stamp}:R>)"


def snooze_custom_id(offer: SnoozeOffer, guild: str) -> str:
    """The custom id of a reminder's "Remind me again" button: the reminder, and the server it belongs to (a press
    in a direct message carries no server)."""
    return f"soonish:snooze:{offer.ref}:{guild}"


def snooze_row(offer: SnoozeOffer, guild: str) -> list[dict[str, Any]]:
    """The action row holding a reminder's "Remind me again" button."""
    button = {"type": 2, "style": 2, "label": offer.label, "custom_id": snooze_custom_id(offer, guild)}
    return [{"type": 1, "components": [button]}]


def nonce_for(key: str) -> str:
    """Discord's nonce for one delivery (at most 25 characters), the same on every retry of it."""
    return hashlib.sha256(key.encode()).hexdigest()[:25]


class _Refused(Exception):
    def __init__(self, status: int, code: int | None) -> None:
        super().__init__(f"Discord answered {status}" + (f" (code {code})" if code is not None else ""))
        self.status = status
        self.code = code


class RateLimits:
    """Discord's limits as this process last saw them: route buckets, the global limit, any 429 pause."""

    def __init__(self, *, per_second: int = GLOBAL_PER_SECOND, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._per_second = per_second
        self._recent: deque[float] = deque()
        self._global_until = 0.0
        # route -> (requests left, when the bucket refills)
        self._buckets: dict[str, tuple[int, float]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._global_lock = asyncio.Lock()

    def _lock(self, route: str) -> asyncio.Lock:
        return self._locks.setdefault(route, asyncio.Lock())

    async def acquire(self, route: str) -> None:
        """Wait until one request on `route` fits within every limit known."""
        async with self._lock(route):
            left, reset_at = self._buckets.get(route, (1, 0.0))
            if left <= 0 and (wait := reset_at - self._clock()) > 0:
                await asyncio.sleep(min(wait, MAX_RATE_LIMIT_WAIT))
            self._buckets[route] = (max(left - 1, 0), reset_at) if left > 0 else (0, reset_at)
        async with self._global_lock:
            while True:
                now = self._clock()
                if (wait := self._global_until - now) > 0:
                    await asyncio.sleep(min(wait, MAX_RATE_LIMIT_WAIT))
                    continue
                while self._recent and now - self._recent[0] >= 1.0:
                    self._recent.popleft()
                if len(self._recent) < self._per_second:
                    self._recent.append(now)
                    return
                await asyncio.sleep(1.0 - (now - self._recent[0]))

    def update(self, route: str, headers: httpx.Headers) -> None:
        """Take in what a response said about its bucket."""
        try:
            left = int(headers["X-RateLimit-Remaining"])
            reset_after = float(headers["X-RateLimit-Reset-After"])
        except (KeyError, ValueError):
            self._buckets.pop(route, None)
            return
        self._buckets[route] = (left, self._clock() + reset_after)

    def limited(self, route: str, retry_after: float, *, is_global: bool) -> None:
        """A 429: nothing more on that route (or at all) until `retry_after` has passed."""
        until = self._clock() + min(max(retry_after, 0.0), MAX_RATE_LIMIT_WAIT)
        if is_global:
            self._global_until = max(self._global_until, until)
        self._buckets[route] = (0, until)


class DiscordAdapter:
    """Posts the bot's own Discord destinations, only into the guild the event belongs to."""

    scheme = DISCORD_SCHEME
    platform = "discord"

    def __init__(
        self, *, token: str, base_url: str = DEFAULT_API_BASE, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._token = token
        self._base = base_url.rstrip("/")
        self._clock = clock
        self.limits = RateLimits(clock=clock)
        self._http: httpx.AsyncClient | None = None
        self._dm_channels: dict[int, int] = {}
        self._closed_dms: dict[int, float] = {}
        self._guild_of: dict[int, str | None] = {}

    def _client(self) -> httpx.AsyncClient:
        if self._http is None:
            self._http = httpx.AsyncClient(
                timeout=TIMEOUT,
                follow_redirects=False,
                headers={"Authorization": f"Bot {self._token}", "User-Agent": USER_AGENT},
            )
        return self._http

    async def aclose(self) -> None:
        """Close the connection pool."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def _call(self, method: str, path: str, route: str, payload: dict[str, Any] | None = None) -> Any:
        """One REST call within the rate limits; a 429 waits its `retry_after` and tries again."""
        for _ in range(MAX_ATTEMPTS):
            await self.limits.acquire(route)
            response = await self._client().request(method, self._base + path, json=payload)
            self.limits.update(route, response.headers)
            data: Any
            try:
                data = response.json() if response.content else {}
            except ValueError:
                data = {}
            if response.status_code == 429:
                retry_after = float((data or {}).get("retry_after") or response.headers.get("Retry-After") or 1.0)
                self.limits.limited(route, retry_after, is_global=bool((data or {}).get("global")))
                continue
            if response.status_code >= 400:
                code = data.get("code") if isinstance(data, dict) else None
                raise _Refused(response.status_code, code if isinstance(code, int) else None)
            return data
        raise _Refused(429, None)

    async def _post(
        self,
        channel: int,
        content: str,
        *,
        key: str | None,
        mention: int | None = None,
        components: list[dict[str, Any]] | None = None,
    ) -> None:
        payload: dict[str, Any] = {
            "content": content[:MAX_CONTENT],
            # Only the mention Soonish itself means (a closed-DM member) may ping; nothing from user text.
            "allowed_mentions": {"parse": [], "users": [str(mention)] if mention else []},
        }
        if components:
            payload["components"] = components
        if key:
            payload["nonce"] = nonce_for(f"{key}|{channel}")
            payload["enforce_nonce"] = True
        await self._call("POST", f"/channels/{channel}/messages", f"messages:{channel}", payload)

    async def _in_guild(self, channel: int, guild: str) -> bool:
        if channel not in self._guild_of:
            data = await self._call("GET", f"/channels/{channel}", f"channel:{channel}")
            found = data.get("guild_id") if isinstance(data, dict) else None
            self._guild_of[channel] = str(found) if found else None
        return self._guild_of[channel] == guild

    async def _dm_channel(self, user: int) -> int:
        if user not in self._dm_channels:
            data = await self._call("POST", "/users/@me/channels", "dm-open", {"recipient_id": str(user)})
            self._dm_channels[user] = int(data["id"])
        return self._dm_channels[user]

    async def send(self, destination: Destination, message: Message, *, key: str | None) -> Outcome:
        """Deliver to a channel of the event's guild or to a member's DMs; never raises for a delivery problem."""
        parts = urlsplit(destination.url)
        target = parts.path.strip("/")
        query = parse_qs(parts.query)
        fallback = (query.get("fallback") or [""])[0]
        if not target.isdigit() or parts.hostname not in ("channel", "dm"):
            return refused("that is not a Discord destination of this bot")
        title, body = message.render(when=discord_time)
        content = f"**{title}**\n{body}" if title else body
        try:
            if parts.hostname == "channel":
                if not await self._in_guild(int(target), destination.tenant):
                    return refused("that channel is not in this event's server")
                await self._post(int(target), content, key=key)
                return Outcome(True)
            # Only a direct message offers "Remind me again": in a channel, anyone could press it.
            row = snooze_row(message.snooze, destination.tenant) if message.snooze else None
            return await self._to_member(int(target), fallback, destination.tenant, content, key, row)
        except _Refused as exc:
            log.warning("Discord delivery failed: %s", exc)
            final = exc.status in (401, 403, 404)
            return Outcome(False, f"Discord refused the message ({exc})", final=final)
        except (httpx.HTTPError, OSError, ValueError, KeyError) as exc:
            log.warning("Discord delivery failed: %s", type(exc).__name__)
            return Outcome(False, f"Discord could not be reached ({type(exc).__name__})")

    async def _to_member(
        self,
        user: int,
        fallback: str,
        guild: str,
        content: str,
        key: str | None,
        components: list[dict[str, Any]] | None = None,
    ) -> Outcome:
        closed_at = self._closed_dms.get(user)
        if closed_at is None or self._clock() - closed_at > CLOSED_DMS_RECHECK:
            try:
                await self._post(await self._dm_channel(user), content, key=key, components=components)
                self._closed_dms.pop(user, None)
                return Outcome(True)
            except _Refused as exc:
                if exc.code != DMS_CLOSED:
                    raise
                self._closed_dms[user] = self._clock()
        if not fallback.isdigit():
            return refused("this member's direct messages are closed and the event has no channel to fall back to")
        if not await self._in_guild(int(fallback), guild):
            return refused("the fallback channel is not in this event's server")
        await self._post(int(fallback), f"<@{user}> {content}", key=key, mention=user)
        return Outcome(True, note="direct messages are closed; sent in the event's channel with a mention")
