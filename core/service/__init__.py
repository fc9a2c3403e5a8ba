"""The service layer: one keyword-only function per command, shared by every front end."""

from core.service.announcements import Announcement, event_of_mirror, find_announcement, record_announcement
from core.service.calendars import (
    calendar_feed,
    event_calendar,
    feed_calendar,
    public_event_calendar,
    public_feed,
    public_feed_calendar,
    rotate_calendar_feed,
)
from core.service.channels import follow_channel, list_follows, unfollow_channel
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
from core.service.snoozes import SnoozeView, snooze
from core.service.subscriptions import subscribe, unsubscribe
from core.service.users import set_defaults, set_timezone, show_user

__all__ = [
    "Announcement",
    "ApiKeyView",
    "Core",
    "EventDraft",
    "EventPatch",
    "IssuedApiKey",
    "MemberHome",
    "SnoozeView",
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
    "follow_channel",
    "issue_api_key",
    "list_api_keys",
    "list_events",
    "list_follows",
    "list_integrations",
    "list_occurrences",
    "member_home",
    "move_occurrence",
    "public_event_calendar",
    "public_feed",
    "public_feed_calendar",
    "record_announcement",
    "remove_integration",
    "revoke_api_key",
    "rotate_calendar_feed",
    "set_defaults",
    "set_timezone",
    "show_event",
    "show_user",
    "snooze",
    "subscribe",
    "test_integration",
    "unfollow_channel",
    "unsubscribe",
    "update_event",
]
