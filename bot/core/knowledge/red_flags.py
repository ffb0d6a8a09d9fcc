"""``knowledge/red_flags.yaml``: the safety screen's patterns, as data.

File shape::

    reply: <what every urgent reply says first: seek medical care now>
    terms:                     # optional named vocabularies for the patterns
      chest: [chest, breastbone, sternum]   # a pattern's {chest} -> (?:chest|breastbone|sternum)
    spellings:                 # optional: misspellings rewritten before screening
      chest: [chset, chst]
    guards: [<regex>, ...]     # text that looks alarming but is not (optional)
    map_guards: [<regex>, ...] # foot-map wording, blanked unless a present symptom matches
    present_symptom: [<regex>, ...]  # "mine started 10 min ago", "right now"
    flags:
      - id: chest-pain
        why: <one calm sentence: why this needs care now>
        patterns: [<regex>, ...]   # matched against normalised text
        unless: [<regex>, ...]     # optional guards for this flag only
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from bot.core.knowledge.source import (
    LocatedDict,
    LocatedList,
    Problems,
    backtracking_risk,
    check_fields,
    first_use_of_id,
    read_yaml,
    text_field,
    text_list_field,
    top_level_list,
)
from bot.core.languages import Languages
from bot.core.safety_net import SafetyNet, data_hash, load_net

_FLAG_REQUIRED = {"id", "why", "patterns"}
_FLAG_OPTIONAL = {"unless", "reply", "band"}
# "urgent": seek care now; "soon": see a professional within a day or so
BANDS = ("urgent", "soon")
_FILE_OPTIONAL = {"reply", "guards", "map_guards", "present_symptom", "terms", "spellings"}
_TERM = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
_WORD = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class RedFlag:
    id: str
    why: str
    patterns: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...] = ()
    # What the reply opens with instead of the file's common ``reply`` ("" = the
    # common one): a crisis needs crisis lines, not "stay with them".
    reply: str = ""
    band: str = "urgent"  # or "soon": see someone within a day or so, not an ambulance


@dataclass(frozen=True)
class RedFlagsFile:
    reply: str
    guards: tuple[re.Pattern[str], ...]
    flags: tuple[RedFlag, ...]
    spellings: dict[str, str] = field(default_factory=dict)  # misspelt word -> right one
    # Foot-map wording blanked like guards, except when ``present_symptom`` matches.
    map_guards: tuple[re.Pattern[str], ...] = ()
    present_symptom: tuple[re.Pattern[str], ...] = ()
    # The learned net (``safety/net.json`` beside the file); None: patterns alone.
    net: SafetyNet | None = None
    # The "see someone soon" net (``safety/soon_net.json``), consulted when nothing urgent
    # fired; None: the soon patterns alone.
    soon_net: SafetyNet | None = None
    # Other languages (``safety/languages.yaml`` beside the file); None: English only.
    languages: Languages | None = None


def _lists(head: LocatedDict, name: str, problems: Problems) -> dict[str, list[tuple[str, int]]]:
    """A mapping of names to lists of texts, e.g. ``terms`` and ``spellings``."""
    if name not in head:
        return {}
    value = head[name]
    if not isinstance(value, LocatedDict):
        problems.add(head.line_of(name), name, "must be a mapping of names to lists of texts")
        return {}
    result: dict[str, list[tuple[str, int]]] = {}
    for key in value:
        where = f"{name}.{key}"
        if not isinstance(key, str) or not _TERM.fullmatch("{" + key + "}"):
            problems.add(value.line_of(key), where, "names are lower-case letters, digits and _")
            continue
        result[key] = text_list_field(value, key, problems, name, 1)
    return result


def _expand(pattern: str, terms: dict[str, str], problems: Problems, line: int, where: str) -> str:
    """``pattern`` with each ``{name}`` replaced by that term's alternatives."""

    def replace(found: re.Match[str]) -> str:
        name = found.group(1)
        if name not in terms:
            problems.add(line, where, f"unknown term {{{name}}} (define it under terms:)")
            return "(?!)"
        return terms[name]

    return _TERM.sub(replace, pattern)


def _terms(head: LocatedDict, problems: Problems) -> dict[str, str]:
    """Each term as a regex group; a term may use the terms defined above it."""
    terms: dict[str, str] = {}
    for name, items in _lists(head, "terms", problems).items():
        parts = [
            _expand(text, terms, problems, line, f"terms.{name}[{index}]")
            for index, (text, line) in enumerate(items)
        ]
        terms[name] = "(?:" + "|".join(parts) + ")"
    return terms


def _spellings(head: LocatedDict, problems: Problems) -> dict[str, str]:
    found: dict[str, str] = {}
    for right, items in _lists(head, "spellings", problems).items():
        for index, (wrong, line) in enumerate(items):
            if not _WORD.fullmatch(wrong):
                problems.add(
                    line, f"spellings.{right}[{index}]", "must be one cleaned word (a-z, 0-9)"
                )
                continue
            if wrong in found and found[wrong] != right:
                problems.add(
                    line,
                    f"spellings.{right}[{index}]",
                    f"{wrong!r} is already a misspelling of {found[wrong]!r}",
                )
            found[wrong] = right
    return found


def _compile(
    items: list[tuple[str, int]],
    problems: Problems,
    where: str,
    terms: dict[str, str] | None = None,
) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for index, (pattern, line) in enumerate(items):
        expanded = _expand(pattern, terms or {}, problems, line, f"{where}[{index}]")
        risk = backtracking_risk(expanded)
        if risk:
            problems.add(line, f"{where}[{index}]", f"unsafe pattern: {risk}")
            continue
        try:
            compiled.append(re.compile(expanded, re.IGNORECASE))
        except re.error as exc:
            problems.add(line, f"{where}[{index}]", f"invalid pattern: {exc}")
    return tuple(compiled)


def parse_red_flags(data: object, problems: Problems) -> RedFlagsFile:
    """Validate the parsed red-flags file."""
    entries = top_level_list(data, "flags", problems, _FILE_OPTIONAL)
    head = data if isinstance(data, LocatedDict) else None
    reply = ""
    guards: tuple[re.Pattern[str], ...] = ()
    map_guards: tuple[re.Pattern[str], ...] = ()
    present_symptom: tuple[re.Pattern[str], ...] = ()
    terms: dict[str, str] = {}
    spellings: dict[str, str] = {}
    if head is not None:
        if "reply" not in head:
            problems.add(head.line, "reply", "missing field")
        reply = text_field(head, "reply", problems, "")
        terms = _terms(head, problems)
        spellings = _spellings(head, problems)
        guards = _compile(text_list_field(head, "guards", problems, ""), problems, "guards", terms)
        map_guards = _compile(
            text_list_field(head, "map_guards", problems, ""), problems, "map_guards", terms
        )
        present_symptom = _compile(
            text_list_field(head, "present_symptom", problems, ""),
            problems,
            "present_symptom",
            terms,
        )
    flags: list[RedFlag] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        where = f"flags[{index}]"
        if not check_fields(entry, problems, where, _FLAG_REQUIRED, _FLAG_OPTIONAL):
            continue
        flag_id = text_field(entry, "id", problems, where)
        first_use_of_id(entry, flag_id, seen, problems, where)
        band = text_field(entry, "band", problems, where) if "band" in entry else "urgent"
        if band not in BANDS:
            problems.add(entry.line_of("band"), f"{where}.band", f"must be one of {BANDS}")
        flags.append(
            RedFlag(
                id=flag_id,
                why=text_field(entry, "why", problems, where),
                reply=text_field(entry, "reply", problems, where) if "reply" in entry else "",
                band=band,
                patterns=_compile(
                    text_list_field(entry, "patterns", problems, where, 1),
                    problems,
                    f"{where}.patterns",
                    terms,
                ),
                unless=_compile(
                    text_list_field(entry, "unless", problems, where),
                    problems,
                    f"{where}.unless",
                    terms,
                ),
            )
        )
    return RedFlagsFile(
        reply=reply,
        guards=guards,
        flags=tuple(flags),
        spellings=spellings,
        map_guards=map_guards,
        present_symptom=present_symptom,
    )


def load_red_flags(path: Path, problems: Problems) -> RedFlagsFile:
    """Read and validate ``path``, with the net's weights from ``safety/net.json`` beside it."""
    parsed = parse_red_flags(read_yaml(path, problems), problems)
    if not parsed.flags:
        # an empty screen would switch safety off silently: never accept it
        problems.add(1, "flags", "the red-flag file has no flags")
    net_path = path.parent / NET_FILE
    try:
        net = load_net(net_path)
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        problems.add(1, str(NET_FILE), f"unreadable safety net weights: {exc}")
        net = None
    try:
        soon_net = load_net(path.parent / SOON_NET_FILE)
    except (ValueError, KeyError, TypeError, IndexError) as exc:
        problems.add(1, str(SOON_NET_FILE), f"unreadable soon net weights: {exc}")
        soon_net = None
    training = path.parent / "safety" / "training"
    digest = data_hash(training) if training.is_dir() else None
    for found, name in ((net, NET_FILE), (soon_net, SOON_NET_FILE)):
        if found is not None and digest is not None and found.data_sha256 != digest:
            # weights that no longer match their labelled lines would hide what changed
            problems.add(1, str(name), "stale: retrain with scripts/train_safety_net.py")
    languages_path = path.parent / LANGUAGES_FILE
    try:
        languages = Languages.load(languages_path)
    except (ValueError, KeyError, TypeError, re.error, yaml.YAMLError) as exc:
        problems.add(1, str(LANGUAGES_FILE), f"invalid languages file: {exc}")
        languages = None
    return replace(parsed, net=net, soon_net=soon_net, languages=languages)


NET_FILE = Path("safety") / "net.json"
SOON_NET_FILE = Path("safety") / "soon_net.json"
LANGUAGES_FILE = Path("safety") / "languages.yaml"


__all__ = ["LocatedList", "RedFlag", "RedFlagsFile", "load_red_flags", "parse_red_flags"]
