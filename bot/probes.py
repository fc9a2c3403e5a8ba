"""Health, readiness and metrics over HTTP: on the API, and on SOONISH_METRICS_PORT for workers and bots."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

import httpx
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, TelemetryConfig
from temporalio.runtime import Runtime as TemporalRuntime

from bot.embedded import free_port
from core import metrics
from core.logformat import log_fields

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 3.0
PROBE_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


@cache
def temporal_runtime() -> tuple[TemporalRuntime, str]:
    """This process's Temporal SDK runtime, its own metrics served on a loopback port that /metrics forwards."""
    address = f"127.0.0.1:{free_port()}"
    runtime = TemporalRuntime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=address)))
    return runtime, f"http://{address}/metrics"


@dataclass
class Probes:
    """What /readyz checks and what /metrics adds to Soonish's own metrics."""

    sessions: async_sessionmaker[AsyncSession]
    client: Client
    temporal_metrics_url: str | None = None

    async def _database(self) -> str:
        async with self.sessions() as session:
            await session.execute(text("SELECT 1"))
        return "ok"

    async def _temporal(self) -> str:
        healthy = await self.client.service_client.check_health(timeout=timedelta(seconds=CHECK_TIMEOUT))
        return "ok" if healthy else "not serving"

    async def readiness(self) -> dict[str, str]:
        """Each dependency's state: "ok", or a short reason that names no address or credential."""
        states: dict[str, str] = {}
        for name, check in (("database", self._database), ("temporal", self._temporal)):
            try:
                states[name] = await asyncio.wait_for(check(), CHECK_TIMEOUT)
            except TimeoutError:
                states[name] = "timed out"
            except Exception as exc:  # any failure means not ready; the reason is its kind only
                states[name] = f"unreachable ({type(exc).__name__})"
        return states

    async def temporal_metrics(self) -> bytes:
        if self.temporal_metrics_url is None:
            return b""
        try:
            async with httpx.AsyncClient(timeout=CHECK_TIMEOUT) as http:
                answer = await http.get(self.temporal_metrics_url)
            return answer.content if answer.status_code == 200 else b""
        except httpx.HTTPError:
            return b""


def add_probes(app: FastAPI, probes: Probes) -> None:
    """Add /healthz (alive), /readyz (database and Temporal reachable) and /metrics (Prometheus) to `app`."""

    async def healthz(request: Request) -> Response:
        return JSONResponse({"alive": True})

    async def readyz(request: Request) -> Response:
        states = await probes.readiness()
        ready = all(state == "ok" for state in states.values())
        return JSONResponse({"ready": ready, **states}, status_code=200 if ready else 503)

    async def metrics_page(request: Request) -> Response:
        body = metrics.exposition() + await probes.temporal_metrics()
        return Response(body, media_type=metrics.CONTENT_TYPE)

    app.add_route("/healthz", healthz, methods=["GET"], include_in_schema=False)
    app.add_route("/readyz", readyz, methods=["GET"], include_in_schema=False)
    app.add_route("/metrics", metrics_page, methods=["GET"], include_in_schema=False)


def probe_app(probes: Probes) -> FastAPI:
    """A small app with only the probes, for processes that serve nothing else."""
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    add_probes(app, probes)
    return app


class CommandCounter:
    """Counts API requests as commands of the `api` front end: by route (its template, never the path) and outcome."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path") in PROBE_PATHS:
            await self.app(scope, receive, send)
            return
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            with log_fields(frontend="api"):
                await self.app(scope, receive, watch)
        finally:
            route = _route_of(scope)
            if route is not None:
                outcome = "ok" if status < 400 else "refused" if status < 500 else "error"
                metrics.record_command(frontend="api", command=f"{scope['method']} {route}", outcome=outcome)


def _route_of(scope: Scope) -> str | None:
    """The template of the route that answered (the router records it in the scope), if it is a documented one."""
    route = scope.get("route")
    if route is None or not getattr(route, "include_in_schema", False):
        return None
    return str(route.path)
