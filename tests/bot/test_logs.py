"""Where logs go: the console keeps the terminal for the user, services log to stderr."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.logs import configure_logging
from core.config import Settings
from core.metrics import log as delivery_log


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """Put the root logger back as it was after the test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(level)


def test_console_shows_one_line_per_final_failure_and_files_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    """With the console, a final delivery failure is one line on the terminal; the rest goes to the log file."""
    settings = Settings(_env_file=None, SOONISH_DATA_DIR=tmp_path)  # type: ignore[call-arg]
    log_file = configure_logging(settings, console=True)
    logging.getLogger("temporalio.activity").warning("Completing activity as failed", exc_info=ValueError("boom"))
    logging.getLogger("temporalio.worker").info("worker started")
    delivery_log.warning("Reminder for event 3 to a json destination failed for good: %s", "HTTP 500")
    terminal = capsys.readouterr().err
    assert terminal == "!! Reminder for event 3 to a json destination failed for good: HTTP 500\n"
    assert log_file == tmp_path / "soonish.log"
    written = log_file.read_text()
    assert "Completing activity as failed" in written and "worker started" in written and "HTTP 500" in written


def test_services_log_everything_to_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    """Without the console, records go to stderr at the configured level and no log file is written."""
    settings = Settings(_env_file=None, SOONISH_DATA_DIR=tmp_path)  # type: ignore[call-arg]
    assert configure_logging(settings, console=False) is None
    logging.getLogger("temporalio.worker").info("worker started")
    assert "worker started" in capsys.readouterr().err
    assert not (tmp_path / "soonish.log").exists()
