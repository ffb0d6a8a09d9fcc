"""Daily tips, Telegram-free: which tip a user gets next, and when a daily tip is due.

Rotation: a user's tips are numbered by a position counter kept in storage. Positions
``k*n .. k*n+n-1`` (``n`` tips) are cycle ``k``; each cycle is a shuffle of all tip
ids seeded by (chat id, cycle), so every user sees every tip once before any repeats,
and different users see them in different orders. Tips are shuffled by id, sorted
first, so reordering the YAML file does not change anyone's sequence.

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

import random
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.knowledge.tips import Tip
from bot.core.timezones import resolve_timezone, suggest_timezones

DEFAULT_TIME = "09:00"
DEFAULT_TIMEZONE = "UTC"
_TIME_RE = re.compile(r"^([01]?\d|2[0-3])[:.h]?([0-5]\d)$")


# -- rotation ---------------------------------------------------------------------------


def tip_order(tip_ids: Sequence[str], chat_id: int, cycle: int) -> list[str]:
    """The order in which ``chat_id`` sees ``tip_ids`` during ``cycle``."""
    order = sorted(tip_ids)
    random.Random(f"{chat_id}:{cycle}").shuffle(order)
    return order


def tip_at(tips: Sequence[Tip], chat_id: int, position: int) -> Tip:
    """The tip at ``position`` of ``chat_id``'s rotation."""
    if not tips:
        raise ValueError("there are no tips")
    cycle, index = divmod(position, len(tips))
    by_id = {tip.id: tip for tip in tips}
    return by_id[tip_order(list(by_id), chat_id, cycle)[index]]


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
    "due_date",
    "local_date",
    "next_due",
    "parse_daily_time",
    "resolve_timezone",
    "scheduled_instant",
    "suggest_timezones",
    "tip_at",
    "tip_order",
    "zone",
]
