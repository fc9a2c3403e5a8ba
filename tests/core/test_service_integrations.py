"""A member's own destinations on a real database: guarded, encrypted at rest, shown masked, tested on demand."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.runtime import Runtime
from core import service
from core.destinations import Sender
from core.errors import Conflict, InvalidInput, InvalidURL, NotFound
from core.models import Integration
from tests.conftest import MEMBER, ORGANIZER, STRANGER
from tests.core.helpers import SECRET_URL, SECRETS, refused, row_counts
from tests.sinks import HttpSink

PUBLIC = "93.184.216.34"
ALLOW_HINT = "(Whoever runs this bot can allow private addresses with SOONISH_ALLOW_PRIVATE_URLS=true.)"
NOT_PUBLIC = f"is private, local or otherwise not on the public internet; we only send to public hosts. {ALLOW_HINT}"


async def test_integration_is_stored_encrypted_and_shown_masked(runtime: Runtime) -> None:
    """The URL comes back only masked, and its column holds ciphertext that hides the URL and its secrets."""
    view = await service.add_integration(
        core=runtime.core, actor=MEMBER, url=f"  {SECRET_URL} ", tags="email, #Ops", label="hook"
    )
    assert (view.label, view.tags) == ("hook", ("email", "ops"))
    assert view.url == f"json://***:***@{PUBLIC}/***?token=***"
    assert await service.list_integrations(core=runtime.core, actor=MEMBER) == [view]
    async with runtime.core.sessions() as session:
        [row] = (await session.execute(select(Integration))).scalars()
    stored = (row.url_encrypted, row.url_fingerprint, row.masked_url)
    assert not any(secret in column for secret in (SECRET_URL, *SECRETS) for column in stored)
    assert runtime.core.secrets.decrypt(row.url_encrypted) == SECRET_URL


async def test_sqlite_file_never_holds_the_password(runtime: Runtime) -> None:
    """After an integration is saved, used and listed, no byte sequence of the database file is the password."""
    url = runtime.settings.resolved_database_url
    if not url.startswith("sqlite"):
        pytest.skip("only a SQLite database is a file to read")
    await service.add_integration(core=runtime.core, actor=MEMBER, url=SECRET_URL, tags="email")
    await service.list_integrations(core=runtime.core, actor=MEMBER)
    await runtime.engine.dispose()  # the last connection to close checkpoints the write-ahead log into the file
    path = Path(url.split("///", 1)[1])
    files = [f for f in path.parent.glob(path.name + "*") if f.is_file()]
    assert path in files
    content = b"".join(file.read_bytes() for file in files)
    assert f"json://***:***@{PUBLIC}".encode() in content  # the row is there, masked
    assert not any(secret.encode() in content for secret in SECRETS)


async def test_guarded_urls_are_refused_and_store_nothing(runtime: Runtime) -> None:
    """Loopback, private, link-local and local names, redirects, other schemes and malformed URLs are refused."""
    cases = [
        ("json://127.0.0.1/hook?token=t0k3n", f"The address 127.0.0.1 {NOT_PUBLIC}"),
        ("json://10.0.0.1/hook", f"The address 10.0.0.1 {NOT_PUBLIC}"),
        ("json://169.254.169.254/latest/meta-data", f"The address 169.254.169.254 {NOT_PUBLIC}"),
        ("json://[::1]/hook", f"The address ::1 {NOT_PUBLIC}"),
        (
            "json://localhost/hook",
            "The host localhost points to a private, local or otherwise non-public address; "
            f"we only send to public internet hosts. {ALLOW_HINT}",
        ),
        (
            "jsons://example.com/hook?redirect=yes",
            "That URL asks to follow redirects (redirect=...); we never follow redirects, so remove that parameter.",
        ),
        ("file:///etc/passwd", "We do not send to file:// URLs. Allowed kinds: apprise(s), discord, form(s), "),
        ("not a url", "That URL contains spaces, control or invisible characters; paste it again without them."),
        ("nonsense", "That is not a URL: it should start with a scheme such as jsons:// or ntfys://."),
        ("json://u:s3cretpass@/x", "That URL has no host: something must follow json:// before any / or ?."),
        ("https://example.com/hook", "Plain https:// URLs are not accepted: for a webhook write jsons://"),
    ]
    for url, message in cases:
        attempt = service.add_integration(core=runtime.core, actor=MEMBER, url=url)
        shown = await refused(runtime, attempt, InvalidURL)
        assert shown.startswith(message), url
        assert "t0k3n" not in shown
        assert "s3cretpass" not in shown
    assert (await row_counts(runtime))["integrations"] == 0


async def test_bad_tags_and_labels_are_refused_and_store_nothing(runtime: Runtime) -> None:
    """The reserved 'dm' tag, malformed or too many tags, and oversized or unprintable labels are refused."""
    cases: list[tuple[dict[str, Any], str]] = [
        ({"tags": "email, dm"}, "The tag 'dm' is reserved for direct messages from the bot; choose another tag."),
        (
            {"tags": "e mail!"},
            "'mail!' is not a valid tag: use 1 to 32 letters, digits, '-' or '_', starting with a letter or digit.",
        ),
        ({"tags": [f"t{i}" for i in range(11)]}, "At most 10 tags, please (11 given)."),
        ({"label": "x" * 101}, "A label is 1 to 100 printable characters."),
        ({"label": "my\thook"}, "The label cannot contain line breaks or control characters (found U+0009)."),
    ]
    for fields, message in cases:
        attempt = service.add_integration(core=runtime.core, actor=MEMBER, url=SECRET_URL, **fields)
        assert await refused(runtime, attempt, InvalidInput) == message, fields


async def test_duplicate_integration_is_a_conflict(runtime: Runtime) -> None:
    """The same URL registered twice by one member is refused, naming the existing one."""
    await service.add_integration(core=runtime.core, actor=MEMBER, url=SECRET_URL, label="hook")
    attempt = service.add_integration(core=runtime.core, actor=MEMBER, url=f" {SECRET_URL}", tags="other")
    assert await refused(runtime, attempt, Conflict) == "You already registered this destination as 'hook' (id 1)."


async def test_twenty_first_integration_is_a_conflict(runtime: Runtime) -> None:
    """A member has at most 20 destinations."""
    for number in range(20):
        await service.add_integration(core=runtime.core, actor=MEMBER, url=f"json://{PUBLIC}/hook{number}")
    attempt = service.add_integration(core=runtime.core, actor=MEMBER, url=f"json://{PUBLIC}/hook20")
    assert await refused(runtime, attempt, Conflict) == "You have 20 destinations already; remove one first."


async def test_long_url_is_shown_shortened(runtime: Runtime) -> None:
    """A long URL whose mask would overflow its column is stored, and shown cut short."""
    view = await service.add_integration(core=runtime.core, actor=MEMBER, url=f"json://{PUBLIC}/" + "a/" * 900)
    assert view.url.startswith(f"json://{PUBLIC}/***/***/")
    assert view.url.endswith("…")
    assert len(view.url) == 200
    assert await service.list_integrations(core=runtime.core, actor=MEMBER) == [view]


async def test_remove_integration_by_label_or_id(runtime: Runtime) -> None:
    """An integration is removed by its label or its id; removing it again is NotFound."""
    first = await service.add_integration(core=runtime.core, actor=MEMBER, url=SECRET_URL, label="hook")
    second = await service.add_integration(core=runtime.core, actor=MEMBER, url=f"json://{PUBLIC}/other")
    assert await service.remove_integration(core=runtime.core, actor=MEMBER, ref="hook") == first
    assert await service.remove_integration(core=runtime.core, actor=MEMBER, ref=str(second.id)) == second
    assert await service.list_integrations(core=runtime.core, actor=MEMBER) == []
    attempt = service.remove_integration(core=runtime.core, actor=MEMBER, ref="hook")
    assert await refused(runtime, attempt, NotFound) == "You have no destination 'hook'. /integration list shows yours."


async def test_integrations_are_private_to_their_owner(runtime: Runtime) -> None:
    """Another member, of this tenant or another, cannot list, test or remove someone's integration."""
    view = await service.add_integration(core=runtime.core, actor=ORGANIZER, url=SECRET_URL)
    for actor in (MEMBER, STRANGER):
        assert await service.list_integrations(core=runtime.core, actor=actor) == []
        for attempt in (
            service.remove_integration(core=runtime.core, actor=actor, ref=view.id),
            service.test_integration(core=runtime.core, actor=actor, ref=view.id),
        ):
            assert (
                await refused(runtime, attempt, NotFound)
                == "You have no destination '1'. /integration list shows yours."
            )
    assert await service.list_integrations(core=runtime.core, actor=ORGANIZER) == [view]


async def test_integration_test_reports_and_records_the_outcome(runtime: Runtime, sink: HttpSink) -> None:
    """A test message that fails is reported and recorded; one that is delivered clears the error."""
    local = dataclasses.replace(runtime.core, allow_private_urls=True, sender=Sender(allow_private=True))
    view = await service.add_integration(core=local, actor=MEMBER, url=sink.url("/t"), label="sink")
    sink.fail_next("/t", 500)
    failed = await service.test_integration(core=local, actor=MEMBER, ref="sink")
    assert (failed.delivered, failed.error) == (False, "the destination answered HTTP 500")
    assert failed.integration.last_error == failed.error
    assert failed.integration.last_success_at is None
    delivered = await service.test_integration(core=local, actor=MEMBER, ref=view.id)
    assert (delivered.delivered, delivered.error, delivered.integration.last_error) == (True, None, None)
    assert delivered.integration.last_success_at is not None
    assert [(r.body["title"], r.body["message"]) for r in sink.to("/t")] == [
        ("Soonish test", "This is a test from Soonish: reminders will reach you here.")
    ]


async def test_integration_test_checks_the_url_again_when_sending(runtime: Runtime, sink: HttpSink) -> None:
    """A destination saved while private addresses were allowed is refused at send time once they are not."""
    local = dataclasses.replace(runtime.core, allow_private_urls=True, sender=Sender(allow_private=True))
    view = await service.add_integration(core=local, actor=MEMBER, url=sink.url("/t"))
    result = await service.test_integration(core=runtime.core, actor=MEMBER, ref=view.id)
    assert result.delivered is False
    assert result.error == f"refused by the URL guard: The address 127.0.0.1 {NOT_PUBLIC}"
    assert result.integration.last_error == result.error
    assert sink.to("/t") == []
