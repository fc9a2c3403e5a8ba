"""The HTTP API's per-member defaults (/me/settings) and channel follows (/channels/...)."""

from __future__ import annotations

import httpx
import pytest

from bot.runtime import Runtime
from tests.bot.test_api import SECRET_URL, SECRETS, Headers, api_key, create, refused

CHANNEL = "json://user:s3cretpass@93.184.216.34/channel-a?token=abcdef123"
OTHER_CHANNEL = "json://user:s3cretpass@93.184.216.34/channel-b?token=abcdef123"


@pytest.fixture
async def alice(runtime: Runtime) -> Headers:
    """An API user who organizes events."""
    return await api_key(runtime, "alice")


@pytest.fixture
async def bob(runtime: Runtime) -> Headers:
    """A member of the same (`api`) tenant."""
    return await api_key(runtime, "bob")


async def with_email(api: httpx.AsyncClient, headers: Headers) -> None:
    """Give the caller a destination tagged email (API users have no direct messages)."""
    response = await api.post("/integrations", json={"url": SECRET_URL, "tags": "email"}, headers=headers)
    assert response.status_code == 201, response.text


async def test_settings_are_shown_set_and_cleared(api: httpx.AsyncClient, bob: Headers) -> None:
    """GET shows empty defaults; PATCH sets what it is given and leaves the rest; "none" clears."""
    assert (await api.get("/me/settings", headers=bob)).json() == {
        "timezone": "UTC",
        "default_offsets": [],
        "default_tags": [],
    }
    await with_email(api, bob)
    set_both = await api.patch(
        "/me/settings", json={"default_offsets": "1d, 1h", "default_tags": ["email"]}, headers=bob
    )
    assert set_both.status_code == 200, set_both.text
    assert set_both.json()["default_offsets"] == [86400, 3600] and set_both.json()["default_tags"] == ["email"]
    cleared = await api.patch("/me/settings", json={"default_offsets": "none"}, headers=bob)
    assert cleared.json()["default_offsets"] == [] and cleared.json()["default_tags"] == ["email"]
    assert (await api.get("/me/settings", headers=bob)).json() == cleared.json()


async def test_bad_settings_are_refused_with_subscribes_message(
    api: httpx.AsyncClient, alice: Headers, bob: Headers
) -> None:
    """An unknown tag or unreadable time is 422 with the same message as subscribing; nothing changes."""
    event = await create(api, alice)
    await with_email(api, bob)
    await api.patch("/me/settings", json={"default_offsets": [7200]}, headers=bob)
    by_settings = await refused(api, bob, "PATCH", "/me/settings", {"default_tags": ["phone"]})
    by_subscribe = await refused(api, bob, "POST", f"/events/{event['id']}/subscribe", {"tags": ["phone"]})
    assert by_settings == by_subscribe and "Unknown tag 'phone'" in by_settings
    bad_time = await refused(api, bob, "PATCH", "/me/settings", {"default_offsets": "soon-ish"})
    assert bad_time == await refused(
        api, bob, "POST", f"/events/{event['id']}/subscribe", {"custom_time_delta_seconds": "soon-ish"}
    )
    assert (await api.get("/me/settings", headers=bob)).json()["default_offsets"] == [7200]


async def test_subscribe_without_options_uses_the_defaults(
    api: httpx.AsyncClient, alice: Headers, bob: Headers
) -> None:
    """POST /events/{id}/subscribe without a body takes the member's defaults; given fields win."""
    first = await create(api, alice, default_time_delta_seconds=[900])
    second = await create(api, alice, name="Second", default_time_delta_seconds=[900])
    await with_email(api, bob)
    await api.patch("/me/settings", json={"default_offsets": "1d, 2h"}, headers=bob)
    plain = await api.post(f"/events/{first['id']}/subscribe", headers=bob)
    assert plain.status_code == 201, plain.text
    assert plain.json()["custom_time_delta_seconds"] == [86400, 7200]
    given = await api.post(f"/events/{second['id']}/subscribe", json={"custom_time_delta_seconds": "30m"}, headers=bob)
    assert given.json()["custom_time_delta_seconds"] == [1800]


async def test_following_a_channel_url_subscribes_to_events_created_with_it(
    api: httpx.AsyncClient, alice: Headers, bob: Headers
) -> None:
    """A follow of a channel_url subscribes to the next event created with it, not one of another channel."""
    await with_email(api, bob)
    followed = await api.post("/channels/follow", json={"channel_url": CHANNEL}, headers=bob)
    assert followed.status_code == 200, followed.text
    assert followed.json()["changed"] and len(followed.json()["channels"]) == 1
    assert not any(secret in followed.text for secret in SECRETS)
    here = await create(api, alice, channel_url=CHANNEL)
    elsewhere = await create(api, alice, name="Elsewhere", channel_url=OTHER_CHANNEL)
    assert (here["subscriber_count"], elsewhere["subscriber_count"]) == (1, 0)
    unfollowed = await api.post("/channels/unfollow", json={"channel_url": CHANNEL}, headers=bob)
    assert unfollowed.json() == {"channels": [], "changed": True}
    later = await create(api, alice, name="Later", channel_url=CHANNEL)
    assert later["subscriber_count"] == 0
    assert (await api.get("/channels/follows", headers=bob)).json() == {"channels": [], "changed": False}


async def test_events_carry_no_ics_link_without_a_public_url(api: httpx.AsyncClient, alice: Headers) -> None:
    """Without SOONISH_PUBLIC_URL the event's answer has no public .ics link."""
    assert (await create(api, alice))["ics_url"] is None
