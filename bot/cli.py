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

from bot.api.app import build_api
from bot.api.server import make_server
from bot.console import local_user, run_console
from bot.discord import build_bot
from bot.runtime import Runtime, open_database, open_runtime
from bot.slack.app import app_from_settings
from bot.slack.server import SlackRunner
from core.config import Settings, explain
from core.db import session_factory
from core.errors import SoonishError
from core.logs import configure_logging
from core.service import create_api_key

log = logging.getLogger("soonish")

SLACK_NOT_CONFIGURED = (
    "The Slack bot needs SLACK_BOT_TOKEN and either SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode)."
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
                raise error
    finally:
        waiter.cancel()


async def _listening(server: uvicorn.Server, task: asyncio.Task[None]) -> None:
    """Return once the API accepts connections, so what is announced as running really is."""
    while not server.started:
        if task.done():
            task.result()
            raise SoonishError(f"The HTTP API could not start on {server.config.host}:{server.config.port}.")
        await asyncio.sleep(0.02)


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
    # Signals are caught from the first moment, so a stop during start-up is still a clean stop.
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with open_runtime(settings, embed_temporal=embed) as rt, contextlib.AsyncExitStack() as stack:
            tasks: list[asyncio.Task[None]] = []
            server = console_task = bot = slack_runner = None
            if worker:
                await stack.enter_async_context(rt.worker())
            if api:
                server = make_server(build_api(rt.core), host=settings.api_host, port=settings.api_port)
                tasks.append(asyncio.create_task(server.serve()))
                await _listening(server, tasks[-1])
            if discord and settings.discord_token is not None:
                bot = build_bot(
                    rt.core,
                    api_base=settings.discord_api_base,
                    gateway_url=settings.discord_gateway_url,
                    sync_commands=settings.discord_sync_commands,
                    scheduled_events=settings.discord_scheduled_events,
                )
                tasks.append(asyncio.create_task(bot.start(settings.discord_token.get_secret_value())))
            if slack:
                slack_runner = SlackRunner.from_settings(app_from_settings(rt.core, settings), settings)
                tasks.append(asyncio.create_task(slack_runner.run()))
            _announce(rt, worker=worker, api=api, console=console, discord=bot is not None, slack=slack_runner)
            if console:
                console_task = asyncio.create_task(run_console(rt.core, user=local_user()))
                tasks.append(console_task)
            try:
                await _until_stopped(stop, tasks)
            finally:
                print("Stopping…", flush=True)
                if server is not None:
                    server.should_exit = True
                if slack_runner is not None:
                    slack_runner.stop()
                if console_task is not None:
                    console_task.cancel()
                if bot is not None:
                    await bot.close()
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
        lines.append(f"  HTTP API     http://{s.api_host}:{s.api_port} (OpenAPI docs at /docs)")
    if discord:
        lines.append(f"  Discord      bot via {s.discord_api_base}")
    if slack is not None:
        lines.append(f"  Slack        {slack.where}")
    if console:
        lines.append("  Console      type /help below")
    lines.append("Press Ctrl-C to stop.")
    print("\n".join(lines), flush=True)


async def _api_key(settings: Settings, name: str) -> None:
    async with open_database(settings) as engine:
        key = await create_api_key(sessions=session_factory(engine), name=name)
    print(f"API key for '{name}' (shown once, store it now):\n{key}")


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
    # Every record of every logger is scrubbed of destination URLs, tokens and the secrets configured here.
    configure_logging(settings.log_level, secrets=_configured_secrets(settings))
    try:
        match args.command:
            case "up":
                console = sys.stdin.isatty() and not args.no_console
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
                asyncio.run(_api_key(settings, args.name))
            case "discord":
                if settings.discord_token is None or not settings.discord_token.get_secret_value():
                    print("Set DISCORD_TOKEN to the bot's token to run the Discord bot.", file=sys.stderr)
                    return 2
                asyncio.run(_serve(settings, embed=False, worker=False, api=False, console=False, discord=True))
    except SoonishError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


async def _migrate(settings: Settings) -> None:
    async with open_database(settings):
        pass
    print(f"Database is up to date: {_describe_database(settings.resolved_database_url)}")
