"""The console front end: the chat commands typed in a terminal (or piped in), as the local user."""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import re
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from bot.dispatch import execute_line
from core.destinations import console_url
from core.service import Core
from core.views import Actor

TENANT = "local"
CHANNEL = "channel"
QUIT = frozenset({"/quit", "/exit"})
PROMPT = "soonish> "
HISTORY_LENGTH = 1000


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


class _Terminal:
    """Lines typed at a terminal, read with readline (line editing, history) in a thread of their own.

    The thread is a daemon blocked in input(): it never holds up the exit, and the terminal's modes are
    put back on the way out. The next prompt shows only once the previous line's reply is printed.
    """

    def __init__(self, history: Path | None) -> None:
        import readline

        self._readline = readline
        self._history = history
        self._lines: asyncio.Queue[str | None] = asyncio.Queue()
        self._next = threading.Event()
        self._loop = asyncio.get_running_loop()
        self.prompting = False
        if history is not None:
            with contextlib.suppress(OSError):
                readline.read_history_file(history)
        readline.set_history_length(HISTORY_LENGTH)
        self._next.set()
        threading.Thread(target=self._read, name="console-input", daemon=True).start()

    def _read(self) -> None:
        while True:
            self._next.wait()
            self._next.clear()
            try:
                self.prompting = True
                line: str | None = input(PROMPT)
            except (EOFError, KeyboardInterrupt):
                line = None
            finally:
                self.prompting = False
            self._loop.call_soon_threadsafe(self._lines.put_nowait, line)
            if line is None:
                return

    async def readline(self) -> str:
        line = await self._lines.get()
        return "" if line is None else line + "\n"

    def ready(self) -> None:
        """The reply is out: show the next prompt."""
        self._next.set()

    def redraw(self, out: TextIO) -> None:
        """Put the prompt and what was typed so far back after a reminder printed over them."""
        if self.prompting:
            out.write(PROMPT + self._readline.get_line_buffer())
            out.flush()

    def close(self) -> None:
        if self._history is not None:
            with contextlib.suppress(OSError):
                self._history.parent.mkdir(parents=True, exist_ok=True)
                self._readline.write_history_file(self._history)


@contextlib.contextmanager
def _terminal_modes(stream: TextIO) -> Iterator[None]:
    """Restore the terminal's modes on exit, even when readline was interrupted in the middle of a line."""
    import termios

    try:
        saved = termios.tcgetattr(stream.fileno())
    except (termios.error, OSError, ValueError):
        yield
        return
    try:
        yield
    finally:
        with contextlib.suppress(termios.error, OSError):
            termios.tcsetattr(stream.fileno(), termios.TCSADRAIN, saved)


async def run_console(
    core: Core, *, user: str, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout, history: Path | None = None
) -> None:
    """Read commands until end of input or /quit; print replies, and reminders for this user or channel.

    At a terminal, lines are read with readline: editing, and a history kept in `history` across sessions.
    """
    actor = Actor(platform="console", tenant=TENANT, user_id=user, display_name=user)
    terminal: _Terminal | None = None

    def show(who: str, title: str, body: str) -> None:
        if who.lower() in (user, CHANNEL):
            where = "#local" if who.lower() == CHANNEL else "you"
            print(f"\n>> [{where}] {title}\n{body}", file=out, flush=True)
            if terminal is not None:
                terminal.redraw(out)

    core.sender.console.listen(show)
    print("Soonish console. Type /help for the commands, /quit to leave.", file=out, flush=True)
    with contextlib.ExitStack() as stack:
        if stdin.isatty():
            stack.enter_context(_terminal_modes(stdin))
            terminal = _Terminal(history)
            stack.callback(terminal.close)
        reader = None if terminal else await _lines(stdin)
        try:
            while True:
                if terminal is not None:
                    raw = await terminal.readline()
                else:
                    raw = (await reader.readline()).decode(errors="replace") if reader else stdin.readline()
                if not raw:
                    break
                line = raw.strip()
                if line.lower() in QUIT:
                    break
                if line:
                    reply = await execute_line(line, core=core, actor=actor, channel_url=console_url(CHANNEL))
                    print(reply.text, file=out, flush=True)
                if terminal is not None:
                    terminal.ready()
        finally:
            core.sender.console.unlisten(show)
