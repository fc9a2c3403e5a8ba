"""The one place that starts and signals event workflows; the names they share live here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
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

    async def changed(self, event_id: int, reason: str) -> None:
        try:
            await self._client.start_workflow(
                WORKFLOW_NAME,
                EventWorkflowInput(event_id=event_id, send_ahead_seconds=self._send_ahead),
                id=workflow_id(self._instance, event_id),
                task_queue=self._task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
                start_signal=SIGNAL_CHANGED,
                start_signal_args=[ChangeNotice(reason=reason)],
                execution_timeout=timedelta(days=3 * 365),
            )
        except WorkflowAlreadyStartedError as exc:
            raise Conflict("This event has already ended; its reminders cannot change.") from exc
        except (RPCError, RuntimeError) as exc:  # a lazy client that cannot connect raises RuntimeError
            raise SchedulerUnavailable("The reminder scheduler is unreachable; nothing was changed.") from exc
