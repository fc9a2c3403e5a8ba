"""The attacker's corpus of destination URLs against the service and the sender: refused, and never reached."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator

import pytest

from bot.runtime import Runtime
from core import service
from core.destinations import Sender
from core.errors import InvalidInput
from core.models import Integration
from core.secrets import fingerprint
from core.service import EventDraft
from core.service.users import user_for
from core.urlguard import mask_url
from core.views import Actor
from tests.conftest import MEMBER
from tests.core.helpers import row_counts
from tests.sinks import ConnectionRecorder, HttpSink
from tests.url_corpus import PUBLIC, corpus, resolver

API_USER = Actor(platform="api", tenant="api", user_id="mallory", display_name="mallory")


@pytest.fixture
def recorder() -> Iterator[ConnectionRecorder]:
    """The target every URL of the corpus aims at; it counts every connection made to it."""
    target = ConnectionRecorder()
    yield target
    target.close()


async def test_every_corpus_url_is_refused_as_a_destination_and_nothing_is_stored(
    runtime: Runtime, recorder: ConnectionRecorder
) -> None:
    """Each URL of the corpus is refused with a specific reason, stores nothing and connects nowhere."""
    core = dataclasses.replace(runtime.core, resolve=resolver)
    before = await row_counts(runtime)
    for kind, url in corpus(recorder.port):
        with pytest.raises(InvalidInput) as caught:
            await service.add_integration(core=core, actor=MEMBER, url=url, tags="hook")
        assert caught.value.message.strip(), (kind, url)
        assert "s3cret" not in caught.value.message and "WhSecret" not in caught.value.message
    assert await row_counts(runtime) == before
    assert recorder.connections == 0


async def test_every_corpus_url_is_refused_as_an_event_channel(runtime: Runtime, recorder: ConnectionRecorder) -> None:
    """Each URL of the corpus given as an API event's channel destination is refused; no event is created."""
    core = dataclasses.replace(runtime.core, resolve=resolver)
    before = await row_counts(runtime)
    for _kind, url in corpus(recorder.port):
        draft = EventDraft(name="Launch party", start="in 3 days", channel_url=url)
        with pytest.raises(InvalidInput):
            await service.create_event(core=core, actor=API_USER, draft=draft)
    after = await row_counts(runtime)
    assert after["events"] == before["events"] == 0
    assert recorder.connections == 0


async def test_a_list_url_stored_before_the_guard_knew_is_never_sent_to_its_hidden_part(
    runtime: Runtime, sink: HttpSink, recorder: ConnectionRecorder
) -> None:
    """A list URL already in the database (a deliverable first part, a hidden second) is refused at send time."""
    local = dataclasses.replace(runtime.core, allow_private_urls=True, sender=Sender(allow_private=True))
    console_messages: list[str] = []
    local.sender.console.listen(lambda who, title, body: console_messages.append(who))
    hidden = [
        f"{sink.url('/first')},json://127.0.0.1:{recorder.port}/hidden",
        f"{sink.url('/first')};json://127.0.0.1:{recorder.port}/hidden",
        f"{sink.url('/first')},soonishconsole://channel",
        "soonishconsole://channel",
    ]
    async with local.sessions.begin() as session:
        user = await user_for(session, MEMBER)
        for number, url in enumerate(hidden):
            session.add(
                Integration(
                    user_id=user.id,
                    label=f"old{number}",
                    url_encrypted=local.secrets.encrypt(url),
                    url_fingerprint=fingerprint(url),
                    masked_url=mask_url(url),
                    tags="hook",
                )
            )
    for number in range(len(hidden)):
        result = await service.test_integration(core=local, actor=MEMBER, ref=f"old{number}")
        assert not result.delivered and str(result.error).startswith("refused by the URL guard")
    assert recorder.connections == 0 and console_messages == [] and sink.to("/first") == []


@pytest.mark.parametrize("scheme", ["json", "xml"])
async def test_a_name_that_turns_private_between_check_and_send_is_never_connected_to(
    runtime: Runtime, recorder: ConnectionRecorder, scheme: str
) -> None:
    """DNS rebinding: public when saved and when checked at send, loopback when connecting: no connection."""
    answers = itertools.chain([[PUBLIC], [PUBLIC]], itertools.repeat(["127.0.0.1"]))

    def rebinding(host: str) -> list[str]:
        return next(answers) if host == "localhost" else resolver(host)

    core = dataclasses.replace(runtime.core, resolve=rebinding, sender=Sender(allow_private=False, resolve=rebinding))
    view = await service.add_integration(core=core, actor=MEMBER, url=f"{scheme}://localhost:{recorder.port}/x")
    result = await service.test_integration(core=core, actor=MEMBER, ref=view.id)
    assert not result.delivered
    assert result.error == (
        "refused by the URL guard: the host localhost pointed to a private or non-public address "
        "when the message was sent"
    )
    assert recorder.connections == 0


@pytest.mark.parametrize("scheme", ["json", "xml"])
async def test_a_redirect_answered_at_send_time_is_not_followed(runtime: Runtime, scheme: str) -> None:
    """A destination that answers 302 towards another address is not followed there."""
    target = ConnectionRecorder()
    redirecting = ConnectionRecorder(
        f"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:{target.port}/x\r\nContent-Length: 0\r\n\r\n".encode()
    )
    try:
        local = dataclasses.replace(runtime.core, allow_private_urls=True, sender=Sender(allow_private=True))
        url = f"{scheme}://127.0.0.1:{redirecting.port}/h"
        view = await service.add_integration(core=local, actor=MEMBER, url=url)
        result = await service.test_integration(core=local, actor=MEMBER, ref=view.id)
        assert redirecting.connections == 1 and target.connections == 0
        assert not result.delivered and result.error == "the destination answered HTTP 302"
    finally:
        target.close()
        redirecting.close()
