"""Calendars through the real HTTP API (SQLite and PostgreSQL): an event's .ics and each member's private feed."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet

from bot.runtime import Runtime
from core import service
from core.secrets import SecretBox
from core.service import EventDraft
from tests.bot.calendars.helpers import PUBLIC_URL, feed_path, instants, listed, occurrences, parse, triggers
from tests.bot.conftest import serve_api
from tests.conftest import STRANGER
from tests.core.helpers import table_rows

DESTINATION = "json://user:s3cretpass@93.184.216.34/hook?token=abcdef123"

Headers = dict[str, str]


async def member(runtime: Runtime, api: httpx.AsyncClient, name: str) -> Headers:
    """Headers of a new API user who has a destination, so they can subscribe."""
    key = await service.create_api_key(sessions=runtime.core.sessions, name=name)
    headers = {"Authorization": f"Bearer {key}"}
    response = await api.post("/integrations", json={"url": DESTINATION, "tags": ["email"]}, headers=headers)
    assert response.status_code == 201, response.text
    return headers


@pytest.fixture
async def alice(runtime: Runtime, api: httpx.AsyncClient) -> Headers:
    """An API user who organizes events."""
    return await member(runtime, api, "alice")


@pytest.fixture
async def bob(runtime: Runtime, api: httpx.AsyncClient) -> Headers:
    """An API user who subscribes."""
    return await member(runtime, api, "bob")


@pytest.fixture
async def carol(runtime: Runtime, api: httpx.AsyncClient) -> Headers:
    """Another API user who subscribes."""
    return await member(runtime, api, "carol")


async def create(api: httpx.AsyncClient, headers: Headers, **fields: Any) -> dict[str, Any]:
    """Create an event and return its JSON."""
    body = {"name": "Game night", "start_time": "in 3 days", **fields}
    response = await api.post("/events", json=body, headers=headers)
    assert response.status_code == 201, response.text
    event: dict[str, Any] = response.json()
    return event


async def subscribe(api: httpx.AsyncClient, headers: Headers, event: dict[str, Any], remind: str) -> None:
    """Subscribe with reminder offsets."""
    body = {"custom_time_delta_seconds": remind}
    response = await api.post(f"/events/{event['id']}/subscribe", json=body, headers=headers)
    assert response.status_code == 201, response.text


async def feed_url(api: httpx.AsyncClient, headers: Headers) -> str:
    """The caller's private feed URL."""
    response = await api.get("/calendar/feed", headers=headers)
    assert response.status_code == 200, response.text
    url: str = response.json()["url"]
    return url


async def test_event_ics_expands_to_the_instants_the_api_lists(api: httpx.AsyncClient, alice: Headers) -> None:
    """An event's .ics parses and expands to exactly the start and end the API lists, with its details."""
    event = await create(
        api,
        alice,
        start_time="2027-03-27 20:00",
        end_time="2027-03-28 02:00",
        timezone="Europe/Berlin",
        description="Bring snacks;\nand dice, too",
        location="Hall 2, upstairs",
        link="https://example.org/game-night",
    )
    calendar = parse(await api.get(f"/events/{event['id']}/ics", headers=alice))
    assert instants(calendar) == [listed(event)]
    (shown,) = occurrences(calendar)
    assert (str(shown["DESCRIPTION"]), str(shown["LOCATION"]), str(shown["URL"])) == (
        "Bring snacks;\nand dice, too",
        "Hall 2, upstairs",
        "https://example.org/game-night",
    )
    assert str(shown["STATUS"]) == "CONFIRMED"
    assert shown["DTSTART"].params["TZID"] == "Europe/Berlin"
    assert [str(tz["TZID"]) for tz in calendar.walk("VTIMEZONE")] == ["Europe/Berlin"]


async def test_event_ics_across_a_dst_change_keeps_the_listed_instant(api: httpx.AsyncClient, alice: Headers) -> None:
    """An event that starts before a DST change and ends after it expands to the API's UTC instants."""
    event = await create(
        api, alice, start_time="2027-10-30 23:30", end_time="2027-10-31 04:00", timezone="Europe/London"
    )
    calendar = parse(await api.get(f"/events/{event['id']}/ics", headers=alice))
    assert instants(calendar) == [listed(event)]


async def test_event_ics_by_code_is_the_same_event(api: httpx.AsyncClient, alice: Headers) -> None:
    """The .ics is found by the event's code as by its id, with one UID for both."""
    event = await create(api, alice)
    by_id = parse(await api.get(f"/events/{event['id']}/ics", headers=alice))
    by_code = parse(await api.get(f"/events/{event['code']}/ics", headers=alice))
    assert [str(e["UID"]) for e in by_id.walk("VEVENT")] == [str(e["UID"]) for e in by_code.walk("VEVENT")]


async def test_moved_event_keeps_its_uid_and_raises_its_sequence(api: httpx.AsyncClient, alice: Headers) -> None:
    """After the event moves, its .ics has the same UID, a higher SEQUENCE and the new instants."""
    event = await create(api, alice)
    before = parse(await api.get(f"/events/{event['id']}/ics", headers=alice)).walk("VEVENT")[0]
    response = await api.post(f"/events/{event['id']}/update", json={"start_time": "in 4 days"}, headers=alice)
    assert response.status_code == 200, response.text
    calendar = parse(await api.get(f"/events/{event['id']}/ics", headers=alice))
    after = calendar.walk("VEVENT")[0]
    assert str(after["UID"]) == str(before["UID"])
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])
    assert instants(calendar) == [listed(response.json())]


async def test_cancelled_event_shows_as_cancelled(api: httpx.AsyncClient, alice: Headers) -> None:
    """A cancelled event's .ics says STATUS:CANCELLED with a higher SEQUENCE than before."""
    event = await create(api, alice)
    before = parse(await api.get(f"/events/{event['id']}/ics", headers=alice)).walk("VEVENT")[0]
    assert (await api.post(f"/events/{event['id']}/cancel", headers=alice)).status_code == 200
    after = parse(await api.get(f"/events/{event['id']}/ics", headers=alice)).walk("VEVENT")[0]
    assert str(after["STATUS"]) == "CANCELLED"
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])


async def test_other_tenants_event_ics_is_404(runtime: Runtime, api: httpx.AsyncClient, alice: Headers) -> None:
    """The .ics of another tenant's event does not exist for API users, by id or by code."""
    theirs = await service.create_event(
        core=runtime.core, actor=STRANGER, draft=EventDraft(name="Elsewhere", start="in 2 days")
    )
    for ref in (theirs.id, theirs.code):
        response = await api.get(f"/events/{ref}/ics", headers=alice)
        assert response.status_code == 404, response.text
        assert response.json() == {"error": f"No event '{ref}' here."}


async def test_event_ics_needs_an_api_key(api: httpx.AsyncClient, alice: Headers) -> None:
    """Without an API key, an event's .ics answers 401."""
    event = await create(api, alice)
    response = await api.get(f"/events/{event['id']}/ics")
    assert response.status_code == 401, response.text


async def test_feed_shows_subscribed_events_at_the_listed_instants(
    api: httpx.AsyncClient, alice: Headers, bob: Headers
) -> None:
    """A member's feed, fetched with no credentials, expands to the instants the API lists for their events."""
    first = await create(api, alice, name="Game night", start_time="in 3 days", timezone="Europe/Berlin")
    second = await create(api, alice, name="Quiz", start_time="in 5 days", end_time="in 6 days", timezone="Asia/Tokyo")
    await create(api, alice, name="Not for bob", start_time="in 4 days")
    await subscribe(api, bob, first, "1h")
    await subscribe(api, bob, second, "1h")
    response = await api.get(feed_path(await feed_url(api, bob)))
    assert response.headers["cache-control"] == "private, no-cache"
    assert instants(parse(response)) == [listed(first), listed(second)]


async def test_feed_alarms_are_the_members_own_offsets(api: httpx.AsyncClient, alice: Headers, bob: Headers) -> None:
    """Each event in a member's feed has one VALARM per reminder offset of their subscription."""
    event = await create(api, alice, default_time_delta_seconds="2h")
    await subscribe(api, bob, event, "1d, 1h30m, 10m")
    calendar = parse(await api.get(feed_path(await feed_url(api, bob))))
    assert triggers(calendar) == {"Game night": [86400, 5400, 600]}
    assert {str(a["ACTION"]) for a in calendar.walk("VALARM")} == {"DISPLAY"}


async def test_feed_alarms_follow_a_changed_subscription(api: httpx.AsyncClient, alice: Headers, bob: Headers) -> None:
    """When a member changes their reminders, the feed's alarms change with them at the same URL."""
    event = await create(api, alice)
    await subscribe(api, bob, event, "1d")
    path = feed_path(await feed_url(api, bob))
    await subscribe(api, bob, event, "2h, 5m")
    assert triggers(parse(await api.get(path))) == {"Game night": [7200, 300]}


async def test_feed_never_shows_another_members_subscriptions(
    api: httpx.AsyncClient, alice: Headers, bob: Headers, carol: Headers
) -> None:
    """Two members subscribed to different events (and one shared) each see only theirs, with their own alarms."""
    shared = await create(api, alice, name="Shared", start_time="in 2 days")
    bobs = await create(api, alice, name="Bob's", start_time="in 3 days")
    carols = await create(api, alice, name="Carol's", start_time="in 4 days")
    await subscribe(api, bob, shared, "1h")
    await subscribe(api, bob, bobs, "1d")
    await subscribe(api, carol, shared, "15m")
    await subscribe(api, carol, carols, "2d")
    bob_url, carol_url = await feed_url(api, bob), await feed_url(api, carol)
    assert bob_url != carol_url
    assert triggers(parse(await api.get(feed_path(bob_url)))) == {"Shared": [3600], "Bob's": [86400]}
    assert triggers(parse(await api.get(feed_path(carol_url)))) == {"Shared": [900], "Carol's": [172800]}
    assert triggers(parse(await api.get(feed_path(await feed_url(api, alice))))) == {}


async def test_feed_shows_a_cancelled_event_as_cancelled_without_alarms(
    api: httpx.AsyncClient, alice: Headers, bob: Headers
) -> None:
    """After the organizer cancels, the member's feed keeps the event as STATUS:CANCELLED and drops its alarms."""
    event = await create(api, alice)
    await subscribe(api, bob, event, "1h")
    path = feed_path(await feed_url(api, bob))
    assert (await api.post(f"/events/{event['id']}/cancel", headers=alice)).status_code == 200
    calendar = parse(await api.get(path))
    assert [str(e["STATUS"]) for e in calendar.walk("VEVENT")] == ["CANCELLED"]
    assert calendar.walk("VALARM") == []


async def test_feed_url_stays_the_same_until_rotated(api: httpx.AsyncClient, bob: Headers) -> None:
    """Asking for the feed twice gives the same URL, under the public URL, with a long token."""
    first, again = await feed_url(api, bob), await feed_url(api, bob)
    assert first == again
    token = feed_path(first).removeprefix("/calendar/").removesuffix(".ics")
    assert len(token) >= 40


async def test_rotated_feed_url_answers_404_and_the_new_one_works(
    api: httpx.AsyncClient, alice: Headers, bob: Headers
) -> None:
    """Rotating gives a new URL that works at once; the old one answers 404 from then on."""
    event = await create(api, alice)
    await subscribe(api, bob, event, "1h")
    old = await feed_url(api, bob)
    response = await api.post("/calendar/feed/rotate", headers=bob)
    assert response.status_code == 200, response.text
    new = response.json()["url"]
    assert new != old
    gone = await api.get(feed_path(old))
    assert gone.status_code == 404
    assert "calendar" in gone.json()["error"]
    assert instants(parse(await api.get(feed_path(new)))) == [listed(event)]
    assert await feed_url(api, bob) == new


async def test_feed_endpoints_need_an_api_key(api: httpx.AsyncClient) -> None:
    """Asking for or rotating a feed URL without an API key answers 401."""
    assert (await api.get("/calendar/feed")).status_code == 401
    assert (await api.post("/calendar/feed/rotate")).status_code == 401


@pytest.mark.parametrize(
    "path",
    [
        "/calendar/x.ics",
        "/calendar/" + "A" * 43 + ".ics",
        "/calendar/" + "A" * 42 + ".ics",
        "/calendar/" + "A" * 44 + ".ics",
        "/calendar/" + "A" * 5000 + ".ics",
        "/calendar/" + "A" * 42 + "%00.ics",
        "/calendar/%00" * 3 + ".ics",
        "/calendar/" + "%C3%A9" * 43 + ".ics",
        "/calendar/" + "A" * 40 + "%E2%80%8B.ics",
        "/calendar/" + "A" * 41 + "%2F.ics",
        "/calendar/" + "A" * 42 + "%20.ics",
        "/calendar/" + "A" * 40 + "%F0%9F%93%85.ics",
        "/calendar/%FF%FE.ics",
        "/calendar/..%2F..%2Fevents.ics",
        "/calendar/feed.ics",
        "/calendar/.ics",
    ],
)
async def test_bad_feed_tokens_answer_404(api: httpx.AsyncClient, bob: Headers, path: str) -> None:
    """A made-up, truncated, padded, NUL or non-ASCII token answers 404 with a JSON error, never 500."""
    await feed_url(api, bob)  # a real feed exists, so a miss is not for want of any
    response = await api.get(path)
    assert response.status_code == 404, response.text
    assert "error" in response.json()


async def test_a_tampered_token_answers_404(api: httpx.AsyncClient, bob: Headers) -> None:
    """Changing one character of a real token answers 404."""
    path = feed_path(await feed_url(api, bob))
    i = len("/calendar/")
    tampered = path[:i] + ("B" if path[i] != "B" else "C") + path[i + 1 :]
    assert (await api.get(tampered)).status_code == 404
    assert (await api.get(path)).status_code == 200


async def test_feed_url_uses_the_configured_public_url(api: httpx.AsyncClient, bob: Headers) -> None:
    """Feed URLs start at SOONISH_PUBLIC_URL (its trailing slash dropped), not at the API's own address."""
    url = await feed_url(api, bob)
    assert url.startswith(PUBLIC_URL + "/calendar/") and url.endswith(".ics")
    assert "//calendar" not in url


async def test_database_holds_no_feed_token(runtime: Runtime, api: httpx.AsyncClient, bob: Headers) -> None:
    """No column of any table holds a feed URL's token, before or after rotation: only its hash is kept."""
    tokens = [feed_path(await feed_url(api, bob))]
    tokens.append(feed_path((await api.post("/calendar/feed/rotate", headers=bob)).json()["url"]))
    stored = repr(await table_rows(runtime))
    for path in tokens:
        assert path.removeprefix("/calendar/").removesuffix(".ics") not in stored


async def test_new_secret_key_retires_feed_urls(runtime: Runtime, api: httpx.AsyncClient, bob: Headers) -> None:
    """With a new SOONISH_SECRET_KEY the old feed URL answers 404 and the URL shown now works."""
    old = feed_path(await feed_url(api, bob))
    rekeyed = dataclasses.replace(runtime.core, secrets=SecretBox(Fernet.generate_key()))
    async with serve_api(rekeyed) as other:
        assert (await other.get(old)).status_code == 404
        new = feed_path(await feed_url(other, bob))
        assert new != old
        parse(await other.get(new))


async def test_unsubscribing_takes_the_event_out_of_the_feed(
    api: httpx.AsyncClient, alice: Headers, bob: Headers
) -> None:
    """After a member unsubscribes, the event is no longer in their feed; their other events stay."""
    kept = await create(api, alice, name="Kept", start_time="in 2 days")
    dropped = await create(api, alice, name="Dropped", start_time="in 3 days")
    await subscribe(api, bob, kept, "1h")
    await subscribe(api, bob, dropped, "1h")
    path = feed_path(await feed_url(api, bob))
    assert (await api.post(f"/events/{dropped['id']}/unsubscribe", headers=bob)).status_code == 200
    assert instants(parse(await api.get(path))) == [listed(kept)]


async def test_unexpected_error_on_a_feed_never_logs_its_token(
    runtime: Runtime, api: httpx.AsyncClient, bob: Headers, caplog: pytest.LogCaptureFixture
) -> None:
    """When reading a feed fails unexpectedly, the answer is a 500 apology and the log holds no token."""
    path = feed_path(await feed_url(api, bob))

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the database is on fire")

    class BrokenSessions:
        __call__ = begin = staticmethod(broken)

    with caplog.at_level(logging.DEBUG):
        async with serve_api(dataclasses.replace(runtime.core, sessions=BrokenSessions())) as other:
            response = await other.get(path)
    assert response.status_code == 500
    # Every record but the test client's own (httpx logs the URL it requests).
    server = "\n".join(
        logging.Formatter().format(r) for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))
    )
    assert "the database is on fire" in server
    assert "/calendar/***.ics" in server
    assert path.removeprefix("/calendar/").removesuffix(".ics") not in server
