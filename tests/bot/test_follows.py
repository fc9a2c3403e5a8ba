"""Per-member defaults (/settings) and channel follows, through the shared command path on a real database."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.dispatch import execute_line
from bot.runtime import Runtime
from core.destinations import console_url
from core.models import Event, EventParticipant, PlannedReminder, User
from core.views import Actor
from tests.conftest import MEMBER, ORGANIZER
from tests.core.helpers import SECRET_URL, signals

GENERAL = console_url("general")
OTHER = console_url("random")
OTHER_MEMBER = Actor(platform="console", tenant="guild-a", user_id="oth", display_name="Otto")


async def run(runtime: Runtime, actor: Actor, line: str, channel: str | None = GENERAL) -> str:
    """Type one command as `actor` in `channel`; the reply's text."""
    return (await execute_line(line, core=runtime.core, actor=actor, channel_url=channel)).text


async def participant(runtime: Runtime, actor: Actor, event_code: str) -> EventParticipant | None:
    """The actor's subscription row to the event with this code, if any."""
    query = (
        select(EventParticipant)
        .join(User, User.id == EventParticipant.user_id)
        .join(Event, Event.id == EventParticipant.event_id)
        .where(User.platform_user_id == actor.user_id, User.tenant == actor.tenant, Event.code == event_code)
    )
    async with runtime.core.sessions() as session:
        return (await session.execute(query)).scalar_one_or_none()


async def start_of(runtime: Runtime, event_id: int) -> datetime:
    """An event's start instant."""
    async with runtime.core.sessions() as session:
        event = await session.get(Event, event_id)
        assert event is not None
        return event.start_at


def code_in(reply: str) -> str:
    """The event code a /event create reply shows."""
    return reply.split("[", 1)[1].split("]", 1)[0]


async def test_settings_show_set_and_clear(runtime: Runtime) -> None:
    """/settings alone shows the defaults; remind: and tags: set them; none clears one and leaves the other."""
    assert "reminders the event's own; tags every tag you have" in await run(runtime, MEMBER, "/settings")
    saved = await run(runtime, MEMBER, '/settings remind:"1d, 1h 30m" tags:dm')
    assert "reminders 1d, 1h30m; tags dm" in saved
    assert "reminders 1d, 1h30m; tags dm" in await run(runtime, MEMBER, "/settings")
    cleared = await run(runtime, MEMBER, "/settings remind:none")
    assert "reminders the event's own; tags dm" in cleared


async def test_settings_refuse_bad_values_like_subscribe_and_change_nothing(runtime: Runtime) -> None:
    """An unknown tag or unreadable time gets /subscribe's own message, and the saved defaults stay."""
    await run(runtime, ORGANIZER, '/event create name:"Quiz" start:"in 3 days"')
    await run(runtime, MEMBER, '/settings remind:"2h"')
    by_settings = await run(runtime, MEMBER, "/settings tags:email")
    by_subscribe = await run(runtime, MEMBER, "/subscribe Quiz tags:email")
    assert by_settings == by_subscribe
    assert "Unknown tag 'email'" in by_settings
    bad_time = await run(runtime, MEMBER, '/settings remind:"soon-ish"')
    assert bad_time == await run(runtime, MEMBER, '/subscribe Quiz remind:"soon-ish"')
    assert "Saved" not in bad_time
    assert "reminders 2h; tags every tag you have" in await run(runtime, MEMBER, "/settings")


async def test_subscribe_without_options_uses_the_defaults_and_options_win(runtime: Runtime) -> None:
    """/subscribe EVENT takes the member's default times and tags; given options replace them."""
    await run(runtime, ORGANIZER, '/event create name:"Quiz" start:"in 3 days" remind:"15m"')
    await run(runtime, ORGANIZER, '/event create name:"Gala" start:"in 4 days" remind:"15m"')
    add = await run(runtime, MEMBER, f"/integration add {SECRET_URL} tags:email")
    assert "Destination added" in add, add
    await run(runtime, MEMBER, '/settings remind:"1d, 2h" tags:email')
    plain = await run(runtime, MEMBER, "/subscribe Quiz")
    assert "via email; reminders: 1d, 2h." in plain
    given = await run(runtime, MEMBER, '/subscribe Gala tags:dm remind:"30m"')
    assert "via dm; reminders: 30m." in given


async def test_following_a_channel_subscribes_to_its_next_event_and_plans_it(runtime: Runtime) -> None:
    """A follower of the channel is subscribed with their defaults when an event is created there, and planned."""
    await run(runtime, MEMBER, '/settings remind:"1d"')
    assert "You follow this channel now" in await run(runtime, MEMBER, "/follow")
    assert "You follow this channel already" in await run(runtime, MEMBER, "/follow")
    created = await run(runtime, ORGANIZER, '/event create name:"Game night" start:"in 3 days" remind:"1h"')
    assert "1 subscribed" in created
    code = code_in(created)
    row = await participant(runtime, MEMBER, code)
    assert row is not None
    assert (row.tags, row.custom_time_delta_seconds) == ("dm", "86400")
    # The workflow started with the follower already subscribed: it plans the follower's reminder a day ahead.
    assert await signals(runtime, row.event_id) == 1
    start = await start_of(runtime, row.event_id)
    async with runtime.worker():
        deadline = time.monotonic() + 20
        while True:
            async with runtime.core.sessions() as session:
                planned = set(
                    (
                        await session.execute(
                            select(PlannedReminder.due_at).where(PlannedReminder.event_id == row.event_id)
                        )
                    ).scalars()
                )
            if start - timedelta(days=1) in planned:
                break
            assert time.monotonic() < deadline, planned
            await asyncio.sleep(0.1)
    info = await run(runtime, MEMBER, f"/subscribe {code}")
    assert "reminders: 1d." in info


async def test_follows_are_per_channel_and_unfollow_stops_them(runtime: Runtime) -> None:
    """A follower of another channel is not subscribed; after /unfollow the next event does not subscribe."""
    await run(runtime, MEMBER, "/follow")
    await run(runtime, OTHER_MEMBER, "/follow", channel=OTHER)
    assert "You follow: #general" in await run(runtime, MEMBER, "/follow list")
    first = code_in(await run(runtime, ORGANIZER, '/event create name:"One" start:"in 3 days"'))
    assert await participant(runtime, MEMBER, first) is not None
    assert await participant(runtime, OTHER_MEMBER, first) is None
    assert "You no longer follow this channel." in await run(runtime, MEMBER, "/unfollow")
    assert "You did not follow this channel." in await run(runtime, MEMBER, "/unfollow")
    second = code_in(await run(runtime, ORGANIZER, '/event create name:"Two" start:"in 4 days"'))
    assert await participant(runtime, MEMBER, second) is None
    assert await participant(runtime, MEMBER, first) is not None


async def test_follow_needs_a_channel(runtime: Runtime) -> None:
    """Without a channel to follow, /follow says so and stores nothing."""
    assert "Run this in a channel" in await run(runtime, MEMBER, "/follow", channel=None)
    assert "You follow no channel" in await run(runtime, MEMBER, "/follow list")
