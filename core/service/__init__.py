"""The service layer: one keyword-only function per command, shared by every front end."""

from core.service.announcements import Announcement, event_of_mirror, find_announcement, record_announcement
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
from core.service.home import MemberHome, member_home
from core.service.integrations import add_integration, list_integrations, remove_integration, test_integration
from core.service.keys import (
    ApiKeyView,
    IssuedApiKey,
    authenticate_api_key,
    create_api_key,
    issue_api_key,
    list_api_keys,
    revoke_api_key,
)
from core.service.occurrences import cancel_occurrence, change_series_from, list_occurrences, move_occurrence
from core.service.subscriptions import subscribe, unsubscribe
from core.service.users import set_timezone, show_user

__all__ = [
    "Announcement",
    "ApiKeyView",
    "Core",
    "EventDraft",
    "EventPatch",
    "IssuedApiKey",
    "MemberHome",
    "add_integration",
    "authenticate_api_key",
    "calendar_feed",
    "cancel_event",
    "cancel_occurrence",
    "change_series_from",
    "create_api_key",
    "create_event",
    "event_calendar",
    "event_deliveries",
    "event_of_mirror",
    "feed_calendar",
    "find_announcement",
    "issue_api_key",
    "list_api_keys",
    "list_events",
    "list_integrations",
    "list_occurrences",
    "member_home",
    "move_occurrence",
    "record_announcement",
    "remove_integration",
    "revoke_api_key",
    "rotate_calendar_feed",
    "set_timezone",
    "show_event",
    "show_user",
    "subscribe",
    "test_integration",
    "unsubscribe",
    "update_event",
]
