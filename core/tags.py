"""Tags: the words that connect a subscription to the destinations it should reach."""

from __future__ import annotations

import re
from collections.abc import Sequence

from core.errors import InvalidInput

DM_TAG = "dm"
MAX_TAGS = 10
_TAG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")


def parse_tags(value: str | Sequence[str] | None) -> tuple[str, ...]:
    """Tags from "email, phone" or a list; lower-cased, de-duplicated, in the order given."""
    if value is None:
        return ()
    items = value.replace(",", " ").split() if isinstance(value, str) else [str(v).strip() for v in value]
    tags: list[str] = []
    for item in items:
        tag = item.lower().lstrip("#")
        if not _TAG.match(tag):
            raise InvalidInput(
                f"'{item[:40]}' is not a valid tag: use 1 to 32 letters, digits, '-' or '_', starting with a letter "
                "or digit."
            )
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise InvalidInput(f"At most {MAX_TAGS} tags, please ({len(tags)} given).")
    return tuple(tags)


def split_stored(text: str) -> tuple[str, ...]:
    """Tags as stored ("email,phone")."""
    return tuple(t for t in text.split(",") if t)
