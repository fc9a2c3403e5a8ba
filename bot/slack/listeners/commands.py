"""Slash commands: `/event`, `/subscribe`, `/unsubscribe`, `/integration`, `/timezone`, in the shared grammar."""

from __future__ import annotations

from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.dispatch import event_draft, execute
from bot.grammar import parse
from bot.slack import blocks
from bot.slack.identity import channel_destination, command_actor
from bot.slack.markup import SlackText, escape
from bot.slack.replies import send_reply
from core import service
from core.service import Core
from core.views import EventView

COMMANDS = ("/event", "/subscribe", "/unsubscribe", "/integration", "/timezone")
# Slack escapes these three in command text (they are escaped again on the way out: bot/slack/markup.py);
# clients may also turn straight quotes into curly ones.
_UNESCAPE = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


def command_line(command: dict[str, Any]) -> str:
    """The typed command as the shared grammar reads it."""
    text = str(command.get("text") or "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return f"{command.get('command', '')} {text.translate(_UNESCAPE)}".strip()


async def announce(client: AsyncWebClient, channel_id: str, view: EventView) -> str | None:
    """Post an event's announcement with its buttons in the channel; None, or what to tell the organizer instead."""
    try:
        await client.chat_postMessage(
            channel=channel_id, text=blocks.announcement_text(view), blocks=blocks.announcement(view)
        )
    except SlackApiError as exc:  # the event exists by now, so this must not read as "nothing was changed"
        reason = str(exc.response.get("error") or "unknown error")
        return (
            f"{escape(view.name)} [{view.code}] is created, but I could not post its announcement here "
            f"({escape(reason)}). Invite me to the channel (for reminders there too), or share "
            f"`/subscribe {view.code}`."
        )
    return None


async def run_command(*, core: Core, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient) -> None:
    """Run one slash command: the create modal, a direct create with its announcement, or a text reply."""
    actor = command_actor(command)
    channel_id = str(command.get("channel_id") or "")
    line = command_line(command)
    if line.lower().split() == ["/event", "create"]:
        me = await service.show_user(core=core, actor=actor)
        modal = blocks.create_modal(channel_id=channel_id, timezone=me.timezone)
        await client.views_open(trigger_id=command["trigger_id"], view=modal)
        return
    cmd = parse(line)
    destination = channel_destination(actor, channel_id)
    if cmd.spec.words == "event create":
        view = await service.create_event(core=core, actor=actor, draft=event_draft(cmd, destination))
        problem = await announce(client, channel_id, view)
        if problem:
            await respond(text=problem, response_type="ephemeral")
        return
    text = SlackText()
    reply = await execute(cmd, core=core, actor=actor, channel_url=destination, time_format=text.time_format)
    await send_reply(respond, reply, text)


def register(app: AsyncApp, core: Core) -> None:
    """Listen to every Soonish slash command."""

    async def on_command(ack: AsyncAck, command: dict[str, Any], respond: AsyncRespond, client: AsyncWebClient) -> None:
        await ack()
        await run_command(core=core, command=command, respond=respond, client=client)

    for name in COMMANDS:
        app.command(name)(on_command)
