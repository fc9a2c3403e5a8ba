"""Logs hold no secret at DEBUG: real sends through Apprise, urllib3 and httpx, and records of every library."""

from __future__ import annotations

import asyncio
import base64
import logging
from collections.abc import Iterator

import apprise
import httpx
import pytest

from core.destinations import Sender, member_destination
from core.logs import RedactingFilter, add_secret, install_record_scrubbing, redact
from core.notices import Message
from core.urlguard import apprise_asset
from tests.sinks import HttpSink

PASSWORD = "pw7Secret42"
PATH_TOKEN = "PathTok9x81"
QUERY_VALUE = "QueryVal55z"
HEADER_VALUE = "HeaderVal31q"
TOPIC = "TopicSecret77"
BOT_TOKEN = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GaBcDe.abcdefghijklmnopqrstuvwxyz0123"
SLACK_TOKEN = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOp"
BASIC = base64.b64encode(f"user:{PASSWORD}".encode()).decode()
SECRETS = (PASSWORD, PATH_TOKEN, QUERY_VALUE, HEADER_VALUE, TOPIC, BOT_TOKEN, SLACK_TOKEN, BASIC)
THIRD_PARTY = (
    "apprise",
    "urllib3",
    "httpx",
    "httpcore",
    "slack_sdk",
    "slack_bolt",
    "discord",
    "aiohttp",
    "temporalio",
    "uvicorn",
)


class Capture(logging.Handler):
    """Collects every record as a formatter would write it, with exception text; knows nothing of secrets."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        self.lines: list[str] = []
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines.append(self.format(record))

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def captured() -> Iterator[Capture]:
    """Every logger at DEBUG into a plain handler, with the process's record scrubbing installed."""
    install_record_scrubbing()
    capture = Capture()
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", *THIRD_PARTY)}
    root.addHandler(capture)
    for name in ("", *THIRD_PARTY):
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield capture
    finally:
        root.removeHandler(capture)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def secret_url(sink: HttpSink) -> str:
    """A json:// URL with a secret in its user info, path, query (sent as a parameter) and a header."""
    return f"json://user:{PASSWORD}@127.0.0.1:{sink.port}/hook/{PATH_TOKEN}?-q={QUERY_VALUE}&+X-Token={HEADER_VALUE}"


def assert_clean(text: str) -> None:
    """None of the secrets, nor a recognisable part of one, is in `text`."""
    for secret in SECRETS:
        assert secret not in text, f"{secret} leaked:\n{text}"


async def test_sends_at_debug_leave_no_secret_in_the_log(captured: Capture, sink: HttpSink) -> None:
    """Delivered and failed sends (json with secrets everywhere, an ntfy topic) log no secret at DEBUG.

    The same json URL is also sent once through Apprise's own plugin, whose HTTP client logs request lines.
    """
    sender = Sender(allow_private=True)
    url = secret_url(sink)
    message = Message("Reminder", ("Soon",))
    assert (await sender.send(member_destination(url, platform="api", tenant="api"), message)).delivered
    sink.fail_next(f"/hook/{PATH_TOKEN}?q={QUERY_VALUE}", 500, 500)
    assert not (await sender.send(member_destination(url, platform="api", tenant="api"), message)).delivered
    through_apprise = apprise.Apprise(asset=apprise_asset())
    through_apprise.add(url)
    assert not await asyncio.to_thread(through_apprise.notify, title="Reminder", body="Soon")
    sink.fail_next("/", 500)
    ntfy = member_destination(f"ntfy://127.0.0.1:{sink.port}/{TOPIC}", platform="api", tenant="api")
    assert not (await sender.send(ntfy, message)).delivered
    await sender.aclose()
    [received] = sink.to(f"/hook/{PATH_TOKEN}?q={QUERY_VALUE}")
    assert received.headers["X-Token"] == HEADER_VALUE  # the secrets really were on the wire
    assert_clean(captured.text)
    names = {record.name for record in captured.records}
    assert "urllib3.connectionpool" in names  # the request lines were logged, masked
    assert '"POST /***/***?q=*** HTTP/1.1" 500' in captured.text
    assert "Apprise ntfy plugin reported a warning (HTTP status 500)" in captured.text


async def test_httpx_requests_with_tokens_leave_no_secret(captured: Capture, sink: HttpSink) -> None:
    """An httpx request with credentials in the URL and a bot token header is logged with host and shape only."""
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"http://user:{PASSWORD}@127.0.0.1:{sink.port}/api/{PATH_TOKEN}?token={QUERY_VALUE}",
            headers={"Authorization": f"Bot {BOT_TOKEN}"},
            json={},
        )
    assert response.status_code == 200
    assert_clean(captured.text)
    assert f"HTTP Request: POST http://***@127.0.0.1:{sink.port}/***/***?token=***" in captured.text


def test_records_of_every_library_are_masked_in_message_args_and_exceptions(captured: Capture) -> None:
    """Tokens and destination URLs given as arguments, in headers or in exception text are masked, for any logger."""
    logging.getLogger("discord.http").debug(
        "PATCH %s with headers %r", "https://discord.com/api/webhooks/1/x", {"Authorization": f"Bot {BOT_TOKEN}"}
    )
    logging.getLogger("slack_sdk.web.base_client").debug("Sending a request with token %s", SLACK_TOKEN)
    logging.getLogger("aiohttp.client").warning("Authorization: Bearer %s", BOT_TOKEN)
    logging.getLogger("temporalio.activity").info("sending to %s", f"ntfy://{TOPIC}")
    logging.getLogger("soonish").debug("GET /hook/%s?k=%s HTTP/1.1", PATH_TOKEN, QUERY_VALUE)
    try:
        raise ConnectionError(f"Max retries exceeded with url: /hook/{PATH_TOKEN}?q={QUERY_VALUE}")
    except ConnectionError:
        logging.getLogger("urllib3.connectionpool").exception("send to %s failed", f"discord://1/{PATH_TOKEN}")
    assert_clean(captured.text)
    assert "Max retries exceeded with url: /***/***?q=***" in captured.text  # the traceback is still there
    assert "send to discord://*** failed" in captured.text
    assert all(record.args == () for record in captured.records)


def test_configured_secrets_are_masked_wherever_they_appear(captured: Capture) -> None:
    """A secret the process was configured with (a signing secret, a database password) never shows."""
    add_secret("plain-signing-secret-123")
    logging.getLogger("slack_bolt").warning("verifying with plain-signing-secret-123 now")
    assert "plain-signing-secret-123" not in captured.text
    assert "verifying with *** now" in captured.text


def test_apprise_chatter_is_dropped_and_its_warnings_withheld(captured: Capture) -> None:
    """The process's handler drops Apprise's DEBUG and INFO records and keeps its warnings without their text."""
    quiet = Capture()
    quiet.addFilter(RedactingFilter())
    logging.getLogger().addHandler(quiet)
    try:
        logging.getLogger("apprise").debug("ntfy Payload: {'topic': '%s'}", TOPIC)
        logging.getLogger("apprise").info("Sent ntfy notification to '%s'.", TOPIC)
        logging.getLogger("apprise").warning(f"Failed to send ntfy notification to topic '{TOPIC}': error=404.")
    finally:
        logging.getLogger().removeHandler(quiet)
    assert len(quiet.records) == 1
    assert quiet.lines == [
        "WARNING apprise: Apprise test_logs plugin reported a warning (HTTP status 404); its text is withheld "
        "because it can quote the destination."
    ]


def test_redact_keeps_what_is_not_secret() -> None:
    """Hosts, ports, file paths in tracebacks and plain words stay readable."""
    for text in (
        "File \"/srv/soonish/core/delivery.py\", line 90: connecting to 127.0.0.1:8443 (host='ntfy.example.org')",
        "Discord bot connected as Soonish in 1 guild(s); Basic authentication is off; a token expired.",
    ):
        assert redact(text) == text


def test_access_log_lines_keep_their_shape_with_the_path_masked(captured: Capture) -> None:
    """An HTTP access line, written by uvicorn's own formatter, shows method and status but no path or query."""
    from uvicorn.logging import AccessFormatter

    access = logging.getLogger("uvicorn.access")  # uvicorn gives it its own handler and stops propagation
    own = Capture()
    own.setFormatter(AccessFormatter('%(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False))
    level = access.level
    access.addHandler(own)
    access.setLevel(logging.INFO)
    try:
        access.info(
            '%s - "%s %s HTTP/%s" %d',
            "127.0.0.1:5000",
            "DELETE",
            f"/integrations/{PATH_TOKEN}?k={QUERY_VALUE}",
            "1.1",
            200,
        )
    finally:
        access.removeHandler(own)
        access.setLevel(level)
    assert own.lines == ['127.0.0.1:5000 - "DELETE /***/***?k=*** HTTP/1.1" 200 OK']
