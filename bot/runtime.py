"""Wiring: from settings to a migrated database, a Temporal client (embedded server if needed) and the core."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client
from temporalio.runtime import Runtime as TemporalRuntime
from temporalio.service import TLSConfig
from temporalio.worker import Worker

from bot.embedded import DevServer, port_open
from bot.slack.installations import SealedInstallationStore
from core.config import Settings
from core.db import SchemaTooNew, create_engine, migrate, schema_state, session_factory
from core.destinations import Adapter, DiscordAdapter, SlackAdapter
from core.errors import SchedulerUnavailable, SoonishError
from core.metrics import TimedSender
from core.models import utcnow
from core.scheduling import TemporalScheduler
from core.secrets import SecretBox
from core.service import Core
from workflows.activities import ReminderActivities
from workflows.worker import build_worker

log = logging.getLogger(__name__)

EMBEDDED_CONNECT_SECONDS = 15.0
# temporalio can abort at interpreter exit if a call is still settling (sdk-python issue 300).
EXIT_PAUSE = 0.1
# How often a process waiting for `soonish migrate` looks at the schema again.
SCHEMA_POLL_SECONDS = 1.0


@dataclass
class Runtime:
    """Everything a Soonish process runs on."""

    settings: Settings
    engine: AsyncEngine
    client: Client
    core: Core
    dev_server: DevServer | None
    # Each workspace's Slack installation, when Slack is installed with OAuth (SLACK_CLIENT_ID).
    slack_installations: SealedInstallationStore | None = None

    def worker(self, client: Client | None = None) -> Worker:
        """A worker sharing the core's database and sender (on its own client if given)."""
        activities = ReminderActivities(
            sessions=self.core.sessions,
            secrets=self.core.secrets,
            sender=self.core.sender,
            late_after=timedelta(seconds=self.settings.late_after_seconds),
            snooze_seconds=self.settings.snooze_seconds,
        )
        return build_worker(client or self.client, task_queue=self.settings.temporal_task_queue, activities=activities)


async def _temporal(
    settings: Settings, stack: AsyncExitStack, *, embed: bool, runtime: TemporalRuntime | None = None
) -> tuple[Client, DevServer | None]:
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
    if server is not None:
        client = await _connect(settings, server.address, runtime=runtime, external=False)
    else:
        client = await _connect(settings, address or f"127.0.0.1:{settings.temporal_port}", runtime=runtime)
    return client, server


def _tls(settings: Settings) -> TLSConfig | bool:
    if not settings.temporal_uses_tls:
        return False

    def read(path: Path | None) -> bytes | None:
        return path.read_bytes() if path is not None else None

    return TLSConfig(
        server_root_ca_cert=read(settings.temporal_tls_server_ca),
        domain=settings.temporal_tls_server_name,
        client_cert=read(settings.temporal_tls_client_cert),
        client_private_key=read(settings.temporal_tls_client_key),
    )


def _connection_failure(settings: Settings, address: str, error: str) -> str:
    """What to check when connecting failed, naming the setting most likely at fault (never its value)."""
    text = error.lower()
    where = f"Cannot connect to Temporal at {address}"
    if settings.temporal_uses_tls:
        if "notvalidforname" in text or "not valid for name" in text:
            return (
                f"{where}: the server's certificate does not name this host; set TEMPORAL_TLS_SERVER_NAME "
                "to the name in the certificate."
            )
        if any(w in text for w in ("unknownissuer", "invalid peer certificate", "badsignature", "verify failed")):
            trusted = f"the CA in TEMPORAL_TLS_SERVER_CA ({settings.temporal_tls_server_ca})"
            return (
                f"{where}: the server's certificate is not signed by "
                f"{trusted if settings.temporal_tls_server_ca else 'a CA this machine trusts'}; "
                "set TEMPORAL_TLS_SERVER_CA to the CA that signed it."
            )
        if "certificaterequired" in text or "certificate required" in text:
            return f"{where}: the server asks for a client certificate; set TEMPORAL_TLS_CLIENT_CERT and _KEY."
    if "unauthenticated" in text or "api key" in text or "permission" in text:
        return f"{where}: the server refused the credentials; check TEMPORAL_API_KEY (or the client certificate)."
    if settings.temporal_uses_tls:
        mtls = (
            ""
            if settings.temporal_tls_client_cert
            else "; if it requires client certificates (mTLS), set TEMPORAL_TLS_CLIENT_CERT and TEMPORAL_TLS_CLIENT_KEY"
        )
        return f"{where} over TLS: check TEMPORAL_ADDRESS{mtls}; for a server without TLS, set TEMPORAL_TLS=false."
    return (
        f"{where}. Start it (see the Procfile's temporal line), set TEMPORAL_ADDRESS "
        "(and TEMPORAL_TLS / TEMPORAL_API_KEY for a cluster or Temporal Cloud), or use `soonish up`, "
        "which starts its own."
    )


async def _connect(
    settings: Settings, address: str, *, runtime: TemporalRuntime | None, external: bool = True
) -> Client:
    """A client on `address` with the namespace, TLS and API key of the settings (none for the embedded server)."""
    api_key = settings.temporal_api_key.get_secret_value() if settings.temporal_api_key and external else None
    # The embedded server was just started: on a busy machine its port can open before it serves, so give it
    # a few seconds; an external server is asked once and its failure explained at once.
    deadline = asyncio.get_running_loop().time() + (0 if external else EMBEDDED_CONNECT_SECONDS)
    while True:
        try:
            return await Client.connect(
                address,
                namespace=settings.temporal_namespace,
                tls=_tls(settings) if external else False,
                api_key=api_key or None,
                runtime=runtime,
            )
        except RuntimeError as exc:
            log.debug("connecting to Temporal failed: %s", exc)
            if asyncio.get_running_loop().time() >= deadline:
                raise SchedulerUnavailable(_connection_failure(settings, address, str(exc))) from None
            await asyncio.sleep(0.5)


async def _wait_for_schema(engine: AsyncEngine) -> None:
    """Wait until `soonish migrate` has brought the schema to this release's revision; say once what is awaited."""
    told = False
    while not (state := await schema_state(engine)).up_to_date:
        if state.too_new:
            raise SoonishError(f"{state.describe().capitalize()}, newer than this release knows; upgrade Soonish.")
        if not told:
            log.warning(
                "Waiting for the database schema: %s, this release needs %s. Run `soonish migrate` "
                "(SOONISH_MIGRATE_ON_START=false, so this process does not migrate itself).",
                state.describe(),
                ", ".join(sorted(state.head)),
            )
            told = True
        await asyncio.sleep(SCHEMA_POLL_SECONDS)
    if told:
        log.warning("The database schema is up to date; starting.")


@asynccontextmanager
async def open_database(settings: Settings, *, migrate_schema: bool | None = None) -> AsyncIterator[AsyncEngine]:
    """An engine on the configured database at the newest schema; disposed on exit.

    The schema is migrated here (under a lock, so concurrent starts are safe) unless `migrate_schema` is false
    (default: SOONISH_MIGRATE_ON_START); then this waits for `soonish migrate` to do it.
    """
    engine = create_engine(settings.resolved_database_url)
    try:
        if settings.migrate_on_start if migrate_schema is None else migrate_schema:
            try:
                await migrate(engine)
            except SchemaTooNew as exc:
                raise SoonishError(f"{str(exc).capitalize()}.") from None
        else:
            await _wait_for_schema(engine)
        yield engine
    finally:
        await engine.dispose()


def platform_adapters(settings: Settings, *, slack: SealedInstallationStore | None = None) -> list[Adapter]:
    """The bot's own destinations this process can deliver to, from the tokens (or installations) it was given."""
    adapters: list[Adapter] = []
    if settings.discord_token is not None and settings.discord_token.get_secret_value():
        adapters.append(
            DiscordAdapter(token=settings.discord_token.get_secret_value(), base_url=settings.discord_api_base)
        )
    if slack is not None:
        adapters.append(
            SlackAdapter(tokens=slack, api_url=settings.slack_api_url, interval=settings.slack_channel_interval_seconds)
        )
    elif settings.slack_bot_token is not None and settings.slack_bot_token.get_secret_value():
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
    settings: Settings,
    *,
    embed_temporal: bool = False,
    clock: Callable[[], datetime] = utcnow,
    migrate_schema: bool | None = None,
    temporal_runtime: TemporalRuntime | None = None,
) -> AsyncIterator[Runtime]:
    """Migrate the database, connect to (or start) Temporal and build the core; undo all of it on exit."""
    async with AsyncExitStack() as stack:
        engine = await stack.enter_async_context(open_database(settings, migrate_schema=migrate_schema))
        secrets = SecretBox(settings.encryption_key)
        installations = (
            SealedInstallationStore(client_id=settings.slack_client_id, engine=engine, secrets=secrets)
            if settings.slack_oauth and settings.slack_client_id
            else None
        )
        sender = TimedSender(
            allow_private=settings.allow_private_urls, adapters=platform_adapters(settings, slack=installations)
        )
        stack.push_async_callback(sender.aclose)
        client, server = await _temporal(settings, stack, embed=embed_temporal, runtime=temporal_runtime)
        core = Core(
            sessions=session_factory(engine),
            scheduler=TemporalScheduler(
                client,
                instance=settings.instance,
                task_queue=settings.temporal_task_queue,
                send_ahead_seconds=settings.send_ahead_seconds,
            ),
            secrets=secrets,
            sender=sender,
            allow_private_urls=settings.allow_private_urls,
            clock=clock,
            quotas=settings.quotas,
            public_url=settings.public_url.rstrip("/"),
            snooze_seconds=settings.snooze_seconds,
            public_links="public_url" in settings.model_fields_set,
        )
        yield Runtime(
            settings=settings,
            engine=engine,
            client=client,
            core=core,
            dev_server=server,
            slack_installations=installations,
        )
        await asyncio.sleep(EXIT_PAUSE)
