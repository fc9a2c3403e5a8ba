"""Splitting a long answer into pages that fit a platform's message limit, on line breaks, losing nothing."""

from __future__ import annotations


def _cut(text: str, limit: int) -> int:
    """Where to cut `text` (longer than `limit`): at a line break or a space, never inside markup or an entity."""
    window = text[:limit]
    cut = window.rfind("\n")
    if cut <= 0:
        cut = window.rfind(" ")
    if cut <= 0:
        cut = limit
    # `<…>` is markup the platform writes for us and `&…;` an escaped character: keep each whole.
    opened = text.rfind("<", 0, cut)
    if opened > text.rfind(">", 0, cut) and opened > 0:
        cut = opened
    amp = text.rfind("&", max(0, cut - 5), cut)
    if amp > 0 and ";" not in text[amp:cut]:
        cut = amp
    return cut


def split(text: str, limit: int) -> list[str]:
    """`text` as pages of at most `limit` characters each; joined again they hold every character."""
    pages: list[str] = []
    rest = text
    while len(rest) > limit:
        cut = _cut(rest, limit)
        pages.append(rest[:cut].rstrip("\n"))
        rest = rest[cut:].lstrip("\n")
    pages.append(rest)
    return [p for p in pages if p] or [""]


def numbered(text: str, limit: int, *, most: int) -> list[str]:
    """At most `most` pages of `text`, each within `limit` and marked "(page i of n)" when there are several.

    Should even `most` pages not hold everything, the last one says how many lines are left out instead of
    cutting silently.
    """
    mark = len("\n(page 99 of 99)")
    pages = split(text, limit - mark)
    if len(pages) > most:
        kept = pages[: most - 1]
        left = sum(p.count("\n") + 1 for p in pages[most - 1 :])
        pages = [*kept, f"… and {left} more line(s) not shown here."]
    if len(pages) == 1:
        return pages
    return [f"{page}\n(page {i} of {len(pages)})" for i, page in enumerate(pages, 1)]
