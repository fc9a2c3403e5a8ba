"""Buttons: Subscribe and Unsubscribe on an event's announcement, run as `/subscribe` and `/unsubscribe`, its
.ics link, and "Remind me again" on a reminder sent by direct message, run as `/snooze`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.grammar import BY_WORDS, Command
from bot.live import LiveAnnouncements
from bot.slack import blocks
from bot.slack.identity import interaction_actor
from bot.slack.listeners.commands import run_and_reply
from core.destinations.slack import SNOOZE_ACTION
from core.service import Core


async def button_pressed(
    *,
    core: Core,
    live: LiveAnnouncements,
    words: str,
    body: dict[str, Any],
    action: dict[str, Any],
    respond: AsyncRespond,
) -> None:
    """Run the button's command for the presser, with their defaults, through the same dispatch as typing it."""
    cmd = Command(spec=BY_WORDS[words], argument=str(action.get("value") or ""))
    channel_id = str((body.get("channel") or {}).get("id") or "")
    actor = interaction_actor(body)
    await run_and_reply(core=core, live=live, cmd=cmd, actor=actor, channel_id=channel_id, respond=respond)


def _listener(core: Core, live: LiveAnnouncements, words: str) -> Callable[..., Awaitable[None]]:
    # Bolt passes listeners their arguments by name, so the command is bound here rather than as a default.
    async def on_press(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        await button_pressed(core=core, live=live, words=words, body=body, action=action, respond=respond)

    return on_press


async def link_opened(ack: AsyncAck) -> None:
    """A link button (the event's .ics) opens in the browser; Slack still wants its action acknowledged."""
    await ack()


def register(app: AsyncApp, core: Core, live: LiveAnnouncements) -> None:
    """Listen to the announcement's buttons and the reminders' "Remind me again"."""
    for action_id, words in (
        (blocks.SUBSCRIBE, "subscribe"),
        (blocks.UNSUBSCRIBE, "unsubscribe"),
        (SNOOZE_ACTION, "snooze"),
    ):
        app.action(action_id)(_listener(core, live, words))
    app.action(blocks.CALENDAR_LINK)(link_opened)
