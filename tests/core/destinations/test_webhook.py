"""JSON webhooks from the pooled sender carry exactly what Apprise's own JSON plugin would post."""

from __future__ import annotations

from datetime import UTC, datetime

import apprise

from core import notices
from core.destinations import Destination, Sender
from core.notices import Message
from core.urlguard import apprise_asset
from tests.sinks import HttpSink


async def test_a_json_webhook_is_the_same_request_apprise_would_make(sink: HttpSink) -> None:
    """Body, path, query, custom headers, payload remapping and basic auth match Apprise's JSON plugin."""
    suffix = "?-team=ops&+X-Trace=abc&:type=&:title=subject&:extra=1"
    ours = f"json://user:pw@127.0.0.1:{sink.port}/ours{suffix}"
    theirs = f"json://user:pw@127.0.0.1:{sink.port}/theirs{suffix}"
    sender = Sender(allow_private=True)
    try:
        outcome = await sender.send(
            Destination(ours, platform="api", tenant="api"), Message("Reminder: Quiz", ("Starts in 1 hour.",))
        )
    finally:
        await sender.aclose()
    reference = apprise.Apprise(asset=apprise_asset())
    reference.add(theirs)
    assert outcome.delivered and reference.notify(title="Reminder: Quiz", body="Starts in 1 hour.")
    (got,) = sink.to("/ours?team=ops")
    (want,) = sink.to("/theirs?team=ops")
    assert (
        got.body
        == want.body
        == {
            "version": "1.0",
            "subject": "Reminder: Quiz",
            "message": "Starts in 1 hour.",
            "attachments": [],
            "extra": "1",
        }
    )
    for header in ("User-Agent", "Content-Type", "X-Trace", "Authorization"):
        assert got.headers[header] == want.headers[header], header


async def test_a_cookie_one_members_webhook_set_is_never_sent_to_another(sink: HttpSink) -> None:
    """Webhooks share one connection pool but no cookies: what a service set for one member's hook is not sent
    with the next message, to that member or to another on the same host (Apprise keeps no cookies either)."""
    sink.cookie = "session=alice-private; Path=/"
    sender = Sender(allow_private=True, resolve=lambda host: ["127.0.0.1"])
    try:
        for path in ("/alice", "/alice", "/bob"):
            destination = Destination(f"json://hooks.example:{sink.port}{path}", platform="api", tenant="api")
            assert (await sender.send(destination, Message("t", ("b",)))).delivered
    finally:
        await sender.aclose()
    received = sink.to("/alice") + sink.to("/bob")
    assert len(received) == 3
    assert [r.headers.get("Cookie") for r in received] == [None, None, None]


async def test_preparing_sends_nothing_and_leaves_refusals_to_the_send(sink: HttpSink) -> None:
    """Preparing checks URLs ahead without sending; the send then delivers, and a bad URL reports its reason."""
    good = Destination(f"json://127.0.0.1:{sink.port}/p", platform="api", tenant="api")
    bad = Destination(f"json://127.0.0.1:{sink.port}/p?redirect=yes", platform="api", tenant="api")
    sender = Sender(allow_private=True)
    try:
        await sender.prepare([good, bad])
        before = dict(sink.attempts)
        sent = await sender.send(good, Message("t", ("b",)))
        refused = await sender.send(bad, Message("t", ("b",)))
    finally:
        await sender.aclose()
    assert before == {}
    assert sent.delivered and len(sink.to("/p")) == 1
    assert refused.final and "redirect" in str(refused.error)


async def test_a_webhook_reminder_shows_the_start_in_the_event_zone_and_the_recipients(sink: HttpSink) -> None:
    """Plain-text destinations get the event's local time and, when it differs, the recipient's own."""
    start = datetime(2026, 12, 3, 19, 0, tzinfo=UTC)
    message = notices.reminder(
        name="Quiz", start=start, tz="Europe/Berlin", due=start, location="", link="", late=False
    )
    here = Destination(f"json://127.0.0.1:{sink.port}/ny", platform="api", tenant="api", tz="America/New_York")
    sender = Sender(allow_private=True)
    try:
        assert (await sender.send(here, message)).delivered
    finally:
        await sender.aclose()
    assert sink.to("/ny")[0].body["message"] == (
        "Quiz starts in a moment: Thu 03 Dec 2026, 20:00 (Europe/Berlin; 14:00 America/New_York for you)."
    )
