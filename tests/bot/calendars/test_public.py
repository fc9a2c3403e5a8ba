"""Public calendars: a channel's (or tenant's) public feed, and each event's public .ics link, over real HTTP."""

from __future__ import annotations

import dataclasses
import re
from datetime import UTC, datetime

from sqlalchemy import select

from bot.dispatch import execute_line
from bot.runtime import Runtime
from core import service
from core.destinations import console_url
from core.models import Event
from core.views import Actor
from tests.bot.calendars.helpers import PUBLIC_URL, feed_path, parse
from tests.bot.conftest import serve_api
from tests.conftest import MEMBER, ORGANIZER, STRANGER

GENERAL = console_url("general")
RANDOM = console_url("random")
PUBLIC = re.compile(re.escape(PUBLIC_URL) + r"/calendar/public/[A-Za-z0-9_-]{43}\.ics")
ICS = re.compile(re.escape(PUBLIC_URL) + r"/calendar/event/[0-9]+/[A-Za-z0-9_-]{43}\.ics")
OTHER_MEMBER = Actor(platform="console", tenant="guild-a", user_id="oth", display_name="Otto")
ADMIN = Actor(platform="console", tenant="guild-a", user_id="adm", display_name="Ada", is_admin=True)


async def run(runtime: Runtime, actor: Actor, line: str, channel: str | None = GENERAL) -> str:
    """Type one command as `actor` in `channel`; the reply's text."""
    return (await execute_line(line, core=runtime.core, actor=actor, channel_url=channel)).text


def one(pattern: re.Pattern[str], text: str) -> str:
    """The one URL of this kind that a reply holds."""
    found = pattern.findall(text)
    assert len(found) == 1, text
    return str(found[0])


def summaries(calendar: object) -> list[str]:
    """The summaries of a parsed calendar's events."""
    return sorted(str(e["SUMMARY"]) for e in calendar.walk("VEVENT"))  # type: ignore[attr-defined]


async def test_public_channel_feed_lists_that_channels_events_only(runtime: Runtime) -> None:
    """An organizer's /calendar public lists the channel's upcoming events, none of another channel, no subscribers."""
    await run(runtime, ORGANIZER, '/event create name:"Game night" start:"in 2 days" location:"Hall 2"')
    await run(runtime, ORGANIZER, '/event create name:"Quiz" start:"in 3 days"', channel=RANDOM)
    await run(runtime, MEMBER, '/subscribe "Game night" remind:"1d"')
    url = one(PUBLIC, await run(runtime, ORGANIZER, "/calendar public"))
    assert one(PUBLIC, await run(runtime, ORGANIZER, "/calendar public")) == url
    async with serve_api(runtime.core) as api:
        response = await api.get(feed_path(url))
    calendar = parse(response)
    assert summaries(calendar) == ["Game night"]
    (event,) = calendar.walk("VEVENT")
    assert str(event["LOCATION"]) == "Hall 2"
    assert calendar.walk("VALARM") == [] and b"ATTENDEE" not in response.content
    assert b"Max" not in response.content and b"Olga" not in response.content


async def test_public_tenant_feed_is_for_admins_and_lists_every_channel(runtime: Runtime) -> None:
    """/calendar public all is an admin's; it lists every channel's events of the tenant and no other tenant's."""
    await run(runtime, ORGANIZER, '/event create name:"Game night" start:"in 2 days"')
    await run(runtime, ORGANIZER, '/event create name:"Quiz" start:"in 3 days"', channel=RANDOM)
    await run(runtime, STRANGER, '/event create name:"Elsewhere" start:"in 3 days"')
    refused = await run(runtime, ORGANIZER, "/calendar public all")
    assert "Only an admin" in refused and PUBLIC_URL not in refused
    url = one(PUBLIC, await run(runtime, ADMIN, "/calendar public all"))
    async with serve_api(runtime.core) as api:
        calendar = parse(await api.get(feed_path(url)))
    assert summaries(calendar) == ["Game night", "Quiz"]


async def test_only_organizers_of_the_channel_or_admins_publish_its_feed(runtime: Runtime) -> None:
    """A member who organized nothing in the channel is refused; an admin may."""
    await run(runtime, ORGANIZER, '/event create name:"Game night" start:"in 2 days"')
    refused = await run(runtime, MEMBER, "/calendar public")
    assert "Only an organizer of an event in this channel, or an admin" in refused
    assert PUBLIC_URL not in refused
    assert PUBLIC.search(await run(runtime, ADMIN, "/calendar public"))


async def test_rotated_and_revoked_public_feed_urls_answer_404(runtime: Runtime) -> None:
    """After rotate the old URL is 404 and the new one works; after off the URL is 404."""
    await run(runtime, ORGANIZER, '/event create name:"Game night" start:"in 2 days"')
    old = one(PUBLIC, await run(runtime, ORGANIZER, "/calendar public"))
    rotated = await run(runtime, ORGANIZER, "/calendar public rotate")
    new = one(PUBLIC, rotated)
    assert new != old and "previous one no longer works" in rotated
    async with serve_api(runtime.core) as api:
        assert (await api.get(feed_path(old))).status_code == 404
        assert summaries(parse(await api.get(feed_path(new)))) == ["Game night"]
        assert "is off" in await run(runtime, ORGANIZER, "/calendar public off")
        gone = await api.get(feed_path(new))
        assert gone.status_code == 404 and new.rsplit("/", 1)[1] not in gone.text


async def test_private_feed_never_shows_a_followers_subscriptions_to_others(runtime: Runtime) -> None:
    """A subscription made by following a channel shows in the follower's private feed and in no one else's."""
    await run(runtime, MEMBER, "/follow")
    await run(runtime, ORGANIZER, '/event create name:"Game night" start:"in 2 days"')
    mine = one(
        re.compile(re.escape(PUBLIC_URL) + r"/calendar/[A-Za-z0-9_-]{43}\.ics"), await run(runtime, MEMBER, "/calendar")
    )
    theirs = one(
        re.compile(re.escape(PUBLIC_URL) + r"/calendar/[A-Za-z0-9_-]{43}\.ics"),
        await run(runtime, OTHER_MEMBER, "/calendar"),
    )
    async with serve_api(runtime.core) as api:
        assert summaries(parse(await api.get(feed_path(mine)))) == ["Game night"]
        assert summaries(parse(await api.get(feed_path(theirs)))) == []


async def test_event_ics_link_serves_the_event_and_a_wrong_token_is_404(runtime: Runtime) -> None:
    """/event create and /event info show a public .ics link; it opens without a key; a changed token is 404."""
    created = await run(runtime, ORGANIZER, '/event create name:"Game night" start:"in 2 days"')
    link = one(ICS, created)
    assert one(ICS, await run(runtime, MEMBER, '/event info "Game night"')) == link
    async with runtime.core.sessions() as session:
        start = (await session.execute(select(Event.start_at))).scalar_one()
    token = link.rsplit("/", 1)[1].removesuffix(".ics")
    wrong = link.replace(token, ("A" if token[0] != "A" else "B") + token[1:])
    other_event = link.replace("/event/", "/event/9")
    async with serve_api(runtime.core) as api:
        calendar = parse(await api.get(feed_path(link)))
        (event,) = calendar.walk("VEVENT")
        assert str(event["SUMMARY"]) == "Game night"
        assert event.decoded("DTSTART").astimezone(UTC) == start
        assert (await api.get(feed_path(wrong))).status_code == 404
        assert (await api.get(feed_path(other_event))).status_code == 404


async def test_no_ics_link_without_a_configured_public_url(runtime: Runtime) -> None:
    """When SOONISH_PUBLIC_URL is not set, no reply offers a public .ics link."""
    core = dataclasses.replace(runtime.core, public_links=False)
    created = (
        await execute_line(
            '/event create name:"Game night" start:"in 2 days"', core=core, actor=ORGANIZER, channel_url=GENERAL
        )
    ).text
    info = (await execute_line('/event info "Game night"', core=core, actor=MEMBER)).text
    assert "/calendar/event/" not in created + info and "Add to calendar" not in created + info


async def test_api_event_carries_an_ics_link_that_needs_no_key(runtime: Runtime) -> None:
    """An event's `ics_url` in the HTTP API opens its .ics without an API key."""
    key = await service.create_api_key(sessions=runtime.core.sessions, name="alice")
    async with serve_api(runtime.core) as api:
        created = await api.post(
            "/events",
            json={"name": "Launch", "start_time": "in 3 days"},
            headers={"Authorization": f"Bearer {key}"},
        )
        link = created.json()["ics_url"]
        assert one(ICS, link) == link
        (event,) = parse(await api.get(feed_path(link))).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Launch"
    assert event.decoded("DTSTART").astimezone(UTC) == datetime.fromisoformat(created.json()["start_time"])
