"""The worker: runs EventWorkflow, the slot dispatchers and their activities on the task queue."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client
from temporalio.worker import Worker

from workflows.activities import ReminderActivities
from workflows.event_workflow import EventWorkflow
from workflows.slot_workflow import SlotWorkflow

# A workflow keeps running on the worker that has it cached; when that worker is killed, its next task waits this
# long on the dead worker's queue before any worker may take it (Temporal's default is 10 s). A slot woken for a
# reminder due in seconds cannot wait that long; the cost of a shorter wait is a replay of the workflow's history
# on another worker when this one is too busy to take the task in time.
STICKY_TIMEOUT = timedelta(seconds=3)


def build_worker(client: Client, *, task_queue: str, activities: ReminderActivities) -> Worker:
    """A worker for the event and slot workflows; any number of them may share a task queue."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[EventWorkflow, SlotWorkflow],
        activities=activities.all(),
        max_concurrent_activities=200,
        sticky_queue_schedule_to_start_timeout=STICKY_TIMEOUT,
    )
