"""Logging for every Soonish process: one configuration, and no secret in any record, third-party ones included.

Every record is scrubbed where it is made (a log record factory), so the rule holds for every logger and
every handler, also those a library adds itself: the message is formatted with its arguments, exception
and stack text are rendered, and all of it passes through `redact`. Apprise's own messages quote the
parts of a destination (an ntfy topic, a chat id, a webhook token) in words no pattern can recognise,
so they are replaced by a fixed sentence, and below WARNING dropped.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from typing import Any

MASK = "***"
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Loggers of libraries that deliver to destinations and write the destination's parts into their messages.
DELIVERY_LOGGERS = ("apprise",)
# Loggers that say little of use below WARNING unless the operator asks for DEBUG.
QUIET_LOGGERS = ("apprise", "slack_sdk", "slack_bolt")
ALWAYS_QUIET = ("alembic",)
MIN_SECRET_LENGTH = 6
# uvicorn's access log: (client address, method, path with query, HTTP version, status), if it is turned on.
ACCESS_LOGGER = "uvicorn.access"
ACCESS_ARGS = 5

_WEB = frozenset({"http", "https", "ws", "wss"})
_URL = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]{0,31})://([^\s'\"<>`]*)")
_REQUEST_LINE = re.compile(r"\b(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS|CONNECT)\s+(/[^\s'\"]*)")
_URL_LABEL = re.compile(r"(?i)\b(url:\s*)(/[^\s'\"]*)")
_QUERY_PAIR = re.compile(r"([?&;][\w.+-]{1,64})=([^&;\s'\"#]*)")
# A credential after its scheme word: at least 8 characters with a digit or a symbol in them, so prose
# such as "Bot connected" stays as it is.
_SCHEME_TOKEN = re.compile(
    r"\b(Bot|Bearer|Basic|Token|bearer|token)(\s+)(?=[A-Za-z._~-]*[0-9+/=]|[A-Za-z0-9]*[._~-][A-Za-z0-9])[A-Za-z0-9._~+/=-]{8,}"
)
# Names of headers and fields that hold credentials.
_CREDENTIAL_NAMES = "|".join(
    (
        r"authorization|proxy-authorization|cookie|set-cookie",
        r"x-[\w-]*(?:token|key|secret|auth|signature)[\w-]*",
        r"[\w-]*(?:api[_-]?key|token|secret|password|passwd|signature)[\w-]*",
    )
)
_HEADER_PAIR = re.compile(rf"(?i)(['\"]?)\b({_CREDENTIAL_NAMES})\1(\s*[:=]\s*)(['\"]?)([^'\"\r\n,}}&]*)")
_SHAPES = re.compile(
    r"\bxox[abeoprs]-[A-Za-z0-9-]{4,}"  # Slack bot, user and refresh tokens
    r"|\bxapp-[A-Za-z0-9-]{6,}"  # Slack app-level tokens
    r"|\b[A-Za-z0-9_-]{23,28}\.[A-Za-z0-9_-]{6,7}\.[A-Za-z0-9_-]{27,}"  # Discord bot tokens
    r"|\bsnk_[A-Za-z0-9_-]{16,}"  # Soonish API keys
    r"|\bgAAAAA[A-Za-z0-9_=-]{20,}"  # Fernet tokens (encrypted destinations)
)
_HTTP_STATUS = re.compile(r"error=(\d{3})\b")

_secrets: set[str] = set()
_secrets_lock = threading.Lock()
_installed = False


def add_secret(value: str | None) -> None:
    """Redact this exact text wherever it appears (the bot tokens and keys the process was configured with)."""
    if value and len(value) >= MIN_SECRET_LENGTH:
        with _secrets_lock:
            _secrets.add(value)


def _url(match: re.Match[str]) -> str:
    scheme, rest = match.group(1), match.group(2)
    if scheme.lower() not in _WEB:
        # An Apprise URL: whatever follows the scheme can be a token (discord://ID/TOKEN, ntfy://topic).
        return f"{scheme}://{MASK}" if rest else match.group(0)
    end = re.search(r"[/?#]", rest)
    netloc, tail = (rest[: end.start()], rest[end.start() :]) if end else (rest, "")
    _, at, host = netloc.rpartition("@")
    return f"{scheme}://{MASK + '@' if at else ''}{host}{_path(tail) if tail else ''}"


def _path(path: str) -> str:
    """A request path with every segment, query value and fragment masked; its shape kept."""
    path, hashmark, _ = path.partition("#")
    path, question, query = path.partition("?")
    shown = re.sub(r"[^/]+", MASK, path)
    if question:
        shown += "?" + "&".join(
            f"{key}={MASK}" if eq else MASK
            for key, eq, _ in (pair.partition("=") for pair in re.split(r"[&;]", query) if pair)
        )
    if hashmark:
        shown += f"#{MASK}"
    return shown


def redact(text: str) -> str:
    """`text` with destination URLs, request paths, query values, tokens and credentials masked."""
    if not text:
        return text
    with _secrets_lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    text = _SHAPES.sub(MASK, text)
    text = _SCHEME_TOKEN.sub(lambda m: f"{m.group(1)}{m.group(2)}{MASK}", text)
    text = _HEADER_PAIR.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(1)}{m.group(3)}{m.group(4)}{MASK}", text)
    text = _URL.sub(_url, text)
    text = _REQUEST_LINE.sub(lambda m: f"{m.group(1)} {_path(m.group(2))}", text)
    text = _URL_LABEL.sub(lambda m: f"{m.group(1)}{_path(m.group(2))}", text)
    return _QUERY_PAIR.sub(lambda m: f"{m.group(1)}={MASK}", text)


def _is_delivery(name: str) -> bool:
    return any(name == root or name.startswith(root + ".") for root in DELIVERY_LOGGERS)


def _delivery_summary(record: logging.LogRecord, message: str) -> str:
    # The plugin is named by its module (plugins/ntfy.py logs as module "ntfy"); the text itself is withheld.
    status = _HTTP_STATUS.search(message)
    summary = f"Apprise {record.module} plugin reported a {record.levelname.lower()}"
    summary += f" (HTTP status {status.group(1)})" if status else ""
    return summary + "; its text is withheld because it can quote the destination."


def scrub(record: logging.LogRecord) -> logging.LogRecord:
    """Rewrite `record` in place so that nothing in it holds a secret; marks delivery chatter to be dropped."""
    if getattr(record, "soonish_scrubbed", False):
        return record
    try:
        message = record.getMessage()
    except Exception:  # a record whose arguments do not fit its format: keep what can be shown
        message = f"{record.msg!s} {record.args!r}"
    if record.name == ACCESS_LOGGER and isinstance(record.args, tuple) and len(record.args) == ACCESS_ARGS:
        # uvicorn's access formatter reads the request from the arguments: keep them, with the path masked.
        client, method, path, version, status = record.args
        record.args = (redact(str(client)), method, _path(str(path)), version, status)
        record.soonish_scrubbed = True
        return record
    if _is_delivery(record.name):
        record.msg = _delivery_summary(record, message)
        record.soonish_drop = record.levelno < logging.WARNING
        record.exc_text = (
            f"{record.exc_info[0].__name__} (details withheld)" if record.exc_info and record.exc_info[0] else None
        )
        record.exc_info = None
    else:
        record.msg = redact(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
    record.args = ()
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    record.soonish_scrubbed = True
    return record


class RedactingFilter(logging.Filter):
    """For handlers: scrubs records that bypassed the record factory, and drops delivery-library chatter."""

    def filter(self, record: logging.LogRecord) -> bool:
        scrub(record)
        return not getattr(record, "soonish_drop", False)


def install_record_scrubbing() -> None:
    """Scrub every log record this process makes, whatever logger makes it (idempotent)."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return scrub(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    _installed = True
