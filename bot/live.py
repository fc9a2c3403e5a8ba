"""Keeping announcements up to date: edits per event coalesced, so a rush of Subscribe presses is one edit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from core.views import Actor

log = logging.getLogger(__name__)

# Subscriber counts are refreshed this long after the first change, with every change made meanwhile.
DEBOUNCE_SECONDS = 3.0

Edit = Callable[[Actor, str], Awaitable[None]]


class LiveAnnouncements:
    """Schedules `edit(actor, event_ref)`: at once for a new time or a cancellation, debounced for counts."""

    def __init__(self, edit: Edit, *, debounce: float = DEBOUNCE_SECONDS) -> None:
        self._edit = edit
        self.debounce = debounce
        self._pending: set[tuple[str, str, str]] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        # One edit at a time: each reads the event when it starts, so a later edit never lands before an earlier.
        self._lock = asyncio.Lock()

    def changed(self, actor: Actor, ref: str, *, at_once: bool = False) -> None:
        """The event `ref` of the actor's tenant changed; refresh its announcement."""
        key = (actor.platform, actor.tenant, ref)
        if not at_once:
            if key in self._pending:
                return
            self._pending.add(key)
        task = asyncio.create_task(self._run(key, actor, ref, 0.0 if at_once else self.debounce))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, key: tuple[str, str, str], actor: Actor, ref: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
            self._pending.discard(key)
        async with self._lock:
            try:
                await self._edit(actor, ref)
            except Exception as exc:  # an announcement that cannot be edited must not break the command
                log.warning("could not update the announcement of event %s: %s", ref, type(exc).__name__)

    async def flush(self) -> None:
        """Wait for the edits already scheduled (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def close(self) -> None:
        """Drop the edits not yet made."""
        for task in list(self._tasks):
            task.cancel()
