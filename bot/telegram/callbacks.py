"""Every button's callback data: packed and parsed here, and nowhere else.

A payload is a small frozen dataclass; ``pack`` turns it into the string Telegram keeps
(fields joined by ``:``, at most ``InlineKeyboardButtonLimit.MAX_CALLBACK_DATA`` = 64
bytes, checked on every pack) and ``parse`` turns a pressed button's string back into
the payload, or ``None`` for anything this version does not know (an old button).
Handlers select their presses with ``CallbackQueryHandler(pattern=matches(Kind))``.

Layouts (``<uid>`` is the Telegram user who asked: in a group only they may press):

==========================  ===============================================
``t:<topic>``               a topic (the same path as asking about it)
``t:none`` / ``t:all``      "None of these" / the list of every topic
``r:start:<routine>``       start a routine
``r:<act>:<run>``           pause, resume, next, stop the live routine ``run``
``fb:<routine>:<feel>``     "How do you feel?" after a routine
``h:<entry>:<u|d>``         "Did this help?" under an answer
``tip:next`` / ``tip:daily``  another tip / subscribe
``set:<act>[:<arg>]:<uid>`` /settings (on, off, t:HH:MM, tz)
``tz:<zone>:<uid>``         a time zone; ``tz:?:<uid>`` is "Other..."
``forget:<act>:<uid>``      /forget (ask, yes, no)
==========================  ===============================================
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from telegram.constants import InlineKeyboardButtonLimit

MAX_BYTES = int(InlineKeyboardButtonLimit.MAX_CALLBACK_DATA)
SEP = ":"
ROUTINE_ACTIONS = ("pause", "resume", "next", "stop")
FEELINGS = ("better", "same", "worse")
SETTINGS_ACTIONS = ("on", "off", "t", "tz")
FORGET_ACTIONS = ("ask", "yes", "no")
OTHER_ZONE = "?"


class CallbackDataTooLong(ValueError):
    """A payload that Telegram would refuse (over 64 bytes)."""


@dataclass(frozen=True)
class TopicPick:
    topic: str


@dataclass(frozen=True)
class NoneOfThese:
    pass


@dataclass(frozen=True)
class AllTopics:
    pass


@dataclass(frozen=True)
class RoutineStart:
    routine: str


@dataclass(frozen=True)
class RoutineControl:
    action: str  # one of ROUTINE_ACTIONS
    run: str  # the live routine's token ("" on buttons from before tokens)


@dataclass(frozen=True)
class RoutineFeeling:
    routine: str
    feeling: str  # one of FEELINGS


@dataclass(frozen=True)
class Helpful:
    entry: str  # an entry id, or a topic id for a topic answer
    helped: bool


@dataclass(frozen=True)
class TipAction:
    action: str  # "next" or "daily"


@dataclass(frozen=True)
class SettingsAction:
    action: str  # one of SETTINGS_ACTIONS
    requester: int | None  # None: a button from before requesters were recorded
    time: str = ""  # "HH:MM" for action "t"


@dataclass(frozen=True)
class ZonePick:
    zone: str  # an IANA name, or OTHER_ZONE
    requester: int | None


@dataclass(frozen=True)
class ForgetAction:
    action: str  # one of FORGET_ACTIONS
    requester: int | None


Payload = (
    TopicPick
    | NoneOfThese
    | AllTopics
    | RoutineStart
    | RoutineControl
    | RoutineFeeling
    | Helpful
    | TipAction
    | SettingsAction
    | ZonePick
    | ForgetAction
)


def _join(*parts: str | int | None) -> str:
    data = SEP.join(str(part) for part in parts if part is not None)
    if len(data.encode("utf-8")) > MAX_BYTES:
        raise CallbackDataTooLong(f"callback data {data!r} is over {MAX_BYTES} bytes")
    return data


def pack(payload: Payload) -> str:
    """The callback data of ``payload``; raises ``CallbackDataTooLong`` over 64 bytes."""
    match payload:
        case TopicPick(topic):
            return _join("t", topic)
        case NoneOfThese():
            return _join("t", "none")
        case AllTopics():
            return _join("t", "all")
        case RoutineStart(routine):
            return _join("r", "start", routine)
        case RoutineControl(action, run):
            return _join("r", action, run or None)
        case RoutineFeeling(routine, feeling):
            return _join("fb", routine, feeling)
        case Helpful(entry, helped):
            return _join("h", entry, "u" if helped else "d")
        case TipAction(action):
            return _join("tip", action)
        case SettingsAction("t", requester, time):
            return _join("set", "t", time, requester)
        case SettingsAction(action, requester):
            return _join("set", action, requester)
        case ZonePick(zone, requester):
            return _join("tz", zone, requester)
        case ForgetAction(action, requester):
            return _join("forget", action, requester)
    raise TypeError(f"not a callback payload: {payload!r}")


def _requester(parts: list[str], arity: int) -> tuple[list[str], int | None] | None:
    """The first ``arity`` fields and the requester id after them (None when absent)."""
    if len(parts) == arity:
        return parts, None
    if len(parts) == arity + 1 and parts[-1].isdigit():
        return parts[:-1], int(parts[-1])
    return None


def parse(data: object) -> Payload | None:
    """The payload of a pressed button, or None for data this version does not know."""
    if not isinstance(data, str):
        return None
    head, _, rest = data.partition(SEP)
    parts = rest.split(SEP) if rest else []
    if head in ("set", "tz", "forget"):
        return _parse_personal(head, parts)
    match head, parts:
        case "t", ["none"]:
            return NoneOfThese()
        case "t", ["all"]:
            return AllTopics()
        case "t", [topic] if topic:
            return TopicPick(topic)
        case "r", ["start", routine] if routine:
            return RoutineStart(routine)
        case "r", [action, run] if action in ROUTINE_ACTIONS and run:
            return RoutineControl(action, run)
        case "r", [action] if action in ROUTINE_ACTIONS:  # from before runs had tokens
            return RoutineControl(action, "")
        case "fb", [routine, feeling] if feeling in FEELINGS:
            return RoutineFeeling(routine, feeling)
        case "h", [entry, vote] if entry and vote in ("u", "d"):
            return Helpful(entry, vote == "u")
        case "tip", [action] if action in ("next", "daily"):
            return TipAction(action)
    return None


def _parse_personal(head: str, parts: list[str]) -> Payload | None:
    # Buttons of /settings, time zones and /forget end with the requester's user id;
    # buttons sent before that have none (requester None).
    if head == "set" and len(parts) in (3, 4) and parts[0] == "t" and len(parts[1]) == 2:
        parts = ["t", parts[1] + parts[2], *parts[3:]]  # "HH:MM" holds the separator
    arity = 2 if head == "set" and parts[:1] == ["t"] else 1
    split = _requester(parts, arity)
    if split is None:
        return None
    fields, requester = split
    match head, fields:
        case "set", ["t", hhmm] if len(hhmm) == 4 and hhmm.isdigit():
            return SettingsAction("t", requester, f"{hhmm[:2]}:{hhmm[2:]}")
        case "set", [action] if action in ("on", "off", "tz"):
            return SettingsAction(action, requester)
        case "tz", [zone] if zone:
            return ZonePick(zone, requester)
        case "forget", [action] if action in FORGET_ACTIONS:
            return ForgetAction(action, requester)
    return None


def matches(kind: type[Any] | tuple[type[Any], ...]) -> Callable[[object], bool]:
    """A ``CallbackQueryHandler`` pattern that selects the presses of some payload kinds."""

    def check(data: object) -> bool:
        return isinstance(parse(data), kind)

    return check


__all__ = [
    "FEELINGS",
    "MAX_BYTES",
    "OTHER_ZONE",
    "ROUTINE_ACTIONS",
    "AllTopics",
    "CallbackDataTooLong",
    "ForgetAction",
    "Helpful",
    "NoneOfThese",
    "Payload",
    "RoutineControl",
    "RoutineFeeling",
    "RoutineStart",
    "SettingsAction",
    "TipAction",
    "TopicPick",
    "ZonePick",
    "matches",
    "pack",
    "parse",
]
