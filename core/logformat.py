"""JSON log lines (LOG_FORMAT=json): one object per record, with the event, workflow and front end as fields.

Only a Formatter: filters (such as secret redaction) run on the record before it is formatted, so they
apply to JSON and plain lines alike.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

FIELDS = ("event_id", "workflow_id", "frontend")
_WORKFLOW_EVENT = re.compile(r"-event-(\d+)$")
_context: contextvars.ContextVar[dict[str, Any]] = contextvars.ContextVar("soonish_log_context", default={})  # noqa: B039


@contextlib.contextmanager
def log_fields(**fields: Any) -> Iterator[None]:
    """Add `fields` (event_id, workflow_id, frontend) to every record logged in this context."""
    token = _context.set({**_context.get(), **{k: v for k, v in fields.items() if v is not None}})
    try:
        yield
    finally:
        _context.reset(token)


def _temporal_fields(record: logging.LogRecord) -> dict[str, Any]:
    # temporalio's activity and workflow loggers attach their info as these extras.
    for attribute in ("temporal_activity", "temporal_workflow"):
        info = getattr(record, attribute, None)
        if isinstance(info, dict) and info.get("workflow_id"):
            return {"workflow_id": info["workflow_id"]}
    with contextlib.suppress(ImportError, RuntimeError):
        from temporalio import activity

        if activity.in_activity():
            return {"workflow_id": activity.info().workflow_id}
    return {}


def context_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The record's event id, workflow id and front end, from its extras, Temporal's info or the log context."""
    fields: dict[str, Any] = {**_temporal_fields(record), **_context.get()}
    fields.update({name: getattr(record, name) for name in FIELDS if getattr(record, name, None) is not None})
    if "event_id" not in fields and (match := _WORKFLOW_EVENT.search(str(fields.get("workflow_id", "")))):
        fields["event_id"] = int(match.group(1))
    return {name: fields[name] for name in FIELDS if name in fields}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the context fields, and any exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **context_fields(record),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)
