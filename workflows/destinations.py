"""Where a delivery goes and how it is sent: the one place that builds destinations and calls the sender."""

from __future__ import annotations

from collections.abc import Iterable

from core.destinations import PLATFORMS, Destination, Outcome, Sender, dm_destination, member_destination
from core.models import Event, Integration, User
from core.notices import Message
from core.secrets import SecretBox


def has_dm(user: User) -> bool:
    """Whether the bot can send this user a direct message here."""
    return user.platform in PLATFORMS


def channel_destination(event: Event, secrets: SecretBox) -> Destination | None:
    """The event's channel: the one a chat front end created it in, or an Apprise URL that passed the guard."""
    if not event.channel_url_encrypted:
        return None
    platform = event.organizer.platform
    url = secrets.decrypt(event.channel_url_encrypted)
    return Destination(url, platform=platform, tenant=event.tenant, internal=platform in PLATFORMS)


def dm_of(user: User, channel: Destination | None) -> Destination | None:
    """A member's direct message from the bot (falling back to the event's channel where the platform does)."""
    return dm_destination(
        platform=user.platform,
        tenant=user.tenant,
        user_id=user.platform_user_id,
        channel=channel.url if channel else None,
        tz=user.timezone,
    )


def integration_destination(integration: Integration, user: User, secrets: SecretBox) -> Destination:
    """A destination the member registered: never internal, whatever its text says."""
    return member_destination(
        secrets.decrypt(integration.url_encrypted), platform=user.platform, tenant=user.tenant, tz=user.timezone
    )


async def prepare(sender: Sender, destinations: Iterable[Destination]) -> None:
    """Check and parse members' URLs ahead of the instant, so that at the instant only the sends remain."""
    await sender.prepare(destinations)


def write_ahead(sender: Sender, deliveries: Iterable[tuple[Destination, Message]]) -> None:
    """Write each message the way its destination will be sent it, ahead of the instant."""
    for destination, message in deliveries:
        sender.write_ahead(destination, message)


async def deliver(sender: Sender, destination: Destination, message: Message, *, key: str) -> Outcome:
    """Send one message to one destination; `key` identifies the delivery, so a retry cannot post twice."""
    return await sender.send(destination, message, key=key)
