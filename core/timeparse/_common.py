"""Small pieces shared by the time readers: quoting user text back and checking datetimes."""

from __future__ import annotations

from datetime import datetime


def quote(text: str, limit: int = 80) -> str:
    """User text as it goes back to the user: one line, no control characters, bounded length, in quotes."""
    flat = "".join(char for char in " ".join(text.split()) if char.isprintable())
    if len(flat) > limit:
        flat = flat[: limit - 1] + "…"
    return f"'{flat}'"


def require_aware(value: datetime, name: str) -> None:
    """A naive datetime here is a bug in the caller, not a user error."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")
