"""``knowledge/topics.yaml``: the topics, their answers, and the caveat.

File shape::

    caveat: <text appended to every topical answer>
    fallback: <the "I don't know that one" text>
    clarify: <the "did you mean" lead-in>
    topics:
      - id: sleep            # a topic id of docs/CONTRACT.md section 1
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
    read_yaml,
    text_field,
    text_list_field,
    top_level_list,
)

# docs/CONTRACT.md section 1. ``urgent`` is produced by the safety screen, not by a topic entry.
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
# The split layout (the shipped one): one file per topic and per out-of-scope class.
COMMON_FILE = "common.yaml"
TOPICS_FOLDER = "topics"
OUT_OF_SCOPE_FOLDER = "out_of_scope"


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


Item = tuple[object, Problems, str]  # a topic or class mapping, its file's problems, its place


def parse_topics(data: object, problems: Problems) -> TopicsFile:
    """Validate a single-file topics document (caveat, topics and out_of_scope together)."""
    entries = top_level_list(data, "topics", problems, _FILE_OPTIONAL)
    head = data if isinstance(data, LocatedDict) else LocatedDict()
    raw_oos = head.get("out_of_scope")
    if raw_oos is not None and not isinstance(raw_oos, LocatedList):
        problems.add(head.line_of("out_of_scope"), "out_of_scope", "must be a list")
        raw_oos = None
    return build_topics(
        head if isinstance(data, LocatedDict) else None,
        problems,
        [(entry, problems, f"topics[{i}]") for i, entry in enumerate(entries)],
        [(entry, problems, f"out_of_scope[{i}]") for i, entry in enumerate(raw_oos or ())],
        (problems, data.line_of("topics") if isinstance(data, LocatedDict) else 0),
    )


def build_topics(
    head: LocatedDict | None,
    head_problems: Problems,
    topic_items: list[Item],
    oos_items: list[Item],
    missing_at: tuple[Problems, int],
) -> TopicsFile:
    """Validate topics and out-of-scope classes that may come from several files.

    Each item carries its own file's ``Problems``, so every message names the file
    and line it is about, whether the knowledge is one file or one file per topic.
    """
    if head is None:
        head = LocatedDict()
        head.key_lines = {}
    else:
        for name in ("caveat", "fallback", "clarify"):
            if name not in head:
                head_problems.add(head.line, name, "missing field")
    caveat = text_field(head, "caveat", head_problems, "")
    fallback = text_field(head, "fallback", head_problems, "")
    clarify = text_field(head, "clarify", head_problems, "")

    topics: dict[str, Topic] = {}
    id_lines: dict[str, tuple[int, Problems]] = {}
    question_owner: dict[str, str] = {}
    follow_up_refs: list[tuple[str, int, str, Problems]] = []

    def check_questions(
        where: str, owner: str, questions: list[tuple[str, int]], problems: Problems
    ) -> None:
        for index, (text, line) in enumerate(questions):
            key = _question_key(text)
            other = question_owner.get(key)
            if other is not None and other != owner:
                problems.add(
                    line, f"{where}.questions[{index}]", f"{text!r} also appears under {other!r}"
                )
            elif other is None:
                question_owner[key] = owner

    for entry, problems, where in topic_items:
        raw_id = entry.get("id") if isinstance(entry, LocatedDict) else None
        if isinstance(raw_id, str) and raw_id.strip():
            where = f"{where} ({raw_id.strip()})" if where != "topic" else raw_id.strip()
        if not check_fields(entry, problems, where, _TOPIC_REQUIRED, _TOPIC_OPTIONAL):
            continue
        assert isinstance(entry, LocatedDict)
        topic_id = text_field(entry, "id", problems, where)
        if topic_id:
            if topic_id not in TOPIC_IDS:
                problems.add(entry.line_of("id"), f"{where}.id", f"unknown topic id {topic_id!r}")
            elif topic_id in id_lines:
                first_line, first_problems = id_lines[topic_id]
                problems.add(
                    entry.line_of("id"),
                    f"{where}.id",
                    f"duplicate id {topic_id!r} (first at {first_problems.path.name}:{first_line})",
                )
                continue
            else:
                id_lines[topic_id] = (entry.line_of("id"), problems)
        title = text_field(entry, "title", problems, where)
        button = text_field(entry, "button", problems, where, default=title)
        questions = text_list_field(entry, "questions", problems, where, MIN_QUESTIONS)
        keywords = text_list_field(entry, "keywords", problems, where, 1)
        weak_keywords = text_list_field(entry, "weak_keywords", problems, where)
        answer = text_field(entry, "answer", problems, where)
        follow_ups = text_list_field(entry, "follow_ups", problems, where)
        for ref_index, (ref, line) in enumerate(follow_ups):
            follow_up_refs.append((ref, line, f"{where}.follow_ups[{ref_index}]", problems))
        caveat_flag = entry.get("caveat", True)
        if not isinstance(caveat_flag, bool):
            problems.add(entry.line_of("caveat"), f"{where}.caveat", "must be true or false")
            caveat_flag = True
        check_questions(where, topic_id, questions, problems)
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

    for ref, line, where, problems in follow_up_refs:
        if ref not in topics:
            problems.add(line, where, f"follow-up {ref!r} points at no topic")

    missing_problems, missing_line = missing_at
    if topic_items or missing_line:
        for missing in (t for t in TOPIC_IDS if t not in topics):
            missing_problems.add(missing_line, "topics", f"topic {missing!r} is missing")

    out_of_scope: list[OutOfScope] = []
    for entry, problems, where in oos_items:
        if not check_fields(entry, problems, where, _OOS_REQUIRED, _OOS_OPTIONAL):
            continue
        assert isinstance(entry, LocatedDict)
        oos_id = text_field(entry, "id", problems, where)
        if oos_id in TOPIC_IDS or oos_id == URGENT:
            problems.add(entry.line_of("id"), f"{where}.id", f"{oos_id!r} is a real topic id")
        questions = text_list_field(entry, "questions", problems, where, MIN_OUT_OF_SCOPE_QUESTIONS)
        check_questions(where, f"out_of_scope:{oos_id}", questions, problems)
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

    domain_words = text_list_field(head, "domain_words", head_problems, "")

    return TopicsFile(
        caveat=caveat,
        fallback=fallback,
        clarify=clarify,
        topics=topics,
        out_of_scope=tuple(out_of_scope),
        domain_words=tuple(w for w, _ in domain_words),
    )


def load_topics_folder(directory: Path) -> tuple[TopicsFile, list[Problems]]:
    """Read the split layout: ``common.yaml``, ``topics/<id>.yaml``, ``out_of_scope/<id>.yaml``.

    One file per topic lets an editor find a topic's vocabulary under its own name; a
    file's name must match the id inside it.
    """
    head_problems = Problems(directory / COMMON_FILE)
    head = read_yaml(directory / COMMON_FILE, head_problems)
    if isinstance(head, LocatedDict):
        check_fields(head, head_problems, "", {"caveat", "fallback", "clarify"}, {"domain_words"})
    all_problems = [head_problems]

    def items(folder: str) -> list[Item]:
        found: list[Item] = []
        paths = sorted((directory / folder).glob("*.yaml"))
        if not paths:
            head_problems.add(0, folder, f"no {folder}/*.yaml files in {directory}")
        for path in paths:
            problems = Problems(path)
            all_problems.append(problems)
            data = read_yaml(path, problems)
            if data is None:
                continue
            if isinstance(data, LocatedDict) and data.get("id") != path.stem:
                problems.add(data.line_of("id"), "id", f"must be {path.stem!r}, the file's name")
            found.append((data, problems, "topic" if folder == TOPICS_FOLDER else path.stem))
        return found

    # The contract's order, not the alphabet's: it breaks ties the way it always has.
    rank = {topic_id: index for index, topic_id in enumerate(TOPIC_IDS)}
    topic_items = sorted(
        items(TOPICS_FOLDER), key=lambda item: rank.get(Path(item[1].path).stem, len(rank))
    )
    topics_file = build_topics(
        head if isinstance(head, LocatedDict) else None,
        head_problems,
        topic_items,
        items(OUT_OF_SCOPE_FOLDER),
        (head_problems, 1),
    )
    return topics_file, all_problems


def load_topics(path: Path, problems: Problems) -> TopicsFile:
    """Read and validate ``path``."""
    return parse_topics(read_yaml(path, problems), problems)
