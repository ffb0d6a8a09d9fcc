"""``knowledge/topics.yaml``: the topics, their answers, and the caveat.

File shape::

    caveat: <text appended to every topical answer>
    fallback: <the "I don't know that one" text>
    clarify: <the "did you mean" lead-in>
    topics:
      - id: sleep            # a topic id of CONTRACT section 1
        title: Sleep
        button: Sleep        # optional short label for buttons (default: title)
        questions: [...]     # at least 12 example phrasings
        keywords: [...]      # words and short phrases the matcher weighs
        answer: <text>
        follow_ups: [relaxation, routine]
        caveat: true         # optional; false for greeting-like topics
    out_of_scope:            # competitors that pull off-topic messages away
      - id: shoes
        keywords: [...]
        questions: [...]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.core.knowledge.source import (
    LocatedDict,
    LocatedList,
    Problems,
    check_fields,
    first_use_of_id,
    read_yaml,
    text_field,
    text_list_field,
    top_level_list,
)

# CONTRACT section 1. ``urgent`` is produced by the safety screen, not by a topic entry.
TOPIC_IDS: tuple[str, ...] = (
    "what-is-reflexology",
    "benefits",
    "relaxation",
    "circulation",
    "pain-relief",
    "energy-flow",
    "sleep",
    "well-being",
    "medical-advice",
    "evidence",
    "safety",
    "session",
    "foot-map",
    "acupuncture-difference",
    "routine",
    "tip",
    "greeting",
)
URGENT = "urgent"
MIN_QUESTIONS = 12
MIN_OUT_OF_SCOPE_QUESTIONS = 3

_TOPIC_REQUIRED = {"id", "title", "questions", "keywords", "answer", "follow_ups"}
_TOPIC_OPTIONAL = {"button", "caveat", "weak_keywords"}
_OOS_REQUIRED = {"id", "questions", "keywords"}
_OOS_OPTIONAL = {"weak_keywords"}
_FILE_OPTIONAL = {"caveat", "fallback", "clarify", "out_of_scope", "domain_words"}


@dataclass(frozen=True)
class Topic:
    """One answerable topic."""

    id: str
    title: str
    button: str
    questions: tuple[str, ...]
    keywords: tuple[str, ...]
    answer: str
    follow_ups: tuple[str, ...]
    caveat: bool = True
    # Optional: words that hint at the topic but also occur in everyday talk;
    # the matcher weighs them less than ``keywords``.
    weak_keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutOfScope:
    """A competitor class: messages it wins are answered as unknown."""

    id: str
    questions: tuple[str, ...]
    keywords: tuple[str, ...]
    weak_keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class TopicsFile:
    caveat: str
    fallback: str
    clarify: str
    topics: dict[str, Topic]
    out_of_scope: tuple[OutOfScope, ...]
    # Optional: words showing a message is about reflexology at all.
    domain_words: tuple[str, ...] = ()


def _question_key(text: str) -> str:
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def parse_topics(data: object, problems: Problems) -> TopicsFile:
    """Validate the parsed topics file; problems name file, line and field."""
    entries = top_level_list(data, "topics", problems, _FILE_OPTIONAL)
    head = data if isinstance(data, LocatedDict) else LocatedDict()
    if not hasattr(head, "key_lines"):
        head.key_lines = {}
    for name in ("caveat", "fallback", "clarify"):
        if name not in head and isinstance(data, LocatedDict):
            problems.add(head.line, name, "missing field")
    caveat = text_field(head, "caveat", problems, "")
    fallback = text_field(head, "fallback", problems, "")
    clarify = text_field(head, "clarify", problems, "")

    topics: dict[str, Topic] = {}
    id_lines: dict[str, int] = {}
    question_owner: dict[str, str] = {}
    follow_up_refs: list[tuple[str, int, str]] = []

    def check_questions(where: str, owner: str, questions: list[tuple[str, int]]) -> None:
        for index, (text, line) in enumerate(questions):
            key = _question_key(text)
            other = question_owner.get(key)
            if other is not None and other != owner:
                problems.add(
                    line, f"{where}.questions[{index}]", f"{text!r} also appears under {other!r}"
                )
            elif other is None:
                question_owner[key] = owner

    for index, entry in enumerate(entries):
        where = f"topics[{index}]"
        raw_id = entry.get("id") if isinstance(entry, LocatedDict) else None
        if isinstance(raw_id, str) and raw_id.strip():
            where = f"topics[{index}] ({raw_id.strip()})"
        if not check_fields(entry, problems, where, _TOPIC_REQUIRED, _TOPIC_OPTIONAL):
            continue
        topic_id = text_field(entry, "id", problems, where)
        if topic_id:
            if topic_id not in TOPIC_IDS:
                problems.add(entry.line_of("id"), f"{where}.id", f"unknown topic id {topic_id!r}")
            elif not first_use_of_id(entry, topic_id, id_lines, problems, where):
                continue
        title = text_field(entry, "title", problems, where)
        button = text_field(entry, "button", problems, where, default=title)
        questions = text_list_field(entry, "questions", problems, where, MIN_QUESTIONS)
        keywords = text_list_field(entry, "keywords", problems, where, 1)
        weak_keywords = text_list_field(entry, "weak_keywords", problems, where)
        answer = text_field(entry, "answer", problems, where)
        follow_ups = text_list_field(entry, "follow_ups", problems, where)
        for ref_index, (ref, line) in enumerate(follow_ups):
            follow_up_refs.append((ref, line, f"{where}.follow_ups[{ref_index}]"))
        caveat_flag = entry.get("caveat", True)
        if not isinstance(caveat_flag, bool):
            problems.add(entry.line_of("caveat"), f"{where}.caveat", "must be true or false")
            caveat_flag = True
        check_questions(where, topic_id, questions)
        if topic_id:
            topics[topic_id] = Topic(
                id=topic_id,
                title=title,
                button=button,
                questions=tuple(q for q, _ in questions),
                keywords=tuple(k for k, _ in keywords),
                answer=answer,
                follow_ups=tuple(r for r, _ in follow_ups),
                caveat=caveat_flag,
                weak_keywords=tuple(k for k, _ in weak_keywords),
            )

    for ref, line, where in follow_up_refs:
        if ref not in topics:
            problems.add(line, where, f"follow-up {ref!r} points at no topic")

    if isinstance(data, LocatedDict):
        for missing in (t for t in TOPIC_IDS if t not in topics):
            problems.add(data.line_of("topics"), "topics", f"topic {missing!r} is missing")

    out_of_scope: list[OutOfScope] = []
    raw_oos = head.get("out_of_scope")
    if raw_oos is not None:
        if not isinstance(raw_oos, LocatedList):
            problems.add(head.line_of("out_of_scope"), "out_of_scope", "must be a list")
            raw_oos = LocatedList()
        for index, entry in enumerate(raw_oos):
            where = f"out_of_scope[{index}]"
            if not check_fields(entry, problems, where, _OOS_REQUIRED, _OOS_OPTIONAL):
                continue
            oos_id = text_field(entry, "id", problems, where)
            if oos_id in TOPIC_IDS or oos_id == URGENT:
                problems.add(entry.line_of("id"), f"{where}.id", f"{oos_id!r} is a real topic id")
            questions = text_list_field(
                entry, "questions", problems, where, MIN_OUT_OF_SCOPE_QUESTIONS
            )
            check_questions(where, f"out_of_scope:{oos_id}", questions)
            keywords = text_list_field(entry, "keywords", problems, where, 1)
            weak_keywords = text_list_field(entry, "weak_keywords", problems, where)
            out_of_scope.append(
                OutOfScope(
                    id=oos_id,
                    questions=tuple(q for q, _ in questions),
                    keywords=tuple(k for k, _ in keywords),
                    weak_keywords=tuple(k for k, _ in weak_keywords),
                )
            )

    domain_words = text_list_field(head, "domain_words", problems, "")

    return TopicsFile(
        caveat=caveat,
        fallback=fallback,
        clarify=clarify,
        topics=topics,
        out_of_scope=tuple(out_of_scope),
        domain_words=tuple(w for w, _ in domain_words),
    )


def load_topics(path: Path, problems: Problems) -> TopicsFile:
    """Read and validate ``path``."""
    return parse_topics(read_yaml(path, problems), problems)
