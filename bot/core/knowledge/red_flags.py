"""``knowledge/red_flags.yaml``: the safety screen's patterns, as data.

File shape::

    reply: <what every urgent reply says first: seek medical care now>
    guards: [<regex>, ...]     # text that looks alarming but is not (optional)
    flags:
      - id: chest-pain
        why: <one calm sentence: why this needs care now>
        patterns: [<regex>, ...]   # matched against normalised text
        unless: [<regex>, ...]     # optional guards for this flag only
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

_FLAG_REQUIRED = {"id", "why", "patterns"}
_FLAG_OPTIONAL = {"unless"}
_FILE_OPTIONAL = {"reply", "guards"}


@dataclass(frozen=True)
class RedFlag:
    id: str
    why: str
    patterns: tuple[re.Pattern[str], ...]
    unless: tuple[re.Pattern[str], ...] = ()


@dataclass(frozen=True)
class RedFlagsFile:
    reply: str
    guards: tuple[re.Pattern[str], ...]
    flags: tuple[RedFlag, ...]


def _compile(
    items: list[tuple[str, int]], problems: Problems, where: str
) -> tuple[re.Pattern[str], ...]:
    compiled = []
    for index, (pattern, line) in enumerate(items):
        try:
            compiled.append(re.compile(pattern, re.IGNORECASE))
        except re.error as exc:
            problems.add(line, f"{where}[{index}]", f"invalid pattern: {exc}")
    return tuple(compiled)


def parse_red_flags(data: object, problems: Problems) -> RedFlagsFile:
    """Validate the parsed red-flags file."""
    entries = top_level_list(data, "flags", problems, _FILE_OPTIONAL)
    head = data if isinstance(data, LocatedDict) else None
    reply = ""
    guards: tuple[re.Pattern[str], ...] = ()
    if head is not None:
        if "reply" not in head:
            problems.add(head.line, "reply", "missing field")
        reply = text_field(head, "reply", problems, "")
        guards = _compile(text_list_field(head, "guards", problems, ""), problems, "guards")
    flags: list[RedFlag] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        where = f"flags[{index}]"
        if not check_fields(entry, problems, where, _FLAG_REQUIRED, _FLAG_OPTIONAL):
            continue
        flag_id = text_field(entry, "id", problems, where)
        if flag_id in seen:
            problems.add(
                entry.line_of("id"),
                f"{where}.id",
                f"duplicate id {flag_id!r} (first at line {seen[flag_id]})",
            )
        seen[flag_id] = entry.line_of("id")
        flags.append(
            RedFlag(
                id=flag_id,
                why=text_field(entry, "why", problems, where),
                patterns=_compile(
                    text_list_field(entry, "patterns", problems, where, 1),
                    problems,
                    f"{where}.patterns",
                ),
                unless=_compile(
                    text_list_field(entry, "unless", problems, where), problems, f"{where}.unless"
                ),
            )
        )
    return RedFlagsFile(reply=reply, guards=guards, flags=tuple(flags))


def load_red_flags(path: Path, problems: Problems) -> RedFlagsFile:
    """Read and validate ``path``."""
    return parse_red_flags(read_yaml(path, problems), problems)


__all__ = ["LocatedList", "RedFlag", "RedFlagsFile", "load_red_flags", "parse_red_flags"]
