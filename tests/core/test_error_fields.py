"""A business error about one input of an event names that input, so a form can show it beside the field."""

from __future__ import annotations

import pytest

from bot.runtime import Runtime
from core import service
from core.errors import SoonishError
from core.service import EventDraft, EventPatch
from tests.conftest import ORGANIZER


@pytest.mark.parametrize(
    ("draft", "field"),
    [
        (EventDraft(name="", start="in 3 days"), "name"),
        (EventDraft(name="Quiz", start="whenever"), "start"),
        (EventDraft(name="Quiz", start="in 3 days", end="in 2 days"), "end"),
        (EventDraft(name="Quiz", start="in 3 days", timezone="Mars/Olympus"), "timezone"),
        (EventDraft(name="Quiz", start="in 3 days", default_offsets="sometimes"), "remind"),
        (EventDraft(name="Quiz", start="in 3 days", location="x" * 201), "location"),
        (EventDraft(name="Quiz", start="in 3 days", link="ftp://example.com"), "link"),
    ],
)
async def test_create_errors_name_their_field(runtime: Runtime, draft: EventDraft, field: str) -> None:
    """Each refused input of /event create is reported with its option name."""
    with pytest.raises(SoonishError) as caught:
        await service.create_event(core=runtime.core, actor=ORGANIZER, draft=draft)
    assert caught.value.field == field


async def test_update_errors_name_their_field(runtime: Runtime) -> None:
    """A refused new start of /event update is reported as the start's."""
    view = await service.create_event(core=runtime.core, actor=ORGANIZER, draft=EventDraft("Quiz", "in 3 days"))
    with pytest.raises(SoonishError) as caught:
        await service.update_event(core=runtime.core, actor=ORGANIZER, ref=view.code, patch=EventPatch(start="x"))
    assert caught.value.field == "start"
