"""Time zones: IANA names, the abbreviations people type, and the order of day and month a zone's users write."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from core.errors import InvalidInput

from ._common import quote

ZONE_EXAMPLES = "Use an IANA name such as Europe/Berlin or America/New_York."
MAX_ZONE_LENGTH = 64

# Keys that exist on disk but describe the host or nothing at all, so they must not be stored with an event.
_RESERVED_ZONE_KEYS = frozenset({"localtime", "posixrules", "factory"})
_ZONE_KEY = re.compile(r"[A-Za-z0-9_+\-]+(?:/[A-Za-z0-9_+\-]+)*", re.ASCII)


@dataclass(frozen=True)
class Abbreviation:
    """A zone abbreviation that names one zone; `offset_minutes` is the offset it stands for (None: any season)."""

    name: str
    key: str
    offset_minutes: int | None


def _abbreviations() -> dict[str, Abbreviation]:
    table = {
        "UTC": ("UTC", 0),
        "GMT": ("UTC", 0),
        "CET": ("Europe/Berlin", 60),
        "CEST": ("Europe/Berlin", 120),
        "EET": ("Europe/Helsinki", 120),
        "EEST": ("Europe/Helsinki", 180),
        "MSK": ("Europe/Moscow", 180),
        "EST": ("America/New_York", -300),
        "EDT": ("America/New_York", -240),
        "ET": ("America/New_York", None),
        "CDT": ("America/Chicago", -300),
        "CT": ("America/Chicago", None),
        "MST": ("America/Denver", -420),
        "MDT": ("America/Denver", -360),
        "MT": ("America/Denver", None),
        "PST": ("America/Los_Angeles", -480),
        "PDT": ("America/Los_Angeles", -420),
        "PT": ("America/Los_Angeles", None),
        "AKST": ("America/Anchorage", -540),
        "AKDT": ("America/Anchorage", -480),
        "HST": ("Pacific/Honolulu", -600),
        "JST": ("Asia/Tokyo", 540),
        "KST": ("Asia/Seoul", 540),
        "HKT": ("Asia/Hong_Kong", 480),
        "SGT": ("Asia/Singapore", 480),
        "PKT": ("Asia/Karachi", 300),
        "WIB": ("Asia/Jakarta", 420),
        "AEST": ("Australia/Sydney", 600),
        "AEDT": ("Australia/Sydney", 660),
        "AET": ("Australia/Sydney", None),
        "ACST": ("Australia/Adelaide", 570),
        "ACDT": ("Australia/Adelaide", 630),
        "AWST": ("Australia/Perth", 480),
        "NZST": ("Pacific/Auckland", 720),
        "NZDT": ("Pacific/Auckland", 780),
    }
    return {name.lower(): Abbreviation(name, key, offset) for name, (key, offset) in table.items()}


ABBREVIATIONS = _abbreviations()

# Abbreviations in common use for several zones: reading one would be a guess.
AMBIGUOUS_ABBREVIATIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "ist": (("India", "Asia/Kolkata"), ("Israel", "Asia/Jerusalem"), ("Ireland", "Europe/Dublin")),
    "cst": (("US Central", "America/Chicago"), ("China", "Asia/Shanghai"), ("Cuba", "America/Havana")),
    "bst": (("British Summer Time", "Europe/London"), ("Bangladesh", "Asia/Dhaka")),
    "ast": (("Atlantic", "America/Halifax"), ("Arabia", "Asia/Riyadh")),
    "gst": (("Gulf", "Asia/Dubai"), ("South Georgia", "Atlantic/South_Georgia")),
    "sst": (("Samoa", "Pacific/Pago_Pago"), ("Singapore", "Asia/Singapore")),
    "amt": (("Amazon", "America/Manaus"), ("Armenia", "Asia/Yerevan")),
    "ect": (("Ecuador", "America/Guayaquil"), ("Eastern Caribbean", "America/Port_of_Spain")),
}

# Countries whose people write the month first (12/25); most of the world writes the day first (25/12).
_MONTH_FIRST = frozenset({"US", "PR", "GU", "VI", "AS", "MP", "UM", "PH", "FM", "MH", "PW"})
# Countries with no single habit (Canada uses both) or that write the year first, so 03/04 would be a guess.
_NO_CLEAR_ORDER = frozenset({"CA", "CN", "JP", "KR", "KP", "TW", "HU", "LT", "MN", "IR"})


def zone(name: str) -> ZoneInfo:
    """Return the IANA time zone called `name` (case-insensitive), or say clearly that it does not exist."""
    key = name.strip()
    if not key:
        raise InvalidInput(f"A time zone is required. {ZONE_EXAMPLES}")
    canonical = canonical_zone_key(key)
    if canonical is None:
        raise InvalidInput(f"Unknown time zone {quote(key)}. {ZONE_EXAMPLES}")
    try:
        return ZoneInfo(canonical)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise InvalidInput(f"Unknown time zone {quote(key)}. {ZONE_EXAMPLES}") from None


def canonical_zone_key(key: str) -> str | None:
    """The zone database's spelling of `key`, or None if it is no zone."""
    if len(key) > MAX_ZONE_LENGTH or not _ZONE_KEY.fullmatch(key):
        return None
    return _zone_keys().get(key.lower())


@cache
def _zone_keys() -> dict[str, str]:
    # Only keys the zone database lists: this rules out paths, directories and files that are not zones.
    return {key.lower(): key for key in available_timezones() if key.lower() not in _RESERVED_ZONE_KEYS}


_CONTINENTS = ("Europe/", "America/", "Asia/", "Africa/", "Australia/")


def zone_of_city(words: str) -> str | None:
    """The zone named after a city ("berlin", "new york"), when exactly one zone of the database is."""
    return _city_zones().get("_".join(words.lower().split()))


@cache
def _city_zones() -> dict[str, str]:
    cities: dict[str, list[str]] = {}
    for key in _zone_countries():  # only current zones, not the old aliases (US/Eastern, Asia/Calcutta)
        if not key.startswith(_CONTINENTS):
            continue  # islands such as Indian/Christmas and Pacific/Easter are more often words than places
        cities.setdefault(key.rsplit("/", 1)[-1].lower(), []).append(key)
    return {city: keys[0] for city, keys in cities.items() if len(keys) == 1}


def date_order(key: str) -> str | None:
    """'day' or 'month' (which comes first in 03/04) for people in zone `key`, or None where it is unclear."""
    if key.startswith("US/"):
        return "month"
    country = _zone_countries().get(key)
    if country is None or country in _NO_CLEAR_ORDER:
        return None
    return "month" if country in _MONTH_FIRST else "day"


@cache
def _zone_countries() -> dict[str, str]:
    # zone.tab maps each zone to the one country it is in; zone1970.tab merges countries, so it will not do.
    text = _zone_tab()
    countries: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) >= 3:
            countries[fields[2].strip()] = fields[0].strip()
    return countries


def _zone_tab() -> str:
    try:
        return resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        system = Path("/usr/share/zoneinfo/zone.tab")
        return system.read_text(encoding="utf-8") if system.exists() else ""
