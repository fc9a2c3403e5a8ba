"""The HTTP API: each endpoint parses its input, calls one core service function and renders the result."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi_offline import FastAPIOffline
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot.api import schemas
from bot.probes import CommandCounter
from core import service
from core.errors import InvalidInput, RateLimited, SoonishError, Unauthenticated
from core.service import Core
from core.views import Actor, CalendarFile

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024
TOO_LARGE = f"The request body is larger than {MAX_BODY_BYTES // 1024} KiB; send less."
UNEXPECTED = "Something went wrong on our side; nothing was changed."
NO_KEY = "Send your API key in an 'Authorization: Bearer <key>' header."
MAX_REPORTED_ERRORS = 5

_bearer = HTTPBearer(auto_error=False, description="A Soonish API key (it starts with snk_).")


def _core(request: Request) -> Core:
    return cast(Core, request.app.state.core)


CoreDep = Annotated[Core, Depends(_core)]


async def _actor(core: CoreDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Actor:
    if credentials is None or not credentials.credentials:
        raise Unauthenticated(NO_KEY)
    return await service.authenticate_api_key(core=core, key=credentials.credentials)


ActorDep = Annotated[Actor, Depends(_actor)]

_ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": schemas.Error, "description": description}
    for status, description in (
        (401, "No API key, or not a valid one."),
        (403, "Only the event's organizer may do this."),
        (404, "Not found in your tenant."),
        (409, "Clashes with the current state."),
        (413, "The request body is too large."),
        (422, "The input is not valid; the message says what to fix."),
        (429, "A quota was reached; the message and the Retry-After header say when to try again."),
        (500, "Something went wrong on our side."),
        (503, "The reminder scheduler is unreachable; nothing was changed."),
    )
}

router = APIRouter(responses=_ERRORS)


@router.post("/events", status_code=201, tags=["events"])
async def create_event(body: schemas.EventCreate, core: CoreDep, actor: ActorDep) -> schemas.Event:
    """Create an event and start its reminders."""
    return schemas.Event.of(await service.create_event(core=core, actor=actor, draft=body.draft()))


@router.get("/events", tags=["events"])
async def list_events(core: CoreDep, actor: ActorDep, include_past: bool = False) -> list[schemas.Event]:
    """Upcoming events, soonest first; with include_past, also those that ended or were cancelled."""
    events = await service.list_events(core=core, actor=actor, include_past=include_past)
    return [schemas.Event.of(event) for event in events]


@router.get("/events/{event_id}", tags=["events"])
async def show_event(event_id: str, core: CoreDep, actor: ActorDep) -> schemas.Event:
    """One event, by id or code."""
    return schemas.Event.of(await service.show_event(core=core, actor=actor, ref=event_id))


@router.post("/events/{event_id}/update", tags=["events"])
async def update_event(event_id: str, body: schemas.EventUpdate, core: CoreDep, actor: ActorDep) -> schemas.Event:
    """Change an event (organizer only); a new time moves every pending reminder. With from_occurrence, change a
    series from that occurrence on (it is split there; the answer is the new series)."""
    if body.from_occurrence:
        view = await service.change_series_from(
            core=core,
            actor=actor,
            ref=event_id,
            occurrence=body.from_occurrence,
            patch=body.patch(),
            repeat=body.recurrence,
        )
        return schemas.Event.of(view)
    if body.recurrence:
        raise InvalidInput(
            "A new recurrence goes with from_occurrence (the occurrence it starts from).", field="recurrence"
        )
    return schemas.Event.of(await service.update_event(core=core, actor=actor, ref=event_id, patch=body.patch()))


@router.get("/events/{event_id}/occurrences", tags=["events"])
async def list_occurrences(event_id: str, core: CoreDep, actor: ActorDep, limit: int = 10) -> list[schemas.Occurrence]:
    """The event's occurrences that have not ended, soonest first (a one-off event has one); cancelled ones too."""
    views = await service.list_occurrences(core=core, actor=actor, ref=event_id, limit=limit)
    return [schemas.Occurrence.of(view) for view in views]


@router.post("/events/{event_id}/occurrences/{start_time}/cancel", tags=["events"])
async def cancel_occurrence(event_id: str, start_time: str, core: CoreDep, actor: ActorDep) -> schemas.Occurrence:
    """Cancel one occurrence of a series, named by its original start_time (organizer only); its subscribers are
    told and nobody is reminded of it."""
    view = await service.cancel_occurrence(core=core, actor=actor, ref=event_id, occurrence=start_time)
    return schemas.Occurrence.of(view)


@router.post("/events/{event_id}/occurrences/{start_time}/move", tags=["events"])
async def move_occurrence(
    event_id: str, start_time: str, body: schemas.OccurrenceMove, core: CoreDep, actor: ActorDep
) -> schemas.Occurrence:
    """Move one occurrence of a series (organizer only); it stays between the occurrences before and after it."""
    view = await service.move_occurrence(
        core=core, actor=actor, ref=event_id, occurrence=start_time, start=body.start_time
    )
    return schemas.Occurrence.of(view)


@router.post("/events/{event_id}/cancel", tags=["events"])
async def cancel_event(event_id: str, core: CoreDep, actor: ActorDep) -> schemas.Event:
    """Cancel an event (organizer only): its reminders stop and its subscribers are told."""
    return schemas.Event.of(await service.cancel_event(core=core, actor=actor, ref=event_id))


@router.get("/events/{event_id}/deliveries", tags=["events"])
async def event_deliveries(
    event_id: str, core: CoreDep, actor: ActorDep, response: Response, limit: int = 100, offset: int = 0
) -> list[schemas.Delivery]:
    """The event's delivery log, newest first, `limit` entries from `offset` (at most 500 a page): all of it
    for the organizer, your own entries otherwise. `X-Total-Count` says how many entries the log holds."""
    log = await service.event_deliveries(core=core, actor=actor, ref=event_id, limit=limit, offset=offset)
    response.headers["X-Total-Count"] = str(log.total)
    return [schemas.Delivery.of(row) for row in log.entries]


@router.post("/events/{event_id}/subscribe", status_code=201, tags=["subscriptions"])
async def subscribe(
    event_id: str, core: CoreDep, actor: ActorDep, body: schemas.SubscriptionRequest | None = None
) -> schemas.Subscription:
    """Subscribe to an event, or change your subscription; answers with the next reminders."""
    body = body or schemas.SubscriptionRequest()
    view = await service.subscribe(
        core=core,
        actor=actor,
        ref=event_id,
        tags=body.tags,
        custom_time_delta_seconds=body.custom_time_delta_seconds,
        custom_frequency=body.custom_frequency,
        occurrence=body.occurrence,
    )
    return schemas.Subscription.of(view)


@router.post("/events/{event_id}/unsubscribe", tags=["subscriptions"])
async def unsubscribe(event_id: str, core: CoreDep, actor: ActorDep) -> schemas.Unsubscribed:
    """Stop your reminders for an event."""
    return schemas.Unsubscribed(event_name=await service.unsubscribe(core=core, actor=actor, ref=event_id))


@router.post("/integrations", status_code=201, tags=["integrations"])
async def add_integration(body: schemas.IntegrationCreate, core: CoreDep, actor: ActorDep) -> schemas.Integration:
    """Register a destination (an Apprise URL); it is checked, encrypted, and only ever shown masked."""
    view = await service.add_integration(core=core, actor=actor, url=body.url, tags=body.tags, label=body.label)
    return schemas.Integration.of(view)


@router.get("/integrations", tags=["integrations"])
async def list_integrations(core: CoreDep, actor: ActorDep) -> list[schemas.Integration]:
    """Your destinations, masked."""
    return [schemas.Integration.of(view) for view in await service.list_integrations(core=core, actor=actor)]


@router.delete("/integrations/{integration_id}", tags=["integrations"])
async def remove_integration(integration_id: str, core: CoreDep, actor: ActorDep) -> schemas.Integration:
    """Remove one of your destinations, by id or label; answers with what was removed."""
    return schemas.Integration.of(await service.remove_integration(core=core, actor=actor, ref=integration_id))


@router.post("/integrations/{integration_id}/test", tags=["integrations"])
async def test_integration(integration_id: str, core: CoreDep, actor: ActorDep) -> schemas.IntegrationTest:
    """Send a test message to one of your destinations now."""
    return schemas.IntegrationTest.of(await service.test_integration(core=core, actor=actor, ref=integration_id))


@router.get("/me", tags=["me"])
async def show_user(core: CoreDep, actor: ActorDep) -> schemas.User:
    """Your own settings."""
    return schemas.User.of(await service.show_user(core=core, actor=actor))


@router.put("/me/timezone", tags=["me"])
async def set_timezone(body: schemas.TimezoneUpdate, core: CoreDep, actor: ActorDep) -> schemas.User:
    """Set the zone in which your times are read."""
    return schemas.User.of(await service.set_timezone(core=core, actor=actor, timezone=body.timezone))


@router.get("/me/settings", tags=["me"])
async def show_settings(core: CoreDep, actor: ActorDep) -> schemas.Settings:
    """Your defaults for subscribing without options."""
    return schemas.Settings.of(await service.show_user(core=core, actor=actor))


@router.patch("/me/settings", tags=["me"])
async def update_settings(body: schemas.SettingsUpdate, core: CoreDep, actor: ActorDep) -> schemas.Settings:
    """Change your defaults for subscribing without options; what you leave out stays as it is."""
    view = await service.set_defaults(core=core, actor=actor, remind=body.default_offsets, tags=body.default_tags)
    return schemas.Settings.of(view)


@router.get("/channels/follows", tags=["channels"])
async def list_follows(core: CoreDep, actor: ActorDep) -> schemas.Follows:
    """The channels you follow."""
    return schemas.Follows.of(await service.list_follows(core=core, actor=actor))


@router.post("/channels/follow", tags=["channels"])
async def follow_channel(body: schemas.ChannelRequest, core: CoreDep, actor: ActorDep) -> schemas.Follows:
    """Follow a channel: events created later with this channel_url subscribe you with your defaults."""
    view = await service.follow_channel(core=core, actor=actor, channel_url=body.channel_url, trusted=False)
    return schemas.Follows.of(view)


@router.post("/channels/unfollow", tags=["channels"])
async def unfollow_channel(body: schemas.ChannelRequest, core: CoreDep, actor: ActorDep) -> schemas.Follows:
    """Stop following a channel; events already subscribed stay."""
    view = await service.unfollow_channel(core=core, actor=actor, channel_url=body.channel_url, trusted=False)
    return schemas.Follows.of(view)


CALENDAR_TYPE = "text/calendar; charset=utf-8"
_CALENDAR_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {"text/calendar": {}}}}


def _calendar(file: CalendarFile, *, private: bool) -> Response:
    headers = {"Content-Disposition": f'inline; filename="{file.filename}"'}
    if private:
        # The URL is the credential: keep it out of shared caches and of Referer headers.
        headers.update({"Cache-Control": "private, no-cache", "Referrer-Policy": "no-referrer"})
    return Response(file.content, media_type=CALENDAR_TYPE, headers=headers)


@router.get("/events/{event_id}/ics", tags=["calendars"], response_class=Response, responses=_CALENDAR_RESPONSE)
async def event_calendar(event_id: str, core: CoreDep, actor: ActorDep) -> Response:
    """One event as an iCalendar (.ics) file."""
    return _calendar(await service.event_calendar(core=core, actor=actor, ref=event_id), private=False)


@router.get("/calendar/feed", tags=["calendars"])
async def calendar_feed(core: CoreDep, actor: ActorDep) -> schemas.CalendarFeed:
    """The URL of your private calendar feed: every event you subscribe to, with your reminders as alarms."""
    return schemas.CalendarFeed.of(await service.calendar_feed(core=core, actor=actor))


@router.post("/calendar/feed/rotate", tags=["calendars"])
async def rotate_calendar_feed(core: CoreDep, actor: ActorDep) -> schemas.CalendarFeed:
    """A new URL for your private calendar feed; the previous one stops working at once."""
    return schemas.CalendarFeed.of(await service.rotate_calendar_feed(core=core, actor=actor))


@router.get("/calendar/{token}.ics", tags=["calendars"], response_class=Response, responses=_CALENDAR_RESPONSE)
async def feed_calendar(token: str, core: CoreDep) -> Response:
    """A private calendar feed; its URL is the only credential (get yours from /calendar/feed)."""
    return _calendar(await service.feed_calendar(core=core, token=token), private=True)


@router.get(
    "/calendar/event/{event_id}/{token}.ics", tags=["calendars"], response_class=Response, responses=_CALENDAR_RESPONSE
)
async def public_event_calendar(event_id: str, token: str, core: CoreDep) -> Response:
    """One event's .ics by its public link (shown on its announcement and by /event info); no API key needed."""
    return _calendar(await service.public_event_calendar(core=core, event_id=event_id, token=token), private=True)


@router.get("/calendar/public/{token}.ics", tags=["calendars"], response_class=Response, responses=_CALENDAR_RESPONSE)
async def public_feed_calendar(token: str, core: CoreDep) -> Response:
    """A channel's (or a whole community's) public feed of upcoming events; its URL is the only credential."""
    return _calendar(await service.public_feed_calendar(core=core, token=token), private=True)


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


async def _soonish_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, SoonishError):  # pragma: no cover - registered for SoonishError only
        raise exc
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, Unauthenticated) else None
    if isinstance(exc, RateLimited):
        headers = {"Retry-After": str(exc.retry_after)}
    return _error(exc.status, exc.message, headers)


def _reason(error: dict[str, Any]) -> tuple[str, str]:
    # Built from the location and pydantic's message only: its `input` may hold a URL with secrets.
    kind = str(error.get("type", ""))
    loc = [str(part) for part in error.get("loc", ())]
    where = ".".join(loc[1:]) if len(loc) > 1 else (loc[0] if loc else "request")
    if kind == "json_invalid":
        return "body", "not valid JSON"
    if kind == "missing":
        return where, "a JSON object is required" if loc == ["body"] else "this field is required"
    if kind == "extra_forbidden":
        return where, "unknown field"
    if loc == ["body"] and kind in ("model_attributes_type", "dict_type", "model_type"):
        return where, "send a JSON object"
    return where, str(error.get("msg", "not valid"))


def describe_validation(errors: Sequence[Any]) -> str:
    """One line naming each bad field and what is wrong with it, without echoing what was sent."""
    parts = dict.fromkeys(f"{where}: {reason}" for where, reason in map(_reason, errors))
    shown = list(parts)[:MAX_REPORTED_ERRORS]
    return "; ".join(shown) or "The request is not valid."


async def _validation_error(request: Request, exc: Exception) -> Response:
    errors = exc.errors() if isinstance(exc, RequestValidationError) else []
    return _error(422, describe_validation(errors))


async def _http_error(request: Request, exc: Exception) -> Response:
    if not isinstance(exc, HTTPException):  # pragma: no cover - registered for HTTPException only
        raise exc
    return _error(exc.status_code, str(exc.detail), dict(exc.headers or {}))


def _loggable(path: str) -> str:
    # A calendar feed's path is its credential.
    return "/calendar/***.ics" if path.startswith("/calendar/") and path.endswith(".ics") else path


class _TooLarge(Exception):
    pass


class RequestGuard:
    """Refuses oversized bodies, and turns an unexpected exception into a logged, friendly 500.

    Pure ASGI (not BaseHTTPMiddleware) so the body is counted before anything parses it, and an
    error is answered here instead of reaching the server, which would log it a second time.
    """

    def __init__(self, app: ASGIApp, max_body: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body = max_body

    async def _read(self, receive: Receive) -> Message | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body:
                raise _TooLarge
            chunks.append(chunk)
            if not message.get("more_body", False):
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        try:
            if declared.isdigit() and int(declared) > self.max_body:
                raise _TooLarge
            body = await self._read(receive)
        except _TooLarge:
            await _error(413, TOO_LARGE)(scope, receive, send)
            return
        if body is None:
            return

        pending: list[Message] = [body]

        async def replay() -> Message:
            return pending.pop() if pending else await receive()

        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, replay, watch)
        except Exception:
            # The path names the endpoint; the body and query may hold secrets and are not logged.
            log.exception("unexpected error answering %s %s", scope.get("method"), _loggable(str(scope.get("path"))))
            if not started:
                await _error(500, UNEXPECTED)(scope, receive, send)


def build_api(core: Core) -> FastAPI:
    """The HTTP API over `core`; OpenAPI documentation at /docs."""
    # Swagger UI and ReDoc from assets shipped with fastapi-offline, so /docs works without the internet.
    app = FastAPIOffline(
        title="Soonish",
        summary="Event reminders, delivered on time, exactly once.",
        description='Send your API key as `Authorization: Bearer <key>`. Errors are `{"error": "..."}`.',
        docs_url="/docs",
        redoc_url="/redoc",
        static_url="/docs-assets",
        swagger_ui_parameters={"validatorUrl": None},  # the default validator is a public web service
    )
    app.state.core = core
    app.include_router(router)
    app.add_exception_handler(SoonishError, _soonish_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_middleware(RequestGuard)
    app.add_middleware(CommandCounter)
    return app
