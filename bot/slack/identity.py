"""Who is asking and where, read from Slack's payloads: a workspace is a tenant."""

from __future__ import annotations

from typing import Any

from core.destinations.slack import slack_url
from core.views import Actor

PLATFORM = "slack"


def command_actor(command: dict[str, Any]) -> Actor:
    """The user who ran a slash command."""
    return Actor(
        platform=PLATFORM,
        tenant=str(command.get("team_id") or ""),
        user_id=str(command.get("user_id") or ""),
        display_name=str(command.get("user_name") or ""),
    )


def interaction_actor(body: dict[str, Any]) -> Actor:
    """The user who pressed a button or submitted a modal."""
    user = body.get("user") or {}
    team = body.get("team") or {}
    return Actor(
        platform=PLATFORM,
        tenant=str(team.get("id") or user.get("team_id") or ""),
        user_id=str(user.get("id") or ""),
        display_name=str(user.get("username") or user.get("name") or ""),
    )


def channel_destination(actor: Actor, channel_id: str) -> str | None:
    """The reminder destination of the channel a command came from."""
    return slack_url(actor.tenant, channel_id) if channel_id else None
