"""Block Kit for Slack: the event announcement with its buttons, the create-event modal, and Slack's date markup."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DatePickerElement,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
    TimePickerElement,
)
from slack_sdk.models.views import View

from bot import render
from bot.pages import split
from bot.slack.markup import date, escape
from core.service import MemberHome
from core.timeparse import format_offsets
from core.views import EventView

SUBSCRIBE = "soonish_subscribe"
UNSUBSCRIBE = "soonish_unsubscribe"
CREATE_EVENT = "soonish_event_create"
HOME_UNSUBSCRIBE = "soonish_home_unsubscribe"
HOME_CANCEL = "soonish_home_cancel"
# A link button still sends an action, which is only acknowledged.
CALENDAR_LINK = "soonish_calendar_link"
# Slack's limits: text per section block, and blocks per message.
SECTION_LIMIT = 3000
BLOCK_LIMIT = 50
# Modal fields: (block id, action id) are the same word.
NAME, DATE, TIME, REMIND, LOCATION, DESCRIPTION = "name", "date", "time", "remind", "location", "description"


def slack_time(tz: str) -> render.TimeFormat:
    """Instants as Slack's `<!date>` markup, shown in each reader's own zone; the fallback is in `tz`."""
    fallback = render.local_time(tz)
    return lambda when: date(when, fallback(when))


def sections(mrkdwn: str) -> list[Block]:
    """Slack text as section blocks, each within Slack's 3,000 characters."""
    return [SectionBlock(text=MarkdownTextObject(text=part)) for part in split(mrkdwn, SECTION_LIMIT)]


def calendar_button(view: EventView) -> ButtonElement | None:
    """A button that opens the event's public .ics in the browser; None when the event has no public link."""
    if not view.ics_url:
        return None
    return ButtonElement(text="Add to calendar", action_id=CALENDAR_LINK, url=view.ics_url, value=view.code)


def event_blocks(view: EventView, *, note: str = "", calendar: bool = False) -> list[Block]:
    """An event's details, member text escaped; cancelled events say so."""
    when = slack_time(view.timezone)
    title = f"*{escape(view.name)}* `{view.code}`"
    if view.status != "scheduled":
        title = f"~{escape(view.name)}~ `{view.code}` *{view.status}*"
    lines = [escape(note), title] if note else [title]
    lines.append(f"Starts {when(view.start_at)}")
    if view.end_at != view.start_at:
        lines.append(f"Ends {when(view.end_at)}")
    for label, value in (("Where", view.location), ("Link", view.link)):
        if value:
            lines.append(f"{label}: {escape(value)}")
    if view.recurrence:
        lines.append(f"Repeats `{escape(view.recurrence)}`")
        lines.append("Next: " + (", ".join(when(t) for t in view.next_occurrences) or "none left"))
    found = sections("\n".join(lines))
    if view.description:
        found += sections(escape(view.description))
    reminders = format_offsets(view.default_offsets) or "none"
    context = (
        f"Organized by {escape(view.organizer)} · {view.subscriber_count} subscribed · "
        f"channel reminders {reminders} before"
    )
    if view.status == "scheduled":
        context += f" · or type `/subscribe {view.code}`"
    found.append(ContextBlock(elements=[MarkdownTextObject(text=context)]))
    if calendar and (button := calendar_button(view)) is not None:
        found.append(ActionsBlock(block_id=f"calendar_{view.code}", elements=[button]))
    return found


def announcement(view: EventView) -> list[Block]:
    """The channel message that announces an event: its details, and while it is scheduled, the buttons."""
    found = event_blocks(view)
    if view.status == "scheduled":
        found.append(
            ActionsBlock(
                block_id=f"event_{view.code}",
                elements=[
                    ButtonElement(text="Subscribe", action_id=SUBSCRIBE, value=view.code, style="primary"),
                    ButtonElement(text="Unsubscribe", action_id=UNSUBSCRIBE, value=view.code),
                    *filter(None, [calendar_button(view)]),
                ],
            )
        )
    return found


def announcement_text(view: EventView) -> str:
    """The plain-text fallback of the announcement (notifications, screen readers), member text escaped."""
    start = render.local_time(view.timezone)(view.start_at)
    if view.status != "scheduled":
        return escape(f"{view.status.capitalize()}: {view.name} [{view.code}], was {start}")
    return escape(f"New event: {view.name} [{view.code}], {start}")


def _home_line(view: EventView, button: ButtonElement) -> SectionBlock:
    when = slack_time(view.timezone)
    text = f"*{escape(view.name)}* `{view.code}`\n{when(view.start_at)} · {view.subscriber_count} subscribed"
    return SectionBlock(text=MarkdownTextObject(text=text), accessory=button)


def home_view(home: MemberHome, *, note: str = "") -> View:
    """The App Home tab: the member's upcoming subscriptions and own events, each with its button."""
    found: list[Block] = [HeaderBlock(text="Your reminders")]
    if note:
        found.append(ContextBlock(elements=[MarkdownTextObject(text=escape(note))]))
    found += [
        _home_line(v, ButtonElement(text="Unsubscribe", action_id=HOME_UNSUBSCRIBE, value=v.code))
        for v in home.subscribed
    ] or [SectionBlock(text=MarkdownTextObject(text="No upcoming subscriptions. Press Subscribe on an event."))]
    found.append(HeaderBlock(text="Your events"))
    confirm = ConfirmObject(
        title="Cancel the event?", text="Its reminders stop and its subscribers are told.", confirm="Cancel it"
    )
    cancel = [
        ButtonElement(text="Cancel", action_id=HOME_CANCEL, value=v.code, style="danger", confirm=confirm)
        for v in home.organized
    ]
    found += [_home_line(v, button) for v, button in zip(home.organized, cancel, strict=True)] or [
        SectionBlock(text=MarkdownTextObject(text="You organize no upcoming event. Create one with `/event create`."))
    ]
    return View(type="home", blocks=found)


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
