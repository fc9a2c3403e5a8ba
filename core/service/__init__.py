"""The service layer: one keyword-only function per command, shared by every front end."""

from core.service.calendars import calendar_feed, event_calendar, feed_calendar, rotate_calendar_feed
from core.service.context import Core
from core.service.events import (
    EventDraft,
    EventPatch,
    cancel_event,
    create_event,
    event_deliveries,
    list_events,
    show_event,
    update_event,
)
from core.service.integrations import add_integration, list_integrations, remove_integration, test_integration
from core.service.keys import authenticate_api_key, create_api_key
from core.service.subscriptions import subscribe, unsubscribe
from core.service.users import set_timezone, show_user

__all__ = [
    "Core",
    "EventDraft",
    "EventPatch",
    "add_integration",
    "authenticate_api_key",
    "calendar_feed",
    "cancel_event",
    "create_api_key",
    "create_event",
    "event_calendar",
    "event_deliveries",
    "feed_calendar",
    "list_events",
    "list_integrations",
    "remove_integration",
    "rotate_calendar_feed",
    "set_timezone",
    "show_event",
    "show_user",
    "subscribe",
    "test_integration",
    "unsubscribe",
    "update_event",
]
