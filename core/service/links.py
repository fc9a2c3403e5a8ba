"""Public links to an event's .ics: a per-event token (an HMAC of the event id with the secret key) in the URL."""

from __future__ import annotations

from core.service.context import Core

EVENT_ICS_PURPOSE = "event-ics"


def event_ics_token(core: Core, event_id: int) -> str:
    """The token that opens one event's public .ics; only holders of the secret key can compute it."""
    return core.secrets.derive_token(EVENT_ICS_PURPOSE, str(event_id))


def event_ics_url(core: Core, event_id: int) -> str | None:
    """The public .ics URL of an event, or None when no public URL is configured (SOONISH_PUBLIC_URL)."""
    if not core.public_links:
        return None
    return f"{core.public_url.rstrip('/')}/calendar/event/{event_id}/{event_ics_token(core, event_id)}.ics"
