"""A failed send says what happened, in words its owner can act on, on the webhook and the Apprise paths."""

from __future__ import annotations

import socket

import pytest

from core.destinations import Destination, Outcome, Sender
from core.notices import Message
from core.urlguard import Resolver
from tests.sinks import ConnectionRecorder, HttpSink
from tests.url_corpus import PUBLIC

# json:// goes out from the pooled webhook sender; xml:// through Apprise's own plugin.
SCHEMES = ["json", "xml"]


async def send(url: str, *, allow_private: bool = True, resolve: Resolver | None = None) -> Outcome:
    """One message to `url` from a fresh sender."""
    sender = Sender(allow_private=allow_private, resolve=resolve)
    try:
        return await sender.send(Destination(url, platform="api", tenant="api"), Message("t", ("b",)))
    finally:
        await sender.aclose()


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("scheme", SCHEMES)
async def test_a_refused_connection_says_so_and_may_be_retried(scheme: str) -> None:
    """Nothing listening: 'refused the connection', and not a final failure."""
    outcome = await send(f"{scheme}://127.0.0.1:{closed_port()}/hook")
    assert (outcome.delivered, outcome.final, outcome.error) == (False, False, "the destination refused the connection")


@pytest.mark.parametrize("scheme", SCHEMES)
async def test_an_http_error_status_is_named(scheme: str, sink: HttpSink) -> None:
    """A 503 answer is reported as that status."""
    sink.fail_next("/busy", 503)
    outcome = await send(f"{scheme}://127.0.0.1:{sink.port}/busy")
    assert (outcome.delivered, outcome.error) == (False, "the destination answered HTTP 503")


@pytest.mark.parametrize("scheme", SCHEMES)
async def test_a_destination_that_does_not_answer_times_out(scheme: str) -> None:
    """A server that accepts but never answers within the URL's read timeout is reported as not answering."""
    silent = ConnectionRecorder(hold=5)
    try:
        outcome = await send(f"{scheme}://127.0.0.1:{silent.port}/slow?rto=0.5")
    finally:
        silent.close()
    assert (outcome.delivered, outcome.error) == (False, "the destination did not answer in time")


@pytest.mark.parametrize("scheme", SCHEMES)
async def test_a_name_that_does_not_resolve_is_named_and_may_be_retried(scheme: str) -> None:
    """A host name that stops resolving after its check: 'could not be resolved', retried rather than refused."""
    answers = iter([[PUBLIC]])

    def vanishing(host: str) -> list[str]:
        found = next(answers, None)
        if found is None:
            raise OSError(f"{host} does not resolve")
        return found

    outcome = await send(f"{scheme}://hooks.test/hook", allow_private=False, resolve=vanishing)
    assert not outcome.delivered and not outcome.final
    assert "host name" in str(outcome.error) and "could not be resolved" in str(outcome.error)
