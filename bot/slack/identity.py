"""Who is asking and where, read from Slack's payloads: a workspace is a tenant."""

from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from core.destinations.slack import slack_url
from core.views import Actor

log = logging.getLogger(__name__)

PLATFORM = "slack"
# A workspace role read from users.info is trusted this long (a demoted admin keeps the rights so long at most).
ROLE_SECONDS = 300.0


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


@dataclass(frozen=True)
class Profile:
    """What users.info says about a member that Soonish uses."""

    admin: bool
    timezone: str | None


class WorkspaceProfiles:
    """Workspace admins and owners count as the tenant's admins, and a member's profile zone is their default zone.

    Both are read with users.info and kept for `ttl` seconds (a demoted admin keeps the rights so long at most).
    """

    def __init__(self, *, ttl: float = ROLE_SECONDS) -> None:
        self.ttl = ttl
        self._known: dict[tuple[str, str], tuple[float, Profile]] = {}

    async def complete(self, client: AsyncWebClient, actor: Actor) -> Actor:
        """The actor, marked as an admin when Slack says they administer or own the workspace, with their zone."""
        profile = await self._profile(client, actor)
        return dataclasses.replace(actor, is_admin=profile.admin, profile_timezone=profile.timezone)

    async def _profile(self, client: AsyncWebClient, actor: Actor) -> Profile:
        key = (actor.tenant, actor.user_id)
        now = time.monotonic()
        known = self._known.get(key)
        if known is not None and now - known[0] < self.ttl:
            return known[1]
        try:
            user = (await client.users_info(user=actor.user_id)).get("user") or {}
            profile = Profile(
                admin=any(bool(user.get(flag)) for flag in ("is_admin", "is_owner", "is_primary_owner")),
                timezone=str(user.get("tz") or "") or None,
            )
        except SlackApiError as exc:  # without users:read nobody is an admin, which is the safe side
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            log.warning(
                "users.info failed (%s); the user counts as a member", data.get("error", exc.response.status_code)
            )
            profile = Profile(admin=False, timezone=None)
        self._known[key] = (now, profile)
        return profile
