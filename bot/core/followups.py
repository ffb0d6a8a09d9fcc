"""Reading a message as a follow-up, from ``knowledge/followups.yaml``.

A message is a follow-up of some kind when, cleaned and with connectors ("and",
"so") dropped from its start and fillers ("please", "then") from its end, it is
one of the kind's phrasings, or nearly (rapidfuzz ratio, for typos). A message
that opens with a detail prefix ("what about", "and for") carries a new detail
about the last question.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.core.knowledge.followups import FollowUpsFile
from bot.core.normalize import clean

# Near-copies of a phrasing count (typos); short phrasings must match exactly.
FUZZY_AT = 90.0
FUZZY_MIN_CHARS = 6
FUZZY_MAX_WORDS = 5  # typo-tolerance only for short messages: it costs a scan of every phrasing
# A follow-up phrasing is short: longer messages have a subject of their own.
MAX_WORDS = 8


@dataclass(frozen=True)
class Reading:
    """What a message is as a follow-up: a kind, a detail, or neither."""

    kind: str | None = None
    detail: tuple[str, ...] | None = None  # the words after a detail prefix


class FollowUpReader:
    """Built once per knowledge base; ``read`` is a few dictionary look-ups."""

    def __init__(self, data: FollowUpsFile) -> None:
        self._phrases: dict[str, str] = {}
        for kind in data.kinds:
            for phrasing in kind.phrasings:
                self._phrases.setdefault(clean(phrasing), kind.id)
        self._choices = [p for p in self._phrases if len(p) >= FUZZY_MIN_CHARS]
        self._connectors = frozenset(clean(c) for c in data.connectors)
        self._fillers = tuple(
            sorted((clean(f).split() for f in data.fillers), key=len, reverse=True)
        )
        self._prefixes = tuple(
            sorted((clean(p).split() for p in data.detail_prefixes), key=len, reverse=True)
        )
        self._targets = {k.id: k.target for k in data.kinds if k.target}
        self._subjects = tuple(
            (s.id, tuple(" " + clean(w) + " " for w in s.words), s.safety_entry)
            for s in data.subjects
        )
        self._neutral = frozenset(clean(w) for w in data.neutral_words)
        self._anaphora = frozenset(clean(w) for w in data.anaphora)
        self._subject_safety = {s.id: s.safety_entry for s in data.subjects if s.safety_entry}

    def telling(self, words: list[str]) -> list[str]:
        """``words`` without the ones every topic shares ("feet", "reflexology")."""
        return [w for w in words if w not in self._neutral]

    def points_back(self, words: list[str]) -> bool:
        """Whether the message refers to the last answer ("a routine for that?")."""
        return any(w in self._anaphora for w in words)

    def target(self, kind: str) -> str:
        """The entry id that answers ``kind`` ("" when none)."""
        return self._targets.get(kind, "")

    def safety_entry(self, subject: str | None) -> str:
        return self._subject_safety.get(subject or "", "")

    def subject(self, words: list[str]) -> str | None:
        """Who the message is about, when it says (the first subject named wins)."""
        joined = " " + " ".join(words) + " "
        best: tuple[int, str] | None = None
        for subject_id, forms, _ in self._subjects:
            for form in forms:
                at = joined.find(form)
                if at >= 0 and (best is None or at < best[0]):
                    best = (at, subject_id)
        return best[1] if best else None

    def _trim(self, words: list[str]) -> list[str]:
        while len(words) > 1 and words[0] in self._connectors:
            words = words[1:]
        changed = True
        while changed and len(words) > 1:
            changed = False
            for filler in self._fillers:
                if len(words) > len(filler) and words[-len(filler) :] == filler:
                    words = words[: -len(filler)]
                    changed = True
                    break
        return words

    def _kind(self, words: list[str]) -> str | None:
        text = " ".join(words)
        kind = self._phrases.get(text)
        if kind is None and len(words) <= FUZZY_MAX_WORDS and len(text) >= FUZZY_MIN_CHARS:
            found = process.extractOne(
                text, self._choices, scorer=fuzz.ratio, score_cutoff=FUZZY_AT
            )
            if found is not None:
                kind = self._phrases[found[0]]
        return kind

    def read(self, text: str) -> Reading:
        """The follow-up reading of ``text``."""
        words = clean(text).split()
        if not words or len(words) > MAX_WORDS * 2:
            return Reading()
        for prefix in self._prefixes:
            if len(words) > len(prefix) and words[: len(prefix)] == prefix:
                return Reading(detail=tuple(words[len(prefix) :]))
        if len(words) > MAX_WORDS:
            return Reading()
        kind = self._kind(words)
        if kind is None:
            trimmed = self._trim(words)
            if trimmed != words:
                kind = self._kind(trimmed)
        return Reading(kind=kind)


__all__ = ["FollowUpReader", "Reading"]
