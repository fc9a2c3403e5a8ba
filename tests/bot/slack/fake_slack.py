"""A local fake of the Slack Web API, response URLs and the Socket Mode websocket, recording every request."""

from __future__ import annotations

import asyncio
import base64
import json
import secrets
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

TEAM = "T0TEAM"
BOT_USER = "U0BOT"


@dataclass(frozen=True)
class Call:
    """One request the fake received: the Web API method (or `respond/NAME`), its parsed body and raw text."""

    method: str
    body: dict[str, Any]
    raw: str
    headers: dict[str, str]
    at: float

    @property
    def token(self) -> str:
        """The bearer token the call was made with ("" without one)."""
        return self.headers.get("Authorization", "").removeprefix("Bearer ")


class FakeSlack:
    """Answers like Slack on 127.0.0.1; `rate_limit[channel] = n` answers the next n posts there with 429.

    A token belongs to workspace `teams[token]` (TEAM when not listed); `installs[code] = team` lets oauth.v2.access
    exchange that code for a new bot token of `team`; a token in `revoked` is answered `token_revoked`.
    """

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.teams: dict[str, str] = {}
        self.installs: dict[str, str] = {}
        self.revoked: set[str] = set()
        self.client = ("", "")  # the app's client id and secret oauth.v2.access accepts
        self.zones: dict[str, str] = {}  # users.info gives these users this profile zone (tz)
        self.rate_limit: dict[str, int] = defaultdict(int)
        self.refuse: dict[str, str] = {}  # channel -> Slack error code for chat.postMessage there
        self.admins: set[str] = set()  # users.info says these users administer the workspace
        self.owners: set[str] = set()  # ... and these own it (is_owner, without is_admin)
        self.socket_messages: list[dict[str, Any]] = []
        self._sockets: list[web.WebSocketResponse] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        """Listen on a free loopback port."""
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)  # slack_sdk reads some methods (users.info) with GET
        app.router.add_post("/respond/{name}", self._respond)
        app.router.add_get("/socket", self._socket)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def close(self) -> None:
        """Stop listening and close any websocket."""
        for ws in self._sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def api_url(self) -> str:
        """The Web API base URL (SLACK_API_URL)."""
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str = "r1") -> str:
        """A response_url that posts back here."""
        return f"http://127.0.0.1:{self.port}/respond/{name}"

    async def _record(self, request: web.Request, method: str) -> Call:
        raw = await request.text()
        body = json.loads(raw or "{}") if request.content_type == "application/json" else dict(parse_qsl(raw))
        body.update(request.query)
        call = Call(method, body, raw, dict(request.headers), time.time())
        self.calls.append(call)
        return call

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        call = await self._record(request, method)
        if method == "oauth.v2.access":
            return self._oauth_access(call)
        if call.token in self.revoked:
            return web.json_response({"ok": False, "error": "token_revoked"})
        team = self.teams.get(call.token, TEAM)
        if method == "auth.test":
            return web.json_response(
                {"ok": True, "team_id": team, "user_id": BOT_USER, "bot_id": "B0BOT", "team": "Team", "user": "soonish"}
            )
        if method == "users.info":
            user = str(call.body.get("user", ""))
            info: dict[str, Any] = {
                "id": user,
                "team_id": team,
                "is_admin": user in self.admins,
                "is_owner": user in self.owners,
            }
            if user in self.zones:
                info["tz"] = self.zones[user]
            return web.json_response({"ok": True, "user": info})
        if method == "apps.connections.open":
            return web.json_response({"ok": True, "url": f"ws://127.0.0.1:{self.port}/socket"})
        if method == "chat.postMessage":
            channel = str(call.body.get("channel", ""))
            if self.rate_limit[channel] > 0:
                self.rate_limit[channel] -= 1
                return web.json_response(
                    {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "1"}
                )
            if channel in self.refuse:
                return web.json_response({"ok": False, "error": self.refuse[channel]})
            return web.json_response({"ok": True, "channel": channel, "ts": f"{time.time():.6f}"})
        return web.json_response({"ok": True})

    def _oauth_access(self, call: Call) -> web.Response:
        """Exchange an install's code for a bot token, as Slack's OAuth v2 does (client credentials in Basic auth)."""
        expected = "Basic " + base64.b64encode(":".join(self.client).encode()).decode()
        if call.headers.get("Authorization") != expected:
            return web.json_response({"ok": False, "error": "invalid_client_id"})
        team = self.installs.pop(str(call.body.get("code", "")), None)
        if team is None:
            return web.json_response({"ok": False, "error": "invalid_code"})
        token = f"xoxb-{team}-{secrets.token_hex(12)}"
        self.teams[token] = team
        return web.json_response(
            {
                "ok": True,
                "app_id": "A0APP",
                "authed_user": {"id": "U0INSTALLER"},
                "scope": "commands,chat:write,chat:write.public,im:write,users:read",
                "token_type": "bot",
                "access_token": token,
                "bot_user_id": BOT_USER,
                "team": {"id": team, "name": f"Team {team}"},
                "enterprise": None,
                "is_enterprise_install": False,
            }
        )

    def tokens_of(self, team: str) -> set[str]:
        """The bot tokens installs into `team` were given."""
        return {token for token, of in self.teams.items() if of == team}

    async def _respond(self, request: web.Request) -> web.Response:
        await self._record(request, "respond/" + request.match_info["name"])
        return web.Response(text="ok")

    async def _socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        await ws.send_json({"type": "hello", "num_connections": 1})
        async for msg in ws:
            if msg.type == WSMsgType.TEXT:
                self.socket_messages.append(json.loads(msg.data))
        return ws

    @property
    def socket_connected(self) -> bool:
        """Whether an app has opened the Socket Mode websocket."""
        return bool(self._sockets)

    async def socket_send(self, envelope: dict[str, Any]) -> None:
        """Deliver one Socket Mode envelope to the connected app."""
        await self._sockets[-1].send_json(envelope)

    def methods(self, method: str) -> list[Call]:
        """The calls of one method, in order."""
        return [c for c in self.calls if c.method == method]

    def posts(self, channel: str) -> list[Call]:
        """Messages posted with chat.postMessage to one channel."""
        return [c for c in self.methods("chat.postMessage") if c.body.get("channel") == channel]

    async def wait_for(self, check: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Poll until `check()` is truthy; return its value (fail after `timeout`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = check()
            if value:
                return value
            await asyncio.sleep(0.05)
        raise AssertionError(f"timed out; calls so far: {[c.method for c in self.calls]}")
