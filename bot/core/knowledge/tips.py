"""``knowledge/tips.yaml``: short daily tips.

File shape::

    tips:
      - id: thumb-walk          # stable: users' positions refer to it
        text: <one to three sentences, hedged like the answers>
        tags: [technique]       # from TIP_TAGS
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.core.knowledge.source import (
    Problems,
    check_fields,
    first_use_of_id,
    read_yaml,
    text_field,
    text_list_field,
    top_level_list,
)

TIP_TAGS: frozenset[str] = frozenset(
    {
        "technique",
        "relaxation",
        "sleep",
        "safety",
        "evidence",
        "self-care",
        "circulation",
        "pain",
    }
)
_REQUIRED = {"id", "text", "tags"}
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")
MAX_SENTENCES = 3


@dataclass(frozen=True)
class Tip:
    id: str
    text: str
    tags: tuple[str, ...]


def _sentence_count(text: str) -> int:
    return len([s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if s])


def parse_tips(data: object, problems: Problems) -> tuple[Tip, ...]:
    """Validate the parsed tips file."""
    entries = top_level_list(data, "tips", problems)
    tips: list[Tip] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        where = f"tips[{index}]"
        if not check_fields(entry, problems, where, _REQUIRED):
            continue
        tip_id = text_field(entry, "id", problems, where)
        if tip_id and not _ID_RE.match(tip_id):
            problems.add(
                entry.line_of("id"), f"{where}.id", "use lower-case letters, digits, dashes"
            )
        first_use_of_id(entry, tip_id, seen, problems, where)
        text = text_field(entry, "text", problems, where)
        if text and _sentence_count(text) > MAX_SENTENCES:
            problems.add(
                entry.line_of("text"), f"{where}.text", f"at most {MAX_SENTENCES} sentences"
            )
        tags = text_list_field(entry, "tags", problems, where, 1)
        for tag_index, (tag, line) in enumerate(tags):
            if tag not in TIP_TAGS:
                problems.add(
                    line,
                    f"{where}.tags[{tag_index}]",
                    f"unknown tag {tag!r} (known: {', '.join(sorted(TIP_TAGS))})",
                )
        tips.append(Tip(id=tip_id, text=text, tags=tuple(t for t, _ in tags)))
    return tuple(tips)


def load_tips(path: Path, problems: Problems) -> tuple[Tip, ...]:
    """Read and validate ``path``."""
    return parse_tips(read_yaml(path, problems), problems)
