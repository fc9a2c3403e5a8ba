"""Block Kit for Slack: the event announcement with its buttons, the create-event modal, and Slack's date markup."""

from __future__ import annotations

from datetime import datetime

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DatePickerElement,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
    TimePickerElement,
)
from slack_sdk.models.views import View

from bot import render
from core.timeparse import format_offsets
from core.views import EventView

SUBSCRIBE = "soonish_subscribe"
UNSUBSCRIBE = "soonish_unsubscribe"
CREATE_EVENT = "soonish_event_create"
# Modal fields: (block id, action id) are the same word.
NAME, DATE, TIME, REMIND, LOCATION, DESCRIPTION = "name", "date", "time", "remind", "location", "description"


def slack_time(tz: str) -> render.TimeFormat:
    """Instants as Slack's `<!date>` markup, shown in each reader's own zone; the fallback is in `tz`."""
    fallback = render.local_time(tz)

    def write(when: datetime) -> str:
        return f"<!date^{int(when.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback(when)}>"

    return write


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def announcement(view: EventView) -> list[Block]:
    """The channel message that announces an event, with Subscribe and Unsubscribe buttons."""
    when = slack_time(view.timezone)
    lines = [f"*{_escape(view.name)}* `{view.code}`", f"Starts {when(view.start_at)}"]
    if view.end_at != view.start_at:
        lines.append(f"Ends {when(view.end_at)}")
    for label, value in (("Where", view.location), ("Link", view.link), ("About", view.description)):
        if value:
            lines.append(f"{label}: {_escape(value)}")
    reminders = format_offsets(view.default_offsets) or "none"
    return [
        SectionBlock(text=MarkdownTextObject(text="\n".join(lines))),
        ContextBlock(
            elements=[
                MarkdownTextObject(
                    text=f"Organized by {_escape(view.organizer)} · channel reminders {reminders} before · "
                    f"or type `/subscribe {view.code}`"
                )
            ]
        ),
        ActionsBlock(
            block_id=f"event_{view.code}",
            elements=[
                ButtonElement(text="Subscribe", action_id=SUBSCRIBE, value=view.code, style="primary"),
                ButtonElement(text="Unsubscribe", action_id=UNSUBSCRIBE, value=view.code),
            ],
        ),
    ]


def announcement_text(view: EventView) -> str:
    """The plain-text fallback of the announcement (notifications, screen readers)."""
    return f"New event: {view.name} [{view.code}], {render.local_time(view.timezone)(view.start_at)}"


def create_modal(*, channel_id: str, timezone: str) -> View:
    """The modal `/event create` opens without arguments: name, date and time pickers, reminders, place, about."""
    return View(
        type="modal",
        callback_id=CREATE_EVENT,
        private_metadata=channel_id,
        title="New event",
        submit="Create",
        close="Cancel",
        blocks=[
            InputBlock(block_id=NAME, label="Name", element=PlainTextInputElement(action_id=NAME, max_length=100)),
            InputBlock(block_id=DATE, label="Date", element=DatePickerElement(action_id=DATE)),
            InputBlock(
                block_id=TIME,
                label="Time",
                hint=f"In your time zone, {timezone} (change it with /timezone).",
                element=TimePickerElement(action_id=TIME),
            ),
            InputBlock(
                block_id=REMIND,
                label="Channel reminders before the start",
                optional=True,
                hint="For example 1d, 1h",
                element=PlainTextInputElement(action_id=REMIND, max_length=100),
            ),
            InputBlock(
                block_id=LOCATION,
                label="Where",
                optional=True,
                element=PlainTextInputElement(action_id=LOCATION, max_length=200),
            ),
            InputBlock(
                block_id=DESCRIPTION,
                label="About",
                optional=True,
                element=PlainTextInputElement(action_id=DESCRIPTION, multiline=True, max_length=2000),
            ),
        ],
    )
