"""Sending to a member's own destinations (Apprise URLs), through the one plugin instance the URL guard approved."""

from __future__ import annotations

import contextlib
import contextvars
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from typing import Any

import apprise
import requests
import requests.adapters

from core.destinations.base import Outcome, refused
from core.errors import InvalidURL
from core.urlguard import Resolver, apprise_asset, approve, checked_connections, system_resolve

log = logging.getLogger(__name__)

# How long an approved plugin instance is reused for the same URL; connections are checked at every send anyway.
APPROVAL_TTL = 300.0
MAX_APPROVED = 20_000

# What the HTTP client of the Apprise plugins met during a send. The plugins log it in words that can quote
# the destination (and logs withhold those words), so it is observed where requests sends instead.
_observing: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("apprise_observing", default=None)
_adapter_send = requests.adapters.HTTPAdapter.send


def _reason_for(exc: BaseException) -> str:
    if isinstance(exc, requests.exceptions.Timeout):
        return "the destination did not answer in time"
    if isinstance(exc, requests.exceptions.SSLError):
        return "the destination's TLS certificate or handshake failed"
    text = repr(exc).lower()
    if "refused" in text:
        return "the destination refused the connection"
    if "name or service not known" in text or "nodename nor servname" in text or "failed to resolve" in text:
        return "the destination's host name could not be resolved"
    return "the connection to the destination failed"


def _observed_send(self: requests.adapters.HTTPAdapter, request: Any, *args: Any, **kwargs: Any) -> Any:
    seen = _observing.get()
    try:
        response = _adapter_send(self, request, *args, **kwargs)
    except Exception as exc:
        if seen is not None:
            seen.append(_reason_for(exc))
        raise
    if seen is not None and not 200 <= response.status_code < 300:
        seen.append(f"the destination answered HTTP {response.status_code}")
    return response


requests.adapters.HTTPAdapter.send = _observed_send  # type: ignore[method-assign]


@contextlib.contextmanager
def _observed() -> Iterator[list[str]]:
    seen: list[str] = []
    token = _observing.set(seen)
    try:
        yield seen
    finally:
        _observing.reset(token)


class AppriseSender:
    """Checks a member's URL with the guard, keeps the approved plugin a while, and sends through it."""

    def __init__(self, *, allow_private: bool, resolve: Resolver | None = None) -> None:
        self._allow_private = allow_private
        self._resolve = resolve or system_resolve
        self._approved: OrderedDict[str, tuple[Any, float]] = OrderedDict()

    def cached(self, url: str) -> Any | None:
        """The plugin approved for `url` a short while ago, if any."""
        found = self._approved.get(url)
        if found is None or found[1] <= time.monotonic():
            return None
        self._approved.move_to_end(url)
        return found[0]

    def approved(self, url: str) -> Any:
        """The plugin the guard approves for `url` (blocking: DNS); raises InvalidURL saying why not."""
        if (plugin := self.cached(url)) is not None:
            return plugin
        plugin = approve(url, allow_private=self._allow_private, resolve=self._resolve)
        self._approved[url] = (plugin, time.monotonic() + APPROVAL_TTL)
        while len(self._approved) > MAX_APPROVED:
            self._approved.popitem(last=False)
        return plugin

    def approve_all(self, urls: Iterable[str]) -> None:
        """Approve each URL now (blocking), keeping the ones that pass."""
        for url in urls:
            with contextlib.suppress(InvalidURL):
                self.approved(url)

    def forget(self, url: str) -> None:
        """Check `url` from scratch next time."""
        self._approved.pop(url, None)

    def send(self, url: str, *, title: str, body: str) -> Outcome:
        """Deliver one message (blocking: run it in a thread); never raises, never logs the URL."""
        try:
            plugin = self.approved(url)
        except InvalidURL as exc:
            return refused(f"refused by the URL guard: {exc}")
        sink = apprise.Apprise(asset=apprise_asset())
        sink.add(plugin)
        with _observed() as seen, contextlib.ExitStack() as stack:
            check = None if self._allow_private else stack.enter_context(checked_connections(self._resolve))
            try:
                ok = bool(sink.notify(title=title, body=body))
            except Exception as exc:  # a plugin bug must not take the whole batch down
                log.warning("delivery raised %s", type(exc).__name__)
                return Outcome(False, f"the notification service failed ({type(exc).__name__})")
        if ok:
            return Outcome(True)
        if check is not None and check.refusal:
            self.forget(url)
            return refused(f"refused by the URL guard: {check.refusal}")
        if check is not None and check.unresolved:
            return Outcome(False, check.unresolved)
        return Outcome(False, seen[-1] if seen else "the notification service did not accept the message")
