"""Generic JSON webhooks (json://, jsons://) over one pooled async HTTP client, with Apprise's exact payload.

Apprise's JSON plugin opens a new connection in a thread for every message, which bounds a due instant with
thousands of webhook reminders by threads and TCP handshakes. Here the plugin the URL guard approved is read
for what it would send (method, address, path, query, headers, credentials, payload fields and timeouts),
and the same request is made from one connection pool on the event loop. Every host name is resolved by the
guard's resolver at connect time and must answer public addresses only, as for the other sends.
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import ssl
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

from core.destinations.base import Outcome, refused
from core.urlguard import Resolver, is_public_address

WEBHOOK_SCHEMES = frozenset({"json", "jsons"})
POOL_SIZE = 100
PER_HOST = 32


class GuardRefusal(OSError):
    """A host name answered an address the guard does not let us connect to."""


class GuardedResolver(AbstractResolver):
    """Resolves with the guard's resolver (off the event loop) and refuses any non-public answer."""

    def __init__(self, resolve: Resolver, *, allow_private: bool) -> None:
        self._resolve = resolve
        self._allow_private = allow_private

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """Every address of `host`, each checked."""
        answers = await asyncio.to_thread(self._resolve, host)
        if not answers:
            raise OSError(f"{host} has no address")
        if not self._allow_private and not all(is_public_address(answer) for answer in answers):
            raise GuardRefusal(
                f"the host {host[:80]} pointed to a private or non-public address when the message was sent"
            )
        return [
            ResolveResult(
                hostname=host,
                host=answer,
                port=port,
                family=socket.AF_INET6 if ":" in answer else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for answer in answers
        ]

    async def close(self) -> None:
        """Nothing to release."""


def request_of(plugin: Any, *, title: str, body: str) -> dict[str, Any]:
    """The request Apprise's JSON plugin would make for this message (without attachments)."""
    payload: dict[str, Any] = {
        "version": plugin.json_version,
        "title": title,
        "message": body,
        "attachments": [],
        "type": "info",
    }
    for key, value in plugin.payload_extras.items():
        if key in payload:
            if value:
                payload[value] = payload[key]
            del payload[key]
        else:
            payload[key] = value
    url = f"{'https' if plugin.secure else 'http'}://{plugin.host}"
    if isinstance(plugin.port, int):
        url += f":{plugin.port}"
    url += plugin.fullpath
    headers = {"User-Agent": plugin.app_id, "Content-Type": "application/json", **plugin.headers}
    if plugin.user:
        headers["Authorization"] = basic_auth(plugin.user, plugin.password or "")
    return {
        "method": plugin.method,
        "url": url,
        "params": dict(plugin.params),
        "headers": headers,
        "data": json.dumps(payload),
        "ssl": bool(plugin.verify_certificate),
        "timeout": aiohttp.ClientTimeout(
            sock_connect=plugin.socket_connect_timeout, sock_read=plugin.socket_read_timeout
        ),
    }


def basic_auth(user: str, password: str) -> str:
    """The Authorization header requests (and so Apprise) sends for these credentials."""
    raw = f"{user}:{password}"
    try:
        encoded = raw.encode("latin1")
    except UnicodeEncodeError:
        encoded = raw.encode()
    return "Basic " + base64.b64encode(encoded).decode()


def _guard_refusal(exc: BaseException) -> GuardRefusal | None:
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, GuardRefusal):
            return seen
        seen = getattr(seen, "os_error", None) or seen.__cause__
    return None


class WebhookSender:
    """Posts JSON webhooks from one connection pool; build it inside the event loop that sends."""

    def __init__(self, *, resolve: Resolver, allow_private: bool) -> None:
        self._resolver = GuardedResolver(resolve, allow_private=allow_private)
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=POOL_SIZE, limit_per_host=PER_HOST, resolver=self._resolver)
            # No cookie jar: the pool serves every member's hooks, and a cookie one service set for one member
            # must not go out with the next message (Apprise's requests keep none either).
            self._session = aiohttp.ClientSession(
                connector=connector, auto_decompress=False, cookie_jar=aiohttp.DummyCookieJar()
            )
        return self._session

    async def aclose(self) -> None:
        """Close the pool."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, plugin: Any, *, title: str, body: str) -> Outcome:
        """Deliver one message through the approved plugin's settings; never raises for a delivery problem."""
        request = request_of(plugin, title=title, body=body)
        try:
            async with self._client().request(allow_redirects=False, **request) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return Outcome(True)
                return Outcome(False, f"the destination answered HTTP {response.status}")
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            if (refusal := _guard_refusal(exc)) is not None:
                return refused(f"refused by the URL guard: {refusal}")
            return Outcome(False, _reason(exc))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, asyncio.TimeoutError | aiohttp.ServerTimeoutError):
        return "the destination did not answer in time"
    if isinstance(exc, aiohttp.ClientConnectorDNSError):
        return "the destination's host name could not be resolved"
    if isinstance(exc, aiohttp.ClientConnectorCertificateError | aiohttp.ClientSSLError | ssl.SSLError):
        return "the destination's TLS certificate or handshake failed"
    if isinstance(exc, aiohttp.ClientConnectorError) and isinstance(exc.os_error, ConnectionRefusedError):
        return "the destination refused the connection"
    if isinstance(exc, aiohttp.ClientConnectionError):
        return "the connection to the destination failed"
    return f"the destination could not be reached ({type(exc).__name__})"
