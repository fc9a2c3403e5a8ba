"""The corpus of typed times: every phrase in timeparse_corpus.txt is read exactly as the corpus says, or refused."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from core.errors import InvalidInput
from core.timeparse import parse_offsets, read_when

CORPUS = Path(__file__).with_name("timeparse_corpus.txt")
_SECTION = re.compile(r"\[(?P<zone>[A-Za-z_/]+) (?P<now>\d{4}-\d{2}-\d{2} \d{2}:\d{2})\]")
_READING = re.compile(r"(?P<weekday>[A-Z][a-z]{2}) (?P<wall>\d{4}-\d{2}-\d{2} \d{2}:\d{2})")


@dataclass(frozen=True)
class Case:
    """One corpus line: what was typed, by whom (zone) and when, and what it must become."""

    typed: str
    zone: str
    now: datetime | None
    expected: str
    line: int

    def __str__(self) -> str:
        return f"{self.line}:{self.zone}:{self.typed}"


def _load() -> list[Case]:
    cases: list[Case] = []
    zone, now = "", None
    for number, raw in enumerate(CORPUS.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line == "[offsets]":
            zone, now = "offsets", None
            continue
        if section := _SECTION.fullmatch(line):
            zone = section["zone"]
            now = datetime.fromisoformat(section["now"]).replace(tzinfo=ZoneInfo(zone))
            continue
        typed, _, expected = line.partition(" | ")
        assert expected, f"line {number} has no expected reading: {raw!r}"
        cases.append(Case(typed, zone, now, expected.strip(), number))
    return cases


CASES = _load()
TIMES = [case for case in CASES if case.zone != "offsets"]
OFFSETS = [case for case in CASES if case.zone == "offsets"]


def test_corpus_is_large_and_covers_several_zones() -> None:
    """The corpus holds at least 150 start-time phrases, read in at least five zones, and an offsets corpus."""
    assert len(TIMES) >= 150
    assert len({case.zone for case in TIMES}) >= 5
    assert len(OFFSETS) >= 30


@pytest.mark.parametrize("case", TIMES, ids=str)
def test_phrase_is_read_as_the_corpus_says(case: Case) -> None:
    """A typed start time is read as exactly the instant the corpus gives, or refused with its message."""
    assert case.now is not None
    if case.expected.startswith("! "):
        with pytest.raises(InvalidInput) as caught:
            read_when(case.typed, tz=case.zone, now=case.now)
        assert caught.value.message.startswith(case.expected[2:]), caught.value.message
        return
    expected = _READING.fullmatch(case.expected)
    assert expected is not None, f"line {case.line}: write readings as 'Thu 2026-12-03 20:00'"
    wall = datetime.fromisoformat(expected["wall"])
    assert f"{wall:%a}" == expected["weekday"], f"line {case.line}: {wall:%Y-%m-%d} is a {wall:%a}"
    reading = read_when(case.typed, tz=case.zone, now=case.now)
    assert reading.instant.tzinfo is UTC
    local = reading.instant.astimezone(ZoneInfo(case.zone))
    assert f"{local:%a %Y-%m-%d %H:%M}" == case.expected


@pytest.mark.parametrize("case", OFFSETS, ids=str)
def test_offset_is_read_as_the_corpus_says(case: Case) -> None:
    """Typed reminder offsets become exactly the seconds the corpus gives, or are refused with its message."""
    if case.expected.startswith("! "):
        with pytest.raises(InvalidInput) as caught:
            parse_offsets(case.typed)
        assert caught.value.message.startswith(case.expected[2:]), caught.value.message
        return
    assert parse_offsets(case.typed) == tuple(int(part) for part in case.expected.split(", "))
