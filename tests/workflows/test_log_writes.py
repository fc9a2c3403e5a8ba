"""The send path's log writes: every chunk's claims and outcomes land, and a write that failed fails its callers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import create_engine, migrate, session_factory
from core.models import DeliveryStatus, Event, NotificationLog, User, utcnow
from workflows.log_writes import IN_FLIGHT, LogWriter


async def _rows(sessions: async_sessionmaker[AsyncSession], count: int) -> list[int]:
    now = utcnow()
    async with sessions.begin() as session:
        user = User(platform="console", tenant="t", platform_user_id="u", timezone="UTC")
        session.add(user)
        await session.flush()
        event = Event(
            code="ABC123",
            tenant="t",
            name="Launch",
            start_at=now + timedelta(hours=1),
            end_at=now + timedelta(hours=2),
            timezone="UTC",
            organizer_id=user.id,
        )
        session.add(event)
        await session.flush()
        rows = [
            NotificationLog(idempotency_key=f"k{i}", event_id=event.id, destination=f"d{i}", due_at=now)
            for i in range(count)
        ]
        session.add_all(rows)
        await session.flush()
        return [r.id for r in rows]


@pytest.fixture
async def sessions(sqlite_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a migrated SQLite file."""
    engine = create_engine(sqlite_url)
    try:
        await migrate(engine)
        yield session_factory(engine)
    finally:
        await engine.dispose()


async def test_claims_and_outcomes_of_many_chunks_at_once_all_land(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Forty chunks claiming and settling their rows at the same time: every row ends with its own outcome,
    marked late where its chunk said so, with one attempt each."""
    ids = await _rows(sessions, 400)
    writer = LogWriter(sessions)

    async def chunk(part: list[int], late: bool) -> None:
        for i in range(0, len(part), 3):
            await writer.claim(part[i : i + 3], late=late)
        sent, failed = part[::2], part[1::2]
        await writer.settle({(DeliveryStatus.SENT, None): sent, (DeliveryStatus.FAILED, "refused"): failed})

    await asyncio.gather(*(chunk(ids[i : i + 10], late=i % 20 == 0) for i in range(0, 400, 10)))
    async with sessions() as session:
        found = {r.id: r for r in (await session.execute(select(NotificationLog))).scalars()}
    assert [found[i].attempts for i in ids] == [1] * 400
    assert all(r.error != IN_FLIGHT for r in found.values())
    for n, row_id in enumerate(ids):
        row = found[row_id]
        assert (row.status, row.error) == (
            (DeliveryStatus.SENT, None) if n % 2 == 0 else (DeliveryStatus.FAILED, "refused")
        )
        assert row.late == ((n // 10 * 10) % 20 == 0)


async def test_a_claim_that_was_not_written_raises_in_every_chunk_that_asked(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """If the transaction fails, each chunk waiting for it hears so (and so sends nothing it could not mark);
    the next writes go through."""
    ids = await _rows(sessions, 4)
    writer = LogWriter(sessions)
    async with sessions.begin() as session:
        # Every update of the log fails until the trigger is dropped.
        await session.execute(
            text(
                "CREATE TRIGGER refuse BEFORE UPDATE ON notification_log "
                "BEGIN SELECT RAISE(ABORT, 'the disk is full'); END"
            )
        )
    outcomes = await asyncio.gather(
        writer.claim(ids[:2], late=False), writer.claim(ids[2:], late=False), return_exceptions=True
    )
    assert all(isinstance(o, Exception) and "the disk is full" in str(o) for o in outcomes)
    async with sessions.begin() as session:
        await session.execute(text("DROP TRIGGER refuse"))
    await writer.claim(ids, late=True)
    async with sessions() as session:
        rows = list((await session.execute(select(NotificationLog))).scalars())
    assert [(r.error, r.attempts, r.late) for r in rows] == [(IN_FLIGHT, 1, True)] * 4
