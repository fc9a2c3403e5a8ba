"""Quotas over the HTTP API: 429 with a Retry-After header and a message that says when to try again."""

from __future__ import annotations

import dataclasses

from bot.runtime import Runtime
from core.quotas import UNLIMITED, Quota
from tests.bot.conftest import serve_api
from tests.bot.test_api import api_key


async def test_quota_reached_answers_429_with_retry_after(runtime: Runtime) -> None:
    """The second event in the hour answers 429, Retry-After in seconds, and the event is not created."""
    core = dataclasses.replace(
        runtime.core, quotas=dataclasses.replace(UNLIMITED, event_creates_per_user=Quota(1, 3600))
    )
    headers = await api_key(runtime, "dora")
    async with serve_api(core) as api:
        body = {"name": "Launch party", "start_time": "in 3 days"}
        assert (await api.post("/events", json=body, headers=headers)).status_code == 201
        response = await api.post("/events", json={**body, "name": "Second"}, headers=headers)
        assert response.status_code == 429, response.text
        assert 3590 <= int(response.headers["Retry-After"]) <= 3600
        assert response.json() == {
            "error": "You have created 1 event in the last hour, the most allowed. Try again in 60 minutes."
        }
        listed = await api.get("/events", headers=headers)
        assert [e["name"] for e in listed.json()] == ["Launch party"]
