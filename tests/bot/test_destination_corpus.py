"""The attacker's corpus of destination URLs through the HTTP API and the console: each refused, none reached."""

from __future__ import annotations

import dataclasses
import io
import os
from collections.abc import Iterator

import pytest

from bot.console import run_console
from bot.runtime import Runtime
from core import service
from tests.bot.conftest import serve_api
from tests.sinks import ConnectionRecorder
from tests.url_corpus import corpus, resolver

REASONS = (
    "One destination is one URL",
    "We do not send to",
    "is private, local or otherwise",
    "points to a private",
    "We could not find the host",
    "we never follow redirects",
    "That is not a valid",
    "spaces, control or invisible characters",
)


@pytest.fixture
def recorder() -> Iterator[ConnectionRecorder]:
    """The target every URL of the corpus aims at; it counts every connection made to it."""
    target = ConnectionRecorder()
    yield target
    target.close()


async def test_the_api_refuses_every_corpus_url_as_integration_and_channel(
    runtime: Runtime, recorder: ConnectionRecorder
) -> None:
    """POST /integrations and POST /events answer 422 with a reason for every corpus URL; nothing is stored."""
    key = await service.create_api_key(sessions=runtime.core.sessions, name="mallory")
    headers = {"Authorization": f"Bearer {key}"}
    async with serve_api(dataclasses.replace(runtime.core, resolve=resolver)) as api:
        for _kind, url in corpus(recorder.port):
            added = await api.post("/integrations", json={"url": url, "tags": ["hook"]}, headers=headers)
            assert added.status_code == 422 and added.json()["error"], url
            event = {"name": "Launch party", "start_time": "in 3 days", "channel_url": url}
            created = await api.post("/events", json=event, headers=headers)
            assert created.status_code == 422 and created.json()["error"], url
        assert (await api.get("/integrations", headers=headers)).json() == []
        assert (await api.get("/events", params={"include_past": True}, headers=headers)).json() == []
    assert recorder.connections == 0


async def test_the_console_refuses_every_corpus_url(runtime: Runtime, recorder: ConnectionRecorder) -> None:
    """`/integration add` typed in the console refuses every corpus URL (one line each) and lists none."""
    urls = [url for _kind, url in corpus(recorder.port) if "\n" not in url]
    typed = "".join(f'/integration add "{url}" tags:hook\n' for url in urls) + "/integration list\n"
    out = io.StringIO()
    core = dataclasses.replace(runtime.core, resolve=resolver)
    read_end, write_end = os.pipe()
    os.write(write_end, typed.encode())
    os.close(write_end)
    with os.fdopen(read_end) as stdin:
        await run_console(core, user="mallory", stdin=stdin, out=out)
    replies = out.getvalue().splitlines()[1:]
    assert len(replies) == len(urls) + 1
    assert all(any(reason in reply for reason in REASONS) for reply in replies[:-1]), replies
    assert "no destinations" in replies[-1]
    assert recorder.connections == 0
