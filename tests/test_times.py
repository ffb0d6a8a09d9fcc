"""Times in people's words (bot/core/times.py): a table of phrasings and what they mean."""

from __future__ import annotations

import pytest

from bot.core.times import BadTime, find_time, likely_zones, parse_time, zone_at

WHOLE_PHRASES = [
    ("7pm", "19:00"),
    ("7 pm", "19:00"),
    ("7PM", "19:00"),
    ("7 p.m.", "19:00"),
    ("19:30", "19:30"),
    ("7.30am", "07:30"),
    ("7:30 am", "07:30"),
    ("12am", "00:00"),
    ("12pm", "12:00"),
    ("9", "09:00"),
    ("09:00", "09:00"),
    ("21.30", "21:30"),
    ("0930", "09:30"),
    ("19h30", "19:30"),
    ("noon", "12:00"),
    ("midnight", "00:00"),
    ("0:05", "00:05"),
    # not times
    ("25pm", None),
    ("13pm", None),
    ("0am", None),
    ("25:00", None),
    ("19:75", None),
    ("7.3", None),
    ("soon", None),
    ("9 30", None),
    ("", None),
    ("-1", None),
]


@pytest.mark.parametrize(("phrase", "expected"), WHOLE_PHRASES)
def test_parse_time(phrase: str, expected: str | None) -> None:
    assert parse_time(phrase) == expected


SENTENCES = [
    ("send me a tip every morning at 8", "08:00"),
    ("daily tips at 9 please", "09:00"),
    ("tips every evening at 8", "20:00"),
    ("a tip each night at 10", "22:00"),
    ("daily tip at 7pm", "19:00"),
    ("I want daily tips at 19:30", "19:30"),
    ("tips at 7.30am on weekdays", "07:30"),
    ("remind me at noon", "12:00"),
    ("send me a daily tip", None),
    ("tips every day please", None),
    ("give me 3 tips", None),  # a count is not a time
]


@pytest.mark.parametrize(("sentence", "expected"), SENTENCES)
def test_find_time(sentence: str, expected: str | None) -> None:
    assert find_time(sentence) == expected


@pytest.mark.parametrize("sentence", ["daily tips at 25pm", "tips at 19:75", "tips at 25"])
def test_find_time_refuses_impossible_times(sentence: str) -> None:
    with pytest.raises(BadTime):
        find_time(sentence)


def test_likely_zones_follow_the_language_code() -> None:
    assert likely_zones("de")[0] == "Europe/Berlin"
    assert likely_zones("en-US")[0] == "America/New_York"
    assert likely_zones("pt-br")[0] == "America/Sao_Paulo"
    assert likely_zones("xx") == likely_zones(None)
    for code in ("en", "de", "fr", "es", "ru", "uk", "zh", "ja", None):
        zones = likely_zones(code)
        assert 1 <= len(zones) <= 4
        assert not any(z.startswith("Etc/") for z in zones)


def test_zone_at_a_shared_location_offline() -> None:
    assert zone_at(51.5, -0.12) == "Europe/London"
    assert zone_at(52.52, 13.40) == "Europe/Berlin"
    assert zone_at(50.45, 30.52) == "Europe/Kyiv"
    assert zone_at(0.0, -30.0) is None  # the Atlantic: no Etc/GMT+2 offered
    assert zone_at(123.0, 0.0) is None


def test_every_offered_zone_is_a_current_name() -> None:
    from zoneinfo import ZoneInfo

    from bot.core import times

    for zones in [*times._ZONES_BY_LANGUAGE.values(), times._DEFAULT_ZONES]:
        for name in zones:
            ZoneInfo(name)
            assert name not in {"Europe/Kiev", "Asia/Calcutta"} and "/" in name
