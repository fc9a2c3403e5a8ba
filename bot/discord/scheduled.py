"""Discord Scheduled Events: a server's event mirrored in its Events list; Interested members become subscribers.

The mirror is an external scheduled event (location and end time), made when the bot has Manage Events and
DISCORD_SCHEDULED_EVENTS is on; it follows the event's updates and its cancellation. Marking it Interested
subscribes the member with their defaults, through the same dispatch as `/subscribe`; removing the mark
unsubscribes them.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import discord

from bot.dispatch import execute
from bot.grammar import BY_WORDS, Command
from core import service
from core.views import Actor, EventView

log = logging.getLogger(__name__)

# An external scheduled event needs an end; an event without one is shown as this long.
DEFAULT_LENGTH = timedelta(hours=1)
INTEREST = {"GUILD_SCHEDULED_EVENT_USER_ADD": "subscribe", "GUILD_SCHEDULED_EVENT_USER_REMOVE": "unsubscribe"}
MISSING_PERMISSION = (
    "Tip: give me the **Manage Events** permission and new events also appear in this server's Events list, "
    "where members who press Interested are subscribed."
)


def _fields(view: EventView) -> dict[str, Any]:
    end = view.end_at if view.end_at > view.start_at else view.start_at + DEFAULT_LENGTH
    return {
        "name": view.name,
        "start_time": view.start_at,
        "end_time": end,
        "location": (view.location or "See the announcement")[:100],
        "description": view.description[:1000],
    }


async def mirror(guild: discord.Guild, permissions: discord.Permissions, view: EventView) -> tuple[str, str]:
    """Mirror a new event in the guild's Events list: (the scheduled event's id or "", a note for the organizer)."""
    if not permissions.manage_events:
        return "", MISSING_PERMISSION
    try:
        created = await guild.create_scheduled_event(
            entity_type=discord.EntityType.external, privacy_level=discord.PrivacyLevel.guild_only, **_fields(view)
        )
    except discord.HTTPException as exc:
        log.warning("could not create the scheduled event of event %s: HTTP %s", view.id, exc.status)
        return "", f"I could not add this event to the server's Events list (Discord answered {exc.status})."
    return str(created.id), ""


async def follow(client: discord.Client, guild_id: int, mirror_ref: str, view: EventView) -> None:
    """Bring the mirror up to date: the new name, time and place, or its cancellation."""
    guild = client.get_guild(guild_id)
    if guild is None:
        return
    scheduled = await guild.fetch_scheduled_event(int(mirror_ref), with_counts=False)
    if view.status == "cancelled":
        if scheduled.status == discord.EventStatus.scheduled:
            await scheduled.cancel()
        return
    if view.status == "scheduled":
        await scheduled.edit(entity_type=discord.EntityType.external, **_fields(view))


async def on_gateway_message(client: Any, raw: str | bytes) -> None:
    """Subscribe or unsubscribe a member who marked or unmarked a mirror as Interested."""
    if isinstance(raw, bytes) or "GUILD_SCHEDULED_EVENT_USER_" not in raw:
        return
    message = json.loads(raw)
    words = INTEREST.get(message.get("t") or "")
    data = message.get("d") or {}
    if words is None or not data.get("guild_id"):
        return
    actor = Actor(platform="discord", tenant=str(data["guild_id"]), user_id=str(data["user_id"]))
    event_id = await service.event_of_mirror(
        core=client.core, actor=actor, mirror_ref=str(data["guild_scheduled_event_id"])
    )
    if event_id is None:
        return
    reply = await execute(Command(spec=BY_WORDS[words], argument=str(event_id)), core=client.core, actor=actor)
    if reply.changed:
        client.live.changed(actor, reply.changed)
    else:
        log.info("an Interested mark of event %s changed nothing: %s", event_id, reply.text[:100])
