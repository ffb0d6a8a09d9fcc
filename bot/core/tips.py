"""Daily tips, Telegram-free: which tip a user gets next, and when a daily tip is due.

Rotation: a user's tips are numbered by a position counter kept in storage; the tip at
a position is computed from (chat id, position) alone, so nothing else is stored.
Positions are grouped in cycles of :func:`cycle_length` tips. Every cycle holds every
tip that is not a safety tip once, plus a turn of the safety tips capped at
:data:`MAX_SAFETY_SHARE` of the cycle; the safety tips take turns from cycle to cycle,
so each is still seen, just less often. Safety tips are spread out (never two in a row)
and the first :data:`WELCOME_TIPS` tips a person ever gets are practical and pleasant
ones (technique, relaxation, self-care; no safety or evidence tip). Shuffles are
seeded by the chat id, so different users see different orders, and tips are shuffled
by id, sorted first, so reordering the YAML file does not change anyone's sequence.

Interests: a person who asked about sleep, stress or pain gets tips about it more
often. :func:`tip_at` takes the tags of interest (:func:`interest_tags` turns the last
topic ids into tags) and an interest weight, the share of positions given to them;
those positions take the next tip of a rotation over the matching tips (never safety
tips), the others keep the normal rotation.

Due time: everything is decided by :func:`due_date` / :func:`next_due` from the time
zone, the local ``HH:MM``, the local date of the last daily tip and ``now`` (UTC),
with no clock of their own, so tests drive them with a fake clock. The rule:

- the tip for local day D is due from D at HH:MM (local wall time converted with
  zoneinfo on that very day, so daylight-saving changes are followed) until the end
  of D; a bot that was down at HH:MM and comes back later the same local day sends it
  then; a day that ended while the bot was down is skipped, not sent late;
- at most one daily tip per local day: a day already recorded as sent is never due.

Wall times that do not exist on a spring-forward day (02:30 in Berlin on 2026-03-29)
resolve to the instant the clocks jump past them (03:30 CEST); wall times that occur
twice on a fall-back day resolve to the first occurrence (``fold=0``).
"""

from __future__ import annotations

import math
import random
import re
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.knowledge.tips import Tip
from bot.core.timezones import resolve_timezone, suggest_timezones

DEFAULT_TIME = "09:00"
DEFAULT_TIMEZONE = "UTC"
_TIME_RE = re.compile(r"^([01]?\d|2[0-3])[:.h]?([0-5]\d)$")


# -- rotation ---------------------------------------------------------------------------

SAFETY = "safety"
# At most this share of a cycle is safety tips (issue 11: at most a quarter).
MAX_SAFETY_SHARE = 0.25
# The first tips anyone gets: a week of daily tips with no warning among them.
WELCOME_TIPS = 7
WELCOME_TAGS = frozenset({"technique", "relaxation", "self-care"})
NOT_WELCOME_TAGS = frozenset({SAFETY, "evidence"})
# Share of positions given to a person's interests when they have any.
INTEREST_WEIGHT = 1 / 3
# Topic ids (docs/CONTRACT.md section 1) -> the tip tags a question about them shows interest in.
# Stress is answered by the ``relaxation`` topic, pain by ``pain-relief``.
TOPIC_TAGS: dict[str, tuple[str, ...]] = {
    "sleep": ("sleep",),
    "relaxation": ("relaxation",),
    "pain-relief": ("pain",),
    "circulation": ("circulation",),
}


def is_safety(tip: Tip) -> bool:
    return SAFETY in tip.tags


def _is_welcome(tip: Tip) -> bool:
    return bool(WELCOME_TAGS & set(tip.tags)) and not NOT_WELCOME_TAGS & set(tip.tags)


def tip_order(tip_ids: Sequence[str], chat_id: int, cycle: int) -> list[str]:
    """``tip_ids`` sorted, then shuffled for ``chat_id`` and ``cycle`` (a seeded shuffle)."""
    order = sorted(tip_ids)
    random.Random(f"{chat_id}:{cycle}").shuffle(order)
    return order


def _split(tips: Sequence[Tip]) -> tuple[list[Tip], list[Tip]]:
    by_id = {tip.id: tip for tip in tips}
    ordered = [by_id[key] for key in sorted(by_id)]
    return [t for t in ordered if not is_safety(t)], [t for t in ordered if is_safety(t)]


def _safety_per_cycle(general: int, safety: int) -> int:
    """The most safety tips a cycle of ``general`` other tips may hold."""
    if general == 0:
        return safety  # nothing else to show
    # share s of the cycle: safety / (general + safety) <= s; the epsilon absorbs rounding
    cap = int(MAX_SAFETY_SHARE * general / (1 - MAX_SAFETY_SHARE) + 1e-9)
    return min(safety, cap)


def cycle_length(tips: Sequence[Tip]) -> int:
    """How many positions one cycle of the rotation has."""
    general, safety = _split(tips)
    return len(general) + _safety_per_cycle(len(general), len(safety))


def rotation_cycle(tips: Sequence[Tip], chat_id: int, cycle: int) -> list[Tip]:
    """The tips ``chat_id`` gets during ``cycle``, in order (the module docstring's rule)."""
    return list(_cycle(tuple(tips), chat_id, cycle))


@lru_cache(maxsize=1024)
def _cycle(tips: tuple[Tip, ...], chat_id: int, cycle: int) -> tuple[Tip, ...]:
    # cached: a daily-tip run asks for one position per chat, tests ask for thousands
    general, safety = _split(tips)
    if not general and not safety:
        raise ValueError("there are no tips")
    count = _safety_per_cycle(len(general), len(safety))
    # The safety tips take turns: one fixed order per chat, read ``count`` at a time.
    safety_ids = tip_order([t.id for t in safety], chat_id, -1)
    by_id = {t.id: t for t in safety}
    start = cycle * count
    turn = [by_id[safety_ids[(start + k) % len(safety_ids)]] for k in range(count)]
    random.Random(f"{chat_id}:{cycle}:safety").shuffle(turn)
    others = list(general)
    random.Random(f"{chat_id}:{cycle}").shuffle(others)
    lead = 0
    if cycle == 0:
        # The first welcome tips of the shuffle move to the front.
        first = [t for t in others if _is_welcome(t)][:WELCOME_TIPS]
        others = first + [t for t in others if t not in first]
        lead = len(first)
    if not turn:
        return tuple(others)
    # One safety tip after every ``gap`` other tips, after the welcome ones.
    rest = others[lead:]
    gap = max(1, len(rest) // len(turn))
    order = list(others[:lead])
    for k, tip in enumerate(rest):
        order.append(tip)
        if turn and (k + 1) % gap == 0:
            order.append(turn.pop())
    order.extend(turn)  # only when there are more safety tips than other tips
    return tuple(order)


def interest_tags(topics: Iterable[str]) -> frozenset[str]:
    """The tip tags that the topic ids a person asked about show interest in."""
    return frozenset(tag for topic in topics for tag in TOPIC_TAGS.get(topic, ()))


def tip_at(
    tips: Sequence[Tip],
    chat_id: int,
    position: int,
    interests: Iterable[str] = (),
    weight: float = INTEREST_WEIGHT,
) -> Tip:
    """The tip at ``position`` of ``chat_id``'s rotation.

    ``interests`` are tip tags (see :func:`interest_tags`); ``weight`` (0 to 1) is the
    share of positions that then go to tips with one of those tags.
    """
    if not tips:
        raise ValueError("there are no tips")
    wanted = frozenset(interests)
    weight = min(max(weight, 0.0), 1.0)
    if wanted and weight > 0:
        pool = [t for t in _split(tips)[0] if wanted & set(t.tags)]
        # Position p is an interest slot when p * weight crosses a whole number; the
        # slots before it are counted without a loop.
        slot = math.floor(position * weight)
        if pool and math.floor((position + 1) * weight) > slot:
            pool_cycle, index = divmod(slot, len(pool))
            order = sorted(pool, key=lambda t: t.id)
            random.Random(f"{chat_id}:{sorted(wanted)}:{pool_cycle}").shuffle(order)
            return order[index]
    cycle, index = divmod(position, cycle_length(tips))
    return _cycle(tuple(tips), chat_id, cycle)[index]


# -- parsing user input -----------------------------------------------------------------


def parse_daily_time(text: str) -> str | None:
    """``"9:30"``, ``"09:30"``, ``"0930"``, ``"21.30"`` -> ``"HH:MM"``; None if not a time."""
    match = _TIME_RE.match(text.strip())
    if not match:
        return None
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def zone(name: str | None) -> ZoneInfo:
    """The ZoneInfo for a stored name; UTC when unset."""
    try:
        return ZoneInfo(name or DEFAULT_TIMEZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


# -- due logic ------------------------------------------------------------------------


def _hhmm(daily_time: str) -> time:
    hours, minutes = daily_time.split(":")
    return time(int(hours), int(minutes))


def scheduled_instant(timezone: str | None, daily_time: str, day: date) -> datetime:
    """The UTC instant of ``daily_time`` on local ``day`` in ``timezone``."""
    tz = zone(timezone)
    # fold=0: a wall time in a spring-forward gap is read with the offset from before
    # the jump, which lands just after it; a repeated wall time means its first run.
    wall = datetime.combine(day, _hhmm(daily_time), tzinfo=tz)
    return wall.astimezone(UTC)


def local_date(timezone: str | None, now_utc: datetime) -> date:
    """Today's date in ``timezone`` at ``now_utc``."""
    return now_utc.astimezone(zone(timezone)).date()


def _as_date(value: date | str | None) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def due_date(
    timezone: str | None,
    daily_time: str,
    last_sent: date | str | None,
    now_utc: datetime,
) -> date | None:
    """The local date whose daily tip is due at ``now_utc``, or None if nothing is due."""
    if now_utc.tzinfo is None:
        raise ValueError("now_utc must be timezone-aware")
    today = local_date(timezone, now_utc)
    sent = _as_date(last_sent)
    if sent is not None and sent >= today:
        return None
    if now_utc < scheduled_instant(timezone, daily_time, today):
        return None
    return today


def next_due(
    timezone: str | None,
    daily_time: str,
    last_sent: date | str | None,
    now_utc: datetime,
) -> datetime:
    """The first instant at or after ``now_utc`` at which a daily tip is due (UTC)."""
    if due_date(timezone, daily_time, last_sent, now_utc) is not None:
        return now_utc
    today = local_date(timezone, now_utc)
    sent = _as_date(last_sent)
    day = today
    if (sent is not None and sent >= today) or now_utc >= scheduled_instant(
        timezone, daily_time, today
    ):
        day = today + timedelta(days=1)
    if sent is not None and sent >= day:
        day = sent + timedelta(days=1)
    return scheduled_instant(timezone, daily_time, day)


__all__ = [
    "DEFAULT_TIME",
    "DEFAULT_TIMEZONE",
    "INTEREST_WEIGHT",
    "MAX_SAFETY_SHARE",
    "TOPIC_TAGS",
    "WELCOME_TIPS",
    "cycle_length",
    "due_date",
    "interest_tags",
    "is_safety",
    "local_date",
    "next_due",
    "parse_daily_time",
    "resolve_timezone",
    "rotation_cycle",
    "scheduled_instant",
    "suggest_timezones",
    "tip_at",
    "tip_order",
    "zone",
]
