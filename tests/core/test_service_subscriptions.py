"""Subscribe and unsubscribe on a real database and Temporal: tags, offsets, countdowns, and what is refused."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.runtime import Runtime
from core import service
from core.errors import Conflict, InvalidInput, InvalidTime, NotFound, SchedulerUnavailable
from core.models import EventParticipant, utcnow
from core.views import Actor
from tests.conftest import MEMBER, ORGANIZER
from tests.core.helpers import NEXT_YEAR, SECRET_URL, new_event, refused, row_counts, signals, unreachable_core

OFFSET_HINT = "Use a number and a unit, such as 30m, 1h 30m, 1.5h, an hour or 2 days; separate several with commas."
UNREACHABLE = "The reminder scheduler is unreachable; nothing was changed."


async def test_subscribe_returns_the_next_reminders(runtime: Runtime) -> None:
    """Subscribing with tags and offsets answers with the exact instants of the next reminders."""
    event = await new_event(runtime, start=f"{NEXT_YEAR}-06-01 19:00")
    await service.add_integration(core=runtime.core, actor=MEMBER, url=SECRET_URL, tags="email")
    subscription = await service.subscribe(
        core=runtime.core, actor=MEMBER, ref=event.code, tags="dm, #Email", custom_time_delta_seconds="1h, 1d"
    )
    assert (subscription.event_id, subscription.event_code, subscription.event_name) == (
        event.id,
        event.code,
        "Launch party",
    )
    assert subscription.tags == ("dm", "email")
    assert subscription.custom_time_delta_seconds == (86400, 3600)
    assert subscription.custom_frequency == "none"
    assert subscription.next_reminders == (event.start_at - timedelta(days=1), event.start_at - timedelta(hours=1))
    assert (await service.show_event(core=runtime.core, actor=ORGANIZER, ref=event.id)).subscriber_count == 1
    assert await signals(runtime, event.id) == 2


async def test_subscribe_without_offsets_uses_the_events_defaults(runtime: Runtime) -> None:
    """Without offsets of their own, a member is reminded at the event's default offsets on every tag they have."""
    event = await new_event(runtime, start=f"{NEXT_YEAR}-06-01 19:00", default_offsets="2h, 30m")
    subscription = await service.subscribe(core=runtime.core, actor=MEMBER, ref=event.id)
    assert subscription.tags == ("dm",)
    assert subscription.custom_time_delta_seconds == (7200, 1800)
    assert subscription.next_reminders == (event.start_at - timedelta(hours=2), event.start_at - timedelta(minutes=30))


async def test_a_new_members_first_subscribes_at_once_make_one_user(runtime: Runtime) -> None:
    """A member whose first two commands are subscribes arriving together gets one user row and both
    subscriptions, each with the tags they have."""
    first, second = await new_event(runtime, name="First"), await new_event(runtime, name="Second")
    views = await asyncio.gather(
        service.subscribe(core=runtime.core, actor=MEMBER, ref=first.code),
        service.subscribe(core=runtime.core, actor=MEMBER, ref=second.code),
    )
    assert [v.tags for v in views] == [("dm",), ("dm",)]
    counts = await row_counts(runtime)
    assert (counts["users"], counts["event_participants"]) == (2, 2)  # the organizer and the member
    assert (await service.show_user(core=runtime.core, actor=MEMBER)).user_id == MEMBER.user_id


async def test_subscribing_twice_updates_the_subscription(runtime: Runtime) -> None:
    """A second subscribe changes the one subscription (no second row) and shows the new reminders."""
    event = await new_event(runtime)
    await service.subscribe(core=runtime.core, actor=MEMBER, ref=event.id, custom_time_delta_seconds="1h")
    changed = await service.subscribe(
        core=runtime.core, actor=MEMBER, ref=event.id, custom_time_delta_seconds="2h", custom_frequency="Daily"
    )
    start = event.start_at
    assert (changed.custom_time_delta_seconds, changed.custom_frequency) == ((7200,), "daily")
    assert changed.next_reminders == (start - timedelta(days=2), start - timedelta(days=1), start - timedelta(hours=2))
    assert (await row_counts(runtime))["event_participants"] == 1
    assert await signals(runtime, event.id) == 3


async def test_bad_subscription_is_refused_and_changes_nothing(runtime: Runtime) -> None:
    """Unknown, malformed or too many tags, a bad offset, an unknown frequency or no reminder at all: refused."""
    event = await new_event(runtime)
    many = " ".join(f"t{i}" for i in range(11))
    cases: list[tuple[dict[str, Any], type[InvalidInput], str]] = [
        (
            {"tags": "email"},
            InvalidInput,
            "Unknown tag 'email'. Your tags are: dm. Register a destination with that tag using "
            "/integration add URL tags:TAG.",
        ),
        (
            {"tags": "dm, bad!"},
            InvalidInput,
            "'bad!' is not a valid tag: use 1 to 32 letters, digits, '-' or '_', starting with a letter or digit.",
        ),
        ({"tags": many}, InvalidInput, "At most 10 tags, please (11 given)."),
        (
            {"custom_time_delta_seconds": "0"},
            InvalidTime,
            "The reminder offset '0' needs a unit: s, m, h, d or w (for example 0m).",
        ),
        (
            {"custom_time_delta_seconds": [0]},
            InvalidTime,
            "The reminder offset 0 seconds is too short: it must be at least 1 second.",
        ),
        ({"custom_time_delta_seconds": "5x"}, InvalidTime, f"'5x' is not a reminder offset. {OFFSET_HINT}"),
        (
            {"custom_time_delta_seconds": [366 * 86400]},
            InvalidTime,
            "The reminder offset 31622400 seconds is too long: it can be at most 365 days.",
        ),
        (
            {"custom_frequency": "fortnightly"},
            InvalidInput,
            "Unknown countdown frequency 'fortnightly'. Use one of: none, hourly, daily, weekly.",
        ),
        (
            {"custom_time_delta_seconds": []},
            InvalidTime,
            "Choose at least one reminder time (for example 1h) or a countdown frequency.",
        ),
    ]
    for fields, error, message in cases:
        attempt = service.subscribe(core=runtime.core, actor=MEMBER, ref=event.id, **fields)
        assert await refused(runtime, attempt, error) == message, fields
    assert (await row_counts(runtime))["event_participants"] == 0


async def test_subscribe_without_any_destination_is_refused(runtime: Runtime) -> None:
    """A user with no direct messages and no integration is told to add a destination first."""
    event = await new_event(runtime)
    api_user = Actor(platform="api", tenant="guild-a", user_id="robot")
    attempt = service.subscribe(core=runtime.core, actor=api_user, ref=event.id)
    message = await refused(runtime, attempt, InvalidInput)
    assert message == "You have no destination for reminders yet: add one first with /integration add URL."


async def test_subscriptions_to_a_cancelled_or_started_event_are_closed(runtime: Runtime) -> None:
    """Subscribing to a cancelled event, or to one that has started, is a conflict that changes nothing."""
    cancelled = await new_event(runtime, name="Dropped")
    await service.cancel_event(core=runtime.core, actor=ORGANIZER, ref=cancelled.id)
    attempt = service.subscribe(core=runtime.core, actor=MEMBER, ref=cancelled.id)
    assert await refused(runtime, attempt, Conflict) == "'Dropped' is cancelled; subscriptions are closed."
    started = await new_event(runtime, name="Begun")
    later = dataclasses.replace(runtime.core, clock=lambda: utcnow() + timedelta(days=4))
    attempt = service.subscribe(core=later, actor=MEMBER, ref=started.id)
    assert await refused(runtime, attempt, Conflict) == "'Begun' has already started; subscriptions are closed."


async def test_subscribe_by_an_ambiguous_name_is_refused(runtime: Runtime) -> None:
    """When two upcoming events share a name, subscribing by that name asks for the code instead."""
    await new_event(runtime, name="Standup")
    await new_event(runtime, name="Standup", start="in 4 days")
    attempt = service.subscribe(core=runtime.core, actor=MEMBER, ref="Standup")
    assert (
        await refused(runtime, attempt, InvalidInput)
        == "Several events are called 'Standup'; use the event's code instead."
    )


async def test_unsubscribe_removes_the_subscription(runtime: Runtime) -> None:
    """Unsubscribing answers with the event's name, removes the row and tells the workflow."""
    event = await new_event(runtime)
    await service.subscribe(core=runtime.core, actor=MEMBER, ref=event.id)
    assert await service.unsubscribe(core=runtime.core, actor=MEMBER, ref=event.code) == "Launch party"
    assert (await row_counts(runtime))["event_participants"] == 0
    assert await signals(runtime, event.id) == 3


async def test_unsubscribe_when_not_subscribed_is_not_found(runtime: Runtime) -> None:
    """Unsubscribing from an event one is not subscribed to says so and changes nothing."""
    event = await new_event(runtime)
    await service.subscribe(core=runtime.core, actor=ORGANIZER, ref=event.id)
    attempt = service.unsubscribe(core=runtime.core, actor=MEMBER, ref=event.id)
    assert await refused(runtime, attempt, NotFound) == "You are not subscribed to 'Launch party'."


async def test_subscribe_with_unreachable_scheduler_leaves_no_participant(runtime: Runtime) -> None:
    """When Temporal cannot be reached, a new subscription is taken back."""
    event = await new_event(runtime)
    await service.show_user(core=runtime.core, actor=MEMBER)
    attempt = service.subscribe(core=await unreachable_core(runtime), actor=MEMBER, ref=event.id)
    assert await refused(runtime, attempt, SchedulerUnavailable) == UNREACHABLE
    assert (await row_counts(runtime))["event_participants"] == 0


async def test_resubscribe_with_unreachable_scheduler_keeps_the_previous_choice(runtime: Runtime) -> None:
    """When Temporal cannot be reached, a changed subscription goes back to what it was."""
    event = await new_event(runtime)
    await service.subscribe(core=runtime.core, actor=MEMBER, ref=event.id, custom_time_delta_seconds="1h")
    broken = await unreachable_core(runtime)
    attempt = service.subscribe(
        core=broken, actor=MEMBER, ref=event.id, custom_time_delta_seconds="1d", custom_frequency="hourly"
    )
    assert await refused(runtime, attempt, SchedulerUnavailable) == UNREACHABLE
    async with runtime.core.sessions() as session:
        [row] = (await session.execute(select(EventParticipant))).scalars()
    assert (row.custom_time_delta_seconds, row.custom_frequency) == ("3600", "none")
