"""Buttons: Subscribe and Unsubscribe on an event's announcement."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot import render
from bot.slack import blocks
from bot.slack.identity import interaction_actor
from bot.slack.markup import SlackText, escape
from core import service
from core.service import Core


async def subscribe_pressed(*, core: Core, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
    """Subscribe the presser with their default reminders; tell only them."""
    actor = interaction_actor(body)
    sub = await service.subscribe(core=core, actor=actor, ref=str(action.get("value") or ""))
    me = await service.show_user(core=core, actor=actor)
    text = SlackText()
    shown = text(render.subscription(sub, text.time_format(me.timezone)))
    await respond(text=shown, response_type="ephemeral", replace_original=False)


async def unsubscribe_pressed(
    *, core: Core, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
) -> None:
    """Unsubscribe the presser; tell only them."""
    name = await service.unsubscribe(core=core, actor=interaction_actor(body), ref=str(action.get("value") or ""))
    await respond(text=escape(f"Unsubscribed from {name}."), response_type="ephemeral", replace_original=False)


def register(app: AsyncApp, core: Core) -> None:
    """Listen to the announcement's buttons."""

    @app.action(blocks.SUBSCRIBE)
    async def on_subscribe(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        await subscribe_pressed(core=core, body=body, action=action, respond=respond)

    @app.action(blocks.UNSUBSCRIBE)
    async def on_unsubscribe(
        ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond
    ) -> None:
        await ack()
        await unsubscribe_pressed(core=core, body=body, action=action, respond=respond)
