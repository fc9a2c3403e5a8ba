"""Text for Slack: user text escaped (`& < >`), so only markup Soonish writes itself (dates) reaches Slack.

Slack reads `<!channel>`, `<!here>`, `<@U…>` and `<!subteam^…>` in any message as mentions; a member can type
them into an event's name, so every piece of text that came from a member is escaped before it is sent.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from bot import render
from core.destinations.slack import date, escape

__all__ = ["SlackText", "date", "escape"]


class SlackText:
    """Turns a plain reply into Slack text: everything escaped except the dates this object wrote into it.

    The dates go in as placeholders with a random nonce (which no member can type) and become markup only
    after escaping, so the shared renderer stays plain text and nothing else can become markup.
    """

    def __init__(self) -> None:
        self._nonce = secrets.token_hex(8)
        self._dates: list[str] = []

    def time_format(self, tz: str) -> render.TimeFormat:
        """Write instants for this reply, with a fallback in `tz`."""
        fallback = render.local_time(tz)

        def write(when: datetime) -> str:
            self._dates.append(date(when, fallback(when)))
            return f"\x00{self._nonce}:{len(self._dates) - 1}\x00"

        return write

    def __call__(self, plain: str) -> str:
        """The Slack text of a reply written with `time_format`."""
        pattern = re.compile(f"\x00{self._nonce}:([0-9]+)\x00")
        return pattern.sub(lambda m: self._dates[int(m[1])], escape(plain))
