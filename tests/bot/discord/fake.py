"""A local fake of Discord: the REST API and a gateway, enough to drive the real discord.py client.

Every REST call is recorded; the gateway sends READY and GUILD_CREATE, then whatever interactions a test dispatches.
Messages are kept as a member would see them: a deferred response keeps the deferral's visibility for the
first follow-up (as Discord does), edits change the stored message, deletions hide it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from bot.embedded import free_port

API = "/api/v10"
BOT_ID = 900000000000000001
APP_ID = BOT_ID
GUILD_ID = 800000000000000001
CHANNEL_ID = 700000000000000001
NOW = "2026-01-01T00:00:00+00:00"
EVERYTHING = str((1 << 53) - 1)
NOTHING = "0"


def user(user_id: int, name: str) -> dict[str, Any]:
    """A user payload."""
    return {"id": str(user_id), "username": name, "discriminator": "0", "global_name": name, "avatar": None}


@dataclass(frozen=True)
class Call:
    """One REST request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    raw: str
    status: int
    at: float = field(default_factory=time.monotonic)


@dataclass
class FakeDiscord:
    """Start with `await fake.start()`; point discord.py at `rest_base` and `gateway_url`."""

    calls: list[Call] = field(default_factory=list)
    closed_dms: set[int] = field(default_factory=set)
    # Channels of other servers the bot can see (every other channel is in GUILD_ID).
    channel_guilds: dict[int, int] = field(default_factory=dict)
    # Messages the bot created through the REST API, per channel, in order.
    created: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    _by_nonce: dict[tuple[int, str], Any] = field(default_factory=dict)
    rate_limited: deque[float] = field(default_factory=deque)
    port: int = 0
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(600000000000000001))
    _sockets: list[web.WebSocketResponse] = field(default_factory=list)
    _seq: int = 0
    _runner: web.AppRunner | None = None
    identified: asyncio.Event = field(default_factory=asyncio.Event)
    messages: dict[str, dict[str, Any]] = field(default_factory=dict)
    # interaction token -> ids of the messages its answers made, in order; "pending" marks an open deferral
    _shown: dict[str, list[str]] = field(default_factory=dict)
    _deferred: dict[str, int] = field(default_factory=dict)
    _tokens: dict[str, str] = field(default_factory=dict)
    scheduled_events: dict[str, dict[str, Any]] = field(default_factory=dict)
    app_permissions: str = EVERYTHING  # what the bot may do in the channel, as interactions report it

    @property
    def rest_base(self) -> str:
        """What `discord.http.Route.BASE` should be."""
        return f"http://127.0.0.1:{self.port}{API}"

    @property
    def gateway_url(self) -> str:
        """What `DiscordWebSocket.DEFAULT_GATEWAY` should be."""
        return f"ws://127.0.0.1:{self.port}/gateway"

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application()
        app.router.add_get("/gateway", self._gateway)
        app.router.add_route("*", API + "/{tail:.*}", self._rest)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        self.port = free_port()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        """Close the sockets and stop listening."""
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    # REST

    def _json(self, data: Any, status: int = 200) -> web.Response:
        # discord.py parses JSON only when the content type is exactly application/json.
        return web.Response(body=json.dumps(data).encode(), status=status, headers={"Content-Type": "application/json"})

    def next_id(self) -> int:
        """A fresh snowflake."""
        return next(self._ids)

    def message(self, channel_id: int | str, body: dict[str, Any], author: dict[str, Any] | None = None) -> Any:
        """A message payload made from what was posted."""
        return {
            "id": str(self.next_id()),
            "channel_id": str(channel_id),
            "author": author or user(BOT_ID, "Soonish"),
            "content": body.get("content") or "",
            "timestamp": NOW,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "type": 0,
            "flags": body.get("flags") or 0,
            "allowed_mentions": body.get("allowed_mentions"),
        }

    def _store(self, channel_id: int | str, body: dict[str, Any], *, flags: int | None = None) -> dict[str, Any]:
        message = self.message(channel_id, body)
        if flags is not None:
            message["flags"] = flags
        self.messages[message["id"]] = message
        return message

    def _edit(self, message_id: str, body: dict[str, Any]) -> dict[str, Any] | None:
        message = self.messages.get(message_id)
        if message is None:
            return None
        for key in ("content", "embeds", "components", "allowed_mentions"):
            if key in body:
                message[key] = body[key] or ([] if key in ("embeds", "components") else body[key])
        message["edited_timestamp"] = NOW
        return message

    def _original(self, token: str) -> str | None:
        shown = self._shown.get(token) or []
        return shown[0] if shown and shown[0] != "pending" else None

    async def _rest(self, request: web.Request) -> web.Response:
        raw = await request.text()
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        if body is None and request.content_type.startswith("multipart/"):
            body = {}
        response = self._answer(request.method, request.match_info["tail"], body or {}, dict(request.query))
        self.calls.append(
            Call(request.method, "/" + request.match_info["tail"], dict(request.query), body, raw, response.status)
        )
        return response

    def _answer(self, method: str, path: str, body: dict[str, Any], query: dict[str, str]) -> web.Response:
        parts = path.strip("/").split("/")
        match method, parts:
            case "GET", ["users", "@me"]:
                return self._json({**user(BOT_ID, "Soonish"), "bot": True})
            case "GET", ["oauth2", "applications", "@me"]:
                return self._json(
                    {
                        "id": str(APP_ID),
                        "name": "Soonish",
                        "icon": None,
                        "description": "",
                        "bot_public": True,
                        "bot_require_code_grant": False,
                        "verify_key": "0" * 64,
                        "flags": 0,
                        "owner": user(1, "owner"),
                        "team": None,
                        "summary": "",
                    }
                )
            case "GET", ["gateway", *_]:
                return self._json({"url": self.gateway_url, "shards": 1, "session_start_limit": {}})
            case "PUT", ["applications", _, "commands"]:
                return self._json([])
            case "POST", ["interactions", interaction_id, token, "callback"]:
                kind = int(body.get("type", 0))
                data = body.get("data") or {}
                flags = int(data.get("flags") or 0)
                self._tokens[interaction_id] = token
                result: dict[str, Any] = {
                    "interaction": {
                        "id": interaction_id,
                        "type": 2,
                        "response_message_loading": kind == 5,
                        "response_message_ephemeral": bool(flags & 64),
                    },
                    "resource": {"type": kind},
                }
                if kind == 4:
                    message = self._store(CHANNEL_ID, data)
                    self._shown.setdefault(token, []).append(message["id"])
                    result["interaction"]["response_message_id"] = message["id"]
                    result["resource"]["message"] = message
                elif kind == 5:
                    self._deferred[token] = flags & 64
                    self._shown.setdefault(token, []).append("pending")
                return self._json(result)
            case "POST", ["webhooks", _, token]:
                shown = self._shown.setdefault(token, [])
                if shown and shown[0] == "pending":  # the first follow-up completes the deferral, with its visibility
                    flags = (int(body.get("flags") or 0) & ~64) | self._deferred[token]
                    message = self._store(CHANNEL_ID, body, flags=flags)
                    shown[0] = message["id"]
                else:
                    message = self._store(CHANNEL_ID, body)
                    shown.append(message["id"])
                return self._json(message)
            case "PATCH", ["webhooks", _, token, "messages", which]:
                shown = self._shown.setdefault(token, [])
                if which == "@original" and shown and shown[0] == "pending":
                    message = self._store(CHANNEL_ID, body, flags=self._deferred[token])
                    shown[0] = message["id"]
                    return self._json(message)
                edited = self._edit(self._original(token) if which == "@original" else which, body)
                return self._json(edited) if edited else self._json({"message": "Unknown Message", "code": 10008}, 404)
            case "GET", ["webhooks", _, token, "messages", "@original"]:
                original = self._original(token)
                if original and original in self.messages:
                    return self._json(self.messages[original])
                return self._json({"message": "Unknown Message", "code": 10008}, 404)
            case "DELETE", ["webhooks", _, token, "messages", "@original"]:
                shown = self._shown.get(token) or []
                if shown:
                    if shown[0] != "pending":
                        self.messages.pop(shown[0], None)
                    shown[0] = "deleted"
                return web.Response(status=204)
            case "POST", ["guilds", guild_id, "scheduled-events"]:
                scheduled = {
                    "id": str(self.next_id()),
                    "guild_id": guild_id,
                    "channel_id": None,
                    "creator_id": str(BOT_ID),
                    "description": None,
                    "entity_id": None,
                    "entity_metadata": None,
                    "status": 1,
                    "privacy_level": 2,
                    "user_count": 0,
                    "image": None,
                    "recurrence_rule": None,
                    **body,
                }
                self.scheduled_events[scheduled["id"]] = scheduled
                return self._json(scheduled)
            case "GET", ["guilds", _, "scheduled-events", event_id] if event_id in self.scheduled_events:
                return self._json(self.scheduled_events[event_id])
            case "PATCH", ["guilds", _, "scheduled-events", event_id] if event_id in self.scheduled_events:
                self.scheduled_events[event_id].update(body)
                return self._json(self.scheduled_events[event_id])
            case "PATCH", ["channels", _channel, "messages", message_id]:
                edited = self._edit(message_id, body)
                return self._json(edited) if edited else self._json({"message": "Unknown Message", "code": 10008}, 404)
            case "GET", ["channels", channel]:
                guild = self.channel_guilds.get(int(channel), GUILD_ID)
                return self._json({"id": channel, "type": 0, "guild_id": str(guild), "name": "general"})
            case "POST", ["users", "@me", "channels"]:
                recipient = int(body["recipient_id"])
                return self._json({"id": str(recipient + 1), "type": 1, "recipients": [user(recipient, "member")]})
            case "POST", ["channels", channel, "messages"]:
                if self.rate_limited:
                    wait = self.rate_limited.popleft()
                    limited = {"message": "You are being rate limited.", "retry_after": wait, "global": False}
                    return self._json(limited, 429)
                if int(channel) - 1 in self.closed_dms:
                    return self._json({"message": "Cannot send messages to this user", "code": 50007}, 403)
                # Like Discord: with enforce_nonce, a nonce already used in the channel returns that message.
                seen = (int(channel), str(body.get("nonce")))
                if body.get("enforce_nonce") and seen in self._by_nonce:
                    return self._json(self._by_nonce[seen])
                created = self._store(channel, body)
                self.created.append((int(channel), body))
                if body.get("enforce_nonce"):
                    self._by_nonce[seen] = created
                return self._json(created)
        return self._json({"message": "404: Not Found", "code": 0}, 404)

    # Gateway

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_str(json.dumps({"op": 10, "d": {"heartbeat_interval": 41250}, "s": None, "t": None}))
        try:
            async for msg in ws:
                if msg.type != WSMsgType.TEXT:
                    continue
                frame = json.loads(msg.data)
                if frame["op"] == 1:
                    await ws.send_str(json.dumps({"op": 11, "d": None, "s": None, "t": None}))
                elif frame["op"] == 2:
                    await self._send(ws, "READY", self._ready())
                    await self._send(ws, "GUILD_CREATE", self._guild())
                    self.identified.set()
        finally:
            self._sockets.remove(ws)
        return ws

    async def _send(self, ws: web.WebSocketResponse, event: str, data: Any) -> None:
        self._seq += 1
        await ws.send_str(json.dumps({"op": 0, "t": event, "s": self._seq, "d": data}))

    async def dispatch(self, event: str, data: Any) -> None:
        """Send one event to every connected client."""
        for ws in list(self._sockets):
            if not ws.closed:
                await self._send(ws, event, data)

    def _ready(self) -> dict[str, Any]:
        return {
            "v": 10,
            "user": {**user(BOT_ID, "Soonish"), "bot": True},
            "guilds": [{"id": str(GUILD_ID), "unavailable": True}],
            "session_id": "fake-session",
            "resume_gateway_url": self.gateway_url,
            "application": {"id": str(APP_ID), "flags": 0},
            "private_channels": [],
            "relationships": [],
        }

    def _guild(self) -> dict[str, Any]:
        return {
            "id": str(GUILD_ID),
            "name": "Test guild",
            "owner_id": "1",
            "icon": None,
            "roles": [
                {
                    "id": str(GUILD_ID),
                    "name": "@everyone",
                    "permissions": NOTHING,
                    "position": 0,
                    "color": 0,
                    "hoist": False,
                    "managed": False,
                    "mentionable": False,
                }
            ],
            "channels": [
                {"id": str(CHANNEL_ID), "type": 0, "name": "general", "position": 0, "permission_overwrites": []}
            ],
            "members": [],
            "member_count": 3,
            "emojis": [],
            "stickers": [],
            "features": [],
            "large": False,
            "unavailable": False,
            "voice_states": [],
            "presences": [],
            "threads": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "joined_at": NOW,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "premium_tier": 0,
            "nsfw_level": 0,
            "preferred_locale": "en-US",
        }

    # Interactions

    def _member(self, user_id: int, name: str, permissions: str) -> dict[str, Any]:
        return {
            "user": user(user_id, name),
            "roles": [],
            "joined_at": NOW,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "permissions": permissions,
        }

    def _interaction(self, kind: int, data: dict[str, Any], member: dict[str, Any], **extra: Any) -> dict[str, Any]:
        interaction_id = self.next_id()
        return {
            "id": str(interaction_id),
            "application_id": str(APP_ID),
            "type": kind,
            "token": f"token-{interaction_id}",
            "version": 1,
            "guild_id": str(GUILD_ID),
            "channel_id": str(CHANNEL_ID),
            "channel": {"id": str(CHANNEL_ID), "type": 0, "guild_id": str(GUILD_ID), "name": "general"},
            "member": member,
            "data": data,
            "locale": "en-US",
            "guild_locale": "en-US",
            "app_permissions": self.app_permissions,
            "entitlements": [],
            "authorizing_integration_owners": {"0": str(GUILD_ID)},
            "context": 0,
            "attachment_size_limit": 10 * 1024 * 1024,
            **extra,
        }

    async def command(
        self, user_id: int, words: str, *, permissions: str = NOTHING, display: str = "member", **options: Any
    ) -> str:
        """A member runs a slash command (`"event create"`, `"subscribe"`...); returns the interaction id."""
        head, *sub = words.split()
        values = [
            {"name": k, "type": 5 if isinstance(v, bool) else 3, "value": v}
            for k, v in options.items()
            if v is not None
        ]
        data: dict[str, Any] = {"id": str(self.next_id()), "name": head, "type": 1}
        data["options"] = [{"name": sub[0], "type": 1, "options": values}] if sub else values
        payload = self._interaction(2, data, self._member(user_id, display, permissions))
        await self.dispatch("INTERACTION_CREATE", payload)
        return str(payload["id"])

    async def press(
        self,
        user_id: int,
        custom_id: str,
        message: dict[str, Any],
        *,
        display: str = "member",
        permissions: str = NOTHING,
    ) -> str:
        """A member presses a button on `message`; returns the interaction id."""
        data = {"custom_id": custom_id, "component_type": 2}
        payload = self._interaction(3, data, self._member(user_id, display, permissions), message=message)
        await self.dispatch("INTERACTION_CREATE", payload)
        return str(payload["id"])

    async def press_in_dm(
        self, user_id: int, custom_id: str, message: dict[str, Any], *, display: str = "member"
    ) -> str:
        """A member presses a button on a message in their direct messages with the bot: the interaction names no
        guild and carries a `user` instead of a `member`, as Discord sends it; returns the interaction id."""
        payload = self._interaction(3, {"custom_id": custom_id, "component_type": 2}, {}, message=message)
        for key in ("guild_id", "member", "guild_locale"):
            payload.pop(key)
        channel = str(dm_channel(user_id))
        payload.update(
            user=user(user_id, display),
            channel_id=channel,
            channel={"id": channel, "type": 1, "recipients": [user(user_id, display)]},
            authorizing_integration_owners={"0": str(GUILD_ID)},
            context=1,
        )
        await self.dispatch("INTERACTION_CREATE", payload)
        return str(payload["id"])

    async def autocomplete(self, user_id: int, words: str, option: str, typed: str) -> str:
        """A member types into an autocompleted option; returns the interaction id."""
        head, *sub = words.split()
        focused = [{"name": option, "type": 3, "value": typed, "focused": True}]
        data: dict[str, Any] = {"id": str(self.next_id()), "name": head, "type": 1}
        data["options"] = [{"name": sub[0], "type": 1, "options": focused}] if sub else focused
        payload = self._interaction(4, data, self._member(user_id, "member", NOTHING))
        await self.dispatch("INTERACTION_CREATE", payload)
        return str(payload["id"])

    async def submit(self, user_id: int, custom_id: str, values: dict[str, str]) -> str:
        """A member submits a modal with these text inputs (by custom id); returns the interaction id."""
        rows = [{"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]} for k, v in values.items()]
        payload = self._interaction(
            5, {"custom_id": custom_id, "components": rows}, self._member(user_id, "o", NOTHING)
        )
        await self.dispatch("INTERACTION_CREATE", payload)
        return str(payload["id"])

    # What a user would see

    def responses(self, interaction_id: str) -> list[dict[str, Any]]:
        """Everything the bot sent in answer to one interaction: its callback and follow-ups, as message bodies."""
        out: list[dict[str, Any]] = []
        token = None
        for call in self.calls:
            if call.method == "POST" and call.path.startswith(f"/interactions/{interaction_id}/"):
                token = call.path.split("/")[3]
                out.append({"type": call.body.get("type"), **(call.body.get("data") or {})})
            elif token and call.path.startswith(f"/webhooks/{APP_ID}/{token}"):
                out.append(call.body or {})
        return out

    def shown(self, interaction_id: str) -> list[dict[str, Any]]:
        """The messages a member can see that answer one interaction (responses and follow-ups, not deleted)."""
        token = self._tokens.get(interaction_id)
        ids = self._shown.get(token, []) if token else []
        return [self.messages[i] for i in ids if i in self.messages]

    async def answer(self, interaction_id: str, timeout: float = 10.0) -> dict[str, Any]:
        """The message the member finally sees for one interaction (waiting past any defer)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            token = self._tokens.get(interaction_id)
            if token and "pending" not in self._shown.get(token, []) and (shown := self.shown(interaction_id)):
                return shown[-1]
            await asyncio.sleep(0.02)
        raise AssertionError(f"interaction {interaction_id} was not answered: {self.responses(interaction_id)}")

    async def wait_for(self, check: Any, timeout: float = 10.0) -> None:
        """Poll until `check()` is truthy (fail after `timeout`)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while not check():
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError("timed out")
            await asyncio.sleep(0.02)

    def sent(self) -> list[dict[str, Any]]:
        """Every message body the bot sent or edited: responses, follow-ups, edits and channel posts."""
        bodies = []
        for call in self.calls:
            if call.method not in ("POST", "PATCH") or not isinstance(call.body, dict):
                continue
            if call.path.startswith("/interactions/"):
                if call.body.get("type") in (4, 7):
                    bodies.append(call.body.get("data") or {})
            elif call.path.startswith(("/webhooks/", "/channels/")):
                bodies.append(call.body)
        return bodies

    def posted(self, channel_id: int) -> list[dict[str, Any]]:
        """The messages the bot posted to a channel through the REST API (not interaction responses)."""
        return [body for channel, body in self.created if channel == channel_id]


def dm_channel(user_id: int) -> int:
    """The id of the fake's DM channel with a user."""
    return user_id + 1
