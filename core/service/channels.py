"""Channels: a member follows one so every event created there later subscribes them with their defaults."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.destinations import PLATFORMS
from core.destinations.console import CONSOLE_SCHEME
from core.destinations.discord import DISCORD_SCHEME
from core.destinations.slack import SLACK_SCHEME
from core.errors import InvalidInput
from core.models import ChannelFollow, Event, EventParticipant, User
from core.service.context import Core
from core.service.users import available_tags, user_for
from core.tags import split_stored
from core.urlguard import guard_url, mask_url
from core.views import Actor, ChannelFollowView, FollowsView

CHANNEL_PURPOSE = "channel"
# A member follows at most this many channels (each follow is one subscription per event created there).
MAX_FOLLOWS = 50
NO_CHANNEL = "Run this in a channel: it is about the channel you type it in."


def channel_key(core: Core, channel_url: str) -> str:
    """The key of a channel destination: a keyed hash, so an Apprise URL's secrets are never stored in clear."""
    return core.secrets.derive_token(CHANNEL_PURPOSE, channel_url)


def channel_label(channel_url: str) -> str:
    """How a channel is named to members: the platform's own reference for the bot's channels, else masked."""
    parts = urlsplit(channel_url)
    tail = parts.path.strip("/")
    if parts.scheme == DISCORD_SCHEME and parts.hostname == "channel" and tail.isdigit():
        return f"<#{tail}>"  # Discord shows a channel reference as its name; it notifies no one
    if parts.scheme == SLACK_SCHEME and tail:
        return f"#{tail}"
    if parts.scheme == CONSOLE_SCHEME and parts.netloc:
        return f"#{parts.netloc}"
    return mask_url(channel_url)


async def checked_channel(core: Core, actor: Actor, channel_url: str | None, *, trusted: bool) -> str:
    """The channel a command is about: the one a chat front end ran it in, or (HTTP API) a guarded Apprise URL."""
    if not channel_url:
        raise InvalidInput(NO_CHANNEL, field="channel_url")
    if trusted:
        if actor.platform not in PLATFORMS:
            raise InvalidInput("Only a chat front end can give the channel a command ran in.", field="channel_url")
        return channel_url
    if actor.platform in PLATFORMS:
        raise InvalidInput("A channel is the channel you type the command in; it cannot be typed.", field="channel_url")
    return await guard_url(channel_url, allow_private=core.allow_private_urls, resolve=core.resolve)


async def _follows(session: AsyncSession, user: User) -> tuple[ChannelFollowView, ...]:
    query = select(ChannelFollow).where(ChannelFollow.user_id == user.id).order_by(ChannelFollow.created_at)
    rows = (await session.execute(query)).scalars()
    return tuple(ChannelFollowView(channel=row.channel_label, followed_at=row.created_at) for row in rows)


async def follow_channel(*, core: Core, actor: Actor, channel_url: str | None, trusted: bool = True) -> FollowsView:
    """Follow a channel: every event created there from now on subscribes the actor with their defaults."""
    url = await checked_channel(core, actor, channel_url, trusted=trusted)
    key = channel_key(core, url)
    now = core.clock()
    async with core.sessions.begin() as session:
        user = await user_for(session, actor)
        if not await available_tags(session, user):
            raise InvalidInput("You have no destination for reminders yet: add one first with /integration add URL.")
        known = await _follows(session, user)
        exists = (
            await session.execute(
                select(ChannelFollow.id).where(ChannelFollow.user_id == user.id, ChannelFollow.channel_key == key)
            )
        ).first()
        if exists is not None:
            return FollowsView(follows=known, changed=False)
        if len(known) >= MAX_FOLLOWS:
            raise InvalidInput(f"You follow {len(known)} channels already, the most there can be; /unfollow one first.")
        values = {
            "user_id": user.id,
            "platform": actor.platform,
            "tenant": actor.tenant,
            "channel_key": key,
            "channel_label": channel_label(url),
            "created_at": now,
        }
        # Insert-if-absent: two follows pressed at once make one row.
        insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
        await session.execute(insert(ChannelFollow).values(**values).on_conflict_do_nothing())
        return FollowsView(follows=await _follows(session, user))


async def unfollow_channel(*, core: Core, actor: Actor, channel_url: str | None, trusted: bool = True) -> FollowsView:
    """Stop following a channel: events created there later no longer subscribe the actor (others stay as they are)."""
    url = await checked_channel(core, actor, channel_url, trusted=trusted)
    key = channel_key(core, url)
    async with core.sessions.begin() as session:
        user = await user_for(session, actor)
        row = (
            await session.execute(
                select(ChannelFollow).where(ChannelFollow.user_id == user.id, ChannelFollow.channel_key == key)
            )
        ).scalar_one_or_none()
        if row is not None:
            await session.delete(row)
            await session.flush()
        return FollowsView(follows=await _follows(session, user), changed=row is not None)


async def list_follows(*, core: Core, actor: Actor) -> FollowsView:
    """The channels the actor follows."""
    async with core.sessions.begin() as session:
        return FollowsView(follows=await _follows(session, await user_for(session, actor)), changed=False)


async def subscribe_followers(session: AsyncSession, *, event: Event, now: datetime) -> int:
    """Subscribe the followers of a new event's channel with their defaults, in the event's own transaction.

    The event's workflow starts after the transaction, so it plans their reminders with everyone else's. A follower
    with no destination left is skipped. Returns how many were subscribed.
    """
    if not event.channel_key:
        return 0
    query = (
        select(User)
        .join(ChannelFollow, ChannelFollow.user_id == User.id)
        .where(ChannelFollow.tenant == event.tenant, ChannelFollow.channel_key == event.channel_key)
        .order_by(ChannelFollow.id)
    )
    count = 0
    for user in (await session.execute(query)).scalars().all():
        available = await available_tags(session, user)
        if not available:
            continue
        tags = tuple(t for t in split_stored(user.default_tags) if t in available) or available
        session.add(
            EventParticipant(
                event_id=event.id,
                user_id=user.id,
                tags=",".join(tags),
                custom_time_delta_seconds=user.default_offsets or event.default_offsets,
                custom_frequency="none",
                joined_at=now,
            )
        )
        count += 1
    if count:
        await session.flush()
    return count
