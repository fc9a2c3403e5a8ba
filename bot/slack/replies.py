"""Answering a Slack user through the response_url: text escaped, events as blocks, long answers in pages."""

from __future__ import annotations

from slack_bolt.async_app import AsyncRespond

from bot.dispatch import Reply
from bot.slack import blocks
from bot.slack.markup import SlackText, escape

# A response_url takes at most five messages.
MOST_MESSAGES = 5


async def send_reply(respond: AsyncRespond, reply: Reply, text: SlackText) -> None:
    """Show one reply of the shared dispatcher, written with `text.time_format`."""
    response_type = "ephemeral" if reply.private else "in_channel"
    if reply.event is not None:
        found = blocks.event_blocks(reply.event, note=reply.note, calendar=True)
        fallback = escape(f"{reply.note} {reply.event.name} [{reply.event.code}]".strip())
        await respond(text=fallback, blocks=found, response_type=response_type, replace_original=False)
        return
    body = text(reply.text)
    if len(body) <= blocks.SECTION_LIMIT:
        await respond(text=body, response_type=response_type, replace_original=False)
        return
    sections = blocks.sections(body)
    pages = [sections[i : i + blocks.BLOCK_LIMIT] for i in range(0, len(sections), blocks.BLOCK_LIMIT)]
    for number, page in enumerate(pages[:MOST_MESSAGES], 1):
        note = f"(page {number} of {len(pages)})"
        if number == MOST_MESSAGES and len(pages) > MOST_MESSAGES:
            note = f"(page {number} of {len(pages)}; the rest does not fit in Slack's replies)"
        await respond(text=note, blocks=page, response_type=response_type, replace_original=False)
