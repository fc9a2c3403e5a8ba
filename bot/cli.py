"""The `soonish` command: `up` runs everything on one machine; the others run one process each."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence

import uvicorn
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError
from temporalio.worker import Worker

from bot.api.app import build_api
from bot.api.server import make_server
from bot.console import local_user, run_console
from bot.discord import build_bot
from bot.embedded import port_free
from bot.logs import configure_logging
from bot.probes import Probes, add_probes, probe_app, temporal_runtime
from bot.runtime import Runtime, open_database, open_runtime
from bot.slack.app import app_from_settings
from bot.slack.server import SlackRunner
from core.config import Settings, explain
from core.db import SchemaTooNew, create_engine, migrate, schema_state, session_factory
from core.errors import SoonishError
from core.service import issue_api_key, list_api_keys, revoke_api_key
from core.service.keys import API_TENANT

log = logging.getLogger("soonish")

SLACK_NOT_CONFIGURED = (
    "The Slack bot needs SLACK_BOT_TOKEN and either SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode), "
    "or SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and SLACK_SIGNING_SECRET to be installed into many workspaces."
)


def _describe_database(url: str) -> str:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite file {parsed.database}"
    return f"{parsed.get_backend_name()} at {parsed.render_as_string(hide_password=True)}"


async def _until_stopped(stop: asyncio.Event, tasks: Sequence[asyncio.Task[None]]) -> None:
    """Wait for `stop` (Ctrl-C, SIGTERM) or for any of `tasks` to end (such as the console reaching end of input)."""
    waiter = asyncio.create_task(stop.wait())
    try:
        done, _ = await asyncio.wait([waiter, *tasks], return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not waiter and (error := task.exception()) is not None:
                if isinstance(error, SoonishError):
                    raise error
                # Any part failing stops the whole process; the traceback goes to the log, the reason to the user.
                log.error("%s failed", task.get_name(), exc_info=error)
                raise SoonishError(
                    f"{task.get_name().capitalize()} stopped: {type(error).__name__}: {error}"
                ) from error
    finally:
        waiter.cancel()


def _check_port(host: str, port: int, setting: str, what: str) -> None:
    """Refuse to start when a port we are to listen on is taken, naming the setting that moves it."""
    if port and not port_free(host, port):
        raise SoonishError(
            f"Cannot start {what}: port {port} on {host} is already in use. "
            f"Stop what uses it, or set {setting} to a free port."
        )


async def _serve_http(server: uvicorn.Server, setting: str, what: str) -> None:
    """Run a uvicorn server; its exit on a bind failure becomes an error naming the setting."""
    try:
        await server.serve()
    except SystemExit:
        raise SoonishError(
            f"Cannot start {what}: port {server.config.port} on {server.config.host} is not available. "
            f"Set {setting} to a free port."
        ) from None


async def _listening(server: uvicorn.Server, task: asyncio.Task[None], what: str = "The HTTP API") -> None:
    """Return once the server accepts connections, so what is announced as running really is."""
    while not server.started:
        if task.done():
            task.result()
            raise SoonishError(f"{what} could not start on {server.config.host}:{server.config.port}.")
        await asyncio.sleep(0.02)


async def _run_worker(worker: Worker, namespace: str) -> None:
    """Run the worker; a namespace the server does not know is reported naming its setting."""
    try:
        await worker.run()
    except RuntimeError as exc:
        if "namespace" in str(exc).lower() and "not found" in str(exc).lower():
            raise SoonishError(
                f"The Temporal namespace {namespace!r} does not exist on this server: create it "
                "(temporal operator namespace create, or in Temporal Cloud), or set TEMPORAL_NAMESPACE."
            ) from None
        raise


async def _watch_dev_server(rt: Runtime) -> None:
    """End when the embedded Temporal server does, so everything else stops with it."""
    if rt.dev_server is None:
        await asyncio.Event().wait()
        return
    while (code := rt.dev_server.process.poll()) is None:
        await asyncio.sleep(0.5)
    raise SoonishError(
        f"The embedded Temporal server stopped (exit code {code}); see {rt.settings.data_dir / 'temporal.log'}."
    )


async def _serve(
    settings: Settings,
    *,
    embed: bool,
    worker: bool,
    api: bool,
    console: bool,
    discord: bool = False,
    slack: bool = False,
) -> None:
    # One machine (`up`, `console`) migrates itself; the production processes follow SOONISH_MIGRATE_ON_START.
    migrate_schema = True if embed else None
    # Signals are caught from the first moment. Once running, the first one stops cleanly; during start-up,
    # or a second time, it cancels whatever is still starting or stopping, so a signal always ends the process.
    stop = asyncio.Event()
    running = False
    main_task = asyncio.current_task()
    loop = asyncio.get_running_loop()

    def on_signal() -> None:
        if running and not stop.is_set():
            stop.set()
        elif main_task is not None:
            main_task.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    try:
        if api:
            _check_port(settings.api_host, settings.api_port, "SOONISH_API_PORT", "the HTTP API")
        if slack and settings.slack_app_token is None:
            _check_port(settings.slack_host, settings.slack_port, "SLACK_PORT", "the Slack bot (HTTP mode)")
        probe_port = settings.metrics_port if not api else None  # the API serves the probes itself
        if probe_port:
            _check_port(settings.metrics_host, probe_port, "SOONISH_METRICS_PORT", "the metrics and health endpoint")
        # The Temporal SDK's own metrics, for the processes that serve /metrics.
        sdk_runtime, sdk_metrics = temporal_runtime() if api or probe_port else (None, None)
        async with open_runtime(
            settings, embed_temporal=embed, migrate_schema=migrate_schema, temporal_runtime=sdk_runtime
        ) as rt:
            tasks: list[asyncio.Task[None]] = [asyncio.create_task(_watch_dev_server(rt), name="the Temporal watch")]
            server = console_task = bot = slack_runner = temporal_worker = probe_server = None
            probes = Probes(sessions=rt.core.sessions, client=rt.client, temporal_metrics_url=sdk_metrics)
            try:
                if worker:
                    temporal_worker = rt.worker()
                    tasks.append(
                        asyncio.create_task(
                            _run_worker(temporal_worker, settings.temporal_namespace), name="the worker"
                        )
                    )
                if probe_port:
                    probe_server = make_server(probe_app(probes), host=settings.metrics_host, port=probe_port)
                    tasks.append(
                        asyncio.create_task(
                            _serve_http(probe_server, "SOONISH_METRICS_PORT", "the metrics endpoint"),
                            name="the metrics endpoint",
                        )
                    )
                    await _listening(probe_server, tasks[-1], "The metrics endpoint")
                if api:
                    app = build_api(rt.core)
                    add_probes(app, probes)
                    server = make_server(app, host=settings.api_host, port=settings.api_port)
                    tasks.append(
                        asyncio.create_task(
                            _serve_http(server, "SOONISH_API_PORT", "the HTTP API"), name="the HTTP API"
                        )
                    )
                    await _listening(server, tasks[-1])
                if discord and settings.discord_token is not None:
                    bot = build_bot(
                        rt.core,
                        api_base=settings.discord_api_base,
                        gateway_url=settings.discord_gateway_url,
                        sync_commands=settings.discord_sync_commands,
                        scheduled_events=settings.discord_scheduled_events,
                    )
                    tasks.append(
                        asyncio.create_task(
                            bot.start(settings.discord_token.get_secret_value()), name="the Discord bot"
                        )
                    )
                if slack:
                    slack_runner = SlackRunner.from_settings(
                        app_from_settings(rt.core, settings, installations=rt.slack_installations), settings
                    )
                    tasks.append(asyncio.create_task(slack_runner.run(), name="the Slack bot"))
                _announce(rt, worker=worker, api=api, console=console, discord=bot is not None, slack=slack_runner)
                if console:
                    console_task = asyncio.create_task(
                        run_console(rt.core, user=local_user(), history=settings.data_dir / "console_history"),
                        name="the console",
                    )
                    tasks.append(console_task)
                running = True
                await _until_stopped(stop, tasks)
            finally:
                running = False
                stop.set()
                print("Stopping…", flush=True)
                for http_server in (server, probe_server):
                    if http_server is not None:
                        http_server.should_exit = True
                if slack_runner is not None:
                    slack_runner.stop()
                if console_task is not None:
                    console_task.cancel()
                tasks[0].cancel()
                if bot is not None:
                    await bot.close()
                if temporal_worker is not None:
                    with contextlib.suppress(RuntimeError):  # it never started, or already ended in error
                        await temporal_worker.shutdown()
                await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def _announce(
    rt: Runtime,
    *,
    worker: bool,
    api: bool,
    console: bool,
    discord: bool = False,
    slack: SlackRunner | None = None,
) -> None:
    s = rt.settings
    lines = ["Soonish is running:"]
    if rt.dev_server is not None:
        lines.append(f"  Temporal     {rt.dev_server.address} (embedded dev server, state in {s.data_dir}/temporal.db)")
        if rt.dev_server.ui_url:
            lines.append(f"  Temporal UI  {rt.dev_server.ui_url}")
    else:
        lines.append(
            f"  Temporal     {s.temporal_address or f'127.0.0.1:{s.temporal_port}'} (namespace {s.temporal_namespace})"
        )
    lines.append(f"  Database     {_describe_database(s.resolved_database_url)}")
    if worker:
        lines.append(f"  Worker       task queue {s.temporal_task_queue}")
    if api:
        lines.append(
            f"  HTTP API     http://{s.api_host}:{s.api_port} (OpenAPI docs at /docs, /healthz, /readyz, /metrics)"
        )
    elif s.metrics_port:
        lines.append(f"  Metrics      http://{s.metrics_host}:{s.metrics_port}/metrics (and /healthz, /readyz)")
    if discord:
        lines.append(f"  Discord      bot via {s.discord_api_base}")
    if slack is not None:
        lines.append(f"  Slack        {slack.where}")
    if console:
        lines.append(f"  Logs         {s.data_dir / 'soonish.log'} (only final delivery failures and errors show here)")
        lines.append("  Console      type /help below")
    lines.append("Press Ctrl-C to stop.")
    print("\n".join(lines), flush=True)


async def _api_key(settings: Settings, args: argparse.Namespace) -> None:
    async with open_database(settings) as engine:
        sessions = session_factory(engine)
        match args.key_command:
            case "create":
                issued = await issue_api_key(sessions=sessions, name=args.name, tenant=args.tenant)
                key = issued.view
                print(f"API key {key.id} for '{key.name}' in tenant '{key.tenant}' (shown once, store it now):")
                print(issued.key)
            case "list":
                keys = await list_api_keys(sessions=sessions)
                if not keys:
                    print("No API keys. Create one with `soonish api-key create --name NAME`.")
                for key in keys:
                    print(
                        f"{key.id:>5}  {key.name:<24} tenant {key.tenant:<24} "
                        f"created {key.created_at:%Y-%m-%d %H:%M} UTC"
                    )
            case "revoke":
                key = await revoke_api_key(sessions=sessions, key_id=args.id)
                print(
                    f"API key {key.id} ('{key.name}', tenant '{key.tenant}') is revoked; requests with it are refused."
                )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="soonish", description="Event reminders for Discord and Slack communities.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up = commands.add_parser("up", help="run everything on this machine (embedded Temporal unless TEMPORAL_ADDRESS)")
    up.add_argument("--no-console", action="store_true", help="do not read commands from the terminal")
    commands.add_parser("worker", help="run a worker (any number may share the task queue)")
    commands.add_parser("api", help="serve the HTTP API")
    commands.add_parser("console", help="type commands as the local user (with an in-process worker)")
    commands.add_parser("slack", help="run the Slack bot (Socket Mode with SLACK_APP_TOKEN, else HTTP)")
    commands.add_parser("migrate", help="bring the database schema up to date")
    commands.add_parser("discord", help="run the Discord bot (needs DISCORD_TOKEN)")
    keys = commands.add_parser("api-key", help="manage HTTP API keys")
    key_commands = keys.add_subparsers(dest="key_command", required=True, metavar="ACTION")
    create = key_commands.add_parser("create", help="create a key; it is printed once and only its hash is stored")
    create.add_argument("--name", required=True, help="the API user this key identifies")
    create.add_argument(
        "--tenant",
        default=API_TENANT,
        help="the tenant whose events the key sees (a guild or workspace id; default api)",
    )
    key_commands.add_parser("list", help="list the keys (id, name, tenant), never the keys themselves")
    revoke = key_commands.add_parser("revoke", help="revoke a key at once")
    revoke.add_argument("id", help="the key's id, as `soonish api-key list` shows it")
    return parser


def _configured_secrets(settings: Settings) -> list[str | None]:
    values = [
        secret.get_secret_value() if secret is not None else None
        for secret in (
            settings.secret_key,
            settings.discord_token,
            settings.slack_bot_token,
            settings.slack_app_token,
            settings.slack_signing_secret,
            settings.slack_client_secret,
        )
    ]
    if settings.database_url:
        with contextlib.suppress(ArgumentError):  # a malformed URL is reported when the database is opened
            values.append(make_url(settings.database_url).password)
    return values


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `soonish` command."""
    args = _parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        print(f"Configuration error: {explain(exc)}", file=sys.stderr)
        return 2
    console = args.command == "console" or (args.command == "up" and sys.stdin.isatty() and not args.no_console)
    configure_logging(settings, console=console, secrets=_configured_secrets(settings))
    try:
        match args.command:
            case "up":
                asyncio.run(
                    _serve(
                        settings,
                        embed=True,
                        worker=True,
                        api=True,
                        console=console,
                        discord=settings.discord_token is not None,
                        slack=settings.slack_enabled,
                    )
                )
            case "console":
                asyncio.run(_serve(settings, embed=True, worker=True, api=False, console=True))
            case "worker":
                asyncio.run(_serve(settings, embed=False, worker=True, api=False, console=False))
            case "api":
                asyncio.run(_serve(settings, embed=False, worker=False, api=True, console=False))
            case "slack":
                if not settings.slack_enabled:
                    print(SLACK_NOT_CONFIGURED, file=sys.stderr)
                    return 2
                asyncio.run(_serve(settings, embed=False, worker=False, api=False, console=False, slack=True))
            case "migrate":
                asyncio.run(_migrate(settings))
            case "api-key":
                asyncio.run(_api_key(settings, args))
            case "discord":
                if settings.discord_token is None or not settings.discord_token.get_secret_value():
                    print("Set DISCORD_TOKEN to the bot's token to run the Discord bot.", file=sys.stderr)
                    return 2
                asyncio.run(_serve(settings, embed=False, worker=False, api=False, console=False, discord=True))
    except SoonishError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("Stopped.", file=sys.stderr)
        return 130
    return 0


async def _migrate(settings: Settings) -> None:
    engine = create_engine(settings.resolved_database_url)
    try:
        before = await migrate(engine)
        after = await schema_state(engine)
    except SchemaTooNew as exc:
        raise SoonishError(f"{str(exc).capitalize()}.") from None
    finally:
        await engine.dispose()
    revision = ", ".join(sorted(after.current))
    where = _describe_database(settings.resolved_database_url)
    if before.up_to_date:
        print(f"Database is up to date (revision {revision}): {where}")
    else:
        print(f"Database migrated to revision {revision}: {where}")
