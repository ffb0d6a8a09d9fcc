"""bot/core/tips.py: rotation, input parsing and the due rule, with a fake clock."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.knowledge import load_knowledge
from bot.core.knowledge.source import Problems
from bot.core.knowledge.tips import TIP_TAGS, Tip, load_tips
from bot.core.tips import (
    INTEREST_WEIGHT,
    MAX_SAFETY_SHARE,
    WELCOME_TIPS,
    cycle_length,
    due_date,
    interest_tags,
    is_safety,
    next_due,
    parse_daily_time,
    resolve_timezone,
    scheduled_instant,
    suggest_timezones,
    tip_at,
)

BERLIN = "Europe/Berlin"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@pytest.fixture(scope="module")
def tips() -> tuple[Tip, ...]:
    path = Path(__file__).resolve().parents[1] / "knowledge" / "tips.yaml"
    problems = Problems(path)
    loaded = load_tips(path, problems)
    assert not problems.items, problems.items
    return loaded


# -- the tips file ----------------------------------------------------------------------


def test_tips_file_has_enough_varied_tips(tips: tuple[Tip, ...]) -> None:
    assert len(tips) >= 60
    used = {tag for tip in tips for tag in tip.tags}
    assert used == TIP_TAGS  # every kind of tip is represented
    assert len({tip.text for tip in tips}) == len(tips)


def test_tips_are_hedged_not_medical_promises(tips: tuple[Tip, ...]) -> None:
    forbidden = ("cures", "will cure", "stop taking", "stop your", "instead of your doctor")
    for tip in tips:
        lowered = tip.text.lower()
        assert not any(word in lowered for word in forbidden), tip.id
        assert len(tip.text) <= 400, tip.id


def test_tips_load_through_the_whole_knowledge_base() -> None:
    knowledge = load_knowledge()
    assert [tip.id for tip in knowledge.tips][:3] == [
        "warm-up-strokes",
        "moderate-pressure",
        "thumb-walk",
    ]
    assert len(knowledge.tips) >= 60


# -- rotation -----------------------------------------------------------------------------


CHATS = (1, 42, 7_000_123, -1001234567890, *range(100, 200))


def test_every_other_tip_once_per_cycle_and_every_safety_tip_in_turn(
    tips: tuple[Tip, ...],
) -> None:
    general = sorted(t.id for t in tips if not is_safety(t))
    safety = sorted(t.id for t in tips if is_safety(t))
    n = cycle_length(tips)
    cycles = -(-len(safety) // (n - len(general))) + 1  # enough for every safety tip
    for chat_id in CHATS[:4]:
        seen: list[str] = []
        for cycle in range(cycles):
            ids = [tip_at(tips, chat_id, k).id for k in range(cycle * n, (cycle + 1) * n)]
            assert len(set(ids)) == n  # no repeat inside a cycle
            assert sorted(i for i in ids if i in general) == general
            seen.extend(ids)
        assert set(seen) == set(general) | set(safety)  # every tip comes round


def test_safety_tips_are_at_most_a_quarter_spread_out_and_never_first(
    tips: tuple[Tip, ...],
) -> None:
    n = cycle_length(tips)
    assert sum(map(is_safety, tips)) / len(tips) > MAX_SAFETY_SHARE  # the cap does work
    for chat_id in CHATS:
        sequence = [tip_at(tips, chat_id, k) for k in range(3 * n)]
        share = sum(map(is_safety, sequence)) / len(sequence)
        assert share <= MAX_SAFETY_SHARE, (chat_id, share)
        for cycle in range(3):
            in_cycle = sequence[cycle * n : (cycle + 1) * n]
            assert sum(map(is_safety, in_cycle)) <= MAX_SAFETY_SHARE * n
        flags = [is_safety(t) for t in sequence]
        assert not any(a and b for a, b in itertools.pairwise(flags))
        # The first week of tips: practical and pleasant, no warning, no evidence review.
        for tip in sequence[:WELCOME_TIPS]:
            assert not {"safety", "evidence"} & set(tip.tags), (chat_id, tip.id)
            assert {"technique", "relaxation", "self-care"} & set(tip.tags), tip.id


def test_first_tip_is_never_an_emergency_or_crisis_warning(tips: tuple[Tip, ...]) -> None:
    firsts = {tip_at(tips, chat_id, 0).id for chat_id in range(-500, 2000)}
    assert not {"emergencies-first", "crisis-help", "clot-warning", "cold-pale-leg"} & firsts
    assert len(firsts) > 10  # still varied between people


@pytest.mark.parametrize(
    ("topics", "tag"),
    [(["sleep"], "sleep"), (["relaxation"], "relaxation"), (["pain-relief"], "pain")],
)
def test_an_interest_brings_its_tips_more_often(
    tips: tuple[Tip, ...], topics: list[str], tag: str
) -> None:
    interests = interest_tags(topics)
    assert interests == {tag}
    window = 30
    for chat_id in CHATS[:40]:
        plain = [tip_at(tips, chat_id, k) for k in range(window)]
        keen = [tip_at(tips, chat_id, k, interests) for k in range(window)]
        with_tag = sum(tag in t.tags for t in keen)
        # a third of the positions go to the interest, the rest keep their own share
        assert with_tag >= INTEREST_WEIGHT * window - 1
        assert with_tag > sum(tag in t.tags for t in plain)
        assert not any(is_safety(t) for t, p in zip(keen, plain, strict=True) if t != p)
        # a heavier weight gives more; weight 0 is the plain rotation
        heavy = [tip_at(tips, chat_id, k, interests, weight=0.6) for k in range(window)]
        assert sum(tag in t.tags for t in heavy) > with_tag
        assert [tip_at(tips, chat_id, k, interests, weight=0) for k in range(window)] == plain
        # the interest tips themselves take turns: no repeat among the first few
        slots = [
            k for k in range(window) if int((k + 1) * INTEREST_WEIGHT) > int(k * INTEREST_WEIGHT)
        ]
        pool = {t.id for t in tips if tag in t.tags and not is_safety(t)}
        boosted = [keen[k].id for k in slots][: len(pool)]
        assert len(set(boosted)) == len(boosted) and set(boosted) <= pool


def test_topics_without_a_tip_interest_change_nothing(tips: tuple[Tip, ...]) -> None:
    assert interest_tags(["foot-map", "safety", "greeting"]) == frozenset()
    assert [tip_at(tips, 5, k, interest_tags(["foot-map"])) for k in range(20)] == [
        tip_at(tips, 5, k) for k in range(20)
    ]


def test_a_small_file_with_only_safety_tips_still_rotates() -> None:
    only = tuple(Tip(f"s{i}", "Careful.", ("safety",)) for i in range(3))
    assert sorted(tip_at(only, 1, k).id for k in range(3)) == ["s0", "s1", "s2"]
    mixed = (*only, Tip("g", "Enjoy.", ("technique",)))
    assert [tip_at(mixed, 1, k).id for k in range(4)] == ["g"] * 4  # the cap: 0 of 1


def test_rotation_is_stable_and_differs_between_users(tips: tuple[Tip, ...]) -> None:
    a = [tip_at(tips, 1, k).id for k in range(10)]
    assert a == [tip_at(tips, 1, k).id for k in range(10)]
    assert a != [tip_at(tips, 2, k).id for k in range(10)]
    # Reordering the file does not move anyone's sequence.
    assert a == [tip_at(tuple(reversed(tips)), 1, k).id for k in range(10)]


def test_no_tips_is_an_error() -> None:
    with pytest.raises(ValueError):
        tip_at((), 1, 0)


# -- parsing --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("21:30", "21:30"),
        ("9:05", "09:05"),
        ("0930", "09:30"),
        ("07.15", "07:15"),
        ("00:00", "00:00"),
        ("23:59", "23:59"),
        ("24:00", None),
        ("9", None),
        ("12:60", None),
        ("noon", None),
        ("", None),
    ],
)
def test_parse_daily_time(text: str, expected: str | None) -> None:
    assert parse_daily_time(text) == expected


def test_timezones_resolve_and_misspellings_get_suggestions() -> None:
    assert resolve_timezone("Europe/Berlin") == BERLIN
    assert resolve_timezone("europe/berlin") == BERLIN
    assert resolve_timezone("Berlin") == BERLIN
    assert resolve_timezone("new york") == "America/New_York"
    assert resolve_timezone("utc") == "UTC"
    assert resolve_timezone("Europe/Berln") is None
    assert suggest_timezones("Europe/Berln")[0] == BERLIN
    assert suggest_timezones("Amerca/New_Yrok")[0] == "America/New_York"
    assert suggest_timezones("qqqqqqq") == []


# -- due rule and DST --------------------------------------------------------------------


def test_berlin_nine_oclock_across_spring_forward() -> None:
    # CET (UTC+1) until 2026-03-29 01:00 UTC, then CEST (UTC+2).
    assert scheduled_instant(BERLIN, "09:00", date(2026, 3, 28)) == utc(2026, 3, 28, 8)
    assert scheduled_instant(BERLIN, "09:00", date(2026, 3, 29)) == utc(2026, 3, 29, 7)
    # The day before the change: not due at 07:59 UTC (08:59 local), due at 08:00.
    assert due_date(BERLIN, "09:00", "2026-03-27", utc(2026, 3, 28, 7, 59)) is None
    assert due_date(BERLIN, "09:00", "2026-03-27", utc(2026, 3, 28, 8)) == date(2026, 3, 28)
    # The day of the change: due at 07:00 UTC (09:00 CEST), not an hour late.
    assert due_date(BERLIN, "09:00", "2026-03-28", utc(2026, 3, 29, 6, 59)) is None
    assert due_date(BERLIN, "09:00", "2026-03-28", utc(2026, 3, 29, 7)) == date(2026, 3, 29)
    assert next_due(BERLIN, "09:00", "2026-03-28", utc(2026, 3, 28, 20)) == utc(2026, 3, 29, 7)


def test_berlin_nine_oclock_across_fall_back() -> None:
    # CEST until 2026-10-25 01:00 UTC, then CET.
    assert scheduled_instant(BERLIN, "09:00", date(2026, 10, 24)) == utc(2026, 10, 24, 7)
    assert scheduled_instant(BERLIN, "09:00", date(2026, 10, 25)) == utc(2026, 10, 25, 8)
    assert due_date(BERLIN, "09:00", "2026-10-24", utc(2026, 10, 25, 7, 59)) is None
    assert due_date(BERLIN, "09:00", "2026-10-24", utc(2026, 10, 25, 8)) == date(2026, 10, 25)
    assert next_due(BERLIN, "09:00", "2026-10-24", utc(2026, 10, 24, 12)) == utc(2026, 10, 25, 8)


def test_times_inside_the_dst_gap_and_overlap() -> None:
    # 02:30 does not exist on 2026-03-29: it runs when the clocks jump (03:30 CEST).
    assert scheduled_instant(BERLIN, "02:30", date(2026, 3, 29)) == utc(2026, 3, 29, 1, 30)
    # 02:30 happens twice on 2026-10-25: it runs once, at the first occurrence.
    first = utc(2026, 10, 25, 0, 30)
    assert scheduled_instant(BERLIN, "02:30", date(2026, 10, 25)) == first
    assert due_date(BERLIN, "02:30", "2026-10-24", first) == date(2026, 10, 25)
    # After it was sent, the second 02:30 (01:30 UTC) is not due again.
    assert due_date(BERLIN, "02:30", "2026-10-25", utc(2026, 10, 25, 1, 30)) is None


def test_a_simulated_fortnight_sends_exactly_once_per_local_day() -> None:
    """Step a fake clock every 10 minutes through both DST changes."""
    for start in (utc(2026, 3, 22), utc(2026, 10, 18)):
        sent: list[datetime] = []
        last: date | None = None
        now = start
        while now < start + timedelta(days=14):
            day = due_date(BERLIN, "09:00", last, now)
            if day is not None:
                sent.append(now)
                last = day
            now += timedelta(minutes=10)
        assert len(sent) == 14
        local_times = {s.astimezone(ZoneInfo(BERLIN)).time() for s in sent}
        assert {t.strftime("%H:%M") for t in local_times} == {"09:00"}


def test_late_start_same_day_sends_then_but_a_missed_day_is_skipped() -> None:
    # Down at 09:00, back at 15:00 the same local day: due now.
    assert due_date(BERLIN, "09:00", "2026-05-01", utc(2026, 5, 2, 13)) == date(2026, 5, 2)
    # Back only at 01:00 local the next day: that day's 09:00 has not come yet.
    assert due_date(BERLIN, "09:00", "2026-05-01", utc(2026, 5, 2, 23)) is None
    assert next_due(BERLIN, "09:00", "2026-05-01", utc(2026, 5, 2, 23)) == utc(2026, 5, 3, 7)


def test_unset_timezone_is_utc_and_naive_now_is_refused() -> None:
    assert due_date(None, "09:00", None, utc(2026, 1, 1, 9)) == date(2026, 1, 1)
    assert due_date(None, "09:00", None, utc(2026, 1, 1, 8, 59)) is None
    with pytest.raises(ValueError):
        due_date(None, "09:00", None, datetime(2026, 1, 1, 9))


def test_local_date_not_utc_date_decides_the_day() -> None:
    # 23:30 UTC on 1 Jan is already 2 Jan 08:30 in Tokyo: 2 Jan's 08:00 tip is due.
    assert due_date("Asia/Tokyo", "08:00", "2026-01-01", utc(2026, 1, 1, 23, 30)) == date(
        2026, 1, 2
    )
    # Sent for 2 Jan (local): nothing more until 3 Jan 08:00 JST.
    assert next_due("Asia/Tokyo", "08:00", "2026-01-02", utc(2026, 1, 1, 23, 30)) == utc(
        2026, 1, 2, 23
    )


@pytest.mark.parametrize(
    ("typed", "zone_name"),
    [
        ("Kiev", "Europe/Kyiv"),
        ("Europe/Kiev", "Europe/Kyiv"),
        ("Calcutta", "Asia/Kolkata"),
        ("Asia/Calcutta", "Asia/Kolkata"),
        ("CET", "Europe/Berlin"),
        ("cest", "Europe/Berlin"),
        ("EST", "America/New_York"),
        ("PST", "America/Los_Angeles"),
        ("IST", "Asia/Kolkata"),
        ("US/Eastern", "America/New_York"),
        ("Mumbai", "Asia/Kolkata"),
        ("Asia/Saigon", "Asia/Ho_Chi_Minh"),
        ("Amsterdam", "Europe/Amsterdam"),
    ],
)
def test_timezone_resolves_to_todays_name(typed: str, zone_name: str) -> None:
    assert resolve_timezone(typed) == zone_name


@pytest.mark.parametrize("typed", ["Kiev", "EST", "Etc/GMT+5", "GMT+5", "Calcuta", "Brazil/West"])
def test_never_offers_a_deprecated_or_etc_name(typed: str) -> None:
    from bot.core.timezones import canonical_zones

    offered = [*suggest_timezones(typed), resolve_timezone(typed)]
    for name in filter(None, offered):
        assert name in canonical_zones() and not name.startswith("Etc/"), (typed, name)
