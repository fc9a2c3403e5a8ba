"""The one place that starts and signals event workflows; the names they share live here."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from core.errors import Conflict, SchedulerUnavailable

WORKFLOW_NAME = "EventWorkflow"
SIGNAL_CHANGED = "changed"
QUERY_UPCOMING = "upcoming"


def workflow_id(instance: str, event_id: int) -> str:
    """The event workflow's id: one workflow per event, ever; `instance` keeps installations apart."""
    return f"{instance}-event-{event_id}"


@dataclass(frozen=True)
class EventWorkflowInput:
    """The event workflow's argument; `after` carries progress across continue-as-new."""

    event_id: int
    send_ahead_seconds: float = 0.0
    after: datetime | None = None


@dataclass(frozen=True)
class ChangeNotice:
    """Signal argument: something about the event or its subscribers changed in the database."""

    reason: str


class Scheduler(Protocol):
    """What the core needs from the reminder engine."""

    async def changed(self, event_id: int, reason: str) -> None:
        """Tell the event's workflow to re-read the event, starting it if it has never run."""


class TemporalScheduler:
    """`Scheduler` on a Temporal client; refuses to bring an ended event's workflow back."""

    def __init__(self, client: Client, *, instance: str, task_queue: str, send_ahead_seconds: float) -> None:
        self._client = client
        self._instance = instance
        self._task_queue = task_queue
        self._send_ahead = send_ahead_seconds
        # Per event: changes requested so far, changes covered by a signal already sent, and one lock, so a
        # burst of changes to one event becomes one signal in flight and one after it, whatever its size.
        self._requested: dict[int, int] = {}
        self._covered: dict[int, int] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._callers: dict[int, int] = {}

    async def changed(self, event_id: int, reason: str) -> None:
        request = self._requested[event_id] = self._requested.get(event_id, 0) + 1
        lock = self._locks.setdefault(event_id, asyncio.Lock())
        self._callers[event_id] = self._callers.get(event_id, 0) + 1
        try:
            async with lock:
                if self._covered.get(event_id, 0) >= request:
                    return  # a signal sent after this change was stored has told the workflow already
                upto = self._requested[event_id]
                await self._signal(event_id, reason)
                self._covered[event_id] = upto
        finally:
            self._callers[event_id] -= 1
            if not self._callers[event_id]:
                self._callers.pop(event_id)
                self._requested.pop(event_id, None)
                self._covered.pop(event_id, None)
                self._locks.pop(event_id, None)

    async def _signal(self, event_id: int, reason: str) -> None:
        try:
            await self._client.start_workflow(
                WORKFLOW_NAME,
                EventWorkflowInput(event_id=event_id, send_ahead_seconds=self._send_ahead),
                id=workflow_id(self._instance, event_id),
                task_queue=self._task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                start_signal=SIGNAL_CHANGED,
                start_signal_args=[ChangeNotice(reason=reason)],
                # No execution timeout: it would span every continued run, and a weekly series runs for years.
            )
        except WorkflowAlreadyStartedError as exc:
            raise Conflict("This event has already ended; its reminders cannot change.") from exc
        except (RPCError, RuntimeError) as exc:  # a lazy client that cannot connect raises RuntimeError
            raise SchedulerUnavailable("The reminder scheduler is unreachable; nothing was changed.") from exc
