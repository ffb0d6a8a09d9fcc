"""``knowledge/followups.yaml``: how people continue a conversation, as data.

File shape::

    connectors: [and, so, ok]          # dropped from the start before matching a phrasing
    fillers: [please, pls, then]       # dropped from the end
    detail_prefixes: [what about, and for]   # "what about in pregnancy?": a new detail
    kinds:
      - id: more                        # one of FOLLOW_UP_KINDS (what the bot does is code)
        phrasings: [why, tell me more, go on]
        target: session-how-often       # optional: the entry that answers it
    subjects:                           # who a question is about
      - id: partner
        words: [my husband, my wife]
        safety_entry: safety-older      # optional: "is that safe?" for this person

A content editor adds a way of asking by adding a phrasing; ``kb check``
validates every field with file and line.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.core.knowledge.source import (
    LocatedDict,
    LocatedList,
    Problems,
    check_fields,
    read_yaml,
    text_field,
    text_list_field,
)

# What each kind does is behaviour (bot/core/conversation.py); how it is said is data.
FOLLOW_UP_KINDS: tuple[str, ...] = (
    "more",  # why? / how? / tell me more / go on: the entry's ``more``
    "how-often",  # the session frequency entry, or the routine's length
    "how-long",  # the session length entry, or the routine's length
    "safe",  # is that safe?: the safety entry for the subject, or the safety overview
    "where",  # where is that point?: the foot-map entry for the last area
    "help",  # would it help?: the last entry again, in its topic
    "yes",  # yes please: what the last reply offered
    "yes-or-why",  # why not?: a yes to an offer, else "why?" (the last entry's ``more``)
    "no",  # no thanks
    "thanks",
    "bye",
    "ok",
)
_FILE_FIELDS = {
    "connectors",
    "fillers",
    "detail_prefixes",
    "kinds",
    "subjects",
    "neutral_words",
    "anaphora",
}


@dataclass(frozen=True)
class FollowUpKind:
    id: str
    phrasings: tuple[str, ...]
    target: str = ""


@dataclass(frozen=True)
class Subject:
    id: str
    words: tuple[str, ...]
    safety_entry: str = ""


@dataclass(frozen=True)
class FollowUpsFile:
    connectors: tuple[str, ...] = ()
    fillers: tuple[str, ...] = ()
    detail_prefixes: tuple[str, ...] = ()
    kinds: tuple[FollowUpKind, ...] = ()
    subjects: tuple[Subject, ...] = ()
    # Words every topic shares: alone they add no detail to the last question.
    neutral_words: tuple[str, ...] = ()
    # Words pointing back at the last answer ("for that").
    anaphora: tuple[str, ...] = ()
    # (line, field, entry id) pairs checked once the entries are loaded
    entry_refs: tuple[tuple[int, str, str], ...] = ()


def _list(data: LocatedDict, key: str, problems: Problems) -> LocatedList:
    value = data.get(key)
    if value is None:
        return LocatedList()
    if not isinstance(value, LocatedList):
        problems.add(data.line_of(key), key, "must be a list")
        return LocatedList()
    return value


def parse_followups(data: object, problems: Problems) -> FollowUpsFile:
    """Validate the parsed follow-ups file."""
    if data is None:
        return FollowUpsFile()
    if not isinstance(data, LocatedDict):
        problems.add(getattr(data, "line", 1), "(file)", "expected a mapping at the top level")
        return FollowUpsFile()
    check_fields(data, problems, "", {"kinds"}, _FILE_FIELDS)
    refs: list[tuple[int, str, str]] = []
    kinds: list[FollowUpKind] = []
    seen: dict[str, int] = {}
    phrasing_owner: dict[str, str] = {}
    for index, raw in enumerate(_list(data, "kinds", problems)):
        where = f"kinds[{index}]"
        if not check_fields(raw, problems, where, {"id", "phrasings"}, {"target"}):
            continue
        kind_id = text_field(raw, "id", problems, where)
        if kind_id and kind_id not in FOLLOW_UP_KINDS:
            allowed = ", ".join(FOLLOW_UP_KINDS)
            problems.add(raw.line_of("id"), f"{where}.id", f"unknown kind {kind_id!r} ({allowed})")
            continue
        if kind_id in seen:
            problems.add(raw.line_of("id"), f"{where}.id", f"duplicate kind (line {seen[kind_id]})")
            continue
        seen[kind_id] = raw.line_of("id")
        phrasings = text_list_field(raw, "phrasings", problems, where, 1)
        for p_index, (phrasing, line) in enumerate(phrasings):
            key = " ".join(phrasing.casefold().replace("'", "").split())
            owner = phrasing_owner.setdefault(key, kind_id)
            if owner != kind_id:
                problems.add(
                    line, f"{where}.phrasings[{p_index}]", f"{phrasing!r} is also under {owner!r}"
                )
        target = text_field(raw, "target", problems, where)
        if target:
            refs.append((raw.line_of("target"), f"{where}.target", target))
        kinds.append(FollowUpKind(kind_id, tuple(p for p, _ in phrasings), target))
    subjects: list[Subject] = []
    for index, raw in enumerate(_list(data, "subjects", problems)):
        where = f"subjects[{index}]"
        if not check_fields(raw, problems, where, {"id", "words"}, {"safety_entry"}):
            continue
        safety_entry = text_field(raw, "safety_entry", problems, where)
        if safety_entry:
            refs.append((raw.line_of("safety_entry"), f"{where}.safety_entry", safety_entry))
        subjects.append(
            Subject(
                text_field(raw, "id", problems, where),
                tuple(w for w, _ in text_list_field(raw, "words", problems, where, 1)),
                safety_entry,
            )
        )
    return FollowUpsFile(
        connectors=tuple(w for w, _ in text_list_field(data, "connectors", problems, "")),
        fillers=tuple(w for w, _ in text_list_field(data, "fillers", problems, "")),
        detail_prefixes=tuple(w for w, _ in text_list_field(data, "detail_prefixes", problems, "")),
        kinds=tuple(kinds),
        subjects=tuple(subjects),
        neutral_words=tuple(w for w, _ in text_list_field(data, "neutral_words", problems, "")),
        anaphora=tuple(w for w, _ in text_list_field(data, "anaphora", problems, "")),
        entry_refs=tuple(refs),
    )


def load_followups(path: Path, problems: Problems) -> FollowUpsFile:
    """Read and validate ``path`` (a missing file means no follow-ups)."""
    if not path.exists():
        return FollowUpsFile()
    return parse_followups(read_yaml(path, problems), problems)


__all__ = ["FOLLOW_UP_KINDS", "FollowUpKind", "FollowUpsFile", "Subject", "load_followups"]
