"""What every activity shares: database failures named without their statement, and heartbeats."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import SQLAlchemyError
from temporalio import activity
from temporalio.exceptions import ApplicationError


@asynccontextmanager
async def database_errors() -> AsyncIterator[None]:
    """Turn a database error into a retryable failure that names the problem without the statement and its
    parameters (which would otherwise land in the workflow history)."""
    try:
        yield
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        raise ApplicationError(f"database error: {type(exc).__name__}: {str(cause)[:200]}") from None


async def heartbeat(every: float = 2.0) -> None:
    """Heartbeat until cancelled, so an activity lost with a crashed worker is retried within seconds."""
    while True:
        activity.heartbeat()
        await asyncio.sleep(every)


@asynccontextmanager
async def heartbeating() -> AsyncIterator[None]:
    """Heartbeat while the block runs."""
    beat = asyncio.create_task(heartbeat())
    try:
        yield
    finally:
        beat.cancel()
