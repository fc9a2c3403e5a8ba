"""`/calendar` and `/event info` through the shared command path, with feeds fetched over the real HTTP API."""

from __future__ import annotations

import re

from bot.dispatch import execute_line
from bot.runtime import Runtime
from core.views import Actor
from tests.bot.calendars.helpers import PUBLIC_URL, feed_path, instants, parse, triggers
from tests.bot.conftest import serve_api
from tests.conftest import MEMBER, ORGANIZER, STRANGER

URL = re.compile(re.escape(PUBLIC_URL) + r"/calendar/[A-Za-z0-9_-]+\.ics")


async def run(runtime: Runtime, actor: Actor, line: str) -> tuple[str, bool]:
    """Type one command as `actor`; the reply's text and whether it is private."""
    reply = await execute_line(line, core=runtime.core, actor=actor)
    return reply.text, reply.private


def url_in(text: str) -> str:
    """The one feed URL a reply holds."""
    found = URL.findall(text)
    assert len(found) == 1, text
    return str(found[0])


async def test_calendar_replies_privately_with_the_feed_url(runtime: Runtime) -> None:
    """/calendar answers only the asker, with a feed URL that lists their subscriptions and alarms."""
    await run(runtime, ORGANIZER, '/event create name:"Game night" start:"in 2 days"')
    await run(runtime, ORGANIZER, '/event create name:"Quiz" start:"in 3 days"')
    await run(runtime, MEMBER, '/subscribe "Game night" remind:"1d, 1h"')
    text, private = await run(runtime, MEMBER, "/calendar")
    assert private
    assert "keep it private" in text
    async with serve_api(runtime.core) as api:
        calendar = parse(await api.get(feed_path(url_in(text))))
    assert triggers(calendar) == {"Game night": [86400, 3600]}


async def test_calendar_gives_the_same_url_each_time(runtime: Runtime) -> None:
    """Asking /calendar again shows the same URL, so a calendar app keeps working."""
    first, _ = await run(runtime, MEMBER, "/calendar")
    again, _ = await run(runtime, MEMBER, "/calendar")
    assert url_in(first) == url_in(again)


async def test_calendar_rotate_retires_the_old_url(runtime: Runtime) -> None:
    """/calendar rotate answers privately with a new URL; the old one answers 404 and the new one works."""
    await run(runtime, ORGANIZER, '/event create name:"Game night" start:"in 2 days"')
    await run(runtime, MEMBER, '/subscribe "Game night" remind:"1h"')
    old = url_in((await run(runtime, MEMBER, "/calendar"))[0])
    text, private = await run(runtime, MEMBER, "/calendar rotate")
    new = url_in(text)
    assert private and new != old
    assert "previous one no longer works" in text
    async with serve_api(runtime.core) as api:
        assert (await api.get(feed_path(old))).status_code == 404
        assert [name for name, _, _ in instants(parse(await api.get(feed_path(new))))] == ["Game night"]
    assert url_in((await run(runtime, MEMBER, "/calendar"))[0]) == new


async def test_members_feeds_hold_only_their_own_subscriptions(runtime: Runtime) -> None:
    """Two members of one community, and one of another, each find only their own events in their feed."""
    await run(runtime, ORGANIZER, '/event create name:"Game night" start:"in 2 days"')
    await run(runtime, ORGANIZER, '/event create name:"Quiz" start:"in 3 days"')
    await run(runtime, STRANGER, '/event create name:"Elsewhere" start:"in 2 days"')
    await run(runtime, MEMBER, '/subscribe "Game night" remind:"1h"')
    await run(runtime, ORGANIZER, '/subscribe "Quiz" remind:"2h"')
    await run(runtime, STRANGER, '/subscribe "Elsewhere" remind:"3h"')
    seen = {}
    async with serve_api(runtime.core) as api:
        for who in (MEMBER, ORGANIZER, STRANGER):
            seen[who.user_id] = triggers(
                parse(await api.get(feed_path(url_in((await run(runtime, who, "/calendar"))[0]))))
            )
    assert seen == {"mem": {"Game night": [3600]}, "org": {"Quiz": [7200]}, "str": {"Elsewhere": [10800]}}


async def test_calendar_with_another_word_is_refused(runtime: Runtime) -> None:
    """/calendar followed by anything but rotate or public says how to use it, and makes no feed."""
    text, private = await run(runtime, MEMBER, "/calendar share")
    assert private
    assert text.startswith(
        "Use /calendar (your private feed), /calendar rotate, or /calendar public [all] [rotate|off]"
    )
    assert URL.search(text) is None


async def test_event_info_says_how_to_get_the_event_into_a_calendar(runtime: Runtime) -> None:
    """/event info names /calendar and the event's .ics endpoint, and no feed URL."""
    created, _ = await run(runtime, ORGANIZER, '/event create name:"Game night" start:"in 2 days"')
    event_id = re.search(r"\(id (\d+),", created)
    assert event_id is not None, created
    text, private = await run(runtime, MEMBER, '/event info "Game night"')
    assert private
    assert "/calendar" in text and f"GET /events/{event_id[1]}/ics" in text
    assert URL.search(text) is None


async def test_help_lists_the_calendar_command(runtime: Runtime) -> None:
    """/help calendar explains the command, its rotate word and its public feeds."""
    text, _ = await run(runtime, MEMBER, "/help calendar")
    assert text.startswith("/calendar [rotate | public [all] [rotate|off]]")
    assert "rotate" in text.splitlines()[1]
