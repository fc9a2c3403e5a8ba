"""Users: platform identities and their own settings."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import InvalidInput
from core.models import User, utcnow
from core.service.context import Core
from core.text import without_control
from core.timeparse import zone
from core.views import Actor, UserView

CHAT_PLATFORMS = frozenset({"discord", "slack", "console"})
MAX_ID = 64
MAX_PLATFORM = 16


def check_actor(actor: Actor) -> None:
    """Refuse identities the data model cannot hold."""
    fields = (
        ("platform", actor.platform, MAX_PLATFORM),
        ("tenant", actor.tenant, MAX_ID),
        ("user id", actor.user_id, MAX_ID),
    )
    for what, value, limit in fields:
        if not value or len(value) > limit or not value.isprintable():
            raise InvalidInput(f"The {what} must be 1 to {limit} printable characters.")


async def user_for(session: AsyncSession, actor: Actor) -> User:
    """The actor's user row, created on first use."""
    check_actor(actor)
    query = select(User).where(
        User.platform == actor.platform, User.tenant == actor.tenant, User.platform_user_id == actor.user_id
    )
    user = (await session.execute(query)).scalar_one_or_none()
    # A platform's display name is shown, never typed into a command: what cannot be stored is left out.
    display_name = without_control(actor.display_name)[:100]
    profile_zone = _profile_zone(actor)
    if user is not None:
        if display_name and user.display_name != display_name:
            user.display_name = display_name
        if profile_zone and not user.timezone_set and user.timezone != profile_zone:
            user.timezone = profile_zone
        return user
    # Insert-if-absent, then read: safe when two requests create the same user at once, without a SAVEPOINT.
    values = {
        "platform": actor.platform,
        "tenant": actor.tenant,
        "platform_user_id": actor.user_id,
        "display_name": display_name,
        "timezone": profile_zone or "UTC",
        "default_offsets": "",
        "created_at": utcnow(),
    }
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else postgresql_insert
    await session.execute(insert(User).values(**values).on_conflict_do_nothing())
    return (await session.execute(query)).scalar_one()


def _profile_zone(actor: Actor) -> str | None:
    """The zone of the actor's platform profile, when it is one we know (a profile is not input to refuse)."""
    if not actor.profile_timezone:
        return None
    try:
        return zone(actor.profile_timezone).key
    except InvalidInput:
        return None


def _view(user: User) -> UserView:
    return UserView(platform=user.platform, tenant=user.tenant, user_id=user.platform_user_id, timezone=user.timezone)


async def set_timezone(*, core: Core, actor: Actor, timezone: str) -> UserView:
    """Set the zone in which the actor's times are read and shown."""
    name = zone(timezone.strip()).key
    async with core.sessions.begin() as session:
        user = await user_for(session, actor)
        user.timezone = name
        user.timezone_set = True
        return _view(user)


async def show_user(*, core: Core, actor: Actor) -> UserView:
    """The actor's own settings."""
    async with core.sessions.begin() as session:
        return _view(await user_for(session, actor))
