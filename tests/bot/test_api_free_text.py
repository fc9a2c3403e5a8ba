"""The HTTP API with control characters and ids that name nothing: 404 or 422 with a message, never a 500."""

from __future__ import annotations

import httpx
import pytest

from bot.runtime import Runtime
from tests.bot.test_api import Headers, api_key, create

BAD_IDS = ("a%00b", "%1b%5B2J", "x%7F", "%C2%85", "%ff", "99999999999999999999", "-1", "%20")
EVENT_PATHS = (
    ("GET", "/events/{}"),
    ("POST", "/events/{}/update"),
    ("POST", "/events/{}/cancel"),
    ("GET", "/events/{}/deliveries"),
    ("POST", "/events/{}/subscribe"),
    ("POST", "/events/{}/unsubscribe"),
)
INTEGRATION_PATHS = (("DELETE", "/integrations/{}"), ("POST", "/integrations/{}/test"))


@pytest.fixture
async def carol(runtime: Runtime) -> Headers:
    """An API user."""
    return await api_key(runtime, "carol")


@pytest.mark.parametrize(("method", "path"), EVENT_PATHS + INTEGRATION_PATHS)
async def test_ids_that_name_nothing_answer_404(api: httpx.AsyncClient, carol: Headers, method: str, path: str) -> None:
    """Every path id with NUL, ESC, DEL, a C1 control, bad UTF-8 or an out-of-range number answers 404."""
    await create(api, carol)
    for bad in BAD_IDS:
        body = {} if method == "POST" and path.endswith("update") else None
        response = await api.request(method, path.format(bad), json=body, headers=carol)
        assert response.status_code == 404, (bad, response.status_code, response.text)
        assert response.json()["error"].startswith(("Give ", "No event", "You have no destination")), response.text


async def test_nul_in_a_description_answers_422_naming_the_field(api: httpx.AsyncClient, carol: Headers) -> None:
    """NUL in the description answers 422 with the field named, and no event is created."""
    response = await api.post(
        "/events", json={"name": "Launch", "start_time": "in 3 days", "description": "a\u0000b"}, headers=carol
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == (
        "The event description cannot contain control characters (found U+0000); only line breaks and tabs are allowed."
    )
    listed = await api.get("/events", params={"include_past": True}, headers=carol)
    assert listed.json() == []


async def test_control_characters_in_every_text_field_answer_422(api: httpx.AsyncClient, carol: Headers) -> None:
    """ESC or NUL in any text of an event, an update, a subscription or a destination answers 422, never 500."""
    event = await create(api, carol)
    cases = [
        ("POST", "/events", {"name": "a\u001bb", "start_time": "in 3 days"}),
        ("POST", "/events", {"name": "Launch", "start_time": "in 3 days\u0000"}),
        ("POST", "/events", {"name": "Launch", "start_time": "in 3 days", "timezone": "UTC\u0000"}),
        ("POST", "/events", {"name": "Launch", "start_time": "in 3 days", "location": "\u0000"}),
        ("POST", "/events", {"name": "Launch", "start_time": "in 3 days", "link": "https://x.example/\u0000"}),
        ("POST", "/events", {"name": "Launch", "start_time": "in 3 days", "default_time_delta_seconds": "1h\u0000"}),
        ("POST", f"/events/{event['id']}/update", {"description": "\u001b[2J"}),
        ("POST", f"/events/{event['id']}/subscribe", {"tags": "dm\u0000"}),
        ("POST", f"/events/{event['id']}/subscribe", {"custom_frequency": "daily\u0000"}),
        ("POST", "/integrations", {"url": "json://example.com/\u0000"}),
        ("POST", "/integrations", {"url": "json://93.184.216.34/hook", "label": "home\u0000"}),
        ("POST", "/integrations", {"url": "json://93.184.216.34/hook", "tags": ["a\u0000"]}),
        ("PUT", "/me/timezone", {"timezone": "Europe/Berlin\u0000"}),
    ]
    for method, path, body in cases:
        response = await api.request(method, path, json=body, headers=carol)
        assert response.status_code == 422, (method, path, body, response.status_code, response.text)
