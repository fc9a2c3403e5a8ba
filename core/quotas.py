"""Quotas: how often one member, one community or one destination may do an action, and how that is written."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

_SPEC = re.compile(r"^\s*(\d{1,7})\s*/\s*(\d{0,7})\s*([smhd])\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_OFF = frozenset({"off", "none", "unlimited"})
SPEC_HINT = "give a quota as COUNT/WINDOW such as 20/1h, 5/10m or 100/1d (s, m, h, d), or 'off'"


@dataclass(frozen=True)
class Quota:
    """At most `limit` uses within any `window_seconds`; a limit of None means no quota."""

    limit: int | None
    window_seconds: int = 3600

    def __str__(self) -> str:
        if self.limit is None:
            return "off"
        for unit, seconds in (("d", 86400), ("h", 3600), ("m", 60)):
            if self.window_seconds % seconds == 0:
                return f"{self.limit}/{self.window_seconds // seconds}{unit}"
        return f"{self.limit}/{self.window_seconds}s"


OFF = Quota(None)


def parse_quota(value: object) -> Quota:
    """A quota from its written form ("20/1h", "5/10m", "off"); raises ValueError saying how to write one."""
    if isinstance(value, Quota):
        return value
    text = str(value).strip()
    if text.lower() in _OFF:
        return OFF
    match = _SPEC.match(text)
    if match is None:
        raise ValueError(SPEC_HINT)
    count, number, unit = int(match.group(1)), int(match.group(2) or 1), match.group(3).lower()
    window = number * _UNIT_SECONDS[unit]
    if count < 1:
        raise ValueError("a quota allows at least 1 use; write 'off' for no quota")
    if window <= 0 or window > 31 * 86400:
        raise ValueError("a quota's window is 1 second to 31 days")
    return Quota(count, window)


@dataclass(frozen=True)
class Quotas:
    """Every quota the service enforces; the defaults suit a community of a few thousand members."""

    event_creates_per_user: Quota = field(default_factory=lambda: Quota(20, 3600))
    event_creates_per_tenant: Quota = field(default_factory=lambda: Quota(100, 3600))
    subscribes_per_user: Quota = field(default_factory=lambda: Quota(60, 3600))
    subscribes_per_tenant: Quota = field(default_factory=lambda: Quota(5000, 3600))
    test_sends_per_user: Quota = field(default_factory=lambda: Quota(10, 3600))
    test_sends_per_tenant: Quota = field(default_factory=lambda: Quota(100, 3600))
    test_sends_per_destination: Quota = field(default_factory=lambda: Quota(5, 3600))


UNLIMITED = Quotas(*(OFF for _ in range(7)))


def describe_window(seconds: int) -> str:
    """'the last hour', 'the last 10 minutes', 'the last 2 days'."""
    for name, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if seconds % size == 0:
            count = seconds // size
            return f"the last {name}" if count == 1 else f"the last {count} {name}s"
    return f"the last {seconds} seconds"  # pragma: no cover - every whole number of seconds matches above


def describe_wait(seconds: float) -> str:
    """How long until a retry succeeds, rounded up: 'in 40 seconds', 'in 14 minutes', 'in 3 hours'."""
    whole = max(1, math.ceil(seconds))
    if whole < 120:
        return f"in {whole} second{'s' if whole != 1 else ''}"
    minutes = math.ceil(whole / 60)
    if minutes < 120:
        return f"in {minutes} minutes"
    return f"in {math.ceil(minutes / 60)} hours"
