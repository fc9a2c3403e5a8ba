"""Event commands (create, update, cancel, list, show, deliveries) on a real database and Temporal."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from temporalio.client import WorkflowExecutionStatus

from bot.runtime import Runtime
from core import service
from core.errors import (
    Conflict,
    InvalidInput,
    InvalidTime,
    InvalidURL,
    NotFound,
    PermissionDenied,
    SchedulerUnavailable,
)
from core.models import DeliveryStatus, Event, NotificationLog, User
from core.service import EventDraft, EventPatch
from core.service.events import CODE_ALPHABET, CODE_LENGTH
from core.views import Actor
from tests.conftest import MEMBER, ORGANIZER, STRANGER
from tests.core.helpers import (
    NEXT_YEAR,
    new_event,
    refused,
    row_counts,
    signals,
    unreachable_core,
    workflow_status,
)

ADMIN = Actor(platform="console", tenant="guild-a", user_id="boss", display_name="Bea", is_admin=True)
API_ORGANIZER = Actor(platform="api", tenant="api", user_id="alice", display_name="alice")
WHEN_HINT = "Try 'tomorrow 7pm', 'in 2 hours', 'next friday 18:00' or '2026-12-01 19:00'."
ZONE_HINT = "Use an IANA name such as Europe/Berlin or America/New_York."
OFFSET_HINT = "Use a number and a unit, such as 30m, 1h 30m, 1.5h, an hour or 2 days; separate several with commas."


# Creating


async def test_create_returns_a_code_and_starts_the_workflow(runtime: Runtime) -> None:
    """A new event gets a short public code and a running workflow that was told about it once."""
    event = await new_event(runtime, location="Hall 2")
    assert len(event.code) == CODE_LENGTH
    assert set(event.code) <= set(CODE_ALPHABET)
    assert (event.name, event.status, event.organizer, event.location) == (
        "Launch party",
        "scheduled",
        "Olga",
        "Hall 2",
    )
    assert event.default_offsets == (3600,)
    assert event.end_at == event.start_at
    assert await workflow_status(runtime, event.id) == WorkflowExecutionStatus.RUNNING
    assert await signals(runtime, event.id) == 1
    counts = await row_counts(runtime)
    assert (counts["events"], counts["event_details"], counts["users"]) == (1, 1, 1)


async def test_create_reads_wall_clock_times_in_the_given_zone(runtime: Runtime) -> None:
    """Start and end without an offset are wall-clock times in the event's zone, stored as UTC instants."""
    year = runtime.core.clock().year + 1  # next summer: Berlin is on CEST, UTC+2
    draft = EventDraft(
        name="Summer fest", start=f"{year}-06-01 19:00", end=f"{year}-06-01 23:30", timezone="europe/berlin"
    )
    event = await service.create_event(core=runtime.core, actor=ORGANIZER, draft=draft)
    assert event.timezone == "Europe/Berlin"
    assert event.start_at == datetime(year, 6, 1, 17, 0, tzinfo=UTC)
    assert event.end_at == datetime(year, 6, 1, 21, 30, tzinfo=UTC)


async def refused_drafts(runtime: Runtime, cases: list[tuple[dict[str, Any], type[InvalidInput], str]]) -> None:
    """Each draft must be refused with exactly its error and message, leaving no row and no workflow."""
    for fields, error, message in cases:
        draft = EventDraft(**{"name": "Launch party", "start": "in 3 days", **fields})
        attempt = service.create_event(core=runtime.core, actor=ORGANIZER, draft=draft)
        assert await refused(runtime, attempt, error) == message, fields
    assert (await row_counts(runtime))["events"] == 0
    assert await workflow_status(runtime, 1) is None


async def test_bad_times_are_refused_and_create_nothing(runtime: Runtime) -> None:
    """An unparseable or past start, an end before the start, a too long event or an unknown zone create nothing."""
    await refused_drafts(
        runtime,
        [
            (
                {"start": "when pigs fly"},
                InvalidTime,
                f"The start time: Could not understand the time 'when pigs fly'. {WHEN_HINT}",
            ),
            ({"start": "2001-01-01 10:00"}, InvalidTime, "The start time Mon 01 Jan 2001, 10:00 UTC is in the past."),
            ({"end": "in 2 days"}, InvalidTime, "The end time is before the start time."),
            ({"end": "in 40 days"}, InvalidTime, "An event can last at most 31 days."),
            ({"timezone": "Mars/Olympus_Mons"}, InvalidInput, f"Unknown time zone 'Mars/Olympus_Mons'. {ZONE_HINT}"),
        ],
    )


async def test_create_says_how_a_typed_start_was_read(runtime: Runtime) -> None:
    """The answer to a create carries the typed start and each choice made reading it; a later show does not."""
    event = await new_event(runtime, start="saturday at 8")
    assert event.start_reading is not None
    assert event.start_reading.typed == "saturday at 8"
    assert event.start_reading.notes == ("8 without am/pm read as 20:00 (add am or pm to choose)",)
    assert (event.start_at.weekday(), event.start_at.hour) == (5, 20)  # the organizer's zone is UTC
    assert (await service.show_event(core=runtime.core, actor=ORGANIZER, ref=event.code)).start_reading is None


async def test_past_start_is_shown_in_the_organizers_own_zone(runtime: Runtime) -> None:
    """A past start in another zone is refused with the time on the organizer's own wall clock."""
    await service.set_timezone(core=runtime.core, actor=ORGANIZER, timezone="America/New_York")
    draft = EventDraft(name="Retro", start="2001-01-01 10:00", timezone="Asia/Tokyo")
    message = await refused(runtime, service.create_event(core=runtime.core, actor=ORGANIZER, draft=draft), InvalidTime)
    assert message == "The start time Sun 31 Dec 2000, 20:00 America/New_York is in the past."


async def test_update_says_how_the_new_start_was_read(runtime: Runtime) -> None:
    """The answer to a move carries how its new start text was read; a change without a new start carries none."""
    event = await new_event(runtime)
    patch = EventPatch(start="next week monday 18:00")
    moved = await service.update_event(core=runtime.core, actor=ORGANIZER, ref=event.code, patch=patch)
    assert moved.start_reading is not None and moved.start_reading.typed == "next week monday 18:00"
    assert (moved.start_at.weekday(), moved.start_at.hour) == (0, 18)
    renamed = await service.update_event(core=runtime.core, actor=ORGANIZER, ref=event.code, patch=EventPatch(name="X"))
    assert renamed.start_reading is None


async def test_bad_default_offsets_are_refused_and_create_nothing(runtime: Runtime) -> None:
    """Reminder offsets of zero, without a unit, unreadable or over a year create nothing."""
    await refused_drafts(
        runtime,
        [
            (
                {"default_offsets": "0"},
                InvalidTime,
                "The reminder offset '0' needs a unit: s, m, h, d or w (for example 0m).",
            ),
            (
                {"default_offsets": [0]},
                InvalidTime,
                "The reminder offset 0 seconds is too short: it must be at least 1 second.",
            ),
            ({"default_offsets": "5x"}, InvalidTime, f"'5x' is not a reminder offset. {OFFSET_HINT}"),
            (
                {"default_offsets": "366d"},
                InvalidTime,
                "The reminder offset '366d' is too long: it can be at most 365 days.",
            ),
        ],
    )


async def test_bad_texts_are_refused_and_create_nothing(runtime: Runtime) -> None:
    """An oversized or blank name, description, location or link, or a link that is not http(s), creates nothing."""
    await refused_drafts(
        runtime,
        [
            ({"name": "x" * 101}, InvalidInput, "The event name is 101 characters long; the limit is 100."),
            ({"name": "   "}, InvalidInput, "The event name cannot be empty."),
            (
                {"name": "Launch\nparty"},
                InvalidInput,
                "The event name cannot contain line breaks or control characters (found U+000A).",
            ),
            (
                {"description": "x" * 2001},
                InvalidInput,
                "The event description is 2001 characters long; the limit is 2000.",
            ),
            ({"location": "x" * 201}, InvalidInput, "The event location is 201 characters long; the limit is 200."),
            (
                {"link": "https://example.com/" + "x" * 481},
                InvalidInput,
                "The event link is 501 characters long; the limit is 500.",
            ),
            ({"link": "javascript:alert(1)"}, InvalidInput, "The event link must be an http:// or https:// address."),
            ({"link": "http://[oops"}, InvalidInput, "The event link must be an http:// or https:// address."),
        ],
    )


async def test_guarded_channel_url_is_refused_and_creates_nothing(runtime: Runtime) -> None:
    """A channel URL that points inside the network or asks for redirects is refused before anything is stored."""
    for url, message in (
        ("json://127.0.0.1/x", "The address 127.0.0.1 is private, local or otherwise not on the public internet"),
        ("json://example.com/?redirect=yes", "That URL asks to follow redirects (redirect=...)"),
    ):
        draft = EventDraft(name="Launch party", start="in 3 days", channel_url=url)
        attempt = service.create_event(core=runtime.core, actor=API_ORGANIZER, draft=draft)
        assert (await refused(runtime, attempt, InvalidURL)).startswith(message)
    assert await workflow_status(runtime, 1) is None


async def test_a_chat_member_cannot_type_a_channel_destination(runtime: Runtime) -> None:
    """On a chat platform the event's channel is the one the command ran in; a typed one is refused."""
    draft = EventDraft(name="Launch party", start="in 3 days", channel_url="jsons://93.184.216.34/hook")
    attempt = service.create_event(core=runtime.core, actor=ORGANIZER, draft=draft)
    assert await refused(runtime, attempt, InvalidInput) == (
        "An event's channel is the channel you create it in; it cannot be typed."
    )


async def test_only_a_chat_front_end_gives_a_trusted_channel(runtime: Runtime) -> None:
    """An API caller cannot pass off a channel destination as the bot's own."""
    draft = EventDraft(
        name="Launch party", start="in 3 days", channel_url="soonishdiscord://channel/1", channel_trusted=True
    )
    attempt = service.create_event(core=runtime.core, actor=API_ORGANIZER, draft=draft)
    assert await refused(runtime, attempt, InvalidInput) == (
        "Only a chat front end can give the channel an event was created in."
    )


async def test_create_with_unreachable_scheduler_leaves_no_event(runtime: Runtime) -> None:
    """When Temporal cannot be reached, creating says so and the event row is taken back."""
    await service.show_user(core=runtime.core, actor=ORGANIZER)
    broken = await unreachable_core(runtime)
    attempt = service.create_event(
        core=broken, actor=ORGANIZER, draft=EventDraft(name="Launch party", start="in 3 days")
    )
    message = await refused(runtime, attempt, SchedulerUnavailable)
    assert message == "The reminder scheduler is unreachable; nothing was changed."
    assert (await row_counts(runtime))["events"] == 0
    assert await workflow_status(runtime, 1) is None


# Updating and cancelling


async def test_update_moves_the_time_and_keeps_the_code(runtime: Runtime) -> None:
    """Moving an event keeps its id, code and length, and signals its workflow."""
    event = await new_event(runtime, start=f"{NEXT_YEAR}-06-01 19:00", end=f"{NEXT_YEAR}-06-01 21:00")
    patch = EventPatch(start=f"{NEXT_YEAR}-06-02 18:00", location="Hall 3")
    moved = await service.update_event(core=runtime.core, actor=ORGANIZER, ref=event.code, patch=patch)
    assert (moved.id, moved.code, moved.name, moved.location) == (event.id, event.code, "Launch party", "Hall 3")
    assert (moved.start_at, moved.end_at) == (
        datetime(NEXT_YEAR, 6, 2, 18, tzinfo=UTC),
        datetime(NEXT_YEAR, 6, 2, 20, tzinfo=UTC),
    )
    assert await service.show_event(core=runtime.core, actor=MEMBER, ref=event.id) == moved
    assert await signals(runtime, event.id) == 2


async def test_bad_update_is_refused_and_changes_nothing(runtime: Runtime) -> None:
    """Each bad update gets its own message; the event, its rows and its workflow stay exactly as they were."""
    event = await new_event(runtime)
    cases: list[tuple[dict[str, Any], type[InvalidInput], str]] = [
        ({"start": "2001-01-01 10:00"}, InvalidTime, "The start time Mon 01 Jan 2001, 10:00 UTC is in the past."),
        (
            {"start": "when pigs fly"},
            InvalidTime,
            f"The start time: Could not understand the time 'when pigs fly'. {WHEN_HINT}",
        ),
        ({"end": "in 1 day"}, InvalidTime, "The end time is before the start time."),
        ({"timezone": "Mars/Olympus_Mons"}, InvalidInput, f"Unknown time zone 'Mars/Olympus_Mons'. {ZONE_HINT}"),
        ({"default_offsets": "5x"}, InvalidTime, f"'5x' is not a reminder offset. {OFFSET_HINT}"),
        ({"name": ""}, InvalidInput, "The event name cannot be empty."),
        ({"location": "x" * 201}, InvalidInput, "The event location is 201 characters long; the limit is 200."),
        ({"link": "ftp://example.com/"}, InvalidInput, "The event link must be an http:// or https:// address."),
    ]
    for fields, error, message in cases:
        attempt = service.update_event(core=runtime.core, actor=ORGANIZER, ref=event.id, patch=EventPatch(**fields))
        assert await refused(runtime, attempt, error) == message, fields
    assert await service.show_event(core=runtime.core, actor=ORGANIZER, ref=event.id) == event


async def test_member_cannot_change_or_cancel_someone_elses_event(runtime: Runtime) -> None:
    """Only the organizer may change or cancel an event; a member's attempts change nothing."""
    event = await new_event(runtime)
    change = service.update_event(core=runtime.core, actor=MEMBER, ref=event.id, patch=EventPatch(name="Mine now"))
    assert await refused(runtime, change, PermissionDenied) == "Only the event's organizer can change it."
    cancel = service.cancel_event(core=runtime.core, actor=MEMBER, ref=event.code)
    assert await refused(runtime, cancel, PermissionDenied) == "Only the event's organizer can cancel it."


async def test_tenant_admin_may_cancel_someone_elses_event(runtime: Runtime) -> None:
    """A tenant admin cancels another member's event, and its workflow is told."""
    event = await new_event(runtime)
    cancelled = await service.cancel_event(core=runtime.core, actor=ADMIN, ref=event.id)
    assert (cancelled.id, cancelled.status) == (event.id, "cancelled")
    assert await signals(runtime, event.id) == 2


async def test_cancel_twice_is_a_conflict(runtime: Runtime) -> None:
    """Cancelling an event that is already cancelled is refused and signals nothing."""
    event = await new_event(runtime)
    await service.cancel_event(core=runtime.core, actor=ORGANIZER, ref=event.id)
    attempt = service.cancel_event(core=runtime.core, actor=ORGANIZER, ref=event.id)
    assert await refused(runtime, attempt, Conflict) == "This event is already cancelled."


async def test_cancelled_event_cannot_be_updated(runtime: Runtime) -> None:
    """A cancelled event can no longer change."""
    event = await new_event(runtime)
    await service.cancel_event(core=runtime.core, actor=ORGANIZER, ref=event.id)
    attempt = service.update_event(core=runtime.core, actor=ORGANIZER, ref=event.id, patch=EventPatch(name="Again"))
    assert await refused(runtime, attempt, Conflict) == "This event is cancelled; it can no longer change."


async def test_ambiguous_name_is_refused(runtime: Runtime) -> None:
    """Two upcoming events with one name cannot be cancelled by that name."""
    await new_event(runtime, name="Standup")
    await new_event(runtime, name="Standup", start="in 4 days")
    attempt = service.cancel_event(core=runtime.core, actor=ORGANIZER, ref="standup")
    assert (
        await refused(runtime, attempt, InvalidInput)
        == "Several events are called 'standup'; use the event's code instead."
    )


async def test_update_with_unreachable_scheduler_restores_the_event(runtime: Runtime) -> None:
    """When Temporal cannot be told of an update, every changed column is put back."""
    event = await new_event(runtime)
    broken = await unreachable_core(runtime)
    patch = EventPatch(name="Moved", start="in 5 days", location="Hall 9", default_offsets="1d")
    attempt = service.update_event(core=broken, actor=ORGANIZER, ref=event.id, patch=patch)
    assert (
        await refused(runtime, attempt, SchedulerUnavailable)
        == "The reminder scheduler is unreachable; nothing was changed."
    )


async def test_cancel_with_unreachable_scheduler_keeps_the_event_scheduled(runtime: Runtime) -> None:
    """When Temporal cannot be told of a cancellation, the event stays scheduled."""
    event = await new_event(runtime)
    attempt = service.cancel_event(core=await unreachable_core(runtime), actor=ORGANIZER, ref=event.id)
    assert (
        await refused(runtime, attempt, SchedulerUnavailable)
        == "The reminder scheduler is unreachable; nothing was changed."
    )
    assert (await service.show_event(core=runtime.core, actor=ORGANIZER, ref=event.id)).status == "scheduled"


# Tenants


async def test_other_tenants_event_does_not_exist(runtime: Runtime) -> None:
    """By id or code, another tenant's event cannot be shown, changed, cancelled, read or subscribed to."""
    event = await new_event(runtime)
    core = runtime.core
    boss = dataclasses.replace(STRANGER, is_admin=True)
    for ref in (event.id, event.code):
        for attempt in (
            service.show_event(core=core, actor=STRANGER, ref=ref),
            service.update_event(core=core, actor=boss, ref=ref, patch=EventPatch(name="Hijacked")),
            service.cancel_event(core=core, actor=boss, ref=ref),
            service.event_deliveries(core=core, actor=STRANGER, ref=ref),
            service.subscribe(core=core, actor=STRANGER, ref=ref),
            service.unsubscribe(core=core, actor=STRANGER, ref=ref),
        ):
            assert await refused(runtime, attempt, NotFound) == f"No event '{ref}' here."
    assert await service.list_events(core=core, actor=STRANGER, include_past=True) == []


async def test_list_events_shows_only_the_tenants_upcoming_events(runtime: Runtime) -> None:
    """Listing shows the tenant's upcoming events soonest first; the others only on request, after them."""
    later = await new_event(runtime, name="Later", start="in 5 days")
    sooner = await new_event(runtime, name="Sooner", start="in 2 days")
    dropped = await new_event(runtime, name="Dropped", start="in 3 days")
    theirs = await new_event(runtime, STRANGER, name="Elsewhere")
    await service.cancel_event(core=runtime.core, actor=ORGANIZER, ref=dropped.id)
    upcoming = await service.list_events(core=runtime.core, actor=MEMBER)
    everything = await service.list_events(core=runtime.core, actor=MEMBER, include_past=True)
    assert [e.name for e in upcoming] == ["Sooner", "Later"]
    assert [e.name for e in everything] == ["Sooner", "Later", "Dropped"]
    assert [e.id for e in await service.list_events(core=runtime.core, actor=STRANGER)] == [theirs.id]
    assert upcoming[0] == sooner
    assert upcoming[1] == later


# Showing


async def test_show_finds_an_event_by_id_code_or_name(runtime: Runtime) -> None:
    """An event is found by id, by code in any case (even an all-digit one), and by name (even a non-ASCII one)."""
    event = await new_event(runtime)
    for ref in (event.id, str(event.id), event.code.lower(), " launch PARTY "):
        assert await service.show_event(core=runtime.core, actor=MEMBER, ref=ref) == event
    async with runtime.core.sessions.begin() as session:
        await session.execute(update(Event).where(Event.id == event.id).values(code="234567"))
    assert (await service.show_event(core=runtime.core, actor=MEMBER, ref="234567")).id == event.id
    other = await new_event(runtime, name="Ölfest Überraschung")
    assert (await service.show_event(core=runtime.core, actor=MEMBER, ref="Ölfest Überraschung")).id == other.id


async def test_unknown_event_is_not_found(runtime: Runtime) -> None:
    """A reference to no event (an unknown name, an id out of range, a non-ASCII digit, too long) is NotFound."""
    await new_event(runtime)
    for ref in ("nope", "99999999999999999999", "2147483648", "²"):
        attempt = service.show_event(core=runtime.core, actor=MEMBER, ref=ref)
        assert await refused(runtime, attempt, NotFound) == f"No event '{ref}' here."
    attempt = service.show_event(core=runtime.core, actor=MEMBER, ref="x" * 101)
    assert await refused(runtime, attempt, NotFound) == "Give an event by its id, its code or its name."


# Deliveries


async def test_deliveries_show_everything_to_the_organizer_and_own_rows_to_a_member(runtime: Runtime) -> None:
    """The organizer reads the whole log, newest first; a member reads only their own rows."""
    event = await new_event(runtime)
    await service.show_user(core=runtime.core, actor=MEMBER)
    due = event.start_at - timedelta(hours=1)
    async with runtime.core.sessions.begin() as session:
        users = {u.platform_user_id: u.id for u in (await session.execute(select(User))).scalars()}
        for minutes, user_id, destination, status in (
            (0, None, "discord://***", DeliveryStatus.SENT),
            (1, users["org"], "soonishconsole://org", DeliveryStatus.SENT),
            (2, users["mem"], "json://***", DeliveryStatus.FAILED),
        ):
            session.add(
                NotificationLog(
                    idempotency_key=f"k{minutes}",
                    event_id=event.id,
                    user_id=user_id,
                    destination=destination,
                    due_at=due + timedelta(minutes=minutes),
                    status=status,
                    attempts=3 if status == DeliveryStatus.FAILED else 1,
                    error="the notification service did not accept the message" if status == "failed" else None,
                )
            )
    everything = (await service.event_deliveries(core=runtime.core, actor=ORGANIZER, ref=event.id)).entries
    own = (await service.event_deliveries(core=runtime.core, actor=MEMBER, ref=event.code)).entries
    assert [(d.recipient, d.destination, d.status) for d in everything] == [
        ("Max", "json://***", "failed"),
        ("Olga", "soonishconsole://org", "sent"),
        ("channel", "discord://***", "sent"),
    ]
    assert own == everything[:1]
    assert (own[0].attempts, own[0].error) == (3, "the notification service did not accept the message")
    page = await service.event_deliveries(core=runtime.core, actor=ORGANIZER, ref=event.id, limit=2, offset=1)
    assert (page.total, [d.recipient for d in page.entries], page.complete) == (3, ["Olga", "channel"], False)
    for limit, offset, field in ((0, 0, "limit"), (501, 0, "limit"), (10, -1, "offset")):
        with pytest.raises(InvalidInput) as refused:
            await service.event_deliveries(core=runtime.core, actor=ORGANIZER, ref=event.id, limit=limit, offset=offset)
        assert refused.value.field == field


async def test_start_more_than_two_years_ahead_is_refused(runtime: Runtime) -> None:
    """An event may not start more than two years from now (its workflow would outlive its time limit)."""
    far = runtime.core.clock() + timedelta(days=800)
    draft = EventDraft(name="Far", start=far)
    message = await refused(runtime, service.create_event(core=runtime.core, actor=ORGANIZER, draft=draft), InvalidTime)
    assert message == "An event can start at most two years from now."
