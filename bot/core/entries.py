"""Stage two of matching: the entry within the topic the matcher chose.

Each entry is scored on its keywords (stem or long-prefix hits, phrases weigh
more) and on how close the message is to its example questions (rapidfuzz on
content stems). The overview entry answers when nothing specific wins.
Everything that can be is computed once at load, so a choice costs microseconds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.core.knowledge import Entry, Knowledge
from bot.core.normalize import clean, stem, stop_words

# A specific entry must reach this much evidence to beat the overview.
SPECIFIC_AT = 1.0
PHRASE_EXTRA = 0.5  # per extra word of a keyword phrase: "blood thinner" beats "blood"
SIMILARITY_FLOOR = 62.0  # rapidfuzz score below which closeness to an example adds nothing
SIMILARITY_WEIGHT = 1.6  # evidence for an exact copy of an example question
# Two stems are the same word when they share a long prefix ("pregnant" / "pregnancy").
PREFIX_MIN = 6
OVERVIEW_KEYWORDS = 0.5  # the share of its keyword evidence the overview entry keeps
PREFIX_SHARE = 0.75


def content_stems(words: Sequence[str]) -> list[str]:
    """Stems of the words that carry meaning."""
    stops = stop_words()
    return [stem(w) for w in words if w not in stops]


def _same_word(a: str, b: str) -> bool:
    if a == b:
        return True
    shorter = min(len(a), len(b))
    if shorter < PREFIX_MIN:
        return False
    common = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        common += 1
    return common >= PREFIX_MIN and common >= PREFIX_SHARE * shorter


@dataclass(frozen=True)
class Choice:
    """The chosen entry and how strongly something specific was asked for."""

    entry: Entry
    evidence: float
    specific: bool


@dataclass
class _Scored:
    entry: Entry
    words: tuple[tuple[str, float], ...]  # single-word keyword stems
    phrases: tuple[tuple[str, float], ...]  # " stem stem " keyword phrases
    requires: tuple[str, ...] = ()  # " stem stem " forms of the entry's required words


class EntryChooser:
    """Chooses entries within a topic; built once per knowledge base."""

    def __init__(self, knowledge: Knowledge) -> None:
        self._topics: dict[str, list[_Scored]] = {}
        # Words every topic shares ("reflexology"): matched exactly, never by prefix, so
        # "reflexology" does not pick the entry about the reflexologist.
        neutral = {stem(w) for t in knowledge.followups.neutral_words for w in clean(t).split()}
        self._examples: dict[str, tuple[list[str], list[int]]] = {}
        # All stems, stop words too: for messages made only of stop words ("what can u do").
        self._full: dict[str, tuple[list[str], list[int]]] = {}
        self._exact: dict[str, dict[str, list[tuple[int, float]]]] = {}
        self._by_prefix: dict[str, dict[str, list[tuple[str, int, float]]]] = {}
        self._phrase_index: dict[str, dict[str, list[tuple[int, str, int, float]]]] = {}
        self._neutral = frozenset(neutral)
        for topic_id, entries in knowledge.entries.items():
            scored: list[_Scored] = []
            examples: list[str] = []
            owners: list[int] = []
            full: list[str] = []
            full_owners: list[int] = []
            for index, entry in enumerate(entries):
                words: dict[str, float] = {}
                phrases: dict[str, float] = {}
                for keyword in entry.keywords:
                    parts = clean(keyword).split()
                    if len(parts) == 1:
                        words[stem(parts[0])] = 1.0
                    elif parts:
                        key = " " + " ".join(stem(p) for p in parts) + " "
                        phrases[key] = 1.0 + PHRASE_EXTRA * (len(parts) - 1)
                requires = tuple(
                    " " + " ".join(stem(p) for p in clean(r).split()) + " " for r in entry.requires
                )
                scored.append(
                    _Scored(entry, tuple(words.items()), tuple(phrases.items()), requires)
                )
                for question in entry.questions:
                    text = " ".join(sorted(content_stems(clean(question).split())))
                    if text:
                        examples.append(text)
                        owners.append(index)
                    words_all = clean(question).split()
                    if words_all:
                        full.append(" ".join(sorted(stem(w) for w in words_all)))
                        full_owners.append(index)
            self._topics[topic_id] = scored
            # Look-up tables, so a message costs one probe per word, not one per keyword.
            exact: dict[str, list[tuple[int, float]]] = {}
            by_prefix: dict[str, list[tuple[str, int, float]]] = {}
            phrase_list: list[tuple[str, int, float]] = []
            for index, item in enumerate(scored):
                for key, weight in item.words:
                    exact.setdefault(key, []).append((index, weight))
                    if len(key) >= PREFIX_MIN and key not in neutral:
                        by_prefix.setdefault(key[:PREFIX_MIN], []).append((key, index, weight))
                phrase_list.extend((key, index, weight) for key, weight in item.phrases)
            self._exact[topic_id] = exact
            self._by_prefix[topic_id] = by_prefix
            # A phrase can only be in the message if its first stem is: index by it.
            first: dict[str, list[tuple[int, str, int, float]]] = {}
            for position, (key, index, weight) in enumerate(phrase_list):
                first.setdefault(key.split()[0], []).append((position, key, index, weight))
            self._phrase_index[topic_id] = first
            self._examples[topic_id] = (examples, owners)
            self._full[topic_id] = (full, full_owners)

    def has_entries(self, topic_id: str | None) -> bool:
        return bool(topic_id and self._topics.get(topic_id))

    def overview(self, topic_id: str) -> Entry | None:
        scored = self._topics.get(topic_id)
        return scored[0].entry if scored else None

    def scores(self, topic_id: str, words: Sequence[str]) -> list[float]:
        """Evidence for every entry of ``topic_id`` (same order as the entries)."""
        scored = self._topics.get(topic_id, [])
        totals = [0.0] * len(scored)
        if not scored:
            return totals
        stems = content_stems(words)
        word_stems = [stem(w) for w in words]
        joined = " " + " ".join(word_stems) + " "
        phrase_index = self._phrase_index[topic_id]
        found = [
            hit
            for first in set(word_stems)
            for hit in phrase_index.get(first, ())
            if hit[1] in joined
        ]
        found.sort()  # the phrases' own order, so the totals add up exactly as before
        for _, _, index, weight in found:
            totals[index] += weight
        exact = self._exact[topic_id]
        by_prefix = self._by_prefix[topic_id]
        hit: set[tuple[int, str]] = set()  # a keyword counts once however often it is said
        for word in set(stems):
            for index, weight in exact.get(word, ()):
                if (index, word) not in hit:
                    hit.add((index, word))
                    totals[index] += weight
            if len(word) >= PREFIX_MIN and word not in self._neutral:
                for key, index, weight in by_prefix.get(word[:PREFIX_MIN], ()):
                    if key != word and (index, key) not in hit and _same_word(key, word):
                        hit.add((index, key))
                        totals[index] += weight
        best: dict[int, float] = {}
        # Stop words carry the meaning only of short messages ("what can u do").
        full_query = " ".join(sorted(stem(w) for w in words)) if len(stems) <= 2 else ""
        for (examples, owners), query in (
            (self._examples[topic_id], " ".join(sorted(stems))),
            (self._full[topic_id], full_query),
        ):
            if not examples or not query:
                continue
            for _, score, position in process.extract(
                query,
                examples,
                scorer=fuzz.ratio,  # both sides are sorted stems: token_sort_ratio's score
                limit=None,
                score_cutoff=SIMILARITY_FLOOR,
            ):
                owner = owners[position]
                best[owner] = max(best.get(owner, 0.0), score)
        similar = [0.0] * len(scored)
        for owner, score in best.items():
            share = (score - SIMILARITY_FLOOR) / (100.0 - SIMILARITY_FLOOR)
            similar[owner] = SIMILARITY_WEIGHT * share
            totals[owner] += similar[owner]
        # The overview's keywords are the topic's general words ("map", "where"): most
        # messages of the topic have them, so they count for it at a discount.
        totals[0] = similar[0] + OVERVIEW_KEYWORDS * (totals[0] - similar[0])
        return totals

    def choose(self, topic_id: str, words: Sequence[str]) -> Choice | None:
        """The best entry of ``topic_id`` for ``words``; the overview when nothing specific."""
        scored = self._topics.get(topic_id)
        if not scored:
            return None
        totals = self.scores(topic_id, words)
        sequence = " " + " ".join(stem(w) for w in words) + " "
        allowed = [i for i in range(1, len(scored)) if self._allowed(scored[i], sequence)]
        best = max(allowed, key=lambda i: totals[i], default=0)
        if best != 0 and totals[best] >= SPECIFIC_AT and totals[best] > totals[0]:
            return Choice(scored[best].entry, totals[best], True)
        return Choice(scored[0].entry, totals[0], False)

    @staticmethod
    def _allowed(item: _Scored, sequence: str) -> bool:
        """Does the stemmed message hold one of the entry's required words, if it has any?"""
        return not item.requires or any(key in sequence for key in item.requires)

    def specific(self, topic_id: str, words: Sequence[str]) -> Choice | None:
        """A non-overview entry of ``topic_id`` that ``words`` clearly ask for, if any."""
        choice = self.choose(topic_id, words)
        return choice if choice is not None and choice.specific else None

    def by_area(self, area: str) -> Entry | None:
        """The foot-map entry for a foot-map area."""
        for item in self._topics.get("foot-map", []):
            if item.entry.area == area:
                return item.entry
        return None


__all__ = ["Choice", "EntryChooser", "content_stems"]
