"""Where reminders go: the bot's own destinations (console, Discord, Slack) and members' Apprise URLs.

The platform adapters are built once per process from its settings and handed to the `Sender`; a URL a
member typed can never reach them, because it is sent only through the Apprise plugin the guard approved.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from core.destinations.apprise_send import AppriseSender
from core.destinations.base import Adapter, Destination, Outcome, refused
from core.destinations.console import CONSOLE_SCHEME, ConsoleAdapter, console_url
from core.destinations.discord import DISCORD_SCHEME, DiscordAdapter
from core.destinations.discord import dm_url as discord_dm_url
from core.destinations.slack import SLACK_SCHEME, SlackAdapter, slack_url
from core.destinations.webhook import WEBHOOK_SCHEMES, WebhookSender
from core.errors import InvalidURL
from core.notices import Message
from core.urlguard import Resolver, system_resolve

__all__ = [
    "INTERNAL_SCHEMES",
    "PLATFORMS",
    "Adapter",
    "ConsoleAdapter",
    "Destination",
    "DiscordAdapter",
    "Outcome",
    "Platform",
    "Sender",
    "SlackAdapter",
    "console_url",
    "dm_destination",
    "member_destination",
    "refused",
]


@dataclass(frozen=True)
class Platform:
    """A chat platform as delivery sees it: the bot's own scheme there, and how a member's DM is addressed."""

    scheme: str
    name: str
    # (tenant, platform user id, the event's channel destination for platforms that fall back to it) -> URL
    dm: Callable[[str, str, str | None], str]


# The one table of platforms the bot delivers on itself; every one of them has direct messages.
PLATFORMS: dict[str, Platform] = {
    "console": Platform(CONSOLE_SCHEME, "the console", lambda tenant, user, channel: console_url(user)),
    "discord": Platform(
        DISCORD_SCHEME, "Discord (DISCORD_TOKEN)", lambda tenant, user, channel: discord_dm_url(user, channel)
    ),
    "slack": Platform(SLACK_SCHEME, "Slack (SLACK_BOT_TOKEN)", lambda tenant, user, channel: slack_url(tenant, user)),
}
INTERNAL_SCHEMES = frozenset(platform.scheme for platform in PLATFORMS.values())


def dm_destination(
    *, platform: str, tenant: str, user_id: str, channel: str | None, tz: str | None = None
) -> Destination | None:
    """A member's direct message from the bot, where their platform has one."""
    known = PLATFORMS.get(platform)
    if known is None:
        return None
    return Destination(known.dm(tenant, user_id, channel), platform=platform, tenant=tenant, internal=True, tz=tz)


class Sender:
    """Sends a message to one destination: the platform adapters for the bot's own, Apprise for members' URLs."""

    def __init__(
        self,
        *,
        allow_private: bool,
        adapters: Iterable[Adapter] = (),
        concurrency: int = 8,
        resolve: Resolver | None = None,
    ) -> None:
        self.console = ConsoleAdapter()
        self._adapters: dict[str, Adapter] = {self.console.scheme: self.console}
        for adapter in adapters:
            self._adapters[adapter.scheme] = adapter
        self._apprise = AppriseSender(allow_private=allow_private, resolve=resolve)
        self._webhooks = WebhookSender(resolve=resolve or system_resolve, allow_private=allow_private)
        self._slots = asyncio.Semaphore(concurrency)

    async def send(self, destination: Destination, message: Message, *, key: str | None = None) -> Outcome:
        """Deliver one message; never raises for a delivery problem, never logs the URL."""
        scheme = destination.url.split("://", 1)[0].lower()
        if destination.internal:
            known = PLATFORMS.get(destination.platform)
            if known is None or scheme != known.scheme:
                return refused("that destination does not belong to this event's platform")
            adapter = self._adapters.get(scheme)
            if adapter is None:
                name = known.name
                return Outcome(False, f"this worker cannot send to {name}: its token is not set here")
            return await adapter.send(destination, message, key=key)
        if scheme in INTERNAL_SCHEMES:
            return refused("refused by the URL guard: that scheme is the bot's own and cannot be registered")
        title, body = message.plain(destination.tz)
        if scheme in WEBHOOK_SCHEMES:
            return await self._webhook(destination.url, title=title, body=body)
        async with self._slots:
            return await asyncio.to_thread(self._apprise.send, destination.url, title=title, body=body)

    async def prepare(self, destinations: Iterable[Destination]) -> None:
        """Check and parse members' URLs ahead of their instant, so that at the instant only the sends remain.

        A URL the guard refuses is left for its send to report.
        """
        urls = {d.url for d in destinations if not d.internal and self._apprise.cached(d.url) is None}
        urls -= {u for u in urls if u.split("://", 1)[0].lower() in INTERNAL_SCHEMES}
        if urls:
            await asyncio.to_thread(self._apprise.approve_all, urls)

    def write_ahead(self, destination: Destination, message: Message) -> None:
        """Write `message` the way `destination` will be sent it, ahead of the instant: members' URLs are sent
        plain text, which the message keeps; the platforms' adapters write theirs at the send."""
        if not destination.internal:
            message.plain(destination.tz)

    async def _webhook(self, url: str, *, title: str, body: str) -> Outcome:
        plugin = self._apprise.cached(url)
        if plugin is None:
            try:
                plugin = await asyncio.to_thread(self._apprise.approved, url)
            except InvalidURL as exc:
                return refused(f"refused by the URL guard: {exc}")
        outcome = await self._webhooks.send(plugin, title=title, body=body)
        if outcome.final:
            self._apprise.forget(url)
        return outcome

    async def aclose(self) -> None:
        """Close every adapter's connections."""
        for adapter in self._adapters.values():
            await adapter.aclose()
        await self._webhooks.aclose()


def member_destination(url: str, *, platform: str, tenant: str, tz: str | None = None) -> Destination:
    """A destination a member registered: never internal, whatever its text says."""
    return Destination(url, platform=platform, tenant=tenant, internal=False, tz=tz)
