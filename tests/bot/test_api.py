"""The HTTP API over a real uvicorn server, a fresh database (SQLite and PostgreSQL) and the Temporal dev server."""

from __future__ import annotations

import dataclasses
import logging
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.runtime import Runtime
from core import service
from core.destinations import Sender
from core.service import EventDraft
from tests.bot.conftest import serve_api
from tests.bot.logs import add_deliveries
from tests.conftest import STRANGER
from tests.sinks import HttpSink

SECRET_URL = "json://user:s3cretpass@93.184.216.34/hook?token=abcdef123"
SECRETS = ("s3cretpass", "abcdef123")

Headers = dict[str, str]


async def api_key(runtime: Runtime, name: str) -> Headers:
    """Headers that authenticate as the API user `name`."""
    key = await service.create_api_key(sessions=runtime.core.sessions, name=name)
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
async def alice(runtime: Runtime) -> Headers:
    """An API user who organizes events."""
    return await api_key(runtime, "alice")


@pytest.fixture
async def bob(runtime: Runtime) -> Headers:
    """Another API user of the same (`api`) tenant."""
    return await api_key(runtime, "bob")


async def create(api: httpx.AsyncClient, headers: Headers, **fields: Any) -> dict[str, Any]:
    """Create an event (starting in 3 days unless told otherwise) and return its JSON."""
    body = {"name": "Launch party", "start_time": "in 3 days", **fields}
    response = await api.post("/events", json=body, headers=headers)
    assert response.status_code == 201, response.text
    event: dict[str, Any] = response.json()
    return event


async def events(api: httpx.AsyncClient, headers: Headers) -> list[dict[str, Any]]:
    """Every event the caller's tenant has, past ones included."""
    response = await api.get("/events", params={"include_past": True}, headers=headers)
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()
    return found


async def refused(
    api: httpx.AsyncClient, headers: Headers, method: str, path: str, body: Any, status: int = 422
) -> str:
    """Send a request that must fail with `status`; return its error message."""
    response = await api.request(method, path, json=body, headers=headers)
    assert response.status_code == status, response.text
    message: str = response.json()["error"]
    return message


async def test_create_event_says_how_a_typed_start_time_was_read(api: httpx.AsyncClient, alice: Headers) -> None:
    """A start_time typed as words is read in `timezone`, and the answer says how it was read."""
    event = await create(api, alice, start_time="saturday at 8", timezone="Asia/Kolkata")
    assert event["start_read_as"].startswith("Read 'saturday at 8' as Sat ")
    assert event["start_read_as"].endswith(
        ", 20:00 Asia/Kolkata: 8 without am/pm read as 20:00 (add am or pm to choose)."
    )
    shown = (await api.get(f"/events/{event['id']}", headers=alice)).json()
    assert shown["start_read_as"] is None


async def test_create_event_answers_201_with_id_and_masked_channel(api: httpx.AsyncClient, alice: Headers) -> None:
    """Creating an event answers 201 with its id, and the channel URL only masked."""
    response = await api.post(
        "/events",
        json={"name": "Launch party", "start_time": "in 3 days", "channel_url": SECRET_URL, "location": "Hall 2"},
        headers=alice,
    )
    assert response.status_code == 201, response.text
    event = response.json()
    assert isinstance(event["id"], int)
    assert event["status"] == "scheduled"
    assert event["organizer"] == "alice"
    assert event["location"] == "Hall 2"
    assert event["default_time_delta_seconds"] == [3600]
    assert event["channel"] and event["channel"].startswith("json://")
    assert not any(secret in response.text for secret in SECRETS)
    shown = await api.get(f"/events/{event['id']}", headers=alice)
    assert shown.json() == {**event, "start_read_as": None}  # how the start was read belongs to the create only
    assert [e["id"] for e in await events(api, alice)] == [event["id"]]


async def test_event_can_be_shown_by_code(api: httpx.AsyncClient, alice: Headers) -> None:
    """An event is found by its public code as well as by its id."""
    event = await create(api, alice)
    response = await api.get(f"/events/{event['code']}", headers=alice)
    assert response.status_code == 200
    assert response.json()["id"] == event["id"]


async def test_missing_key_is_401(api: httpx.AsyncClient, alice: Headers) -> None:
    """Without an API key the API answers 401 with a Bearer challenge, and nothing is created."""
    response = await api.post("/events", json={"name": "Launch party", "start_time": "in 3 days"})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "Authorization: Bearer" in response.json()["error"]
    assert await events(api, alice) == []


async def test_invalid_key_is_401(api: httpx.AsyncClient, alice: Headers) -> None:
    """A key that was never issued answers 401 and creates nothing."""
    for key in ("snk_not-a-real-key", "nonsense"):
        response = await api.post(
            "/events",
            json={"name": "Launch party", "start_time": "in 3 days"},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json() == {"error": "Invalid API key."}
    assert await events(api, alice) == []


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"start_time": "when pigs fly"}, "Could not understand the time 'when pigs fly'"),
        ({"start_time": "2001-01-01 10:00"}, "The start time Mon 01 Jan 2001, 10:00 UTC is in the past."),
        ({"end_time": "in 2 days"}, "The end time is before the start time."),
        ({"timezone": "Mars/Olympus_Mons"}, "Unknown time zone 'Mars/Olympus_Mons'"),
        ({"name": "x" * 150}, "The event name is 150 characters long; the limit is 100."),
        ({"default_time_delta_seconds": "soonish"}, "'soonish' is not a reminder offset"),
    ],
    ids=["unparseable-start", "past-start", "end-before-start", "unknown-timezone", "long-name", "bad-offsets"],
)
async def test_bad_event_input_is_422_and_creates_nothing(
    api: httpx.AsyncClient, alice: Headers, fields: dict[str, Any], expected: str
) -> None:
    """Each kind of bad event input gets its own specific 422 message and creates nothing."""
    body = {"name": "Launch party", "start_time": "in 3 days", **fields}
    assert expected in await refused(api, alice, "POST", "/events", body)
    assert await events(api, alice) == []


async def test_guarded_channel_urls_are_422_and_never_echoed(api: httpx.AsyncClient, alice: Headers) -> None:
    """A channel URL pointing inside the network, or asking for redirects or files, is refused without echo."""
    for url in (
        "json://127.0.0.1/x?token=tok3n-127",
        "json://169.254.169.254/?token=tok3n-meta",
        "json://localhost/?token=tok3n-local",
        "json://example.com/?redirect=yes&token=tok3n-redirect",
        "file:///etc/passwd",
    ):
        response = await api.post(
            "/events", json={"name": "Launch party", "start_time": "in 3 days", "channel_url": url}, headers=alice
        )
        assert response.status_code == 422, url
        assert response.json()["error"]
        assert "tok3n" not in response.text
        assert "/etc/passwd" not in response.text
    assert await events(api, alice) == []


async def test_schema_errors_name_each_field_without_echoing_values(api: httpx.AsyncClient, alice: Headers) -> None:
    """Malformed JSON fields get one 422 line naming each field, never the submitted URL."""
    body = {"name": 5, "start_time": "in 3 days", "channel_url": ["json://u:s3cretpass@x/"], "colour": "red"}
    message = await refused(api, alice, "POST", "/events", body)
    assert "name: Input should be a valid string" in message
    assert "channel_url: Input should be a valid string" in message
    assert "colour: unknown field" in message
    assert "s3cretpass" not in message
    assert await refused(api, alice, "POST", "/events", {"name": "x"}) == "start_time: this field is required"
    response = await api.post("/events", content=b"{not json", headers={**alice, "Content-Type": "application/json"})
    assert response.status_code == 422
    assert response.json() == {"error": "body: not valid JSON"}
    assert await events(api, alice) == []


async def test_update_changes_the_event(api: httpx.AsyncClient, alice: Headers) -> None:
    """The organizer's update answers with the changed event, and only the given fields change."""
    event = await create(api, alice, location="Hall 2")
    response = await api.post(
        f"/events/{event['id']}/update",
        json={"name": "Launch party (moved)", "start_time": "in 4 days", "default_time_delta_seconds": [86400, 3600]},
        headers=alice,
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["name"] == "Launch party (moved)"
    assert changed["location"] == "Hall 2"
    assert changed["default_time_delta_seconds"] == [86400, 3600]
    moved = datetime.fromisoformat(changed["start_time"]) - datetime.fromisoformat(event["start_time"])
    assert abs(moved - timedelta(days=1)) < timedelta(minutes=1)


async def test_update_by_another_user_is_403(api: httpx.AsyncClient, alice: Headers, bob: Headers) -> None:
    """Another API user may see the event but not change it, and the event stays as it was."""
    event = await create(api, alice)
    message = await refused(api, bob, "POST", f"/events/{event['id']}/update", {"name": "Mine now"}, status=403)
    assert message == "Only the event's organizer can change it."
    assert await refused(api, bob, "POST", f"/events/{event['id']}/cancel", None, status=403)
    assert (await api.get(f"/events/{event['id']}", headers=alice)).json() == {**event, "start_read_as": None}


async def test_update_with_channel_url_is_422(api: httpx.AsyncClient, alice: Headers) -> None:
    """The channel cannot be changed by an update: the field is refused, and the event stays as it was."""
    event = await create(api, alice)
    body = {"name": "Renamed", "channel_url": SECRET_URL}
    assert await refused(api, alice, "POST", f"/events/{event['id']}/update", body) == "channel_url: unknown field"
    assert (await api.get(f"/events/{event['id']}", headers=alice)).json() == {**event, "start_read_as": None}


async def test_other_tenants_event_is_404(runtime: Runtime, api: httpx.AsyncClient, alice: Headers) -> None:
    """An event of another tenant does not exist for API users: not shown, changed, cancelled or listed."""
    theirs = await service.create_event(
        core=runtime.core, actor=STRANGER, draft=EventDraft(name="Elsewhere", start="in 2 days")
    )
    path = f"/events/{theirs.id}"
    assert await refused(api, alice, "GET", path, None, status=404) == f"No event '{theirs.id}' here."
    assert await refused(api, alice, "POST", f"{path}/update", {"name": "Hijacked"}, status=404)
    assert await refused(api, alice, "POST", f"{path}/cancel", None, status=404)
    assert await refused(api, alice, "POST", f"{path}/subscribe", {}, status=404)
    assert await events(api, alice) == []
    still = await service.show_event(core=runtime.core, actor=STRANGER, ref=theirs.id)
    assert (still.name, still.status) == ("Elsewhere", "scheduled")


async def test_cancel_twice_is_409(api: httpx.AsyncClient, alice: Headers) -> None:
    """Cancelling answers with the cancelled event; cancelling again is a 409 conflict."""
    event = await create(api, alice)
    response = await api.post(f"/events/{event['id']}/cancel", headers=alice)
    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"
    message = await refused(api, alice, "POST", f"/events/{event['id']}/cancel", None, status=409)
    assert message == "This event is already cancelled."
    listed = await events(api, alice)
    assert [e["status"] for e in listed] == ["cancelled"]
    assert (await api.get("/events", headers=alice)).json() == []


async def test_subscribe_without_destination_is_422(api: httpx.AsyncClient, alice: Headers, bob: Headers) -> None:
    """An API user with no integration is told to add one first, and is not subscribed."""
    event = await create(api, alice)
    message = await refused(api, bob, "POST", f"/events/{event['id']}/subscribe", None)
    assert message.startswith("You have no destination for reminders yet")
    assert (await api.get(f"/events/{event['id']}", headers=alice)).json()["subscriber_count"] == 0


async def test_subscribe_with_unknown_tag_is_422(api: httpx.AsyncClient, alice: Headers, bob: Headers) -> None:
    """A tag none of the member's integrations has is refused by name, and nothing is subscribed."""
    event = await create(api, alice)
    added = await api.post("/integrations", json={"url": SECRET_URL, "tags": "email"}, headers=bob)
    assert added.status_code == 201, added.text
    message = await refused(api, bob, "POST", f"/events/{event['id']}/subscribe", {"tags": ["phone"]})
    assert message.startswith("Unknown tag 'phone'. Your tags are: email.")
    assert (await api.get(f"/events/{event['id']}", headers=alice)).json()["subscriber_count"] == 0


async def test_subscribe_answers_201_with_next_reminders(api: httpx.AsyncClient, alice: Headers, bob: Headers) -> None:
    """Subscribing answers 201 with the chosen tags and the exact instants of the next reminders."""
    event = await create(api, alice, start_time="in 3 days")
    await api.post("/integrations", json={"url": SECRET_URL, "tags": ["email"]}, headers=bob)
    response = await api.post(
        f"/events/{event['id']}/subscribe",
        json={"tags": "email", "custom_time_delta_seconds": "1d, 1h", "custom_frequency": "none"},
        headers=bob,
    )
    assert response.status_code == 201, response.text
    subscription = response.json()
    start = datetime.fromisoformat(event["start_time"])
    assert subscription["event_id"] == event["id"]
    assert subscription["tags"] == ["email"]
    assert subscription["custom_time_delta_seconds"] == [86400, 3600]
    reminders = [datetime.fromisoformat(r) for r in subscription["next_reminders"]]
    assert reminders == [start - timedelta(days=1), start - timedelta(hours=1)]
    assert (await api.get(f"/events/{event['id']}", headers=alice)).json()["subscriber_count"] == 1


async def test_subscribe_with_unknown_frequency_is_422(api: httpx.AsyncClient, alice: Headers) -> None:
    """An unknown countdown frequency is named in the 422 with the accepted ones, and nothing is subscribed."""
    event = await create(api, alice)
    await api.post("/integrations", json={"url": SECRET_URL}, headers=alice)
    body = {"custom_frequency": "fortnightly"}
    message = await refused(api, alice, "POST", f"/events/{event['id']}/subscribe", body)
    assert message == "Unknown countdown frequency 'fortnightly'. Use one of: none, hourly, daily, weekly."
    assert (await api.get(f"/events/{event['id']}", headers=alice)).json()["subscriber_count"] == 0


async def test_unsubscribe_removes_the_subscription(api: httpx.AsyncClient, alice: Headers) -> None:
    """Unsubscribing answers with the event's name; a second time is a 404."""
    event = await create(api, alice)
    await api.post("/integrations", json={"url": SECRET_URL}, headers=alice)
    assert (await api.post(f"/events/{event['id']}/subscribe", headers=alice)).status_code == 201
    response = await api.post(f"/events/{event['id']}/unsubscribe", headers=alice)
    assert response.status_code == 200
    assert response.json() == {"event_name": "Launch party", "subscribed": False}
    assert (await api.get(f"/events/{event['id']}", headers=alice)).json()["subscriber_count"] == 0
    message = await refused(api, alice, "POST", f"/events/{event['id']}/unsubscribe", None, status=404)
    assert message == "You are not subscribed to 'Launch party'."


async def test_integrations_add_list_delete_never_show_the_secret(api: httpx.AsyncClient, alice: Headers) -> None:
    """An integration is added (201), listed and deleted with its URL masked in every answer."""
    added = await api.post(
        "/integrations", json={"url": SECRET_URL, "tags": "email, Ops", "label": "hook"}, headers=alice
    )
    listed = await api.get("/integrations", headers=alice)
    duplicate = await api.post("/integrations", json={"url": SECRET_URL}, headers=alice)
    integration = added.json()
    removed = await api.delete(f"/integrations/{integration['id']}", headers=alice)
    after = await api.get("/integrations", headers=alice)
    assert (added.status_code, listed.status_code, removed.status_code) == (201, 200, 200)
    assert integration["tags"] == ["email", "ops"]
    assert integration["url"].startswith("json://")
    assert listed.json() == [integration]
    assert duplicate.status_code == 409
    assert duplicate.json() == {"error": "You already registered this destination as 'hook' (id 1)."}
    assert removed.json() == integration
    assert after.json() == []
    for response in (added, listed, duplicate, removed, after):
        assert not any(secret in response.text for secret in SECRETS)


async def test_guarded_integration_url_is_422(api: httpx.AsyncClient, alice: Headers) -> None:
    """An integration pointing at a private address is refused without echoing its secret, and not stored."""
    message = await refused(api, alice, "POST", "/integrations", {"url": "json://u:s3cretpass@10.0.0.5/hook"})
    assert "private" in message
    assert "s3cretpass" not in message
    assert (await api.get("/integrations", headers=alice)).json() == []


async def test_integration_test_reports_the_outcome(runtime: Runtime, alice: Headers, sink: HttpSink) -> None:
    """Testing an integration says whether the message went out, and records the failure for its owner."""
    local = dataclasses.replace(runtime.core, allow_private_urls=True, sender=Sender(allow_private=True))
    sink.fail_next("/t", 500)
    async with serve_api(local) as api:
        integration = (await api.post("/integrations", json={"url": sink.url("/t")}, headers=alice)).json()
        failed = await api.post(f"/integrations/{integration['id']}/test", headers=alice)
        delivered = await api.post(f"/integrations/{integration['id']}/test", headers=alice)
        missing = await api.post("/integrations/999/test", headers=alice)
    assert failed.status_code == 200
    assert failed.json()["delivered"] is False
    assert failed.json()["integration"]["last_error"] == failed.json()["error"]
    assert delivered.json()["delivered"] is True
    assert [r.body["title"] for r in sink.to("/t")] == ["Soonish test"]
    assert missing.status_code == 404


async def test_deliveries_answers_a_list(api: httpx.AsyncClient, alice: Headers) -> None:
    """An event's delivery log is a JSON list (empty before any reminder is due)."""
    event = await create(api, alice)
    response = await api.get(f"/events/{event['id']}/deliveries", headers=alice)
    assert response.status_code == 200
    assert response.json() == []
    assert await refused(api, alice, "GET", "/events/999/deliveries", None, status=404)
    assert await refused(api, alice, "GET", f"/events/{event['id']}/deliveries?limit=0", None, status=422)


async def test_deliveries_come_in_pages(api: httpx.AsyncClient, alice: Headers, runtime: Runtime) -> None:
    """`limit` and `offset` page through the log; `X-Total-Count` gives its length."""
    event = await create(api, alice)
    destinations = await add_deliveries(runtime.core, event["code"], 7)
    first = await api.get(f"/events/{event['id']}/deliveries?limit=5", headers=alice)
    rest = await api.get(f"/events/{event['id']}/deliveries?limit=5&offset=5", headers=alice)
    assert first.headers["X-Total-Count"] == rest.headers["X-Total-Count"] == "7"
    assert [d["destination"] for d in first.json() + rest.json()] == destinations


async def test_timezone_is_set_and_checked(api: httpx.AsyncClient, alice: Headers) -> None:
    """PUT /me/timezone sets the zone; an unknown zone is a 422 that leaves it as it was."""
    me = (await api.get("/me", headers=alice)).json()
    assert me == {"platform": "api", "tenant": "api", "user_id": "alice", "timezone": "UTC"}
    response = await api.put("/me/timezone", json={"timezone": "europe/berlin"}, headers=alice)
    assert response.status_code == 200
    assert response.json()["timezone"] == "Europe/Berlin"
    message = await refused(api, alice, "PUT", "/me/timezone", {"timezone": "Atlantis/Capital"})
    assert message.startswith("Unknown time zone 'Atlantis/Capital'.")
    assert (await api.get("/me", headers=alice)).json()["timezone"] == "Europe/Berlin"


async def test_huge_body_is_413(api: httpx.AsyncClient, alice: Headers) -> None:
    """A body over 64 KiB is refused with 413 before it is parsed, and nothing is created."""
    body = {"name": "Launch party", "start_time": "in 3 days", "description": "x" * 70_000}
    message = await refused(api, alice, "POST", "/events", body, status=413)
    assert message == "The request body is larger than 64 KiB; send less."
    assert await events(api, alice) == []


async def test_unexpected_error_is_a_friendly_500(
    runtime: Runtime, alice: Headers, caplog: pytest.LogCaptureFixture
) -> None:
    """An unexpected failure answers a short apology and logs its traceback, never the request's secrets."""

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the database is on fire")

    class BrokenSessions:
        __call__ = begin = staticmethod(broken)

    with caplog.at_level(logging.ERROR, logger="bot.api"):
        async with serve_api(dataclasses.replace(runtime.core, sessions=BrokenSessions())) as api:
            response = await api.post(
                "/events",
                json={"name": "Launch party", "start_time": "in 3 days", "channel_url": SECRET_URL},
                headers=alice,
            )
    assert response.status_code == 500
    assert response.json() == {"error": "Something went wrong on our side; nothing was changed."}
    [record] = [r for r in caplog.records if r.name == "bot.api.app"]
    assert record.exc_info is not None
    assert "the database is on fire" in caplog.text
    key = alice["Authorization"].removeprefix("Bearer ")
    assert not any(secret in caplog.text for secret in (*SECRETS, key))


async def test_docs_and_unknown_paths(api: httpx.AsyncClient) -> None:
    """OpenAPI is served at /docs; unknown paths answer the same JSON error shape."""
    assert (await api.get("/docs")).status_code == 200
    spec = (await api.get("/openapi.json")).json()
    assert spec["info"]["title"] == "Soonish"
    assert {"/events", "/events/{event_id}/subscribe", "/events/{event_id}/update"} <= set(spec["paths"])
    missing = await api.get("/nowhere")
    assert missing.status_code == 404
    assert missing.json() == {"error": "Not Found"}
