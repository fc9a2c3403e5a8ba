"""Quotas on event creates, subscribes and test sends, counted in the database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot.runtime import Runtime
from core import service
from core.db import create_engine, session_factory
from core.destinations import Sender
from core.errors import RateLimited
from core.models import Event, QuotaUse
from core.quotas import OFF, UNLIMITED, Quota
from core.service import Core, EventDraft
from core.views import Actor
from tests.conftest import MEMBER, ORGANIZER, STRANGER, SkewClock
from tests.core.helpers import refused
from tests.sinks import HttpSink

HOUR = 3600
NEIGHBOUR = Actor(platform="console", tenant="guild-a", user_id="nei", display_name="Nia")


def limited(runtime: Runtime, clock: SkewClock, **quotas: Quota) -> Core:
    """The test's core with only the given quotas on, its clock under the test's control, private URLs allowed."""
    return dataclasses.replace(
        runtime.core,
        clock=clock,
        quotas=dataclasses.replace(UNLIMITED, **quotas),
        allow_private_urls=True,
        sender=Sender(allow_private=True),
    )


def draft(name: str = "Launch party") -> EventDraft:
    """An event three days ahead."""
    return EventDraft(name=name, start="in 3 days")


async def test_event_creates_per_user_are_limited_then_allowed_again(runtime: Runtime) -> None:
    """The third event within the hour is refused with when to retry, creates nothing, and is allowed an hour on."""
    clock = SkewClock()
    core = limited(runtime, clock, event_creates_per_user=Quota(2, HOUR))
    for name in ("One", "Two"):
        await service.create_event(core=core, actor=ORGANIZER, draft=draft(name))
    attempt = service.create_event(core=core, actor=ORGANIZER, draft=draft("Three"))
    message = await refused(runtime, attempt, RateLimited)
    assert message == "You have created 2 events in the last hour, the most allowed. Try again in 60 minutes."
    await service.create_event(core=core, actor=MEMBER, draft=draft("Someone else's"))
    clock.offset += timedelta(seconds=HOUR + 1)
    assert (await service.create_event(core=core, actor=ORGANIZER, draft=draft("Three"))).name == "Three"


async def test_retry_time_counts_from_the_oldest_use_in_the_window(runtime: Runtime) -> None:
    """With two creates an hour, uses at 0 and 30 minutes make a third wait until 60 minutes, and a fourth until 90."""
    clock = SkewClock()
    core = limited(runtime, clock, event_creates_per_user=Quota(2, HOUR))
    await service.create_event(core=core, actor=ORGANIZER, draft=draft("At 0"))
    clock.offset += timedelta(minutes=30)
    await service.create_event(core=core, actor=ORGANIZER, draft=draft("At 30"))
    clock.offset += timedelta(minutes=10)
    with pytest.raises(RateLimited) as caught:
        await service.create_event(core=core, actor=ORGANIZER, draft=draft("At 40"))
    assert caught.value.message.endswith("Try again in 20 minutes.")
    assert 1190 <= caught.value.retry_after <= 1200
    clock.offset += timedelta(minutes=21)
    await service.create_event(core=core, actor=ORGANIZER, draft=draft("At 61"))
    with pytest.raises(RateLimited) as caught:
        await service.create_event(core=core, actor=ORGANIZER, draft=draft("At 61 again"))
    assert caught.value.message.endswith("Try again in 29 minutes.")


async def test_event_creates_per_tenant_are_limited(runtime: Runtime) -> None:
    """Two members of one community share its quota; another community is not affected."""
    clock = SkewClock()
    core = limited(runtime, clock, event_creates_per_tenant=Quota(2, HOUR))
    await service.create_event(core=core, actor=ORGANIZER, draft=draft("One"))
    await service.create_event(core=core, actor=MEMBER, draft=draft("Two"))
    message = await refused(runtime, service.create_event(core=core, actor=NEIGHBOUR, draft=draft()), RateLimited)
    assert message == "This community has created 2 events in the last hour, the most allowed. Try again in 60 minutes."
    await service.create_event(core=core, actor=STRANGER, draft=draft("Elsewhere"))
    clock.offset += timedelta(seconds=HOUR + 1)
    await service.create_event(core=core, actor=NEIGHBOUR, draft=draft())


async def test_subscribes_per_user_count_changes_too_then_are_allowed_again(runtime: Runtime) -> None:
    """Subscribing and changing the subscription count alike; the third in ten minutes is refused, later allowed."""
    clock = SkewClock()
    core = limited(runtime, clock, subscribes_per_user=Quota(2, 600))
    event = await service.create_event(core=core, actor=ORGANIZER, draft=draft())
    await service.subscribe(core=core, actor=MEMBER, ref=event.code)
    await service.subscribe(core=core, actor=MEMBER, ref=event.code, custom_time_delta_seconds="1d")
    attempt = service.subscribe(core=core, actor=MEMBER, ref=event.code, custom_time_delta_seconds="2h")
    message = await refused(runtime, attempt, RateLimited)
    assert message == (
        "You have subscribed or changed a subscription 2 times in the last 10 minutes, the most allowed. "
        "Try again in 10 minutes."
    )
    await service.unsubscribe(core=core, actor=MEMBER, ref=event.code)
    await refused(runtime, service.subscribe(core=core, actor=MEMBER, ref=event.code), RateLimited)
    clock.offset += timedelta(seconds=601)
    view = await service.subscribe(core=core, actor=MEMBER, ref=event.code, custom_time_delta_seconds="2h")
    assert view.custom_time_delta_seconds == (7200,)


async def test_subscribes_per_tenant_are_limited(runtime: Runtime) -> None:
    """Once a community made its subscribes for the hour, a further member is refused; elsewhere is not affected."""
    clock = SkewClock()
    core = limited(runtime, clock, subscribes_per_tenant=Quota(2, HOUR))
    event = await service.create_event(core=core, actor=ORGANIZER, draft=draft())
    for actor in (ORGANIZER, MEMBER):
        await service.subscribe(core=core, actor=actor, ref=event.code)
    message = await refused(runtime, service.subscribe(core=core, actor=NEIGHBOUR, ref=event.code), RateLimited)
    assert message.startswith("This community has made 2 subscriptions or changes in the last hour, the most allowed.")
    elsewhere = await service.create_event(core=core, actor=STRANGER, draft=draft())
    await service.subscribe(core=core, actor=STRANGER, ref=elsewhere.code)
    clock.offset += timedelta(seconds=HOUR + 1)
    await service.subscribe(core=core, actor=NEIGHBOUR, ref=event.code)


async def test_test_sends_per_user_are_limited_and_nothing_is_sent(runtime: Runtime, sink: HttpSink) -> None:
    """The third test send in the hour is refused before anything is sent, and allowed again an hour on."""
    clock = SkewClock()
    core = limited(runtime, clock, test_sends_per_user=Quota(2, HOUR))
    await service.add_integration(core=core, actor=MEMBER, url=sink.url("/a"), label="a")
    await service.add_integration(core=core, actor=MEMBER, url=sink.url("/b"), label="b")
    for ref in ("a", "b"):
        assert (await service.test_integration(core=core, actor=MEMBER, ref=ref)).delivered
    message = await refused(runtime, service.test_integration(core=core, actor=MEMBER, ref="a"), RateLimited)
    assert message == "You have sent 2 test messages in the last hour, the most allowed. Try again in 60 minutes."
    assert len(sink.to("/a")) == 1
    clock.offset += timedelta(seconds=HOUR + 1)
    assert (await service.test_integration(core=core, actor=MEMBER, ref="a")).delivered
    assert len(sink.to("/a")) == 2


async def test_test_sends_per_destination_count_every_owner(runtime: Runtime, sink: HttpSink) -> None:
    """Two members who registered the same destination share its quota; the refused one sends nothing."""
    clock = SkewClock()
    core = limited(runtime, clock, test_sends_per_destination=Quota(2, HOUR))
    for actor in (MEMBER, ORGANIZER):
        await service.add_integration(core=core, actor=actor, url=sink.url("/shared"), label="shared")
    await service.test_integration(core=core, actor=MEMBER, ref="shared")
    await service.test_integration(core=core, actor=ORGANIZER, ref="shared")
    message = await refused(runtime, service.test_integration(core=core, actor=MEMBER, ref="shared"), RateLimited)
    assert message == (
        "This destination has received 2 test messages in the last hour, the most allowed. Try again in 60 minutes."
    )
    assert len(sink.to("/shared")) == 2
    await service.add_integration(core=core, actor=MEMBER, url=sink.url("/other"), label="other")
    assert (await service.test_integration(core=core, actor=MEMBER, ref="other")).delivered
    clock.offset += timedelta(seconds=HOUR + 1)
    assert (await service.test_integration(core=core, actor=MEMBER, ref="shared")).delivered


async def test_test_sends_per_tenant_are_limited(runtime: Runtime, sink: HttpSink) -> None:
    """A community's test sends are counted together, whoever sends them."""
    clock = SkewClock()
    core = limited(runtime, clock, test_sends_per_tenant=Quota(1, HOUR))
    for actor, path in ((MEMBER, "/m"), (ORGANIZER, "/o"), (STRANGER, "/s")):
        await service.add_integration(core=core, actor=actor, url=sink.url(path), label="mine")
    await service.test_integration(core=core, actor=MEMBER, ref="mine")
    message = await refused(runtime, service.test_integration(core=core, actor=ORGANIZER, ref="mine"), RateLimited)
    assert message.startswith("This community has sent 1 test message in the last hour, the most allowed.")
    assert (await service.test_integration(core=core, actor=STRANGER, ref="mine")).delivered
    assert sink.to("/o") == []


async def test_quotas_hold_across_processes_sharing_the_database(runtime: Runtime) -> None:
    """Two cores on their own connection pools (as the api and a bot would be) count against one quota."""
    clock = SkewClock()
    core = limited(runtime, clock, event_creates_per_user=Quota(2, HOUR))
    engine = create_engine(runtime.settings.resolved_database_url)
    try:
        other = dataclasses.replace(core, sessions=session_factory(engine))
        await service.create_event(core=core, actor=ORGANIZER, draft=draft("Here"))
        await service.create_event(core=other, actor=ORGANIZER, draft=draft("There"))
        with pytest.raises(RateLimited):
            await service.create_event(core=core, actor=ORGANIZER, draft=draft("Here again"))
        with pytest.raises(RateLimited):
            await service.create_event(core=other, actor=ORGANIZER, draft=draft("There again"))
    finally:
        await engine.dispose()


async def test_concurrent_creates_never_exceed_the_quota(runtime: Runtime) -> None:
    """Ten creates at once from two connection pools against a quota of three: exactly three events exist."""
    clock = SkewClock()
    core = limited(runtime, clock, event_creates_per_user=Quota(3, HOUR))
    engine = create_engine(runtime.settings.resolved_database_url)
    try:
        other = dataclasses.replace(core, sessions=session_factory(engine))
        attempts = [
            service.create_event(core=core if i % 2 else other, actor=ORGANIZER, draft=draft(f"E{i}"))
            for i in range(10)
        ]
        results = await asyncio.gather(*attempts, return_exceptions=True)
    finally:
        await engine.dispose()
    assert sum(isinstance(r, RateLimited) for r in results) == 7, results
    async with runtime.core.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(Event))).scalar_one() == 3


async def test_uses_that_aged_out_are_forgotten(runtime: Runtime) -> None:
    """The table keeps no more uses per member than the quota allows, however long they keep creating."""
    clock = SkewClock()
    core = limited(runtime, clock, event_creates_per_user=Quota(2, 60), event_creates_per_tenant=OFF)
    for i in range(5):
        await service.create_event(core=core, actor=ORGANIZER, draft=draft(f"E{i}"))
        clock.offset += timedelta(seconds=61)
    async with runtime.core.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(QuotaUse))).scalar_one() == 1
