"""Where a delivery goes and how it is sent: the one place that names the bot's DM destinations and the sender."""

from __future__ import annotations

from collections.abc import Callable

from core import discord_delivery
from core.delivery import Outcome, Sender, console_url
from core.models import User
from core.slack_delivery import slack_url

# How each platform addresses a direct message from the bot to one of its users; the event's channel
# destination is passed along for platforms that fall back to it when a member's DMs are closed.
DM_DESTINATIONS: dict[str, Callable[[User, str | None], str]] = {
    "console": lambda user, channel: console_url(user.platform_user_id),
    "discord": lambda user, channel: discord_delivery.dm_url(user.platform_user_id, channel),
    "slack": lambda user, channel: slack_url(user.tenant, user.platform_user_id),
}

# Failures that another attempt cannot mend: recorded as final at once.
_FINAL_PREFIXES = ("refused by the URL guard", "the destination URL is not one Apprise can use")


def dm_url(user: User, channel: str | None = None) -> str | None:
    """The bot's own direct-message destination for a chat user, where the platform has one here."""
    make = DM_DESTINATIONS.get(user.platform)
    return make(user, channel) if make else None


async def deliver(sender: Sender, url: str, *, title: str, body: str) -> Outcome:
    """Send one message to one destination."""
    return await sender.send(url, title=title, body=body)


def is_final(error: str) -> bool:
    """Whether a failure is not worth retrying (the guard refused it, or the URL cannot be used)."""
    return error.startswith(_FINAL_PREFIXES)
