"""Group the questions the bot could not answer, for an editor (``python -m bot review``).

Questions are compared by their cleaned words (``clean``) with rapidfuzz's
``token_set_ratio``, so "does reflexology help with tinnitus" and "can reflexology help
tinnitus?" land in one group. Groups are formed greedily, most frequent wording first:
each wording joins the first group whose leading wording is at least ``SIMILAR_AT``
similar, else starts a new one. Each group gets the knowledge entry whose example
questions are closest to its leading wording, so the editor can add the group's
wordings to that entry's ``questions`` (or see that a new entry is needed).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.core.knowledge import Knowledge
from bot.core.normalize import clean

SIMILAR_AT = 75.0  # token_set_ratio at which two wordings are one group
SUGGEST_AT = 50.0  # below this the closest entry is no real suggestion
MAX_EXAMPLES = 5


@dataclass(frozen=True)
class Suggestion:
    entry: str
    topic: str
    question: str  # the entry's example question that came closest
    score: float


@dataclass(frozen=True)
class Group:
    count: int
    wordings: tuple[tuple[str, int], ...]  # (question as asked, times), most frequent first
    kinds: dict[str, int]  # "fallback" / "clarify" -> count
    suggestion: Suggestion | None

    @property
    def leading(self) -> str:
        return self.wordings[0][0]


def _examples(knowledge: Knowledge) -> tuple[list[str], list[tuple[str, str, str]]]:
    cleaned: list[str] = []
    owners: list[tuple[str, str, str]] = []
    for entries in knowledge.entries.values():
        for entry in entries:
            for question in entry.questions:
                text = clean(question)
                if text:
                    cleaned.append(text)
                    owners.append((entry.id, entry.topic, question))
    if not cleaned:  # a knowledge base without entries: topics' own example questions
        for topic in knowledge.topics.values():
            for question in topic.questions:
                text = clean(question)
                if text:
                    cleaned.append(text)
                    owners.append((topic.id, topic.id, question))
    return cleaned, owners


def group_questions(
    questions: Iterable[tuple[str, str]], knowledge: Knowledge, similar_at: float = SIMILAR_AT
) -> list[Group]:
    """Groups of ``(text, kind)`` questions, largest first, each with its closest entry."""
    by_wording: dict[str, Counter[str]] = {}
    asked: dict[str, Counter[str]] = {}
    for text, kind in questions:
        key = clean(text)
        if not key:
            continue
        by_wording.setdefault(key, Counter())[kind] += 1
        asked.setdefault(key, Counter())[text] += 1
    ordered = sorted(by_wording, key=lambda k: (-sum(by_wording[k].values()), k))
    leaders: list[str] = []
    members: dict[str, list[str]] = {}
    for key in ordered:
        found = process.extractOne(
            key, leaders, scorer=fuzz.token_set_ratio, score_cutoff=similar_at
        )
        if found is None:
            leaders.append(key)
            members[key] = [key]
        else:
            members[found[0]].append(key)

    examples, owners = _examples(knowledge)
    groups: list[Group] = []
    for leader in leaders:
        kinds: Counter[str] = Counter()
        wordings: Counter[str] = Counter()
        for key in members[leader]:
            kinds.update(by_wording[key])
            wordings.update(asked[key])
        suggestion = None
        best = process.extractOne(
            leader, examples, scorer=fuzz.token_set_ratio, score_cutoff=SUGGEST_AT
        )
        if best is not None:
            entry, topic, question = owners[best[2]]
            suggestion = Suggestion(entry, topic, question, round(float(best[1]), 1))
        groups.append(
            Group(
                count=sum(kinds.values()),
                wordings=tuple(wordings.most_common()),
                kinds=dict(kinds),
                suggestion=suggestion,
            )
        )
    groups.sort(key=lambda g: (-g.count, g.leading))
    return groups


def format_groups(groups: list[Group], max_examples: int = MAX_EXAMPLES) -> str:
    """The review as plain text for the terminal."""
    if not groups:
        return "Nothing to review: no unanswered questions were stored (is BOT_REVIEW=on?)."
    total = sum(g.count for g in groups)
    lines = [f"{total} unanswered questions in {len(groups)} groups, largest first.", ""]
    for number, group in enumerate(groups, 1):
        kinds = ", ".join(f"{kind} {n}" for kind, n in sorted(group.kinds.items()))
        lines.append(f"{number}. {group.count} x  ({kinds})")
        for text, times in group.wordings[:max_examples]:
            lines.append(f"     {times:>3} x  {text}")
        if len(group.wordings) > max_examples:
            lines.append(f"     ... and {len(group.wordings) - max_examples} more wordings")
        if group.suggestion is not None:
            s = group.suggestion
            lines.append(
                f'   closest entry: {s.entry} (topic {s.topic}, {s.score:.0f}% like "{s.question}")'
            )
        else:
            lines.append("   closest entry: none close; perhaps a new entry")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


__all__ = ["Group", "Suggestion", "format_groups", "group_questions"]
