"""The words and patterns of the start-time grammar: weekdays, months, times of day, dates, zones."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ._durations import NUMBER_WORDS

WORD_START = r"(?<![\w:/.+'-])"  # a match starts at a word's start
WORD_END = r"(?![\w:/+'])"  # and ends at a word's end
WEEKDAYS = {
    **dict.fromkeys(("mon", "monday"), 0),
    **dict.fromkeys(("tue", "tues", "tuesday"), 1),
    **dict.fromkeys(("wed", "weds", "wednesday"), 2),
    **dict.fromkeys(("thu", "thur", "thurs", "thursday"), 3),
    **dict.fromkeys(("fri", "friday"), 4),
    **dict.fromkeys(("sat", "saturday"), 5),
    **dict.fromkeys(("sun", "sunday"), 6),
}
WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
MONTHS = {
    **dict.fromkeys(("jan", "january"), 1),
    **dict.fromkeys(("feb", "february"), 2),
    **dict.fromkeys(("mar", "march"), 3),
    **dict.fromkeys(("apr", "april"), 4),
    **dict.fromkeys(("may",), 5),
    **dict.fromkeys(("jun", "june"), 6),
    **dict.fromkeys(("jul", "july"), 7),
    **dict.fromkeys(("aug", "august"), 8),
    **dict.fromkeys(("sep", "sept", "september"), 9),
    **dict.fromkeys(("oct", "october"), 10),
    **dict.fromkeys(("nov", "november"), 11),
    **dict.fromkeys(("dec", "december"), 12),
}
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def alternatives(words: Iterable[str]) -> str:
    """A regex alternation of the words, longest first so that 'thursday' wins over 'thu'."""
    return "|".join(sorted(words, key=len, reverse=True))


WEEKDAY_GROUP = rf"(?P<wd>{alternatives(WEEKDAYS)})"
MONTH_GROUP = rf"(?P<month>{alternatives(MONTHS)})"
ORDINAL = r"(?:st|nd|rd|th)"
NUMBER_WORD = re.compile(rf"{WORD_START}({alternatives(w for w in NUMBER_WORDS if len(w) > 2)}){WORD_END}")
ISO_START = re.compile(r"[0-9]{4}-?[0-9]{2}-?[0-9]{2}(?:$|[T ])", re.ASCII)
FILLER = frozenset({"at", "on", "the", "of", "|"})

OFFSET_ZONE = re.compile(rf"{WORD_START}(?:utc|gmt)\s*(?P<sign>[+-])\s*(?P<h>\d{{1,2}})(?::?(?P<m>\d{{2}}))?{WORD_END}")
BARE_OFFSET = re.compile(r"(?<![\w:/.'])(?P<sign>[+-])(?P<h>\d{2}):?(?P<m>\d{2})" + WORD_END)
NAMED_ZONE = re.compile(rf"{WORD_START}(?P<key>[a-z][a-z0-9_+-]*(?:/[a-z0-9_+-]+)+|[a-z]{{2,5}}){WORD_END}")

ISO_DATE = re.compile(rf"{WORD_START}(?P<y>\d{{4}})(?P<sep>[-/])(?P<m>\d{{1,2}})(?P=sep)(?P<d>\d{{1,2}}){WORD_END}")
PAST_TO = re.compile(
    rf"{WORD_START}(?P<minutes>half|quarter|\d{{1,2}})\s+(?:minutes?\s+)?(?P<dir>past|after|to|before)\s+(?P<h>\d{{1,2}})"
    rf"(?:\s*(?P<ampm>am|pm))?{WORD_END}"
)
H_TIME = re.compile(rf"{WORD_START}(?P<h>\d{{1,2}})h(?P<m>\d{{2}})?{WORD_END}")
AMPM_TIME = re.compile(rf"{WORD_START}(?P<h>\d{{1,2}})(?:[:.](?P<m>\d{{2}}))?\s*(?P<ampm>am|pm){WORD_END}")
CLOCK_TIME = re.compile(rf"{WORD_START}(?P<h>\d{{1,2}}):(?P<m>\d{{2}})(?::(?P<s>\d{{2}}))?{WORD_END}")
NAMED_TIME = re.compile(rf"{WORD_START}(?P<name>noon|midday|midnight){WORD_END}")
MONTH_DATE = re.compile(
    rf"{WORD_START}(?:(?:the\s+)?(?P<d1>\d{{1,2}}){ORDINAL}?\s+(?:of\s+)?{MONTH_GROUP}|(?P<month2>{alternatives(MONTHS)})\.?\s+"
    rf"(?:the\s+)?(?P<d2>\d{{1,2}}){ORDINAL}?)(?:\s+(?P<y>\d{{4}}))?{WORD_END}"
)
NUMERIC_DATE = re.compile(
    rf"{WORD_START}(?P<a>\d{{1,2}})(?P<sep>[/.-])(?P<b>\d{{1,2}})(?:(?P=sep)(?P<y>\d{{4}}|\d{{2}}))?\.?{WORD_END}"
)
ORDINAL_DAY = re.compile(rf"{WORD_START}(?:the\s+)?(?P<d>\d{{1,2}}){ORDINAL}{WORD_END}")
AFTER_TOMORROW = re.compile(rf"{WORD_START}(?:the\s+)?day\s+after\s+(?:tomorrow|tmrw|tmr){WORD_END}")
TOMORROW = re.compile(rf"{WORD_START}(?:tomorrow|tmrw|tmr|tmw|tomorow|tommorow|tommorrow|2morrow){WORD_END}")
YESTERDAY = re.compile(rf"{WORD_START}yesterday{WORD_END}")
TODAY = re.compile(rf"{WORD_START}(?P<word>today|tonight|this\s+(?:morning|afternoon|evening))(?:'s)?{WORD_END}")
IN_DAYS = re.compile(rf"{WORD_START}in\s+(?P<n>\d{{1,3}}|an?)\s+(?P<unit>days?|weeks?){WORD_END}")
WEEK_WEEKDAY = re.compile(
    rf"{WORD_START}(?:(?P<which1>next|this)\s+week\s+(?:on\s+)?{WEEKDAY_GROUP}|(?P<wd2>{alternatives(WEEKDAYS)})\s+(?:of\s+)?"
    rf"(?P<which2>next|this)\s+week){WORD_END}"
)
WEEKDAY = re.compile(rf"{WORD_START}(?:(?P<mode>next|this\s+coming|this|coming)\s+)?{WEEKDAY_GROUP}{WORD_END}")
VAGUE_DAY = re.compile(
    rf"{WORD_START}(?P<phrase>(?:next|this)\s+(?:week|month|year)|weekend|this\s+weekend|next\s+weekend){WORD_END}"
)
CONTEXT = re.compile(rf"{WORD_START}(?:in\s+the\s+|at\s+)?(?P<word>morning|afternoon|evening|night){WORD_END}")
BARE_HOUR = re.compile(rf"{WORD_START}(?P<h>\d{{1,2}})(?:\s*o'?\s?clock)?{WORD_END}")
