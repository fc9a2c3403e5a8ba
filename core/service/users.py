"""Users: platform identities and their own settings."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import InvalidInput
from core.models import Integration, User, utcnow
from core.service.context import Core
from core.tags import DM_TAG, parse_tags, split_stored
from core.text import check_line, without_control
from core.timeparse import parse_offsets, zone
from core.views import Actor, UserView

CHAT_PLATFORMS = frozenset({"discord", "slack", "console"})
# What clears a default setting: `/settings remind:none`.
CLEAR = frozenset({"none", "-", "default", "off"})
MAX_ID = 64
MAX_PLATFORM = 16


# The statements of every command, built once: building and keying a statement costs more than running it.
_USER = select(User).where(
    User.platform == bindparam("platform"),
    User.tenant == bindparam("tenant"),
    User.platform_user_id == bindparam("user_id"),
)
_NEW_USER = {
    "sqlite": sqlite_insert(User).on_conflict_do_nothing().returning(User),
    "postgresql": postgresql_insert(User).on_conflict_do_nothing().returning(User),
}
_TAGS = select(Integration.tags).where(Integration.user_id == bindparam("user_id"))


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
    return (await user_row(session, actor))[0]


async def user_row(session: AsyncSession, actor: Actor) -> tuple[User, bool]:
    """The actor's user row, created on first use, and whether this call created it (a user so new has no
    integrations or subscriptions to look up)."""
    check_actor(actor)
    who = {"platform": actor.platform, "tenant": actor.tenant, "user_id": actor.user_id}
    user = (await session.execute(_USER, who)).scalar_one_or_none()
    # A platform's display name is shown, never typed into a command: what cannot be stored is left out.
    display_name = without_control(actor.display_name)[:100]
    profile_zone = _profile_zone(actor)
    if user is not None:
        if display_name and user.display_name != display_name:
            user.display_name = display_name
        if profile_zone and not user.timezone_set and user.timezone != profile_zone:
            user.timezone = profile_zone
        return user, False
    # Insert-if-absent, read back only when another request created it first: safe when two requests create
    # the same user at once, without a SAVEPOINT.
    values = {
        "platform": actor.platform,
        "tenant": actor.tenant,
        "platform_user_id": actor.user_id,
        "display_name": display_name,
        "timezone": profile_zone or "UTC",
        "default_offsets": "",
        "default_tags": "",
        "created_at": utcnow(),
    }
    created = (await session.execute(_NEW_USER[session.get_bind().dialect.name], values)).scalar_one_or_none()
    if created is not None:
        return created, True
    return (await session.execute(_USER, who)).scalar_one(), False


async def available_tags(session: AsyncSession, user: User, *, new: bool = False) -> tuple[str, ...]:
    """The tags a user can subscribe with: `dm` for chat users, plus every tag of their integrations (none
    for a user created in this transaction, `new`)."""
    tags: list[str] = [DM_TAG] if user.platform in CHAT_PLATFORMS else []
    if new:
        return tuple(tags)
    rows = (await session.execute(_TAGS, {"user_id": user.id})).scalars()
    for stored in rows:
        tags.extend(t for t in split_stored(stored) if t not in tags)
    return tuple(tags)


def choose_tags(requested: tuple[str, ...], available: tuple[str, ...]) -> tuple[str, ...]:
    """The tags a subscription uses: those requested, each one the member has; none requested means all of them."""
    if not available:
        raise InvalidInput("You have no destination for reminders yet: add one first with /integration add URL.")
    if not requested:
        return available
    unknown = [t for t in requested if t not in available]
    if unknown:
        raise InvalidInput(
            f"Unknown tag '{unknown[0]}'. Your tags are: {', '.join(available)}. "
            "Register a destination with that tag using /integration add URL tags:TAG."
        )
    return requested


def _profile_zone(actor: Actor) -> str | None:
    """The zone of the actor's platform profile, when it is one we know (a profile is not input to refuse)."""
    if not actor.profile_timezone:
        return None
    try:
        return zone(actor.profile_timezone).key
    except InvalidInput:
        return None


def _view(user: User) -> UserView:
    return UserView(
        platform=user.platform,
        tenant=user.tenant,
        user_id=user.platform_user_id,
        timezone=user.timezone,
        default_offsets=tuple(int(v) for v in user.default_offsets.split(",") if v),
        default_tags=split_stored(user.default_tags),
    )


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


def _cleared(value: str | Sequence[object]) -> bool:
    if isinstance(value, str):
        return not value.strip() or value.strip().lower() in CLEAR
    return len(value) == 0


async def set_defaults(
    *,
    core: Core,
    actor: Actor,
    remind: str | Sequence[int] | None = None,
    tags: str | Sequence[str] | None = None,
) -> UserView:
    """Set (or with "none", clear) the reminder times and tags a subscription without options of its own uses.

    None leaves a setting as it is. They apply to /subscribe without options, the Subscribe buttons, Interested
    marks and the events of channels the member follows; the event's own reminder times apply when none are set.
    """
    offsets: tuple[int, ...] | None = None
    if remind is not None and not _cleared(remind):
        try:
            if isinstance(remind, str):
                check_line("reminder times", remind)
            offsets = parse_offsets(remind)
        except InvalidInput as exc:
            exc.field = exc.field or "remind"
            raise
    chosen: tuple[str, ...] | None = None
    async with core.sessions.begin() as session:
        user = await user_for(session, actor)
        if tags is not None and not _cleared(tags):
            try:
                requested = parse_tags(tags)
                chosen = choose_tags(requested, await available_tags(session, user)) if requested else ()
            except InvalidInput as exc:
                exc.field = exc.field or "tags"
                raise
        if remind is not None:
            user.default_offsets = ",".join(str(o) for o in offsets or ())
        if tags is not None:
            user.default_tags = ",".join(chosen or ())
        return _view(user)
