"""Which topic is a message about? A scorer built once from the knowledge base.

The steps, each in its own module under ``bot/core/matching``:

1. ``analysis``: the message is cleaned, typo-corrected, split and stemmed once;
2. ``evidence``: every topic and out-of-scope class collects evidence from its words;
3. ``frames``: the shape of the question (``knowledge/language/shapes.yaml``) decides
   between topics that share its subject words, by the rules of
   ``knowledge/language/frames.yaml`` (a condition plus "can I still have it?" is a
   safety question whatever the condition);
4. here: decisions taken from the shape alone, anchoring, the out-of-scope classes
   against the topics, and the greeting's yielding to any real question.

Out-of-scope classes (shoes, weather, recipes, code...) compete with the topics:
when they hold more evidence than the best topic, the message is out of scope.
Greetings win only when no other topic has real evidence ("hi, does it help
sleep?" is about sleep). Evidence becomes a 0-100 score with
``100 * (1 - exp(-evidence / SCALE))``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.core.knowledge import Knowledge
from bot.core.matching.analysis import Analyser, Analysis
from bot.core.matching.evidence import OOS_PREFIX, EvidenceScorer
from bot.core.matching.frames import Frames, Scene
from bot.core.normalize import Normalizer, clean, install, stem, stop_words

GREETING = "greeting"
SCALE = 1.4

# Bands on the 0-100 score (used by the companion).
ANSWER_AT = 45.0
CLARIFY_AT = 30.0
# A greeting needs no more than this much evidence in any other topic to win.
GREETING_YIELDS_AT = 0.9
# ... and at least this share of the greeting's own evidence.
GREETING_SHARE = 0.5
# With a strong domain word an out-of-scope class needs twice the evidence to win...
DOMAIN_DAMPING = 0.5
# ... and with no domain word at all ("how often should I replace my trainers"), an
# out-of-scope subject outweighs generic topic words (often, hurt, safe, good).
NO_DOMAIN_BOOST = 2.0
# Out-of-scope evidence that names a subject (a keyword, not shared question words).
OTHER_SUBJECT_AT = 0.5
# ... and then a topic needs more than one stray word of its own ("night" in "book a
# table for tomorrow night", "qi" in "what does qi mean in scrabble").
SPECIFIC_MIN = 1.0


def to_score(evidence: float) -> float:
    """Evidence (0..inf) as a 0-100 confidence."""
    if evidence <= 0:
        return 0.0
    return round(100.0 * (1.0 - math.exp(-evidence / SCALE)), 1)


@dataclass(frozen=True)
class Candidate:
    """One class's result for a message."""

    id: str  # a topic id, or "oos:<class id>"
    evidence: float
    score: float

    @property
    def out_of_scope(self) -> bool:
        return self.id.startswith(OOS_PREFIX)


@dataclass(frozen=True)
class MatchResult:
    """The best topic for a message (``None`` when out of scope or unknown)."""

    topic: str | None
    score: float
    runners_up: tuple[Candidate, ...] = field(default_factory=tuple)
    out_of_scope: str | None = None  # the winning out-of-scope class, if any
    tokens: tuple[str, ...] = field(default_factory=tuple)
    evidence: float = 0.0  # the winner's raw evidence (topic or pooled out-of-scope)

    @property
    def topics(self) -> tuple[str, ...]:
        """Runner-up topic ids (no out-of-scope classes), best first."""
        return tuple(c.id for c in self.runners_up if not c.out_of_scope)


class Matcher:
    """Scores messages against every topic and out-of-scope class."""

    def __init__(self, knowledge: Knowledge) -> None:
        language = knowledge.language
        if language is None:
            raise ValueError("the knowledge base has no language rules; use load_knowledge()")
        install(language.lexicon)
        lexicon = language.lexicon
        self.words = {name: frozenset(stem(w) for w in ws) for name, ws in lexicon.words.items()}
        self.scorer = EvidenceScorer(knowledge, self.words["generic"])
        domain_vocab, other_vocab = self.scorer.domain_vocabulary()
        for text in knowledge.topics_file.domain_words:
            domain_vocab.update(clean(text).split())
        # The typo corrector may only correct towards in-scope words.
        self.normalizer = Normalizer(domain_vocab - other_vocab, known=other_vocab)
        self.analyser = Analyser(language, self.normalizer)
        self.classes = self.scorer.classes
        self.topic_ids: tuple[str, ...] = tuple(knowledge.topics_file.topics)
        self._greeting_index = next((i for i, c in enumerate(self.classes) if c.id == GREETING), -1)
        self._index: dict[str, int] = {c.id: i for i, c in enumerate(self.classes) if c.is_topic}
        self._oos_indexes: tuple[int, ...] = tuple(
            i for i, c in enumerate(self.classes) if not c.is_topic
        )
        self.frames = Frames(
            language,
            self._index,
            self._oos_indexes,
            self._greeting_index,
            frozenset(self.scorer.domain_words),
            self.words,
        )
        self._condition_index = self._index.get(language.condition_topic, -1)
        self._stop_words = stop_words()
        # Bot requests (a tip, a routine, hello) are about the bot itself: no anchor needed.
        self._bot_topics = lexicon.list("bot_topics")
        self._stop_list = sorted(self._stop_words)

    def analyse(self, text: str) -> Analysis:
        """The message analysed once (words, stems, shape hits), for every later step."""
        return self.analyser.analyse(text)

    def _names_other_subject(self, words: list[str]) -> bool:
        """Does the message use a content word no topic knows (parliament, ps5)?"""
        vocabulary = self.scorer.vocabulary
        neutral = self.words["neutral"]
        return any(
            w not in self._stop_words
            and not w.isdigit()
            and len(w) > 2
            and stem(w) not in vocabulary
            and stem(w) not in neutral
            and not self._function_word_typo(w)
            for w in words
        )

    def _function_word_typo(self, word: str) -> bool:
        """Is ``word`` one slip away from a function word ("wht", "teh", "whta")?"""
        return _near_stop_word(word, tuple(self._stop_list))

    def _mentions_domain(self, analysis: Analysis) -> bool:
        """Does the message name reflexology, feet or foot massage at all?"""
        stems = analysis.stem_set
        if self.scorer.domain_words & stems or self.words["foot_parts"] & stems:
            return True
        return any(phrase in analysis.sequence for phrase in self.scorer.domain_phrases)

    def _names_condition(self, analysis: Analysis) -> bool:
        """Does the message name a condition the safety topic knows (not just "safe")?"""
        if self._condition_index < 0:
            return False
        item = self.classes[self._condition_index]
        frame_words = self.words["frame_words"]
        if any(w in item.words for w in analysis.stem_set - frame_words):
            return True
        plain = frame_words | self._stop_words
        return any(
            phrase in analysis.sequence and not set(phrase.split()) <= plain
            for phrase in item.phrases
        )

    def _scene(self, analysis: Analysis) -> Scene:
        evidence = self.scorer.score(analysis)
        return Scene(
            analysis=analysis,
            totals=evidence.totals,
            specifics=evidence.specifics,
            domain=evidence.domain,
            mentions_domain=lambda: self._mentions_domain(analysis),
            names_condition=lambda: self._names_condition(analysis),
        )

    def match(self, text: str) -> MatchResult:
        """The best topic for ``text`` with its score and runners-up."""
        return self.match_analysis(self.analyse(text))

    def match_analysis(self, analysis: Analysis) -> MatchResult:
        """``match`` for a message already analysed."""
        scene = self._scene(analysis)
        if self.frames.apply(scene):
            scene.totals = [
                0.0 if item.is_topic else t
                for item, t in zip(self.classes, scene.totals, strict=True)
            ]
        totals, specifics, words = scene.totals, scene.specifics, analysis.words
        decision = self.frames.decide(scene)
        if decision is not None:
            if decision.out_of_scope is not None:
                return MatchResult(
                    None,
                    to_score(decision.evidence),
                    (),
                    decision.out_of_scope,
                    tuple(words),
                    decision.evidence,
                )
            assert decision.topic is not None
            best = decision.evidence
            if decision.at_least_own:
                best = max(totals[self._index[decision.topic]], best)
            return MatchResult(decision.topic, to_score(best), (), None, tuple(words), best)
        anchored = self.frames.holds(("named", "anchor"), scene)
        if not anchored and (
            any(totals[i] >= OTHER_SUBJECT_AT for i in self._oos_indexes)
            or self._names_other_subject(words)
        ):
            # Another subject and no anchor: only specific topic evidence counts.
            totals = [
                total
                if not item.is_topic or (item.id in self._bot_topics and total >= OTHER_SUBJECT_AT)
                else (min(total, specific) if specific >= SPECIFIC_MIN else 0.0)
                for item, total, specific in zip(self.classes, totals, specifics, strict=True)
            ]
        ranked = sorted(
            (
                Candidate(item.id, round(total, 3), to_score(total))
                for item, total in zip(self.classes, totals, strict=True)
                if total > 0
            ),
            key=lambda c: c.evidence,
            reverse=True,
        )
        if not ranked:
            return MatchResult(None, 0.0, (), None, tuple(words))

        # Greetings yield to any real question.
        others = [c for c in ranked if c.id != GREETING and not c.out_of_scope]
        greeting = next((c.evidence for c in ranked if c.id == GREETING), 0.0)
        strong = bool(self.words["strong_domain"] & analysis.stem_set)
        if others and (
            others[0].evidence >= max(GREETING_YIELDS_AT, GREETING_SHARE * greeting)
            or (strong and others[0].evidence > greeting)
        ):
            ranked = [c for c in ranked if c.id != GREETING]

        # Out-of-scope classes pool their evidence against the topics.
        oos = [c for c in ranked if c.out_of_scope]
        topics = [c for c in ranked if not c.out_of_scope]
        oos_total = 0.0
        if oos:
            oos_total = oos[0].evidence + 0.5 * sum(c.evidence for c in oos[1:])
            if strong:
                oos_total *= DOMAIN_DAMPING
            elif not self.frames.holds(("named", "keeps_out_of_scope_level"), scene):
                oos_total *= NO_DOMAIN_BOOST
        if oos and (not topics or oos_total >= topics[0].evidence):
            return MatchResult(
                None,
                to_score(oos_total),
                tuple(topics[:3]),
                oos[0].id[len(OOS_PREFIX) :],
                tuple(words),
                oos_total,
            )
        top = topics[0]
        return MatchResult(top.id, top.score, tuple(topics[1:4]), None, tuple(words), top.evidence)


@lru_cache(maxsize=4096)
def _near_stop_word(word: str, stop_list: tuple[str, ...]) -> bool:
    return process.extractOne(word, stop_list, scorer=OSA.distance, score_cutoff=1) is not None


__all__ = [
    "ANSWER_AT",
    "CLARIFY_AT",
    "Candidate",
    "MatchResult",
    "Matcher",
    "to_score",
]
