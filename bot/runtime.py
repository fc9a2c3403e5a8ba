"""Wiring: from settings to a migrated database, a Temporal client (embedded server if needed) and the core."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.worker import Worker

from bot.embedded import DevServer, port_open
from core.config import Settings
from core.db import create_engine, migrate, session_factory
from core.destinations import Adapter, DiscordAdapter, Sender, SlackAdapter
from core.errors import SchedulerUnavailable
from core.models import utcnow
from core.scheduling import TemporalScheduler
from core.secrets import SecretBox
from core.service import Core
from workflows.activities import ReminderActivities
from workflows.worker import build_worker

log = logging.getLogger(__name__)

# temporalio can abort at interpreter exit if a call is still settling (sdk-python issue 300).
EXIT_PAUSE = 0.1


@dataclass
class Runtime:
    """Everything a Soonish process runs on."""

    settings: Settings
    engine: AsyncEngine
    client: Client
    core: Core
    dev_server: DevServer | None

    def worker(self, client: Client | None = None) -> Worker:
        """A worker sharing the core's database and sender (on its own client if given)."""
        activities = ReminderActivities(
            sessions=self.core.sessions,
            secrets=self.core.secrets,
            sender=self.core.sender,
            late_after=timedelta(seconds=self.settings.late_after_seconds),
        )
        return build_worker(client or self.client, task_queue=self.settings.temporal_task_queue, activities=activities)


async def _temporal(settings: Settings, stack: AsyncExitStack, *, embed: bool) -> tuple[Client, DevServer | None]:
    server = None
    address = settings.temporal_address
    if not address and embed:
        port = settings.temporal_port if not port_open("127.0.0.1", settings.temporal_port) else None
        ui_port = settings.temporal_ui_port if not port_open("127.0.0.1", settings.temporal_ui_port) else None
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        server = await DevServer.start(
            db_file=settings.data_dir / "temporal.db",
            port=port,
            ui_port=ui_port,
            log_file=settings.data_dir / "temporal.log",
        )
        stack.callback(server.stop)
        address = server.address
    address = address or f"127.0.0.1:{settings.temporal_port}"
    try:
        client = await Client.connect(address, namespace=settings.temporal_namespace)
    except RuntimeError as exc:
        raise SchedulerUnavailable(
            f"Cannot reach Temporal at {address}. Start it (see the Procfile's temporal line), "
            "set TEMPORAL_ADDRESS, or use `soonish up`, which starts its own."
        ) from exc
    return client, server


@asynccontextmanager
async def open_database(settings: Settings) -> AsyncIterator[AsyncEngine]:
    """An engine on the configured database, migrated to the newest schema; disposed on exit."""
    engine = create_engine(settings.resolved_database_url)
    try:
        await migrate(engine)
        yield engine
    finally:
        await engine.dispose()


def platform_adapters(settings: Settings) -> list[Adapter]:
    """The bot's own destinations this process can deliver to, from the tokens it was given."""
    adapters: list[Adapter] = []
    if settings.discord_token is not None and settings.discord_token.get_secret_value():
        adapters.append(
            DiscordAdapter(token=settings.discord_token.get_secret_value(), base_url=settings.discord_api_base)
        )
    if settings.slack_bot_token is not None and settings.slack_bot_token.get_secret_value():
        adapters.append(
            SlackAdapter(
                token=settings.slack_bot_token.get_secret_value(),
                api_url=settings.slack_api_url,
                interval=settings.slack_channel_interval_seconds,
            )
        )
    return adapters


@asynccontextmanager
async def open_runtime(
    settings: Settings, *, embed_temporal: bool = False, clock: Callable[[], datetime] = utcnow
) -> AsyncIterator[Runtime]:
    """Migrate the database, connect to (or start) Temporal and build the core; undo all of it on exit."""
    async with AsyncExitStack() as stack:
        engine = await stack.enter_async_context(open_database(settings))
        sender = Sender(allow_private=settings.allow_private_urls, adapters=platform_adapters(settings))
        stack.push_async_callback(sender.aclose)
        client, server = await _temporal(settings, stack, embed=embed_temporal)
        core = Core(
            sessions=session_factory(engine),
            scheduler=TemporalScheduler(
                client,
                instance=settings.instance,
                task_queue=settings.temporal_task_queue,
                send_ahead_seconds=settings.send_ahead_seconds,
            ),
            secrets=SecretBox(settings.encryption_key),
            sender=sender,
            allow_private_urls=settings.allow_private_urls,
            clock=clock,
            public_url=settings.public_url.rstrip("/"),
        )
        yield Runtime(settings=settings, engine=engine, client=client, core=core, dev_server=server)
        await asyncio.sleep(EXIT_PAUSE)
