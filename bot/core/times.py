"""Times and time zones in people's words, Telegram-free.

- ``parse_time("7pm")``: a whole phrase that is a time of day -> ``"19:00"`` (None if
  it is not one): ``19:30``, ``7.30am``, ``7 p.m.``, ``0930``, ``noon``;
- ``find_time("send me a tip every morning at 8")``: the time named inside a sentence
  (``"08:00"``), read with its words (``morning``, ``evening``...); None when there is
  none, ``BadTime`` when a time-like phrase is impossible ("25pm", "19:75");
- ``likely_zones("de")``: a few time zones people writing in that language live in;
- ``zone_at(lat, lng)``: the time zone of a shared location, offline (timezonefinder).
"""

from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MERIDIEM = r"(?P<ampm>[ap])\.?\s?m\b\.?"
# A clock time: "7", "7pm", "7 p.m.", "7:30", "7.30am", "19h30", "0930".
_CLOCK = re.compile(
    r"(?P<h>\d{1,2})(?:(?:[:.h])(?P<m>\d{2}))?\s?(?:" + _MERIDIEM + r")?$", re.IGNORECASE
)
_COMPACT = re.compile(r"(?P<h>\d{2})(?P<m>\d{2})$")
_WORDS = {"noon": "12:00", "midday": "12:00", "midnight": "00:00"}
# Inside a sentence: a number with minutes or am/pm anywhere, or a bare number after "at".
_IN_TEXT = re.compile(
    r"(?<![\w:.])(?P<t>\d{1,2}(?:[:.h]\d{2})?\s?(?:[ap]\.?\s?m\b\.?)"
    r"|\d{1,2}[:.h]\d{2}"
    r"|(?<=\bat\s)\d{1,2}(?![\w:.]))",
    re.IGNORECASE,
)
_EVENING_WORDS = re.compile(r"\b(evening|evenings|night|nights|tonight|afternoon|pm)\b", re.I)
_WORD_TIMES = re.compile(r"\b(noon|midday|midnight)\b", re.IGNORECASE)


class BadTime(ValueError):
    """A phrase shaped like a time that is not one ("25pm", "19:75")."""


def _clock(hours: int, minutes: int, meridiem: str | None) -> str:
    if not 0 <= minutes <= 59:
        raise BadTime(f"{minutes} is not a minute")
    if meridiem:
        if not 1 <= hours <= 12:
            raise BadTime(f"{hours}{meridiem}m is not a time")
        hours = hours % 12 + (12 if meridiem == "p" else 0)
    elif not 0 <= hours <= 23:
        raise BadTime(f"{hours} is not an hour")
    return f"{hours:02d}:{minutes:02d}"


def _read(phrase: str) -> str | None:
    """``phrase`` (the whole of it) as ``HH:MM``; None if not time-shaped; BadTime if bad."""
    phrase = phrase.strip().lower()
    if phrase in _WORDS:
        return _WORDS[phrase]
    match = _CLOCK.match(phrase) or _COMPACT.match(phrase)
    if match is None:
        return None
    groups = match.groupdict()
    meridiem = groups.get("ampm")
    return _clock(int(groups["h"]), int(groups["m"] or 0), meridiem.lower() if meridiem else None)


def parse_time(text: str) -> str | None:
    """A phrase that is only a time of day -> ``"HH:MM"``; None if it is not a valid one."""
    try:
        return _read(text)
    except BadTime:
        return None


def find_time(text: str) -> str | None:
    """The time of day named in a sentence, or None; raises BadTime for an impossible one.

    A bare hour ("at 8") is read with the sentence's words: morning unless it speaks of
    the evening, the night or the afternoon.
    """
    words = _WORD_TIMES.search(text)
    match = _IN_TEXT.search(text)
    if match is None:
        return _WORDS[words.group(1).lower()] if words else None
    phrase = match.group("t")
    value = _read(phrase)
    if value is None:  # pragma: no cover - the pattern only finds readable shapes
        return None
    hours = int(value[:2])
    bare = not re.search(r"[ap]\.?\s?m|[:.h]", phrase, re.IGNORECASE)
    if bare and 1 <= hours <= 11 and _EVENING_WORDS.search(text):
        value = f"{hours + 12:02d}:{value[3:]}"
    return value


# -- time zones ---------------------------------------------------------------------

# Where people writing in a language (Telegram's ``language_code``) most often live:
# a short list to offer as buttons, most likely first. "Other..." covers the rest.
_ZONES_BY_LANGUAGE: dict[str, tuple[str, ...]] = {
    "en": ("Europe/London", "America/New_York", "America/Los_Angeles", "Asia/Kolkata"),
    "en-gb": ("Europe/London", "Europe/Dublin"),
    "en-us": ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles"),
    "en-au": ("Australia/Sydney", "Australia/Melbourne", "Australia/Brisbane", "Australia/Perth"),
    "en-in": ("Asia/Kolkata",),
    "de": ("Europe/Berlin", "Europe/Vienna", "Europe/Zurich"),
    "fr": ("Europe/Paris", "Europe/Brussels", "Europe/Zurich", "America/Toronto"),
    "es": (
        "Europe/Madrid",
        "America/Mexico_City",
        "America/Bogota",
        "America/Argentina/Buenos_Aires",
    ),
    "pt": ("Europe/Lisbon", "America/Sao_Paulo"),
    "pt-br": ("America/Sao_Paulo", "America/Manaus", "America/Recife"),
    "it": ("Europe/Rome", "Europe/Zurich"),
    "nl": ("Europe/Amsterdam", "Europe/Brussels"),
    "pl": ("Europe/Warsaw",),
    "uk": ("Europe/Kyiv",),
    "ru": ("Europe/Moscow", "Asia/Yekaterinburg", "Asia/Novosibirsk", "Asia/Almaty"),
    "tr": ("Europe/Istanbul",),
    "ar": ("Asia/Riyadh", "Africa/Cairo", "Asia/Dubai", "Africa/Casablanca"),
    "fa": ("Asia/Tehran",),
    "he": ("Asia/Jerusalem",),
    "hi": ("Asia/Kolkata",),
    "id": ("Asia/Jakarta", "Asia/Makassar"),
    "ja": ("Asia/Tokyo",),
    "ko": ("Asia/Seoul",),
    "zh": ("Asia/Shanghai", "Asia/Taipei", "Asia/Hong_Kong", "Asia/Singapore"),
}
_DEFAULT_ZONES = ("Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Sydney")
MAX_LIKELY_ZONES = 4


def likely_zones(language_code: str | None) -> list[str]:
    """Up to four likely time zones for a Telegram ``language_code`` (``de``, ``en-US``)."""
    code = (language_code or "").lower().replace("_", "-")
    zones = _ZONES_BY_LANGUAGE.get(code) or _ZONES_BY_LANGUAGE.get(code.split("-")[0])
    return list(zones or _DEFAULT_ZONES)[:MAX_LIKELY_ZONES]


@lru_cache(maxsize=1)
def _finder() -> object:
    # Imported and built once, on first use: the boundary data takes a moment to open.
    from timezonefinder import TimezoneFinder

    return TimezoneFinder()


def zone_at(latitude: float, longitude: float) -> str | None:
    """The IANA time zone at a place, offline; None at sea or for a bad coordinate."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        return None
    name = _finder().timezone_at(lat=latitude, lng=longitude)  # type: ignore[attr-defined]
    # Oceans get Etc/GMT+N, whose sign is the reverse of what people expect: not offered.
    if not name or name.startswith("Etc/"):
        return None
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return str(name)


__all__ = ["BadTime", "find_time", "likely_zones", "parse_time", "zone_at"]
