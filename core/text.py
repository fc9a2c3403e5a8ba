"""Free text users type: which characters a field may hold, checked the same way whatever the database."""

from __future__ import annotations

import unicodedata

from core.errors import InvalidInput

# Kept in long, multi-line fields (a description); every other control character is refused everywhere.
BLOCK_WHITESPACE = frozenset("\n\t")
# Line and paragraph separators break a one-line field as a line break would.
_LINE_BREAKS = frozenset("\u2028\u2029")


def forbidden_character(value: str, *, multiline: bool = False) -> str | None:
    """The first character `value` may not hold, or None.

    Control characters (C0, DEL, C1: NUL, ESC...) and lone surrogates are refused: PostgreSQL cannot
    store NUL or a surrogate at all, and escape sequences in a reminder would drive the reader's terminal.
    """
    for char in value:
        if multiline and char in BLOCK_WHITESPACE:
            continue
        category = unicodedata.category(char)
        if category in ("Cc", "Cs") or char in _LINE_BREAKS:
            return char
    return None


def _code(char: str) -> str:
    return f"U+{ord(char):04X}"


def check_line(field: str, value: str) -> str:
    """`value` if it holds no line break nor control character; otherwise say which field and what was found."""
    char = forbidden_character(value)
    if char is not None:
        raise InvalidInput(f"The {field} cannot contain line breaks or control characters (found {_code(char)}).")
    return value


def check_block(field: str, value: str) -> str:
    """`value` with line breaks made uniform (CRLF and CR become LF); only line breaks and tabs may be in it."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    char = forbidden_character(value, multiline=True)
    if char is not None:
        raise InvalidInput(
            f"The {field} cannot contain control characters (found {_code(char)}); only line breaks and tabs "
            "are allowed."
        )
    return value


def is_plain_ref(text: str) -> bool:
    """Whether `text` could name a row (an id, a code, a name, a label): no control character in it."""
    return forbidden_character(text) is None


def without_control(value: str) -> str:
    """`value` with every character a one-line field may not hold left out (for names a platform gives us)."""
    return "".join(char for char in value if forbidden_character(char) is None)
