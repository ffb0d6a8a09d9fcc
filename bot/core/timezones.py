"""Turning what people type for ``/timezone`` into today's IANA zone name.

The canonical names come from tzdata's ``zone.tab`` and ``zone1970.tab`` (current
zones only); its ``tzdata.zi`` link lines map deprecated names (``Europe/Kiev``,
``Asia/Calcutta``, ``US/Eastern``) to their replacements. ``Etc/`` zones and
legacy aliases are never offered: ``Etc/GMT+5`` means UTC-5, the reverse of what
people expect. Abbreviations name a zone where the abbreviation is used most.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from rapidfuzz import fuzz, process

UTC = "UTC"

# Where each common abbreviation (standard and summer forms) is used most; an
# abbreviation alone cannot say which country, so this picks the usual one.
ABBREVIATIONS: dict[str, str] = {
    "UTC": UTC, "GMT": "Europe/London", "BST": "Europe/London", "WET": "Europe/Lisbon",
    "WEST": "Europe/Lisbon", "CET": "Europe/Berlin", "CEST": "Europe/Berlin",
    "MET": "Europe/Berlin", "EET": "Europe/Athens", "EEST": "Europe/Athens",
    "MSK": "Europe/Moscow", "EST": "America/New_York", "EDT": "America/New_York",
    "ET": "America/New_York", "CST": "America/Chicago", "CDT": "America/Chicago",
    "CT": "America/Chicago", "MST": "America/Denver", "MDT": "America/Denver",
    "MT": "America/Denver", "PST": "America/Los_Angeles", "PDT": "America/Los_Angeles",
    "PT": "America/Los_Angeles", "AKST": "America/Anchorage", "HST": "Pacific/Honolulu",
    "AST": "America/Halifax", "NST": "America/St_Johns", "BRT": "America/Sao_Paulo",
    "ART": "America/Argentina/Buenos_Aires", "IST": "Asia/Kolkata", "PKT": "Asia/Karachi",
    "ICT": "Asia/Bangkok", "WIB": "Asia/Jakarta", "SGT": "Asia/Singapore",
    "HKT": "Asia/Hong_Kong", "PHT": "Asia/Manila", "JST": "Asia/Tokyo", "KST": "Asia/Seoul",
    "AWST": "Australia/Perth", "ACST": "Australia/Adelaide", "AEST": "Australia/Sydney",
    "AEDT": "Australia/Sydney", "NZST": "Pacific/Auckland", "NZDT": "Pacific/Auckland",
    "SAST": "Africa/Johannesburg", "WAT": "Africa/Lagos", "CAT": "Africa/Maputo",
    "EAT": "Africa/Nairobi",
}  # fmt: skip

# Big cities that are not themselves zone names.
CITIES: dict[str, str] = {
    "delhi": "Asia/Kolkata", "new delhi": "Asia/Kolkata", "mumbai": "Asia/Kolkata",
    "bombay": "Asia/Kolkata", "bangalore": "Asia/Kolkata", "chennai": "Asia/Kolkata",
    "beijing": "Asia/Shanghai", "peking": "Asia/Shanghai", "washington": "America/New_York",
    "boston": "America/New_York", "miami": "America/New_York", "atlanta": "America/New_York",
    "san francisco": "America/Los_Angeles", "seattle": "America/Los_Angeles",
    "la": "America/Los_Angeles", "nyc": "America/New_York", "houston": "America/Chicago",
    "dallas": "America/Chicago", "munich": "Europe/Berlin", "frankfurt": "Europe/Berlin",
    "hamburg": "Europe/Berlin", "milan": "Europe/Rome", "barcelona": "Europe/Madrid",
    "manchester": "Europe/London", "edinburgh": "Europe/London", "glasgow": "Europe/London",
    "cardiff": "Europe/London", "belfast": "Europe/London", "geneva": "Europe/Zurich",
    "st petersburg": "Europe/Moscow", "melbourne": "Australia/Melbourne",
    "canberra": "Australia/Sydney", "abuja": "Africa/Lagos", "cape town": "Africa/Johannesburg",
    "rio": "America/Sao_Paulo", "rio de janeiro": "America/Sao_Paulo", "kyoto": "Asia/Tokyo",
    "osaka": "Asia/Tokyo", "hanoi": "Asia/Bangkok", "ho chi minh": "Asia/Ho_Chi_Minh",
    "saigon": "Asia/Ho_Chi_Minh", "quebec": "America/Toronto", "montreal": "America/Toronto",
    "ottawa": "America/Toronto", "wellington": "Pacific/Auckland",
}  # fmt: skip


def _read(name: str) -> str:
    return (resources.files("tzdata") / "zoneinfo" / name).read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def canonical_zones() -> frozenset[str]:
    """Every current zone name (one per region of each country), plus UTC."""
    names = {UTC}
    for table in ("zone.tab", "zone1970.tab"):
        for line in _read(table).splitlines():
            if line and not line.startswith("#"):
                names.add(line.split("\t")[2])
    return frozenset(names)


@lru_cache(maxsize=1)
def _links() -> dict[str, str]:
    """Deprecated or alias name -> the canonical zone it now points to."""
    raw: dict[str, str] = {}
    for line in _read("tzdata.zi").splitlines():
        if line.startswith("L "):
            _, target, alias = line.split()
            raw[alias] = target
    canonical = canonical_zones()
    resolved: dict[str, str] = {}
    for alias, target in raw.items():
        for _ in range(5):  # links may chain
            if target in canonical or target not in raw:
                break
            target = raw[target]
        if target in canonical:
            resolved[alias] = target
    return resolved


def _fold(text: str) -> str:
    return " ".join(text.replace("_", " ").replace("-", " ").casefold().split())


@lru_cache(maxsize=1)
def _lookup() -> dict[str, str]:
    """Folded full names and city names -> canonical zone."""
    table: dict[str, str] = {}
    canonical = sorted(canonical_zones())
    for name in canonical:
        table[_fold(name)] = name
    for alias, target in _links().items():
        table.setdefault(_fold(alias), target)
    # City parts after the full names, so "Europe/Paris" outranks a city called Paris.
    for name in canonical:
        table.setdefault(_fold(name.rsplit("/", 1)[-1]), name)
    for alias, target in sorted(_links().items()):
        if "/" in alias and not alias.startswith("Etc/"):
            table.setdefault(_fold(alias.rsplit("/", 1)[-1]), target)
    for city, target in CITIES.items():
        table.setdefault(city, target)
    return table


def resolve_timezone(text: str) -> str | None:
    """Today's zone name for a zone name, deprecated name, city or abbreviation; else None."""
    query = text.strip()
    if not query:
        return None
    if query.upper() in ABBREVIATIONS:
        return ABBREVIATIONS[query.upper()]
    return _lookup().get(_fold(query))


def suggest_timezones(text: str, limit: int = 3) -> list[str]:
    """Close current zone names for a misspelt ``text`` (best first), e.g. Europe/Berln."""
    query = _fold(text)
    if not query:
        return []
    table = _lookup()
    found: list[str] = []
    for key, _score, _index in process.extract(
        query, list(table), scorer=fuzz.WRatio, limit=limit * 4, score_cutoff=80
    ):
        zone = table[key]
        if zone not in found:
            found.append(zone)
    return found[:limit]


__all__ = ["ABBREVIATIONS", "canonical_zones", "resolve_timezone", "suggest_timezones"]
