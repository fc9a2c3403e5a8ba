"""Running the Slack app: Socket Mode when an app token is set (no public URL), HTTP mode with the signing secret.

An app installed with OAuth always runs in HTTP mode: besides Slack's requests it serves the install link
(/slack/install) and the page Slack sends the installer back to (/slack/oauth_redirect).
"""

from __future__ import annotations

import asyncio

from fastapi import FastAPI, Request, Response
from slack_bolt.adapter.socket_mode.aiohttp import AsyncSocketModeHandler
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp

from bot.api.server import make_server
from core.config import Settings


def http_app(app: AsyncApp, *, path: str) -> FastAPI:
    """An ASGI app that hands Slack's signed requests at `path` to the Bolt app."""
    web = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    handler = AsyncSlackRequestHandler(app)

    @web.post(path)
    async def slack_events(request: Request) -> Response:
        return await handler.handle(request)

    flow = app.oauth_flow
    if flow is not None:

        async def install(request: Request) -> Response:
            return await handler.handle(request)

        for route in (flow.install_path, flow.redirect_uri_path):
            web.add_api_route(route, install, methods=["GET"], include_in_schema=False)

    return web


class SlackRunner:
    """Receives Slack's requests until `stop()`: over Socket Mode, or as an HTTP server."""

    def __init__(self, app: AsyncApp, *, app_token: str | None, host: str, port: int, path: str) -> None:
        self._app = app
        self._app_token = app_token
        self._stop = asyncio.Event()
        self._server = None if app_token else make_server(http_app(app, path=path), host=host, port=port)
        self._connected = False
        self.where = "Socket Mode (no public URL needed)" if app_token else f"HTTP http://{host}:{port}{path}"
        if app.oauth_flow is not None and not app_token:
            self.where += f", installs into workspaces at http://{host}:{port}{app.oauth_flow.install_path}"

    @classmethod
    def from_settings(cls, app: AsyncApp, settings: Settings) -> SlackRunner:
        """Socket Mode when SLACK_APP_TOKEN is set, HTTP mode otherwise."""
        token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
        if settings.slack_oauth:
            token = None
        return cls(
            app, app_token=token or None, host=settings.slack_host, port=settings.slack_port, path=settings.slack_path
        )

    @property
    def ready(self) -> bool:
        """Whether Slack's requests are being received."""
        return self._server.started if self._server is not None else self._connected

    async def run(self) -> None:
        """Serve until stopped."""
        if self._server is not None:
            await self._server.serve()
            return
        handler = AsyncSocketModeHandler(self._app, app_token=self._app_token)
        await handler.connect_async()  # type: ignore[no-untyped-call]
        self._connected = True
        try:
            await self._stop.wait()
        finally:
            self._connected = False
            await handler.close_async()  # type: ignore[no-untyped-call]

    def stop(self) -> None:
        """Ask `run` to return."""
        self._stop.set()
        if self._server is not None:
            self._server.should_exit = True
