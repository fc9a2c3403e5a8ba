"""The console front end: the chat commands typed in a terminal (or piped in), as the local user."""

from __future__ import annotations

import asyncio
import getpass
import re
import sys
from typing import TextIO

from bot.dispatch import execute_line
from core.destinations import console_url
from core.service import Core
from core.views import Actor

TENANT = "local"
CHANNEL = "channel"
QUIT = frozenset({"/quit", "/exit"})


def local_user() -> str:
    """The console user's id: the login name, reduced to what a destination URL can carry."""
    name = re.sub(r"[^a-z0-9-]", "-", getpass.getuser().lower()).strip("-")
    return name[:32] or "me"


async def _lines(stream: TextIO) -> asyncio.StreamReader | None:
    """A non-blocking reader for a terminal or a pipe; None for a regular file (read it directly)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    try:
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), stream)
    except ValueError:
        return None
    return reader


async def run_console(core: Core, *, user: str, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> None:
    """Read commands until end of input or /quit; print replies, and reminders for this user or channel."""
    actor = Actor(platform="console", tenant=TENANT, user_id=user, display_name=user)

    def show(who: str, title: str, body: str) -> None:
        if who.lower() in (user, CHANNEL):
            where = "#local" if who.lower() == CHANNEL else "you"
            print(f"\n>> [{where}] {title}\n{body}", file=out, flush=True)

    core.sender.console.listen(show)
    print("Soonish console. Type /help for the commands, /quit to leave.", file=out, flush=True)
    reader = await _lines(stdin)
    try:
        while True:
            raw = (await reader.readline()).decode(errors="replace") if reader else stdin.readline()
            if not raw:
                break
            line = raw.strip()
            if not line:
                continue
            if line.lower() in QUIT:
                break
            reply = await execute_line(line, core=core, actor=actor, channel_url=console_url(CHANNEL))
            print(reply.text, file=out, flush=True)
    finally:
        core.sender.console.unlisten(show)
