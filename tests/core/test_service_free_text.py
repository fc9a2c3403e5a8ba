"""Free text through the service: control characters are refused, the field named, on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses

import pytest

from bot.runtime import Runtime
from core import service
from core.errors import InvalidInput, NotFound
from core.service import EventDraft, EventPatch
from tests.conftest import MEMBER, ORGANIZER
from tests.core.helpers import new_event, refused
from tests.sinks import HttpSink

LINE_FIELDS = ("name", "location", "link")
BAD = ("\x00", "\x1b[31m", "\x7f", "\x85", "\ud800")


@pytest.mark.parametrize("field", LINE_FIELDS)
async def test_one_line_fields_refuse_control_characters(runtime: Runtime, field: str) -> None:
    """A name, location or link with NUL, ESC, DEL, a C1 control or a lone surrogate is refused and creates nothing."""
    base = {"name": "Launch", "location": "Hall", "link": "https://example.com/x"}
    for bad in BAD:
        draft = EventDraft(start="in 3 days", **{**base, field: base[field] + bad + "x"})
        attempt = service.create_event(core=runtime.core, actor=ORGANIZER, draft=draft)
        message = await refused(runtime, attempt, InvalidInput)
        assert message == (
            f"The event {field} cannot contain line breaks or control characters (found U+{ord(bad[0]):04X})."
        )


async def test_description_refuses_control_characters_but_keeps_newlines_and_tabs(runtime: Runtime) -> None:
    """A description may hold line breaks and tabs; NUL or ESC in it is refused with a message naming the field."""
    for bad in BAD:
        draft = EventDraft(name="Launch", start="in 3 days", description=f"Bring\n\tsnacks{bad}")
        attempt = service.create_event(core=runtime.core, actor=ORGANIZER, draft=draft)
        message = await refused(runtime, attempt, InvalidInput)
        assert message == (
            f"The event description cannot contain control characters (found U+{ord(bad[0]):04X}); "
            "only line breaks and tabs are allowed."
        )
    event = await new_event(runtime, description="Bring\r\n\tsnacks\rand drinks")
    assert event.description == "Bring\n\tsnacks\nand drinks"


async def test_update_refuses_control_characters_and_changes_nothing(runtime: Runtime) -> None:
    """An update with NUL in the description or ESC in the location changes nothing."""
    event = await new_event(runtime)
    for patch in (EventPatch(description="a\x00b"), EventPatch(location="\x1b[2J")):
        await refused(
            runtime, service.update_event(core=runtime.core, actor=ORGANIZER, ref=event.id, patch=patch), InvalidInput
        )
    assert (await service.show_event(core=runtime.core, actor=ORGANIZER, ref=event.id)).description == ""


async def test_event_refs_with_control_characters_are_not_found(runtime: Runtime) -> None:
    """An event named by a text with NUL or ESC in it does not exist, for show, subscribe and cancel alike."""
    await new_event(runtime)
    for ref in ("a\x00b", "Launch party\x00", "\x1b"):
        for call in (
            service.show_event(core=runtime.core, actor=MEMBER, ref=ref),
            service.subscribe(core=runtime.core, actor=MEMBER, ref=ref),
            service.cancel_event(core=runtime.core, actor=ORGANIZER, ref=ref),
            service.event_deliveries(core=runtime.core, actor=ORGANIZER, ref=ref),
        ):
            message = await refused(runtime, call, NotFound)
            assert message == "Give an event by its id, its code or its name."


async def test_integration_labels_and_refs_refuse_control_characters(runtime: Runtime, sink: HttpSink) -> None:
    """A label with NUL is refused before anything is stored; a destination named with NUL does not exist."""
    core = runtime.core
    message = await refused(
        runtime, service.add_integration(core=core, actor=MEMBER, url=sink.url(), label="home\x00"), InvalidInput
    )
    assert message == "The label cannot contain line breaks or control characters (found U+0000)."
    for call in (
        service.remove_integration(core=core, actor=MEMBER, ref="a\x00b"),
        service.test_integration(core=core, actor=MEMBER, ref="\x1b"),
    ):
        message = await refused(runtime, call, NotFound)
        assert message == "Give a destination by its id or its label. /integration list shows yours."


async def test_display_names_lose_control_characters(runtime: Runtime) -> None:
    """A platform display name with NUL or ESC in it is stored and shown without them."""
    actor = dataclasses.replace(ORGANIZER, display_name="Ol\x00ga\x1b")
    event = await new_event(runtime, actor)
    assert event.organizer == "Olga"
