"""Modal submissions: the create-event modal, answered with field errors or an announcement."""

from __future__ import annotations

import asyncio
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.slack import blocks
from bot.slack.identity import channel_destination, interaction_actor
from bot.slack.listeners.commands import announce
from core import service
from core.errors import InvalidTime, SoonishError
from core.service import Core, EventDraft

# Field errors can only be shown in the acknowledgement, so the core call must fit inside Slack's 3 seconds.
CORE_BUDGET = 2.5


def _value(values: dict[str, Any], block: str) -> str:
    state = values.get(block, {}).get(block, {})
    return str(state.get("value") or state.get("selected_date") or state.get("selected_time") or "").strip()


def _field_of(error: SoonishError) -> str:
    """The modal field an error from the core is about."""
    if isinstance(error, InvalidTime):
        return blocks.DATE
    text = error.message.lower()
    for field, words in (
        (blocks.REMIND, ("remind", "offset")),
        (blocks.LOCATION, ("location",)),
        (blocks.DESCRIPTION, ("description",)),
    ):
        if any(word in text for word in words):
            return field
    return blocks.NAME


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
    draft = EventDraft(
        name=name,
        start=f"{date} {time}",
        default_offsets=_value(values, blocks.REMIND) or None,
        location=_value(values, blocks.LOCATION),
        description=_value(values, blocks.DESCRIPTION),
        channel_url=channel_destination(actor, channel_id),
        channel_trusted=bool(channel_id),
    )
    try:
        async with asyncio.timeout(CORE_BUDGET):
            created = await service.create_event(core=core, actor=actor, draft=draft)
    except SoonishError as exc:
        await ack(response_action="errors", errors={_field_of(exc): exc.message})
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
