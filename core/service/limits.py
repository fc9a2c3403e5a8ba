"""Rate limits kept in the database, so every process (api, worker, bots) counts against the same quotas."""

from __future__ import annotations

import enum
import functools
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import BindParameter, Delete, Select, and_, bindparam, delete, func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import RateLimited
from core.models import QuotaUse, User
from core.quotas import Quota, describe_wait, describe_window
from core.views import Actor


class Action(enum.StrEnum):
    """The actions a quota counts."""

    EVENT_CREATE = "event_create"
    SUBSCRIBE = "subscribe"
    TEST_SEND = "test_send"


@dataclass(frozen=True)
class Charge:
    """One quota to count a use against: who it counts for, the quota, and what to tell them when it is full.

    `reached` is completed with the count, its plural ending and the window:
    "You have created {count} event{s} in {window}".
    """

    scope: str
    quota: Quota
    reached: str


def user_scope(user: User) -> str:
    """The scope of one member's own quotas."""
    return f"user:{user.id}"


def tenant_scope(actor: Actor) -> str:
    """The scope of a community's (a guild's, a workspace's) quotas."""
    return f"tenant:{actor.platform}:{actor.tenant}"


def _lock_key(action: Action, scope: str) -> int:
    digest = hashlib.sha256(f"{action}:{scope}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@functools.cache
def _statements(scopes: int) -> tuple[Delete, Select[str, int]]:
    """The statements that forget aged-out uses and count live ones, for this many scopes (built once each)."""
    scope: list[BindParameter[str]] = [bindparam(f"scope{i}") for i in range(scopes)]
    at: list[BindParameter[datetime]] = [bindparam(f"at{i}") for i in range(scopes)]
    aged = or_(*(and_(QuotaUse.scope == scope[i], QuotaUse.at <= at[i]) for i in range(scopes)))
    live = or_(*(and_(QuotaUse.scope == scope[i], QuotaUse.at > at[i]) for i in range(scopes)))
    action = QuotaUse.action == bindparam("action")
    return (
        delete(QuotaUse).where(action, aged),
        select(QuotaUse.scope, func.count()).where(action, live).group_by(QuotaUse.scope),
    )


async def charge(session: AsyncSession, *, action: Action, charges: Sequence[Charge], now: datetime) -> list[int]:
    """Count one use of `action` against every quota in `charges`, or raise RateLimited and count nothing.

    Runs inside the caller's transaction, best as its last step since the locks are held until it commits: if
    the action fails, its uses roll back with it. Returns the ids of the uses recorded, so an action undone
    later can take them back. Uses are serialised per scope (an advisory lock on PostgreSQL; SQLite has one
    writer at a time, and the statements here write), so processes racing each other cannot both take the
    last use.
    """
    active = sorted(((c, c.quota.limit) for c in charges if c.quota.limit is not None), key=lambda pair: pair[0].scope)
    if not active:
        return []
    if session.get_bind().dialect.name == "postgresql":
        for item, _ in active:
            await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(action, item.scope)})
    since = {item.scope: now - timedelta(seconds=item.quota.window_seconds) for item, _ in active}
    # Uses that aged out are forgotten, so a scope never holds more rows than its limit; one statement for
    # every scope, and one that counts what is left in each scope's window.
    forget, count_live = _statements(len(active))
    params: dict[str, object] = {"action": str(action)}
    for i, (scope, at) in enumerate(since.items()):
        params[f"scope{i}"], params[f"at{i}"] = scope, at
    await session.execute(forget, params)
    counts: dict[str, int] = {scope: int(n) for scope, n in await session.execute(count_live, params)}
    for item, limit in active:
        count = counts.get(item.scope, 0)
        if count >= limit:
            window = timedelta(seconds=item.quota.window_seconds)
            in_window = (QuotaUse.action == action, QuotaUse.scope == item.scope, QuotaUse.at > since[item.scope])
            # Free again once enough of the oldest uses in the window have aged out to leave room for one.
            frees_at = (
                await session.execute(
                    select(QuotaUse.at).where(*in_window).order_by(QuotaUse.at).offset(count - limit).limit(1)
                )
            ).scalar_one() + window
            wait = max((frees_at - now).total_seconds(), 1.0)
            reached = item.reached.format(
                count=count, s="" if count == 1 else "s", window=describe_window(item.quota.window_seconds)
            )
            raise RateLimited(
                f"{reached}, the most allowed. Try again {describe_wait(wait)}.", retry_after=math.ceil(wait)
            )
    uses = [QuotaUse(action=str(action), scope=item.scope, at=now) for item, _ in active]
    session.add_all(uses)
    await session.flush()
    return [use.id for use in uses]


async def refund(session: AsyncSession, ids: Sequence[int]) -> None:
    """Take back uses recorded for an action that was undone."""
    if ids:
        await session.execute(delete(QuotaUse).where(QuotaUse.id.in_(list(ids))))
