"""Sending one message to one Apprise destination, and the console's own destination scheme."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import apprise
from apprise.decorators import notify

from core.discord_delivery import DISCORD_SCHEME, ref_url, take_note
from core.slack_delivery import SLACK_SCHEME
from core.urlguard import apprise_asset, apprise_quietly, guard_url

log = logging.getLogger(__name__)

CONSOLE_SCHEME = "soonishconsole"
# Destinations the bot addresses itself (never typed by a user), so the outbound URL guard does not apply.
INTERNAL_SCHEMES = frozenset({CONSOLE_SCHEME, DISCORD_SCHEME, SLACK_SCHEME})

ConsoleListener = Callable[[str, str, str], None]
_console_listeners: list[ConsoleListener] = []


def add_console_listener(listener: ConsoleListener) -> None:
    """Receive messages sent to `soonishconsole://USER` destinations in this process: (user, title, body)."""
    _console_listeners.append(listener)


def remove_console_listener(listener: ConsoleListener) -> None:
    """Stop receiving console messages."""
    if listener in _console_listeners:
        _console_listeners.remove(listener)


@notify(on=CONSOLE_SCHEME, name="Soonish console")  # type: ignore[untyped-decorator, no-untyped-call]
def _to_console(body: str, title: str, notify_type: str, meta: dict[str, Any], *args: Any, **kwargs: Any) -> bool:
    if not _console_listeners:
        return False
    user = str(meta.get("host") or "")
    for listener in list(_console_listeners):
        listener(user, title, body)
    return True


def console_url(user_id: str) -> str:
    """The direct-message destination of a console user."""
    return f"{CONSOLE_SCHEME}://{user_id}"


@dataclass(frozen=True)
class Outcome:
    """The result of one send: delivered or not, and a reason safe to show the destination's owner."""

    delivered: bool
    error: str | None = None
    # Something the owner should know about a delivery that still arrived (such as a DM sent in the channel).
    note: str | None = None


class Sender:
    """Sends through Apprise with the URL guard re-checked at send time and a cap on sends in flight."""

    def __init__(self, *, allow_private: bool, concurrency: int = 8) -> None:
        self._allow_private = allow_private
        self._slots = asyncio.Semaphore(concurrency)

    async def send(self, url: str, *, title: str, body: str) -> Outcome:
        """Deliver one message; never raises for a delivery problem, never logs the URL."""
        scheme = url.split("://", 1)[0].lower()
        if scheme not in INTERNAL_SCHEMES:
            try:
                await guard_url(url, allow_private=self._allow_private)
            except ValueError as exc:
                return Outcome(False, f"refused by the URL guard: {exc}")
        async with self._slots:
            return await asyncio.to_thread(self._notify, url, title, body)

    @staticmethod
    def _notify(url: str, title: str, body: str) -> Outcome:
        ref = None
        if url.split("://", 1)[0].lower() == DISCORD_SCHEME:
            ref = uuid.uuid4().hex
            url = ref_url(url, ref)
        sink = apprise.Apprise(asset=apprise_asset())
        with apprise_quietly():
            added = sink.add(url)
        if not added:
            return Outcome(False, "the destination URL is not one Apprise can use")
        try:
            ok = bool(sink.notify(title=title, body=body))
        except Exception as exc:  # a plugin bug must not take the whole batch down
            log.warning("delivery raised %s", type(exc).__name__)
            return Outcome(False, f"the notification service failed ({type(exc).__name__})")
        note = take_note(ref) if ref else None
        return Outcome(True, note=note) if ok else Outcome(False, "the notification service did not accept the message")
