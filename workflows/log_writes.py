"""The send path's log writes of one worker process, written together (group commit).

Every chunk marks its rows in flight before sending them and writes their outcomes as they come. Written one
chunk at a time, those are thousands of small transactions at a big instant, and the sends wait behind them
(on SQLite only one writer runs at a time; each transaction costs a few milliseconds however small it is).
Here every write asked for while one transaction runs joins the next one: one `UPDATE` per kind of change
for all the chunks of the process, so the number of transactions follows the database's speed, not the
number of chunks or rows.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from core.models import Integration, NotificationLog, utcnow
from workflows.targets import batches

# Marks rows whose send has begun: a row still marked so when its chunk runs again was in flight when its
# worker died. It is then recorded as failed rather than sent a second time (each destination at most once).
IN_FLIGHT = "sending"


@dataclass
class _Batch:
    """The writes of one transaction."""

    done: asyncio.Future[None]
    # late -> rows marked in flight
    claims: defaultdict[bool, list[int]] = field(default_factory=lambda: defaultdict(list))
    # (status, error) -> rows
    outcomes: defaultdict[tuple[str, str | None], list[int]] = field(default_factory=lambda: defaultdict(list))
    successes: set[int] = field(default_factory=set)
    failures: defaultdict[str, set[int]] = field(default_factory=lambda: defaultdict(set))


class LogWriter:
    """Writes claims and outcomes of every chunk of the process, one transaction at a time, each holding all
    that was asked for while the one before it ran. A call returns once its writes are committed."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._next: _Batch | None = None
        self._running: asyncio.Task[None] | None = None

    async def claim(self, row_ids: list[int], *, late: bool) -> None:
        """Mark rows in flight (one more attempt each), before they are sent."""
        await self._submit(lambda batch: batch.claims[late].extend(row_ids))

    async def settle(
        self,
        outcomes: dict[tuple[str, str | None], list[int]],
        *,
        successes: set[int] | None = None,
        failures: dict[str, set[int]] | None = None,
    ) -> None:
        """Write rows' outcomes, and the integrations that last succeeded or failed (with the error)."""

        def add(batch: _Batch) -> None:
            for key, rows in outcomes.items():
                batch.outcomes[key].extend(rows)
            batch.successes |= successes or set()
            for error, integrations in (failures or {}).items():
                batch.failures[error] |= integrations

        await self._submit(add)

    async def _submit(self, add: Callable[[_Batch], None]) -> None:
        if self._next is None:
            self._next = _Batch(done=asyncio.get_running_loop().create_future())
        batch = self._next
        add(batch)
        if self._running is None or self._running.done():
            self._running = asyncio.create_task(self._run())
        # A waiter that is cancelled leaves the others' writes to finish.
        await asyncio.shield(batch.done)

    async def _run(self) -> None:
        while self._next is not None:
            batch, self._next = self._next, None
            try:
                async with self._sessions.begin() as session:
                    await _write(await session.connection(), batch)
            except Exception as exc:
                batch.done.set_exception(exc)
                # Retrieved here too, so a batch whose every waiter was cancelled does not warn.
                with contextlib.suppress(Exception):
                    batch.done.exception()
            except BaseException:
                batch.done.cancel()
                raise
            else:
                batch.done.set_result(None)


async def _write(connection: AsyncConnection, batch: _Batch) -> None:
    now = utcnow()
    for late, ids in batch.claims.items():
        for part in batches(ids):
            await connection.execute(
                update(NotificationLog)
                .where(NotificationLog.id.in_(part))
                .values(error=IN_FLIGHT, attempts=NotificationLog.attempts + 1, late=late, updated_at=now)
            )
    for (status, error), ids in batch.outcomes.items():
        for part in batches(ids):
            await connection.execute(
                update(NotificationLog)
                .where(NotificationLog.id.in_(part))
                .values(status=status, error=error, updated_at=now)
            )
    for part in batches(batch.successes):
        await connection.execute(update(Integration).where(Integration.id.in_(part)).values(last_success_at=now))
    for error, integration_ids in batch.failures.items():
        for part in batches(integration_ids):
            await connection.execute(
                update(Integration).where(Integration.id.in_(part)).values(last_error=error[:500], last_error_at=now)
            )
