"""What every destination shares: where a message goes, what came of sending it, and the adapter contract."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from core.notices import Message


@dataclass(frozen=True)
class Destination:
    """One place a message goes, with the event's tenant it is sent for.

    `internal` is true only for destinations the bot builds itself (a member's direct message, the channel
    a chat front end created the event in); a URL a user typed never is, whatever its scheme.
    """

    url: str
    platform: str
    tenant: str
    internal: bool = False
    # The recipient's own zone, for destinations that write a message's instants as plain text.
    tz: str | None = None


@dataclass(frozen=True)
class Outcome:
    """The result of one send: delivered or not, and a reason safe to show the destination's owner."""

    delivered: bool
    error: str | None = None
    # Something the owner should know about a delivery that still arrived (such as a DM sent in the channel).
    note: str | None = None
    # True when trying again cannot help (refused by the URL guard, a channel outside the tenant...).
    final: bool = False


def refused(reason: str) -> Outcome:
    """A send that must not be tried again."""
    return Outcome(False, reason, final=True)


class Adapter(Protocol):
    """Delivers to the bot's own destinations on one platform (a scheme no user may give)."""

    scheme: str
    platform: str

    async def send(self, destination: Destination, message: Message, *, key: str | None) -> Outcome:
        """Deliver one message; never raises for a delivery problem. `key` identifies the delivery for retries."""
        ...

    async def aclose(self) -> None:
        """Release connections."""
        ...
