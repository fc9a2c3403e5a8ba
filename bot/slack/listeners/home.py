"""The App Home tab: published when a member opens it, and again after its buttons changed something."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from bot.dispatch import execute
from bot.grammar import BY_WORDS, Command
from bot.live import LiveAnnouncements
from bot.slack import blocks
from bot.slack.identity import PLATFORM, interaction_actor
from core import service
from core.service import Core
from core.views import Actor


async def publish_home(*, core: Core, client: AsyncWebClient, actor: Actor, note: str = "") -> None:
    """Show the member their upcoming subscriptions and events on their App Home tab."""
    home = await service.member_home(core=core, actor=actor)
    await client.views_publish(user_id=actor.user_id, view=blocks.home_view(home, note=note))


def _pressed(core: Core, live: LiveAnnouncements, words: str) -> Callable[..., Awaitable[None]]:
    async def on_press(ack: AsyncAck, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        actor = interaction_actor(body)
        cmd = Command(spec=BY_WORDS[words], argument=str(action.get("value") or ""))
        reply = await execute(cmd, core=core, actor=actor)
        if reply.changed:
            live.changed(actor, reply.changed, at_once=words == "event cancel")
        await publish_home(core=core, client=client, actor=actor, note=reply.text.splitlines()[0])

    return on_press


def register(app: AsyncApp, core: Core, live: LiveAnnouncements) -> None:
    """Listen to the App Home tab being opened and to its buttons."""

    @app.event("app_home_opened")
    async def on_opened(event: dict[str, Any], body: dict[str, Any], client: AsyncWebClient) -> None:
        if event.get("tab", "home") != "home":
            return
        actor = Actor(platform=PLATFORM, tenant=str(body.get("team_id") or ""), user_id=str(event.get("user") or ""))
        await publish_home(core=core, client=client, actor=actor)

    app.action(blocks.HOME_UNSUBSCRIBE)(_pressed(core, live, "unsubscribe"))
    app.action(blocks.HOME_CANCEL)(_pressed(core, live, "event cancel"))
