"""``knowledge/entries/<topic-id>.yaml``: the specific answers inside each topic.

File shape::

    topic: safety                 # a topic id of docs/CONTRACT.md section 1
    entries:
      - id: safety-pregnancy      # globally unique, topic-prefixed
        overview: true            # exactly one entry per topic answers the general question
        questions: [...]          # at least 6 example phrasings
        keywords: [...]           # words and phrases that pick this entry within its topic
        answer: <text>            # the direct answer first; at most 70 words; no caveat
        more: <text>              # optional: for "why?" / "tell me more"
        caveat: <text>            # optional: replaces the general caveat (names the midwife...)
        area: kidneys             # optional: an area id of knowledge/foot_map.yaml
        offer: routine:quick-calm # optional: what "yes please" does next
        action: tip               # optional: what the adapter does with the answer
        follow_ups: [...]         # optional: entry or topic ids

Cross-file references (follow-ups, offers, areas, routines) are checked by
``check_references`` once every file and the topics are loaded.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from bot.core.knowledge.source import (
    LocatedDict,
    Problems,
    check_fields,
    read_yaml,
    text_field,
    text_list_field,
    top_level_list,
)

MIN_ENTRY_QUESTIONS = 6
MAX_ANSWER_WORDS = 70

# Offers and actions that are not entry ids; ``routine:<id>`` is checked separately.
OFFER_WORDS: frozenset[str] = frozenset({"tip", "subscribe"})
ACTION_WORDS: frozenset[str] = frozenset(
    {"tip", "subscribe", "unsubscribe", "set-time", "routine-menu", "capabilities"}
)
ROUTINE_PREFIX = "routine:"

_REQUIRED = {"id", "questions", "answer"}
_OPTIONAL = {
    "overview",
    "keywords",
    "requires",
    "more",
    "caveat",
    "area",
    "offer",
    "action",
    "follow_ups",
}


@dataclass(frozen=True)
class Entry:
    """One specific question-answer entry inside a topic."""

    id: str
    topic: str
    questions: tuple[str, ...]
    answer: str
    keywords: tuple[str, ...] = ()
    overview: bool = False
    more: str = ""
    caveat: str = ""
    area: str = ""
    offer: str = ""
    action: str = ""
    follow_ups: tuple[str, ...] = ()
    # Words or phrases of which the message must hold one before this entry answers:
    # an entry that acts (subscribing) must not answer "a daily aspirin".
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Ref:
    """A reference to check once everything is loaded."""

    problems: Problems
    line: int
    field: str
    kind: str  # "follow_up" | "offer" | "action" | "area"
    value: str


@dataclass
class EntriesFile:
    """Every entry, by topic, plus the references still to check."""

    by_topic: dict[str, tuple[Entry, ...]]
    by_id: dict[str, Entry]
    refs: list[_Ref]


def _question_key(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def word_count(text: str) -> int:
    """Words as a reader counts them (numbers count, punctuation does not)."""
    return len(re.findall(r"[\w'’-]+", text))


def load_entries(directory: Path, topic_ids: tuple[str, ...]) -> tuple[EntriesFile, list[Problems]]:
    """Read every ``*.yaml`` in ``directory``; one ``Problems`` per file."""
    result = EntriesFile(by_topic={}, by_id={}, refs=[])
    all_problems: list[Problems] = []
    if not directory.is_dir():
        return result, all_problems
    id_where: dict[str, str] = {}
    question_owner: dict[str, str] = {}
    overview_lines: dict[str, list[tuple[Problems, int]]] = {}
    topic_files: dict[str, Path] = {}
    lists: dict[str, list[Entry]] = {}
    for path in sorted(directory.glob("*.yaml")):
        problems = Problems(path)
        all_problems.append(problems)
        data = read_yaml(path, problems)
        raw_entries = top_level_list(data, "entries", problems, {"topic"})
        if not isinstance(data, LocatedDict):
            continue
        topic = text_field(data, "topic", problems, "")
        if "topic" not in data:
            problems.add(data.line, "topic", "missing field")
        elif topic and topic not in topic_ids:
            problems.add(data.line_of("topic"), "topic", f"unknown topic {topic!r}")
            topic = ""
        elif topic in topic_files:
            problems.add(
                data.line_of("topic"), "topic", f"{topic!r} already has {topic_files[topic].name}"
            )
        if topic:
            topic_files.setdefault(topic, path)
        for index, raw in enumerate(raw_entries):
            entry = _parse_entry(raw, index, topic, problems, result.refs)
            if entry is None:
                continue
            where = f"entries[{index}] ({entry.id})"
            if entry.id in id_where:
                problems.add(
                    raw.line_of("id"),
                    f"{where}.id",
                    f"duplicate entry id (first {id_where[entry.id]})",
                )
                continue
            id_where[entry.id] = f"at {path.name}:{raw.line_of('id')}"
            for q_index, text in enumerate(entry.questions):
                key = _question_key(text)
                owner = question_owner.get(key)
                if owner is not None and owner != entry.id:
                    problems.add(
                        raw["questions"].line_of(q_index),
                        f"{where}.questions[{q_index}]",
                        f"{text!r} also appears under {owner!r}",
                    )
                else:
                    question_owner[key] = entry.id
            if entry.overview:
                overview_lines.setdefault(topic, []).append((problems, raw.line_of("overview")))
            if topic:
                result.by_id[entry.id] = entry
                lists.setdefault(topic, []).append(entry)
        if topic and topic not in overview_lines and lists.get(topic):
            problems.add(
                data.line_of("entries"), "entries", f"no entry of {topic!r} has overview: true"
            )
    for topic, lines in overview_lines.items():
        if len(lines) > 1:
            for problems, line in lines[1:]:
                problems.add(line, "overview", f"topic {topic!r} has {len(lines)} overview entries")
    # The overview first: it is the topic answer and the default choice.
    result.by_topic = {
        topic: tuple(sorted(entries, key=lambda e: not e.overview))
        for topic, entries in lists.items()
    }
    return result, all_problems


def _parse_entry(
    raw: object, index: int, topic: str, problems: Problems, refs: list[_Ref]
) -> Entry | None:
    where = f"entries[{index}]"
    raw_id = raw.get("id") if isinstance(raw, LocatedDict) else None
    if isinstance(raw_id, str) and raw_id.strip():
        where = f"entries[{index}] ({raw_id.strip()})"
    if not check_fields(raw, problems, where, _REQUIRED, _OPTIONAL):
        return None
    assert isinstance(raw, LocatedDict)
    entry_id = text_field(raw, "id", problems, where)
    questions = text_list_field(raw, "questions", problems, where, MIN_ENTRY_QUESTIONS)
    keywords = text_list_field(raw, "keywords", problems, where)
    requires = text_list_field(raw, "requires", problems, where)
    answer = text_field(raw, "answer", problems, where)
    if answer and word_count(answer) > MAX_ANSWER_WORDS:
        problems.add(
            raw.line_of("answer"),
            f"{where}.answer",
            f"{word_count(answer)} words (at most {MAX_ANSWER_WORDS}: put the rest in 'more')",
        )
    overview = raw.get("overview", False)
    if not isinstance(overview, bool):
        problems.add(raw.line_of("overview"), f"{where}.overview", "must be true or false")
        overview = False
    area = text_field(raw, "area", problems, where)
    if area:  # checked against knowledge/foot_map.yaml once it is loaded
        refs.append(_Ref(problems, raw.line_of("area"), f"{where}.area", "area", area))
    offer = text_field(raw, "offer", problems, where)
    if offer:
        refs.append(_Ref(problems, raw.line_of("offer"), f"{where}.offer", "offer", offer))
    action = text_field(raw, "action", problems, where)
    if action:
        refs.append(_Ref(problems, raw.line_of("action"), f"{where}.action", "action", action))
    follow_ups = text_list_field(raw, "follow_ups", problems, where)
    for ref_index, (ref, line) in enumerate(follow_ups):
        refs.append(_Ref(problems, line, f"{where}.follow_ups[{ref_index}]", "follow_up", ref))
    if not entry_id or not answer or len(questions) < MIN_ENTRY_QUESTIONS:
        return None
    return Entry(
        id=entry_id,
        topic=topic,
        questions=tuple(q for q, _ in questions),
        answer=answer,
        keywords=tuple(k for k, _ in keywords),
        overview=overview,
        more=text_field(raw, "more", problems, where),
        caveat=text_field(raw, "caveat", problems, where),
        area=area,
        offer=offer,
        action=action,
        follow_ups=tuple(r for r, _ in follow_ups),
        requires=tuple(r for r, _ in requires),
    )


def check_references(
    entries: EntriesFile,
    topic_ids: set[str],
    routine_ids: set[str],
    area_ids: Collection[str] | None = None,
) -> None:
    """Report follow-ups, offers, actions and foot-map areas that point at nothing.

    ``area_ids``: the areas of knowledge/foot_map.yaml (None: areas are not checked,
    for a knowledge base whose foot map did not load).
    """
    for ref in entries.refs:
        value = ref.value
        if ref.kind == "area":
            if area_ids is not None and value not in area_ids:
                ref.problems.add(ref.line, ref.field, f"unknown foot-map area {value!r}")
            continue
        if value.startswith(ROUTINE_PREFIX) and ref.kind in ("offer", "action"):
            if value[len(ROUTINE_PREFIX) :] not in routine_ids:
                ref.problems.add(ref.line, ref.field, f"unknown routine {value!r}")
            continue
        if ref.kind == "offer":
            ok = value in OFFER_WORDS or value in entries.by_id
        elif ref.kind == "action":
            ok = value in ACTION_WORDS
        else:
            ok = value in entries.by_id or value in topic_ids
        if not ok:
            what = {"offer": "offer", "action": "action", "follow_up": "follow-up"}[ref.kind]
            ref.problems.add(ref.line, ref.field, f"unknown {what} {value!r}")


__all__ = [
    "MAX_ANSWER_WORDS",
    "MIN_ENTRY_QUESTIONS",
    "EntriesFile",
    "Entry",
    "check_references",
    "load_entries",
    "word_count",
]
