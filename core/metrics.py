"""Prometheus metrics of Soonish, defined in one place, with small functions to record them.

Labels are chosen from short, fixed vocabularies (a status, a kind, a URL scheme, a command's words):
never a URL, a token, a name or anything else a user typed.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterable
from datetime import datetime

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest

from core.destinations import Destination, Outcome, Sender
from core.notices import Message

# Final delivery failures are logged here, one line each (the console shows this logger).
log = logging.getLogger("soonish.deliveries")
CONTENT_TYPE = CONTENT_TYPE_LATEST
FINAL_STATUSES = frozenset({"sent", "failed", "skipped"})
_SCHEME = re.compile(r"^([a-z][a-z0-9+]{0,15})://")

DELIVERIES = Counter(
    "soonish_deliveries",
    "Deliveries that reached a final state, by status (sent, failed, skipped), kind and destination platform.",
    ["status", "kind", "platform"],
)
LATENESS = Histogram(
    "soonish_delivery_lateness_seconds",
    "Send time minus due time of each sent delivery.",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600),
)
SEND_DURATION = Histogram(
    "soonish_send_duration_seconds",
    "How long one send to one destination took, by platform and result (ok, error).",
    ["platform", "result"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
COMMANDS = Counter(
    "soonish_commands",
    "Commands handled, by front end (console, discord, slack, api), command and outcome (ok, refused, error).",
    ["frontend", "command", "outcome"],
)


def platform_of(url: str | None) -> str:
    """The destination's platform for a label: the URL's scheme (discord, slack, mailto, ntfy...), nothing more."""
    match = _SCHEME.match((url or "").lower())
    return match.group(1) if match else "unknown"


def record_deliveries(
    *,
    kind: str,
    event_id: int,
    due: datetime,
    sent_at: datetime,
    rows: Iterable[tuple[str | None, str, str | None]],
) -> None:
    """Count each delivery that became final and time the sent ones; a final failure is logged in one line.

    `rows` holds each delivery's destination URL (only its scheme is used), status and error (the reason
    shown to the destination's owner, which never holds the URL).
    """
    for url, status, error in rows:
        status = str(getattr(status, "value", status))
        if status not in FINAL_STATUSES:
            continue
        platform = platform_of(url)
        DELIVERIES.labels(status=status, kind=kind, platform=platform).inc()
        if status == "sent":
            LATENESS.labels(kind=kind).observe(max(0.0, (sent_at - due).total_seconds()))
        elif status == "failed":
            log.warning(
                "%s for event %s to a %s destination failed for good: %s",
                kind.capitalize(),
                event_id,
                platform,
                (error or "no reason given")[:200],
                extra={"event_id": event_id},
            )


def record_command(*, frontend: str, command: str, outcome: str) -> None:
    """Count one command: `command` is the command's fixed words (such as "event create"), never its argument."""
    COMMANDS.labels(frontend=frontend, command=command, outcome=outcome).inc()


class TimedSender(Sender):
    """The Apprise sender, timing each send."""

    async def send(self, destination: Destination, message: Message, *, key: str | None = None) -> Outcome:
        started = time.perf_counter()
        outcome = await super().send(destination, message, key=key)
        result = "ok" if outcome.error is None else "error"
        SEND_DURATION.labels(platform=platform_of(destination.url), result=result).observe(
            time.perf_counter() - started
        )
        return outcome


def exposition() -> bytes:
    """Soonish's metrics in the Prometheus text format."""
    return generate_latest(REGISTRY)
