"""The console's destinations: messages for console users and the console channel, shown in this process."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from core.destinations.base import Destination, Outcome
from core.notices import Message

CONSOLE_SCHEME = "soonishconsole"

ConsoleListener = Callable[[str, str, str], None]


def console_url(user_id: str) -> str:
    """The direct-message destination of a console user (or the console channel)."""
    return f"{CONSOLE_SCHEME}://{user_id}"


class ConsoleAdapter:
    """Hands each message to the listeners (the console front ends) of this process."""

    scheme = CONSOLE_SCHEME
    platform = "console"

    def __init__(self) -> None:
        self._listeners: list[ConsoleListener] = []

    def listen(self, listener: ConsoleListener) -> None:
        """Receive messages sent to console destinations in this process: (user, title, body)."""
        self._listeners.append(listener)

    def unlisten(self, listener: ConsoleListener) -> None:
        """Stop receiving console messages."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    async def send(self, destination: Destination, message: Message, *, key: str | None) -> Outcome:
        """Show the message to every listener; undelivered when no console runs in this process."""
        if not self._listeners:
            return Outcome(False, "no console is running in the worker's process")
        user = urlsplit(destination.url).hostname or ""
        title, body = message.plain(destination.tz)
        for listener in list(self._listeners):
            listener(user, title, body)
        return Outcome(True)

    async def aclose(self) -> None:
        """Nothing to release."""
