"""The worker: runs EventWorkflow, the slot dispatchers and their activities on the task queue."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.worker import Worker

from workflows.activities import ReminderActivities
from workflows.event_workflow import EventWorkflow
from workflows.slot_workflow import SlotWorkflow


def build_worker(client: Client, *, task_queue: str, activities: ReminderActivities) -> Worker:
    """A worker for the event and slot workflows; any number of them may share a task queue."""
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[EventWorkflow, SlotWorkflow],
        activities=activities.all(),
        max_concurrent_activities=200,
    )
