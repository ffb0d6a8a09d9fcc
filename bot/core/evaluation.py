"""Batch evaluation of the companion on labelled questions.

Rows look like ``{"q": "<message>", "expect": ["<topic id>" | null, ...]}``
(``tests/data/*.jsonl``, the team's public evaluation samples). A row is right when
the predicted topic (``None`` for clarify/fallback) is one of ``expect``.

Rows may also carry ``"entry": "<entry id>"`` (entry accuracy, counted on those rows)
and ``"must": [["a", "b"], ["c"]]`` (the facet check of the team's ``score_answers.py``:
topic right and every group has an alternative in the reply's first 300 characters).
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from bot.core.reply import Reply

URGENT = "urgent"
OPENING_CHARS = 300


class Responder(Protocol):
    def respond(self, text: str) -> Reply: ...


@dataclass(frozen=True)
class Miss:
    question: str
    expected: tuple[str | None, ...]
    got: str | None
    score: float


@dataclass(frozen=True)
class EvalReport:
    total: int
    correct: int
    per_topic: dict[str, tuple[int, int]]  # expected label -> (right, total)
    urgent_expected: int
    urgent_caught: int
    false_alarms: int
    out_of_scope_expected: int
    out_of_scope_rejected: int
    misses: tuple[Miss, ...]
    times_us: tuple[float, ...] = field(repr=False, default=())
    entry_expected: int = 0
    entry_correct: int = 0
    must_expected: int = 0
    must_passed: int = 0
    words: tuple[int, ...] = field(repr=False, default=())  # answer lengths with the caveat
    entry_misses: tuple[tuple[str, str, str | None], ...] = ()  # (question, wanted, got)

    @property
    def entry_accuracy(self) -> float:
        return self.entry_correct / self.entry_expected if self.entry_expected else 1.0

    @property
    def must_rate(self) -> float:
        return self.must_passed / self.must_expected if self.must_expected else 1.0

    @property
    def accuracy(self) -> float:
        return self.correct / self.total if self.total else 0.0

    @property
    def urgent_recall(self) -> float:
        return self.urgent_caught / self.urgent_expected if self.urgent_expected else 1.0

    @property
    def out_of_scope_rejection(self) -> float:
        if not self.out_of_scope_expected:
            return 1.0
        return self.out_of_scope_rejected / self.out_of_scope_expected

    @property
    def median_us(self) -> float:
        return statistics.median(self.times_us) if self.times_us else 0.0

    @property
    def mean_us(self) -> float:
        return statistics.fmean(self.times_us) if self.times_us else 0.0


def load_rows(path: str | Path) -> list[dict[str, Any]]:
    """Read a labelled ``.jsonl`` file (blank lines skipped)."""
    rows = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not JSON: {exc}") from exc
        if not isinstance(row, dict) or "q" not in row or "expect" not in row:
            raise ValueError(f'{path}:{number}: needs "q" and "expect"')
        rows.append(row)
    return rows


def _label(expect: tuple[str | None, ...]) -> str:
    return "null" if expect[0] is None else str(expect[0])


def passes_must(reply_text: str, must: object) -> bool:
    """Every group of ``must`` has an alternative in the reply's opening."""
    head = reply_text[:OPENING_CHARS].lower()
    groups = must if isinstance(must, list) else []
    return all(any(str(a).lower() in head for a in group) for group in groups)


def evaluate(companion: Responder, rows: Iterable[Mapping[str, Any]]) -> EvalReport:
    """Run every row through ``companion.respond`` and score the predictions."""
    entry_expected = entry_correct = must_expected = must_passed = 0
    word_counts: list[int] = []
    entry_misses: list[tuple[str, str, str | None]] = []
    total = correct = 0
    per_topic: dict[str, list[int]] = {}
    urgent_expected = urgent_caught = false_alarms = 0
    oos_expected = oos_rejected = 0
    misses: list[Miss] = []
    times: list[float] = []
    for row in rows:
        question = str(row["q"])
        raw = row["expect"]
        expect: tuple[str | None, ...] = tuple(raw) if isinstance(raw, list) else (raw,)
        started = time.perf_counter()
        reply = companion.respond(question)
        times.append((time.perf_counter() - started) * 1e6)
        got = reply.topic
        right = got in expect
        total += 1
        correct += right
        counts = per_topic.setdefault(_label(expect), [0, 0])
        counts[0] += right
        counts[1] += 1
        if URGENT in expect:
            urgent_expected += 1
            urgent_caught += got == URGENT
        elif got == URGENT:
            false_alarms += 1
        if None in expect:
            oos_expected += 1
            oos_rejected += got is None
        if not right:
            misses.append(Miss(question, expect, got, reply.score))
        if reply.kind.value in ("answer", "greeting"):
            word_counts.append(len(reply.text.split()))
        wanted = row.get("entry")
        if isinstance(wanted, str):
            entry_expected += 1
            got_entry = getattr(reply, "entry", None)
            entry_correct += got_entry == wanted
            if got_entry != wanted:
                entry_misses.append((question, wanted, got_entry))
        if "must" in row:
            must_expected += 1
            must_passed += right and passes_must(reply.text, row["must"])
    return EvalReport(
        total=total,
        correct=correct,
        per_topic={k: (v[0], v[1]) for k, v in sorted(per_topic.items())},
        urgent_expected=urgent_expected,
        urgent_caught=urgent_caught,
        false_alarms=false_alarms,
        out_of_scope_expected=oos_expected,
        out_of_scope_rejected=oos_rejected,
        misses=tuple(misses),
        times_us=tuple(times),
        entry_expected=entry_expected,
        entry_correct=entry_correct,
        must_expected=must_expected,
        must_passed=must_passed,
        words=tuple(word_counts),
        entry_misses=tuple(entry_misses),
    )


def format_report(report: EvalReport, show_misses: bool = True) -> str:
    """A plain-text summary: headline figures, per-topic table, the misses."""
    lines = [
        f"questions:              {report.total}",
        f"accuracy:               {report.accuracy:.3f} ({report.correct}/{report.total})",
        f"urgent recall:          {report.urgent_recall:.3f} "
        f"({report.urgent_caught}/{report.urgent_expected})",
        f"false alarms:           {report.false_alarms}",
        f"out-of-scope rejection: {report.out_of_scope_rejection:.3f} "
        f"({report.out_of_scope_rejected}/{report.out_of_scope_expected})",
        f"time per question:      median {report.median_us:.0f} us, mean {report.mean_us:.0f} us",
    ]
    if report.entry_expected:
        lines.append(
            f"entry accuracy:         {report.entry_accuracy:.3f} "
            f"({report.entry_correct}/{report.entry_expected})"
        )
    if report.must_expected:
        lines.append(
            f"facets (must) passed:   {report.must_rate:.3f} "
            f"({report.must_passed}/{report.must_expected})"
        )
    if report.words:
        lines.append(
            f"answer words:           median {statistics.median(report.words):.0f},"
            f" max {max(report.words)}"
        )
    lines += [
        "",
        "per topic (expected label: right/total):",
    ]
    for label, (right, count) in report.per_topic.items():
        share = right / count if count else 0.0
        lines.append(f"  {label:<24} {right:>3}/{count:<3} {share:.2f}")
    if show_misses and report.misses:
        lines.append("")
        lines.append("misses:")
        for miss in report.misses:
            expected = "|".join("null" if e is None else e for e in miss.expected)
            lines.append(
                f"  expected {expected:<28} got {miss.got or 'null':<22} "
                f"({miss.score:5.1f}) {miss.question!r}"
            )
    if show_misses and report.entry_misses:
        lines.append("")
        lines.append("entry misses:")
        for question, wanted, got in report.entry_misses:
            lines.append(f"  expected {wanted:<28} got {got or 'null':<28} {question!r}")
    return "\n".join(lines)


_VOWEL_GROUPS = re.compile(r"[aeiouy]+")


def syllables(word: str) -> int:
    """A plain syllable estimate (vowel groups, silent final e): good enough for a median."""
    word = word.lower().strip("'’-")
    if not word:
        return 0
    count = len(_VOWEL_GROUPS.findall(word))
    if word.endswith("e") and not word.endswith(("le", "ee")) and count > 1:
        count -= 1
    return max(1, count)


def flesch_kincaid_grade(text: str) -> float:
    """The Flesch-Kincaid grade level of ``text`` (health information aims at 5-7)."""
    sentences = max(1, len(re.findall(r"[.!?]+(?:\s|$)", text.strip() + " ")))
    found = re.findall(r"[A-Za-z][A-Za-z'’-]*|\d+", text)
    if not found:
        return 0.0
    total = sum(syllables(w) if w[0].isalpha() else 1 for w in found)
    return 0.39 * len(found) / sentences + 11.8 * total / len(found) - 15.59


__all__ = [
    "EvalReport",
    "Miss",
    "evaluate",
    "flesch_kincaid_grade",
    "format_report",
    "load_rows",
    "passes_must",
]
