"""Where a process's logs go: stderr for services; for the console, a file, with only what the user must see."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterable
from pathlib import Path

from core.config import Settings
from core.logformat import JsonFormatter
from core.logs import RedactingFilter, add_secret, install_record_scrubbing
from core.metrics import log as delivery_log

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Libraries that say little of use below WARNING (httpx logs every request at INFO, slack_sdk its headers at
# DEBUG) unless the operator asks for DEBUG; their records are scrubbed of secrets either way.
QUIET_LOGGERS = ("apprise", "slack_sdk", "slack_bolt", "httpx", "httpcore")
ALWAYS_QUIET = ("alembic",)


class ConsoleLines(logging.Formatter):
    """One short line for the console: a final delivery failure as it is, any other error with where to read more."""

    def __init__(self, log_file: Path) -> None:
        super().__init__()
        self.log_file = log_file

    def format(self, record: logging.LogRecord) -> str:
        if record.name == delivery_log.name:
            return f"!! {record.getMessage()}"
        first = record.getMessage().splitlines()[0] if record.getMessage() else record.levelname
        return f"!! {first} (details in {self.log_file})"


class _ForTheConsole(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.name == delivery_log.name or record.levelno >= logging.ERROR


def configure_logging(settings: Settings, *, console: bool, secrets: Iterable[str | None] = ()) -> Path | None:
    """Set up the root logger; with the console, everything goes to $SOONISH_DATA_DIR/soonish.log (returned).

    Every record of every logger is scrubbed of destination URLs, tokens and the `secrets` given.
    """
    for secret in secrets:
        add_secret(secret)
    install_record_scrubbing()
    formatter: logging.Formatter = JsonFormatter() if settings.log_format == "json" else logging.Formatter(TEXT_FORMAT)
    root = logging.getLogger()
    root.setLevel(settings.log_level.upper())
    for handler in list(root.handlers):
        root.removeHandler(handler)
    log_file = None
    if console:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        log_file = settings.data_dir / "soonish.log"
        to_file = logging.FileHandler(log_file, encoding="utf-8")
        to_file.setFormatter(formatter)
        root.addHandler(to_file)
        to_terminal = logging.StreamHandler(sys.stderr)
        to_terminal.setLevel(logging.WARNING)
        to_terminal.addFilter(_ForTheConsole())
        to_terminal.setFormatter(ConsoleLines(log_file))
        root.addHandler(to_terminal)
    else:
        to_stderr = logging.StreamHandler(sys.stderr)
        to_stderr.setFormatter(formatter)
        root.addHandler(to_stderr)
    for handler in root.handlers:
        handler.addFilter(RedactingFilter())
    debug = root.getEffectiveLevel() <= logging.DEBUG
    for noisy in ALWAYS_QUIET + (() if debug else QUIET_LOGGERS):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    return log_file
