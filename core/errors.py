"""Business errors: each carries a message that is safe to show to the user who caused it."""

from __future__ import annotations


class SoonishError(Exception):
    """Base of every error whose message may be shown to the user as it is."""

    status = 400

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        # The input the error is about, in the command's option names (`start`, `remind`...), when one is.
        self.field = field


class InvalidInput(SoonishError, ValueError):
    """The user gave a value we cannot use (a time, a URL, a tag, a size...)."""

    status = 422


class InvalidTime(InvalidInput):
    """A time or duration could not be parsed, or is in the past, or ends before it starts."""


class InvalidURL(InvalidInput):
    """A destination URL is malformed, uses a scheme we do not send to, or points somewhere forbidden."""


class NotFound(SoonishError, LookupError):
    """The thing asked for does not exist, or is not visible to this user's tenant."""

    status = 404


class PermissionDenied(SoonishError, PermissionError):
    """The user may not do this (for example, change someone else's event)."""

    status = 403


class Conflict(SoonishError):
    """The request clashes with the current state (for example, the event is already cancelled)."""

    status = 409


class Unauthenticated(SoonishError):
    """No valid credentials were presented."""

    status = 401


class SchedulerUnavailable(SoonishError, ConnectionError):
    """The reminder scheduler (Temporal) could not be reached; nothing was changed."""

    status = 503


class RateLimited(SoonishError):
    """A quota was reached (too many events, subscribes or test sends for now); the message says when to retry."""

    status = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
