"""Recurring events over the HTTP API: the rule, the occurrences, one cancelled or moved, and the calendars."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.runtime import Runtime
from tests.bot.calendars.helpers import feed_path, instants, parse
from tests.bot.calendars.test_api import Headers, create, feed_url, member, subscribe
from tests.core.helpers import table_rows

BERLIN = ZoneInfo("Europe/Berlin")


@pytest.fixture
async def alice(runtime: Runtime, api: httpx.AsyncClient) -> Headers:
    """An API user who organizes events."""
    return await member(runtime, api, "alice")


@pytest.fixture
async def bob(runtime: Runtime, api: httpx.AsyncClient) -> Headers:
    """An API user who subscribes."""
    return await member(runtime, api, "bob")


async def occurrences_of(api: httpx.AsyncClient, headers: Headers, event: dict[str, Any]) -> list[dict[str, Any]]:
    response = await api.get(f"/events/{event['id']}/occurrences", params={"limit": 50}, headers=headers)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


def shown(found: list[dict[str, Any]]) -> list[tuple[str, datetime, datetime]]:
    """(name, start, end) of the listed occurrences a calendar shows (cancelled ones are not)."""
    return [
        ("Game night", datetime.fromisoformat(o["start_time"]), datetime.fromisoformat(o["end_time"]))
        for o in found
        if o["status"] != "cancelled"
    ]


async def test_series_answer_carries_its_rule_and_next_dates_at_one_local_time(
    api: httpx.AsyncClient, alice: Headers
) -> None:
    """A weekly series across the March DST change keeps 20:00 in Berlin; the answer normalizes the rule."""
    event = await create(
        api,
        alice,
        start_time="2027-03-12 20:00",
        end_time="2027-03-12 23:00",
        timezone="Europe/Berlin",
        recurrence="every friday",
        count=6,
    )
    assert event["recurrence"] == "FREQ=WEEKLY;BYDAY=FR;COUNT=6"
    nxt = [datetime.fromisoformat(t) for t in event["next_occurrences"]]
    assert len(nxt) == 5
    assert {t.astimezone(BERLIN).strftime("%a %H:%M") for t in nxt} == {"Fri 20:00"}
    # Berlin is UTC+1 until Sun 28 Mar 2027, then UTC+2: the same wall clock, different UTC hours.
    assert [t.astimezone(UTC).hour for t in nxt] == [19, 19, 19, 18, 18]
    listed = await occurrences_of(api, alice, event)
    assert len(listed) == 6  # count honoured
    assert [o["status"] for o in listed] == ["scheduled"] * 6


async def test_phrase_start_time_is_read_in_the_given_zone(api: httpx.AsyncClient, alice: Headers) -> None:
    """start_time takes the chat phrases, read in `timezone`, and a phrase recurrence moves it to the rule's day."""
    event = await create(api, alice, start_time="2027-03-09 19:30", timezone="America/New_York", recurrence="weekly")
    start = datetime.fromisoformat(event["start_time"]).astimezone(ZoneInfo("America/New_York"))
    assert (start.hour, start.minute) == (19, 30)
    assert event["recurrence"] == "FREQ=WEEKLY"
    friday = await create(api, alice, start_time="2027-03-09 19:30", timezone="Europe/Berlin", recurrence="every fri")
    assert datetime.fromisoformat(friday["start_time"]).astimezone(BERLIN).strftime("%a %d %H:%M") == "Fri 12 19:30"


@pytest.mark.parametrize(
    ("recurrence", "extra", "says"),
    [
        ("every blursday", {}, "'blursday' is not a day of the week"),
        ("FREQ=HOURLY", {}, "at most daily"),
        ("every 2 hours", {}, "at most daily"),
        ("FREQ=DAILY;BYHOUR=9,18", {}, "BYHOUR is not accepted"),
        ("monthly on the 31st", {}, 'use "monthly on the last day"'),
        ("weekly", {"count": 5000}, "from 1 to 1000 occurrences"),
        ("weekly", {"count": 3, "until": "2027-05-01"}, "either an end date (until) or a number"),
    ],
)
async def test_bad_repeat_text_is_refused_with_how_to_write_it(
    runtime: Runtime, api: httpx.AsyncClient, alice: Headers, recurrence: str, extra: dict[str, Any], says: str
) -> None:
    """A repetition Soonish cannot read gets a specific 422 naming the field, and nothing is created."""
    before = await table_rows(runtime)
    body = {"name": "Game night", "start_time": "2027-03-12 20:00", "recurrence": recurrence, **extra}
    response = await api.post("/events", json=body, headers=alice)
    assert response.status_code == 422, response.text
    assert says in response.json()["error"]
    assert await table_rows(runtime) == before


async def test_until_is_honoured(api: httpx.AsyncClient, alice: Headers) -> None:
    """until ends the series on that day, inclusive."""
    event = await create(
        api, alice, start_time="2027-03-12 20:00", timezone="Europe/Berlin", recurrence="weekly", until="2027-04-02"
    )
    listed = await occurrences_of(api, alice, event)
    assert [datetime.fromisoformat(o["start_time"]).astimezone(BERLIN).day for o in listed] == [12, 19, 26, 2]


async def test_cancelled_and_moved_occurrences_in_the_ics_and_the_feed_match_the_listed_instants(
    api: httpx.AsyncClient, alice: Headers, bob: Headers
) -> None:
    """One cancelled occurrence is an EXDATE, one moved is an override; both calendars expand to the API's list."""
    event = await create(
        api,
        alice,
        start_time="2027-03-12 20:00",
        end_time="2027-03-12 23:00",
        timezone="Europe/Berlin",
        recurrence="FREQ=WEEKLY;BYDAY=FR",
        count=8,
    )
    await subscribe(api, bob, event, "1h")
    listed = await occurrences_of(api, alice, event)
    third, fifth = listed[2]["original_start_time"], listed[4]["original_start_time"]

    refused = await api.post(f"/events/{event['id']}/occurrences/{third}/cancel", headers=bob)
    assert refused.status_code == 403, refused.text
    cancelled = await api.post(f"/events/{event['id']}/occurrences/{third}/cancel", headers=alice)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    moved = await api.post(
        f"/events/{event['id']}/occurrences/{fifth}/move", json={"start_time": "2027-04-10 18:00"}, headers=alice
    )
    assert moved.status_code == 200, moved.text

    listed = await occurrences_of(api, alice, event)
    assert [o["status"] for o in listed] == ["scheduled"] * 2 + ["cancelled", "scheduled", "moved"] + ["scheduled"] * 3
    assert datetime.fromisoformat(listed[4]["start_time"]).astimezone(BERLIN).strftime("%a %d %H:%M") == "Sat 10 18:00"

    ics = parse(await api.get(f"/events/{event['id']}/ics", headers=alice))
    assert instants(ics) == shown(listed)
    (master,) = [e for e in ics.walk("VEVENT") if "RRULE" in e]
    assert master["RRULE"].to_ical().decode() == "FREQ=WEEKLY;COUNT=8;BYDAY=FR"
    exdates = [d.dt.astimezone(UTC) for d in master["EXDATE"].dts]
    assert exdates == [datetime.fromisoformat(third)]

    feed = await api.get(feed_path(await feed_url(api, bob)))
    assert instants(parse(feed)) == shown(listed)


async def test_unknown_or_unreadable_occurrence_start_is_refused(api: httpx.AsyncClient, alice: Headers) -> None:
    """Cancelling an occurrence the series does not have answers 404, an unreadable start 422; both say why."""
    event = await create(api, alice, start_time="2027-03-12 20:00", timezone="Europe/Berlin", recurrence="weekly")
    missing = await api.post(f"/events/{event['id']}/occurrences/2027-03-13T19:00:00Z/cancel", headers=alice)
    assert missing.status_code == 404, missing.text
    assert "no occurrence on" in missing.json()["error"]
    garbled = await api.post(f"/events/{event['id']}/occurrences/whenever/cancel", headers=alice)
    assert garbled.status_code == 422, garbled.text
    assert [o["status"] for o in await occurrences_of(api, alice, event)][:3] == ["scheduled"] * 3


async def test_series_change_from_an_occurrence_moves_the_later_ones_only(
    api: httpx.AsyncClient, alice: Headers, bob: Headers
) -> None:
    """Changing the series from its fourth occurrence on leaves the first three and moves the rest an hour."""
    event = await create(
        api, alice, start_time="2027-03-12 20:00", timezone="Europe/Berlin", recurrence="every friday", count=6
    )
    await subscribe(api, bob, event, "1h")
    before = await occurrences_of(api, alice, event)
    fourth = before[3]["original_start_time"]
    response = await api.post(
        f"/events/{event['id']}/update",
        json={"from_occurrence": fourth, "start_time": "2027-04-02 21:00"},
        headers=alice,
    )
    assert response.status_code == 200, response.text
    new = response.json()
    assert new["id"] != event["id"]
    assert new["recurrence"] == "FREQ=WEEKLY;BYDAY=FR;COUNT=3"
    assert new["subscriber_count"] == 1
    old = await occurrences_of(api, alice, event)
    assert [o["start_time"] for o in old] == [o["start_time"] for o in before[:3]]
    later = await occurrences_of(api, alice, new)
    assert [datetime.fromisoformat(o["start_time"]).astimezone(BERLIN).strftime("%d %H:%M") for o in later] == [
        "02 21:00",
        "09 21:00",
        "16 21:00",
    ]
