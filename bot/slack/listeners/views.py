"""Modal submissions: the event modal, read like `/event create`; answered with field errors or an announcement."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.dispatch import event_draft
from bot.grammar import BY_WORDS, Command
from bot.slack import blocks
from bot.slack.identity import channel_destination, interaction_actor
from bot.slack.listeners.commands import announce
from core import service
from core.errors import SoonishError
from core.service import Core

# Field errors can only be shown in the acknowledgement, so the core call must fit inside Slack's 3 seconds.
CORE_BUDGET = 2.5


def _value(values: dict[str, Any], block: str) -> str:
    state = values.get(block, {}).get(block, {})
    return str(state.get("value") or state.get("selected_date") or state.get("selected_time") or "").strip()


# The modal's block for each input the core may name in an error; the start is picked with the date.
BLOCK_OF_FIELD = {
    "name": blocks.NAME,
    "start": blocks.DATE,
    "end": blocks.DATE,
    "timezone": blocks.TIME,
    "remind": blocks.REMIND,
    "location": blocks.LOCATION,
    "description": blocks.DESCRIPTION,
}


def _block_of(error: SoonishError) -> str:
    """The modal block an error from the core is about; errors about no input are shown at the top."""
    return BLOCK_OF_FIELD.get(error.field or "", blocks.NAME)


async def create_submitted(*, core: Core, ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
    """Create the event the modal describes, or answer with errors beside the fields that need fixing."""
    view = body.get("view") or {}
    values = (view.get("state") or {}).get("values") or {}
    name, date, time = _value(values, blocks.NAME), _value(values, blocks.DATE), _value(values, blocks.TIME)
    missing = {
        block: message
        for block, value, message in (
            (blocks.NAME, name, "Give the event a name."),
            (blocks.DATE, date, "Pick the day it starts."),
            (blocks.TIME, time, "Pick the time it starts."),
        )
        if not value
    }
    if missing:
        await ack(response_action="errors", errors=missing)
        return
    actor = interaction_actor(body)
    channel_id = str(view.get("private_metadata") or "")
    fields = {
        "name": name,
        "start": f"{date} {time}",
        "remind": _value(values, blocks.REMIND),
        "location": _value(values, blocks.LOCATION),
        "description": _value(values, blocks.DESCRIPTION),
    }
    command = Command(spec=BY_WORDS["event create"], options={k: v for k, v in fields.items() if v})
    draft = event_draft(command, channel_destination(actor, channel_id))
    try:
        async with asyncio.timeout(CORE_BUDGET):
            created = await service.create_event(core=core, actor=actor, draft=draft)
    except SoonishError as exc:
        await ack(response_action="errors", errors={_block_of(exc): exc.message})
        return
    await ack()
    problem = (
        await announce(core=core, actor=actor, client=client, channel_id=channel_id, view=created)
        if channel_id
        else None
    )
    if problem:  # the modal is closed and the channel refused the bot: tell the organizer directly
        await client.chat_postMessage(channel=actor.user_id, text=problem)


def register(app: AsyncApp, core: Core) -> None:
    """Listen to modal submissions."""

    @app.view(blocks.CREATE_EVENT)
    async def on_create(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        # No bare ack() first here: Slack shows field errors only if they come with the acknowledgement.
        await create_submitted(core=core, ack=ack, body=body, client=client)
