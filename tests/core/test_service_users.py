"""Users' own settings and API keys on a real database."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime

from sqlalchemy import select

from bot.runtime import Runtime
from core import service
from core.errors import InvalidInput, Unauthenticated
from core.models import ApiKey
from core.service import EventDraft
from core.views import Actor, UserView
from tests.conftest import MEMBER, ORGANIZER
from tests.core.helpers import NEXT_YEAR, refused, row_counts

ZONE_HINT = "Use an IANA name such as Europe/Berlin or America/New_York."


async def test_a_profile_zone_is_the_default_until_the_member_sets_one(runtime: Runtime) -> None:
    """The platform profile's zone reads a new member's times and follows the profile; a zone they set wins."""
    tokyo = dataclasses.replace(ORGANIZER, profile_timezone="Asia/Tokyo")
    assert (await service.show_user(core=runtime.core, actor=tokyo)).timezone == "Asia/Tokyo"
    draft = EventDraft(name="Hanami", start=f"{NEXT_YEAR}-04-01 10:00")
    event = await service.create_event(core=runtime.core, actor=tokyo, draft=draft)
    assert (event.timezone, event.start_at) == ("Asia/Tokyo", datetime(NEXT_YEAR, 4, 1, 1, tzinfo=UTC))
    moved = dataclasses.replace(ORGANIZER, profile_timezone="America/New_York")
    assert (await service.show_user(core=runtime.core, actor=moved)).timezone == "America/New_York"
    await service.set_timezone(core=runtime.core, actor=moved, timezone="Europe/Berlin")
    assert (await service.show_user(core=runtime.core, actor=tokyo)).timezone == "Europe/Berlin"
    nowhere = dataclasses.replace(MEMBER, profile_timezone="Mars/Olympus_Mons")  # a profile is not input to refuse
    assert (await service.show_user(core=runtime.core, actor=nowhere)).timezone == "UTC"


async def test_timezone_is_set_by_its_canonical_name_and_reads_new_times(runtime: Runtime) -> None:
    """A new user is in UTC; a zone set in any case is stored canonically and reads their new events' times."""
    assert await service.show_user(core=runtime.core, actor=ORGANIZER) == UserView("console", "guild-a", "org", "UTC")
    changed = await service.set_timezone(core=runtime.core, actor=ORGANIZER, timezone=" europe/berlin ")
    assert changed == UserView("console", "guild-a", "org", "Europe/Berlin")
    assert await service.show_user(core=runtime.core, actor=ORGANIZER) == changed
    draft = EventDraft(name="Summer fest", start=f"{NEXT_YEAR}-06-01 19:00")
    event = await service.create_event(core=runtime.core, actor=ORGANIZER, draft=draft)
    assert (event.timezone, event.start_at) == ("Europe/Berlin", datetime(NEXT_YEAR, 6, 1, 17, tzinfo=UTC))


async def test_unknown_timezone_is_refused_and_changes_nothing(runtime: Runtime) -> None:
    """An unknown, empty, host-specific or path-like zone is refused, and the user keeps their zone."""
    await service.set_timezone(core=runtime.core, actor=MEMBER, timezone="Asia/Tokyo")
    for name, message in (
        ("Mars/Olympus_Mons", f"Unknown time zone 'Mars/Olympus_Mons'. {ZONE_HINT}"),
        ("  ", f"A time zone is required. {ZONE_HINT}"),
        ("localtime", f"Unknown time zone 'localtime'. {ZONE_HINT}"),
        ("../../etc/passwd", f"Unknown time zone '../../etc/passwd'. {ZONE_HINT}"),
    ):
        attempt = service.set_timezone(core=runtime.core, actor=MEMBER, timezone=name)
        assert await refused(runtime, attempt, InvalidInput) == message
    assert (await service.show_user(core=runtime.core, actor=MEMBER)).timezone == "Asia/Tokyo"


async def test_identity_the_database_cannot_hold_is_refused(runtime: Runtime) -> None:
    """A user id or tenant that is empty, too long or unprintable is refused before anything is stored."""
    for actor, message in (
        (Actor("console", "guild-a", "u" * 65), "The user id must be 1 to 64 printable characters."),
        (Actor("console", "", "mem"), "The tenant must be 1 to 64 printable characters."),
        (Actor("console", "guild-a", "mem\n"), "The user id must be 1 to 64 printable characters."),
    ):
        assert await refused(runtime, service.show_user(core=runtime.core, actor=actor), InvalidInput) == message


async def test_api_key_authenticates_its_user_and_is_stored_only_as_a_hash(runtime: Runtime) -> None:
    """A new key is shown once, authenticates as its API user, and only its SHA-256 hash is stored."""
    key = await service.create_api_key(sessions=runtime.core.sessions, name=" ci-bot.v2 ")
    assert key.startswith("snk_")
    actor = await service.authenticate_api_key(core=runtime.core, key=key)
    assert actor == Actor(platform="api", tenant="api", user_id="ci-bot.v2", display_name="ci-bot.v2")
    async with runtime.core.sessions() as session:
        [row] = (await session.execute(select(ApiKey))).scalars()
    assert (row.name, row.key_hash) == ("ci-bot.v2", hashlib.sha256(key.encode()).hexdigest())
    assert key not in (row.name, row.key_hash)


async def test_bad_api_key_name_is_refused_and_creates_nothing(runtime: Runtime) -> None:
    """A key name that is empty, too long or has spaces or punctuation creates no key and no user."""
    for name in ("", "   ", "x" * 65, "ci bot", "ci;bot"):
        attempt = service.create_api_key(sessions=runtime.core.sessions, name=name)
        message = await refused(runtime, attempt, InvalidInput)
        assert message == "An API key name is 1 to 64 letters, digits, '-', '_' or '.'.", name
    assert await row_counts(runtime) == dict.fromkeys(await row_counts(runtime), 0)


async def test_unknown_api_key_is_unauthenticated(runtime: Runtime) -> None:
    """A key never issued, without the prefix, or absurdly long is refused with one plain message."""
    await service.create_api_key(sessions=runtime.core.sessions, name="alice")
    for key in ("snk_not-a-real-key", "not-even-a-key", "snk_" + "x" * 300, ""):
        attempt = service.authenticate_api_key(core=runtime.core, key=key)
        assert await refused(runtime, attempt, Unauthenticated) == "Invalid API key."
