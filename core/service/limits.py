"""Rate limits kept in the database, so every process (api, worker, bots) counts against the same quotas."""

from __future__ import annotations

import enum
import functools
import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import BindParameter, Delete, Select, and_, bindparam, case, delete, func, or_, select, text
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
def _statements(scopes: int) -> tuple[Delete, Select[str, int, int]]:
    """For this many scopes (built once each): the statement that forgets aged-out uses, and the one that
    counts each scope's rows and those of them still in its window."""
    scope: list[BindParameter[str]] = [bindparam(f"scope{i}") for i in range(scopes)]
    at: list[BindParameter[datetime]] = [bindparam(f"at{i}") for i in range(scopes)]
    aged = or_(*(and_(QuotaUse.scope == scope[i], QuotaUse.at <= at[i]) for i in range(scopes)))
    live = or_(*(and_(QuotaUse.scope == scope[i], QuotaUse.at > at[i]) for i in range(scopes)))
    action = QuotaUse.action == bindparam("action")
    return (
        delete(QuotaUse).where(action, aged),
        select(QuotaUse.scope, func.count(), func.sum(case((live, 1), else_=0)))
        .where(action, QuotaUse.scope.in_(scope))
        .group_by(QuotaUse.scope),
    )


async def charge(session: AsyncSession, *, action: Action, charges: Sequence[Charge], now: datetime) -> list[int]:
    """Count one use of `action` against every quota in `charges`, or raise RateLimited and count nothing.

    Runs inside the caller's transaction, which RateLimited rolls back: if the action fails, its uses roll
    back with it. Returns the ids of the uses recorded, so an action undone later can take them back. The
    uses are written first and counted after, so the count runs with the write taken: uses are serialised
    per scope (an advisory lock on PostgreSQL; SQLite has one writer at a time), and processes racing each
    other cannot both take the last use.
    """
    active = sorted(((c, c.quota.limit) for c in charges if c.quota.limit is not None), key=lambda pair: pair[0].scope)
    if not active:
        return []
    if session.get_bind().dialect.name == "postgresql":
        for item, _ in active:
            await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _lock_key(action, item.scope)})
    uses = [QuotaUse(action=str(action), scope=item.scope, at=now) for item, _ in active]
    session.add_all(uses)
    await session.flush()
    since = {item.scope: now - timedelta(seconds=item.quota.window_seconds) for item, _ in active}
    forget, count = _statements(len(active))
    params: dict[str, object] = {"action": str(action)}
    for i, (scope, at) in enumerate(since.items()):
        params[f"scope{i}"], params[f"at{i}"] = scope, at
    counts = {scope: (int(rows), int(live or 0)) for scope, rows, live in await session.execute(count, params)}
    if any(counts.get(item.scope, (0, 0))[0] > limit for item, limit in active):
        # Uses that aged out are forgotten once a scope holds more rows than its limit.
        await session.execute(forget, params)
    for item, limit in active:
        # The uses in the window before this one.
        used = counts.get(item.scope, (0, 0))[1] - 1
        if used >= limit:
            window = timedelta(seconds=item.quota.window_seconds)
            in_window = (QuotaUse.action == action, QuotaUse.scope == item.scope, QuotaUse.at > since[item.scope])
            # Free again once enough of the oldest uses in the window have aged out to leave room for one.
            frees_at = (
                await session.execute(
                    select(QuotaUse.at)
                    .where(*in_window)
                    .order_by(QuotaUse.at, QuotaUse.id)
                    .offset(used - limit)
                    .limit(1)
                )
            ).scalar_one() + window
            wait = max((frees_at - now).total_seconds(), 1.0)
            reached = item.reached.format(
                count=used, s="" if used == 1 else "s", window=describe_window(item.quota.window_seconds)
            )
            raise RateLimited(
                f"{reached}, the most allowed. Try again {describe_wait(wait)}.", retry_after=math.ceil(wait)
            )
    return [use.id for use in uses]


async def refund(session: AsyncSession, ids: Sequence[int]) -> None:
    """Take back uses recorded for an action that was undone."""
    if ids:
        await session.execute(delete(QuotaUse).where(QuotaUse.id.in_(list(ids))))
