"""``knowledge/language/``: the lexicon, the question shapes and the frames.

These are the matcher's rules, kept as data so a content editor can teach the bot a
new way of asking without touching Python:

* ``lexicon.yaml``: stop words, common words, slang, rewrites, emoji and the named
  word lists the frames and the matcher refer to;
* ``shapes.yaml``: named regular expressions ("can I still have it", "instead of my
  tablets", "which part of the foot");
* ``frames.yaml``: what each shape does (which topic it points to, in which order), as
  conditions over shapes, word lists and a few built-in facts about the message.

Every reference is checked: an unknown shape, word list, condition or topic is
reported with file, line and field, as is a pattern that does not compile or could
backtrack catastrophically.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.core.knowledge.source import (
    LocatedDict,
    LocatedList,
    Problems,
    backtracking_risk,
    check_fields,
    read_yaml,
)

FOLDER = "language"
LEXICON_FILE = "lexicon.yaml"
SHAPES_FILE = "shapes.yaml"
FRAMES_FILE = "frames.yaml"

# Word lists the Python mechanism itself needs (the frames may name any list).
REQUIRED_WORDS = (
    "stop_words",
    "common_words",
    "foot_parts",
    "strong_domain",
    "frame_words",
    "generic",
    "neutral",
    "shared_by_all",
    "bot_topics",
)
# Facts about a message that only code can compute; see frames.yaml.
BUILT_INS = frozenset(
    {"domain", "no_oos", "oos", "mentions_domain", "names_condition", "named_benefit"}
)
_FRAGMENT = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

# A parsed condition: ("shape", name), ("named", name), ("builtin", name),
# ("all" | "any", (conditions...)), ("not", condition), ("whole", shape),
# ("text", words), ("words", (lists...)), ("evidence", topic),
# ("leader_in", (topics...)), ("named_benefit", (skipped topics...)),
# ("captures_outside", (shape, (lists...))).
Condition = tuple[str, Any]


@dataclass(frozen=True)
class Lexicon:
    """Everyday vocabulary: word lists by name, slang, rewrites and emoji."""

    words: dict[str, frozenset[str]]
    slang: dict[str, str]
    rewrites: tuple[tuple[re.Pattern[str], str], ...]
    emoji: dict[str, str]

    def list(self, name: str) -> frozenset[str]:
        return self.words.get(name, frozenset())


@dataclass(frozen=True)
class Action:
    kind: str  # win, win_named, mark, boost, zero, off_topic
    topic: str | None = None
    amount: float = 0.0
    unless: Condition | None = None


@dataclass(frozen=True)
class Rule:
    when: Condition | None = None
    action: Action | None = None
    first: tuple[Rule, ...] = ()


@dataclass(frozen=True)
class Decision:
    """Decided before ranking: a topic (or an out-of-scope class) with fixed evidence."""

    when: Condition
    topic: str | None
    out_of_scope: str | None
    evidence: float
    at_least_own: bool = False
    line: int = 0


@dataclass(frozen=True)
class Language:
    lexicon: Lexicon
    shapes: dict[str, re.Pattern[str]]
    conditions: dict[str, Condition]
    frames: tuple[Rule, ...]
    decisions: tuple[Decision, ...]
    condition_topic: str
    named_groups: tuple[tuple[str, ...], ...]
    named_at: dict[str, float]
    named_default: float
    preprocess: dict[str, str] = field(default_factory=dict)


def _word_block(value: object) -> list[str] | None:
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [w for v in value for w in v.split()]
    return None


def parse_lexicon(data: object, problems: Problems) -> Lexicon:
    words: dict[str, frozenset[str]] = {}
    slang: dict[str, str] = {}
    rewrites: list[tuple[re.Pattern[str], str]] = []
    emoji: dict[str, str] = {}
    if not isinstance(data, LocatedDict):
        return Lexicon(words, slang, (), emoji)
    check_fields(data, problems, "", {"words"}, {"slang", "rewrites", "emoji"})
    raw_words = data.get("words")
    if isinstance(raw_words, LocatedDict):
        for name, value in raw_words.items():
            block = _word_block(value)
            if block is None or not block:
                problems.add(raw_words.line_of(name), f"words.{name}", "must be a block of words")
                continue
            if not _NAME.match(name):
                problems.add(raw_words.line_of(name), f"words.{name}", "names are a-z, 0-9, _")
            words[name] = frozenset(w.casefold() for w in block)
        for name in REQUIRED_WORDS:
            if name not in raw_words:
                problems.add(data.line_of("words"), f"words.{name}", "missing word list")
    elif "words" in data:
        problems.add(data.line_of("words"), "words", "must be a mapping of word lists")
    for key, target in (("slang", slang), ("emoji", emoji)):
        raw = data.get(key)
        if raw is None:
            continue
        if not isinstance(raw, LocatedDict):
            problems.add(data.line_of(key), key, "must be a mapping")
            continue
        for source, replacement in raw.items():
            if not isinstance(replacement, str):
                problems.add(raw.line_of(source), f"{key}.{source}", "must be text")
                continue
            target[str(source)] = replacement
    raw_rewrites = data.get("rewrites")
    if raw_rewrites is not None:
        if not isinstance(raw_rewrites, LocatedList):
            problems.add(data.line_of("rewrites"), "rewrites", "must be a list")
        else:
            for index, item in enumerate(raw_rewrites):
                where = f"rewrites[{index}]"
                line = raw_rewrites.line_of(index)
                if not (
                    isinstance(item, list)
                    and len(item) == 2
                    and all(isinstance(x, str) for x in item)
                ):
                    problems.add(line, where, "must be [pattern, replacement]")
                    continue
                pattern = _compile(rf"\b(?:{item[0]})\b", 0, problems, line, where)
                if pattern is not None:
                    rewrites.append((pattern, item[1]))
    return Lexicon(words, slang, tuple(rewrites), emoji)


def _compile(
    text: str, flags: int, problems: Problems, line: int, where: str
) -> re.Pattern[str] | None:
    risk = backtracking_risk(text)
    if risk:
        problems.add(line, where, risk)
        return None
    try:
        return re.compile(text, flags)
    except re.error as exc:
        problems.add(line, where, f"not a valid regular expression: {exc}")
        return None


def parse_shapes(data: object, problems: Problems) -> dict[str, re.Pattern[str]]:
    shapes: dict[str, re.Pattern[str]] = {}
    if not isinstance(data, LocatedDict):
        return shapes
    check_fields(data, problems, "", {"shapes"}, {"fragments"})
    fragments: dict[str, str] = {}
    raw_fragments = data.get("fragments")
    if isinstance(raw_fragments, LocatedDict):
        for name, value in raw_fragments.items():
            if not isinstance(value, str) or not value:
                problems.add(raw_fragments.line_of(name), f"fragments.{name}", "must be text")
                continue
            fragments[name] = value
    elif raw_fragments is not None:
        problems.add(data.line_of("fragments"), "fragments", "must be a mapping")
    raw_shapes = data.get("shapes")
    if not isinstance(raw_shapes, LocatedDict):
        if "shapes" in data:
            problems.add(data.line_of("shapes"), "shapes", "must be a mapping of shapes")
        return shapes
    for name, shape in raw_shapes.items():
        where = f"shapes.{name}"
        line = raw_shapes.line_of(name)
        if not _NAME.match(name):
            problems.add(line, where, "shape names are a-z, 0-9, _")
        if not check_fields(shape, problems, where, {"patterns"}, {"note", "ignore_case"}):
            continue
        patterns = shape.get("patterns")
        if not isinstance(patterns, LocatedList) or not patterns:
            problems.add(shape.line_of("patterns"), f"{where}.patterns", "must be a list")
            continue
        parts: list[str] = []
        for index, text in enumerate(patterns):
            item_where = f"{where}.patterns[{index}]"
            item_line = patterns.line_of(index)
            if not isinstance(text, str) or not text:
                problems.add(item_line, item_where, "must be a regular expression")
                continue
            for unknown in sorted(set(_FRAGMENT.findall(text)) - fragments.keys()):
                problems.add(item_line, item_where, f"unknown fragment {{{unknown}}}")
            expanded = _FRAGMENT.sub(lambda m: fragments.get(m.group(1), m.group(0)), text)
            if _compile(expanded, 0, problems, item_line, item_where) is not None:
                parts.append(expanded)
        if len(parts) == len(patterns):
            flags = re.IGNORECASE if shape.get("ignore_case") is True else 0
            compiled = _compile("|".join(parts), flags, problems, line, where)
            if compiled is not None:
                shapes[name] = compiled
    return shapes


class _Frames:
    """Parses frames.yaml, checking every reference as it goes."""

    def __init__(
        self,
        problems: Problems,
        shapes: dict[str, re.Pattern[str]],
        lexicon: Lexicon,
        topic_ids: tuple[str, ...],
    ) -> None:
        self.problems = problems
        self.shapes = shapes
        self.lexicon = lexicon
        self.topics = set(topic_ids)
        self.named: dict[str, Condition] = {}

    def topic(self, value: object, line: int, where: str) -> str | None:
        if isinstance(value, str) and value in self.topics:
            return value
        self.problems.add(line, where, f"unknown topic {value!r}")
        return None

    def shape(self, value: object, line: int, where: str) -> str | None:
        if isinstance(value, str) and value in self.shapes:
            return value
        self.problems.add(line, where, f"unknown shape {value!r}")
        return None

    def lists(self, value: object, line: int, where: str) -> tuple[str, ...]:
        names = value if isinstance(value, list) else [value]
        for name in names:
            if not isinstance(name, str) or name not in self.lexicon.words:
                self.problems.add(line, where, f"unknown lexicon list {name!r}")
        return tuple(n for n in names if isinstance(n, str))

    def condition(self, value: object, line: int, where: str) -> Condition | None:
        if isinstance(value, str):
            if value in self.shapes:
                return ("shape", value)
            if value in self.named:
                return ("named", value)
            if value in BUILT_INS:
                return ("builtin", value)
            self.problems.add(line, where, f"unknown shape or condition {value!r}")
            return None
        if not isinstance(value, dict) or len(value) != 1:
            self.problems.add(line, where, "a condition is a name or a one-key mapping")
            return None
        line = value.line if isinstance(value, LocatedDict) and value.line else line
        ((key, arg),) = value.items()
        here = f"{where}.{key}"
        if key in ("all", "any"):
            if not isinstance(arg, list) or not arg:
                self.problems.add(line, here, "must be a list of conditions")
                return None
            lines = arg.item_lines if isinstance(arg, LocatedList) else [line] * len(arg)
            parts = [
                self.condition(c, ln, f"{here}[{i}]")
                for i, (c, ln) in enumerate(zip(arg, lines, strict=True))
            ]
            if any(p is None for p in parts):
                return None
            return (key, tuple(parts))
        if key == "not":
            inner = self.condition(arg, line, here)
            return ("not", inner) if inner is not None else None
        if key == "whole":
            name = self.shape(arg, line, here)
            return ("whole", name) if name else None
        if key == "text":
            if not isinstance(arg, str) or not arg.strip():
                self.problems.add(line, here, "must be text")
                return None
            return ("text", arg.casefold())
        if key == "words":
            return ("words", self.lists(arg, line, here))
        if key == "evidence":
            topic = self.topic(arg, line, here)
            return ("evidence", topic) if topic else None
        if key == "leader_in":
            topics = [self.topic(t, line, here) for t in (arg if isinstance(arg, list) else [arg])]
            return ("leader_in", tuple(t for t in topics if t))
        if key == "named_benefit":
            skip = arg.get("skip", []) if isinstance(arg, dict) else None
            if not isinstance(skip, list):
                self.problems.add(line, here, "must be {skip: [topics]}")
                return None
            return ("named_benefit", tuple(t for t in skip if self.topic(t, line, here)))
        if key == "captures_outside":
            if not isinstance(arg, dict) or set(arg) != {"shape", "words"}:
                self.problems.add(line, here, "must be {shape: ..., words: [...]}")
                return None
            name = self.shape(arg["shape"], line, f"{here}.shape")
            lists = self.lists(arg["words"], line, f"{here}.words")
            return ("captures_outside", (name, lists)) if name else None
        self.problems.add(line, here, f"unknown condition kind {key!r}")
        return None

    def action(self, value: object, line: int, where: str) -> Action | None:
        if not isinstance(value, dict):
            self.problems.add(line, where, "an action is a mapping")
            return None
        unless = None
        if "unless" in value:
            unless = self.condition(value["unless"], line, f"{where}.unless")
        kinds = [k for k in value if k != "unless"]
        if len(kinds) != 1:
            self.problems.add(line, where, "an action has exactly one of win, mark, boost, zero")
            return None
        kind = kinds[0]
        arg = value[kind]
        here = f"{where}.{kind}"
        if kind == "win" and arg == "named_benefit":
            return Action("win_named", unless=unless)
        if kind in ("win", "mark", "zero"):
            topic = self.topic(arg, line, here)
            return Action(kind, topic, unless=unless) if topic else None
        if kind == "boost":
            if not isinstance(arg, dict) or not isinstance(arg.get("by"), (int, float)):
                self.problems.add(line, here, "must be {topic: ..., by: <number>}")
                return None
            topic = self.topic(arg.get("topic"), line, f"{here}.topic")
            return Action("boost", topic, float(arg["by"]), unless) if topic else None
        if kind == "off_topic" and arg is True:
            return Action("off_topic", unless=unless)
        self.problems.add(line, here, f"unknown action {kind!r}")
        return None

    def rules(self, value: object, line: int, where: str) -> tuple[Rule, ...]:
        if not isinstance(value, LocatedList):
            self.problems.add(line, where, "must be a list of rules")
            return ()
        found: list[Rule] = []
        for index, item in enumerate(value):
            here = f"{where}[{index}]"
            if isinstance(item, LocatedDict) and "first" in item:
                check_fields(item, self.problems, here, {"first"})
                group = self.rules(item["first"], item.line_of("first"), f"{here}.first")
                found.append(Rule(first=group))
                continue
            if not check_fields(item, self.problems, here, {"when", "do"}):
                continue
            when = self.condition(item["when"], item.line_of("when"), f"{here}.when")
            action = self.action(item["do"], item.line_of("do"), f"{here}.do")
            if when is not None and action is not None:
                found.append(Rule(when=when, action=action))
        return tuple(found)


def parse_frames(
    data: object,
    problems: Problems,
    shapes: dict[str, re.Pattern[str]],
    lexicon: Lexicon,
    topic_ids: tuple[str, ...],
) -> Language:
    parser = _Frames(problems, shapes, lexicon, topic_ids)
    head = data if isinstance(data, LocatedDict) else LocatedDict()
    if not hasattr(head, "key_lines"):
        head.key_lines = {}
    if isinstance(data, LocatedDict):
        check_fields(
            data,
            problems,
            "",
            {"frames", "condition_topic", "named_benefits"},
            {"conditions", "decisions", "preprocess"},
        )
    raw_conditions = head.get("conditions") or LocatedDict()
    if isinstance(raw_conditions, LocatedDict):
        # In order: a condition may use the ones written above it.
        for name, value in raw_conditions.items():
            line = raw_conditions.line_of(name)
            if name in shapes or name in BUILT_INS:
                problems.add(line, f"conditions.{name}", "already the name of a shape or built-in")
            parsed = parser.condition(value, line, f"conditions.{name}")
            if parsed is not None:
                parser.named[name] = parsed
    condition_topic = (
        parser.topic(
            head.get("condition_topic"), head.line_of("condition_topic"), "condition_topic"
        )
        or ""
    )
    groups: list[tuple[str, ...]] = []
    named_at: dict[str, float] = {}
    named_default = 1.0
    raw_named = head.get("named_benefits")
    if isinstance(raw_named, LocatedDict):
        line = head.line_of("named_benefits")
        for group in raw_named.get("groups") or []:
            topics = [parser.topic(t, line, "named_benefits.groups") for t in group]
            groups.append(tuple(t for t in topics if t))
        for topic, value in (raw_named.get("at") or {}).items():
            if parser.topic(topic, line, "named_benefits.at") and isinstance(value, (int, float)):
                named_at[topic] = float(value)
        default = raw_named.get("default_at", 1.0)
        named_default = float(default) if isinstance(default, (int, float)) else 1.0
    preprocess: dict[str, str] = {}
    raw_pre = head.get("preprocess")
    if isinstance(raw_pre, LocatedDict):
        for step in ("equals_sign", "set_aside"):
            if step in raw_pre:
                name = parser.shape(raw_pre[step], raw_pre.line_of(step), f"preprocess.{step}")
                if name:
                    preprocess[step] = name
    frames = parser.rules(head.get("frames"), head.line_of("frames"), "frames")
    decisions: list[Decision] = []
    raw_decisions = head.get("decisions")
    if isinstance(raw_decisions, LocatedList):
        for index, item in enumerate(raw_decisions):
            where = f"decisions[{index}]"
            if not check_fields(item, problems, where, {"when", "answer"}):
                continue
            when = parser.condition(item["when"], item.line_of("when"), f"{where}.when")
            answer = item["answer"]
            line = item.line_of("answer")
            if not isinstance(answer, dict) or not isinstance(answer.get("evidence"), (int, float)):
                problems.add(line, f"{where}.answer", "needs topic or out_of_scope, and evidence")
                continue
            topic = None
            if "topic" in answer:
                topic = parser.topic(answer["topic"], line, f"{where}.answer.topic")
            oos = answer.get("out_of_scope")
            if (topic is None) == (oos is None):
                problems.add(line, f"{where}.answer", "needs exactly one of topic, out_of_scope")
                continue
            if when is not None:
                decisions.append(
                    Decision(
                        when,
                        topic,
                        str(oos) if oos is not None else None,
                        float(answer["evidence"]),
                        bool(answer.get("at_least_own", False)),
                        line,
                    )
                )
    return Language(
        lexicon=lexicon,
        shapes=shapes,
        conditions=dict(parser.named),
        frames=frames,
        decisions=tuple(decisions),
        condition_topic=condition_topic,
        named_groups=tuple(groups),
        named_at=named_at,
        named_default=named_default,
        preprocess=preprocess,
    )


def load_lexicon(directory: Path, problems: Problems | None = None) -> Lexicon:
    path = directory / FOLDER / LEXICON_FILE
    problems = problems if problems is not None else Problems(path)
    return parse_lexicon(read_yaml(path, problems), problems)


def load_language(directory: Path, topic_ids: tuple[str, ...]) -> tuple[Language, list[Problems]]:
    """Read and check the three files; the problems are per file."""
    folder = directory / FOLDER
    lexicon_problems = Problems(folder / LEXICON_FILE)
    shapes_problems = Problems(folder / SHAPES_FILE)
    frames_problems = Problems(folder / FRAMES_FILE)
    lexicon = load_lexicon(directory, lexicon_problems)
    shapes = parse_shapes(read_yaml(folder / SHAPES_FILE, shapes_problems), shapes_problems)
    language = parse_frames(
        read_yaml(folder / FRAMES_FILE, frames_problems),
        frames_problems,
        shapes,
        lexicon,
        topic_ids,
    )
    return language, [lexicon_problems, shapes_problems, frames_problems]


__all__ = [
    "Action",
    "Condition",
    "Decision",
    "Language",
    "Lexicon",
    "Rule",
    "load_language",
    "load_lexicon",
]
