"""Subscriptions: members choose how (tags) and when (offsets, countdown) to be reminded."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, select

from core.errors import Conflict, InvalidInput, InvalidTime, NotFound
from core.models import EventParticipant, EventStatus
from core.planning import PLAN_LIMIT, already_planned
from core.recurrence import series_reminders
from core.service.context import Core
from core.service.events import find_event, offsets_of, series_of, signal_change
from core.service.limits import Action, Charge, charge, refund, tenant_scope, user_scope
from core.service.occurrences import occurrence_of
from core.service.users import available_tags, choose_tags, user_for, user_row
from core.tags import parse_tags, split_stored
from core.text import check_line
from core.timeparse import Frequency, parse_frequency, parse_offsets
from core.views import Actor, SubscriptionView

NEXT_SHOWN = 5
_PARTICIPANT = select(EventParticipant).where(
    EventParticipant.event_id == bindparam("event_id"), EventParticipant.user_id == bindparam("user_id")
)


async def subscribe(
    *,
    core: Core,
    actor: Actor,
    ref: str | int,
    tags: str | Sequence[str] | None = None,
    custom_time_delta_seconds: str | Sequence[int] | None = None,
    custom_frequency: str | None = None,
    occurrence: str | datetime | None = None,
) -> SubscriptionView:
    """Subscribe the actor to an event, or change their subscription; shows the next reminders it brings.

    For a series the subscription covers every occurrence, or only the one `occurrence` names."""
    now = core.clock()
    if isinstance(custom_time_delta_seconds, str):
        check_line("reminder times", custom_time_delta_seconds)
    requested = parse_tags(tags)
    frequency = parse_frequency(custom_frequency)
    offsets_given = custom_time_delta_seconds is not None and custom_time_delta_seconds != ""
    offsets = parse_offsets(custom_time_delta_seconds) if offsets_given and custom_time_delta_seconds else ()
    async with core.sessions.begin() as session:
        user, new = await user_row(session, actor)
        event = await find_event(session, actor, ref)
        if event.status != EventStatus.SCHEDULED:
            raise Conflict(f"'{event.name}' is {event.status}; subscriptions are closed.")
        series = series_of(event)
        only = None
        if occurrence is not None and occurrence != "":
            if not event.recurrence:
                raise InvalidInput(f"'{event.name}' does not repeat; subscribe without occurrence.", field="occurrence")
            found = occurrence_of(series, occurrence, now=now)
            if found.status == "cancelled" or found.start <= now:
                raise Conflict("That occurrence is cancelled or has started; choose another one.")
            only = found.original
        if not series.upcoming(now, 1):
            raise Conflict(f"'{event.name}' has already started; subscriptions are closed.")
        available = await available_tags(session, user, new=new)
        if not requested:
            # The member's default tags, those they still have; none left (or none set) means every tag they have.
            requested = tuple(t for t in split_stored(user.default_tags) if t in available)
        chosen = choose_tags(requested, available)
        if not offsets_given:
            offsets = offsets_of(user.default_offsets) or offsets_of(event.default_offsets)
        if not offsets and frequency is Frequency.NONE:
            raise InvalidTime("Choose at least one reminder time (for example 1h) or a countdown frequency.")
        participant = (
            None
            if new
            else (await session.execute(_PARTICIPANT, {"event_id": event.id, "user_id": user.id})).scalar_one_or_none()
        )
        previous = None
        if participant is None:
            participant = EventParticipant(event_id=event.id, user_id=user.id, joined_at=now)
            session.add(participant)
        else:
            previous = (
                participant.tags,
                participant.custom_time_delta_seconds,
                participant.custom_frequency,
                participant.occurrence_start,
            )
        participant.tags = ",".join(chosen)
        participant.custom_time_delta_seconds = ",".join(str(o) for o in offsets)
        participant.custom_frequency = frequency.value
        participant.occurrence_start = only
        await session.flush()
        participant_id = participant.id
        upcoming = [
            due
            for due, _ in series_reminders(
                series,
                offsets=offsets,
                frequency=frequency,
                after=max(now, participant.joined_at),
                limit=NEXT_SHOWN,
                only=only,
            )
        ]
        # A subscriber whose instants the event has planned already needs no round trip to its workflow.
        planned = await already_planned(
            session,
            event.id,
            [
                due
                for due, _ in series_reminders(
                    series,
                    offsets=offsets,
                    frequency=frequency,
                    after=max(now, participant.joined_at, event.schedule_changed_at),
                    limit=PLAN_LIMIT,
                    only=only,
                )
            ],
            now,
        )
        view = SubscriptionView(
            event_id=event.id,
            event_code=event.code,
            event_name=event.name,
            tags=chosen,
            custom_time_delta_seconds=offsets,
            custom_frequency=frequency.value,
            next_reminders=tuple(upcoming),
            occurrence=only,
        )
        uses = await charge(
            session,
            action=Action.SUBSCRIBE,
            charges=(
                Charge(
                    user_scope(user),
                    core.quotas.subscribes_per_user,
                    "You have subscribed or changed a subscription {count} time{s} in {window}",
                ),
                Charge(
                    tenant_scope(actor),
                    core.quotas.subscribes_per_tenant,
                    "This community has made {count} subscription{s} or change{s} in {window}",
                ),
            ),
            now=now,
        )

    async def undo() -> None:
        async with core.sessions.begin() as s:
            await refund(s, uses)
            row = await s.get(EventParticipant, participant_id)
            if row is None:
                return
            if previous is None:
                await s.delete(row)
            else:
                row.tags, row.custom_time_delta_seconds, row.custom_frequency, row.occurrence_start = previous

    if not planned:
        await signal_change(core, view.event_id, "subscribed", undo)
    return view


async def unsubscribe(*, core: Core, actor: Actor, ref: str | int) -> str:
    """Remove the actor's subscription; returns the event's name."""
    async with core.sessions.begin() as session:
        user = await user_for(session, actor)
        event = await find_event(session, actor, ref)
        query = select(EventParticipant).where(
            EventParticipant.event_id == event.id, EventParticipant.user_id == user.id
        )
        participant = (await session.execute(query)).scalar_one_or_none()
        if participant is None:
            raise NotFound(f"You are not subscribed to '{event.name}'.")
        saved = (
            participant.tags,
            participant.custom_time_delta_seconds,
            participant.custom_frequency,
            participant.joined_at,
        )
        await session.delete(participant)
        event_id, name, active = event.id, event.name, event.status == EventStatus.SCHEDULED

    async def undo() -> None:
        async with core.sessions.begin() as s:
            tags, deltas, frequency, joined_at = saved
            s.add(
                EventParticipant(
                    event_id=event_id,
                    user_id=user.id,
                    tags=tags,
                    custom_time_delta_seconds=deltas,
                    custom_frequency=frequency,
                    joined_at=joined_at,
                )
            )

    if active:
        await signal_change(core, event_id, "unsubscribed", undo)
    return name
