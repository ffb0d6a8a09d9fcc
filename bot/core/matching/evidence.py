"""Evidence per class from an analysed message's words.

Every topic and every out-of-scope class collects *evidence* from a message:

* keywords from the YAML: a single word counts 1 (``weak_keywords`` 0.4), a
  phrase counts more (1.5 for two words, 2 for longer ones); words are compared
  by their stems, phrases as stemmed word sequences (stop words kept, so
  "what is it" or "does it hurt" can be keywords);
* the vocabulary of the class's example questions, weighted by how specific a
  word is (a word used by one class only counts more than one used by five);
* closeness to the best example question, measured with rapidfuzz's
  token-sort ratio on content words only (never ``WRatio`` over
  whole questions, which scores ~85 for any pair sharing one word);
* for topics only, a small bonus when the message names reflexology or feet
  at all (``domain_words``), so "reflexology" tips a message towards the
  topics and away from the out-of-scope classes.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from bot.core.knowledge import Knowledge
from bot.core.matching.analysis import Analysis
from bot.core.normalize import clean, stem, stop_words

OOS_PREFIX = "oos:"

KEYWORD_WEIGHT = 1.0
WEAK_WEIGHT = 0.4
PHRASE_WEIGHTS = {2: 1.5}  # words in the phrase -> weight; longer phrases get LONG_PHRASE
LONG_PHRASE = 2.0
QUESTION_WORD_WEIGHT = 0.45  # divided by how many classes use the word
DOMAIN_BONUS = 0.45
SIMILARITY_FLOOR = 55.0  # below this, closeness to an example adds nothing
SIMILARITY_WEIGHT = 0.8  # added for an exact match with an example
# Examples and the query are both sorted, space-joined stems, so plain ``ratio`` gives
# exactly ``token_sort_ratio``'s score without re-sorting every example per message.
SIMILARITY_SCORER = fuzz.ratio


@dataclass
class ScoredClass:
    id: str
    words: dict[str, float] = field(default_factory=dict)  # stem -> weight
    phrases: dict[str, float] = field(default_factory=dict)  # " stem stem " -> weight
    is_topic: bool = True


def phrase_key(words: list[str]) -> str:
    return " " + " ".join(stem(w) for w in words) + " "


@dataclass(frozen=True)
class Evidence:
    totals: list[float]  # per class, in ``EvidenceScorer.classes`` order
    specifics: list[float]  # the same without generic words
    domain: bool  # the message names reflexology or the feet


class EvidenceScorer:
    """Built once from the knowledge base; scores any number of messages."""

    def __init__(self, knowledge: Knowledge, generic: frozenset[str]) -> None:
        topics_file = knowledge.topics_file
        sources: list[tuple[str, bool, tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = []
        for topic in topics_file.topics.values():
            sources.append((topic.id, True, topic.keywords, topic.weak_keywords, topic.questions))
        for oos in topics_file.out_of_scope:
            sources.append(
                (OOS_PREFIX + oos.id, False, oos.keywords, oos.weak_keywords, oos.questions)
            )
        self.sources = sources
        self.generic = generic
        stops = stop_words()
        self._stops = stops

        self.domain_words: set[str] = set()
        self.domain_phrases: list[str] = []
        for text in topics_file.domain_words:
            words = clean(text).split()
            if len(words) == 1:
                self.domain_words.add(stem(words[0]))
            elif words:
                self.domain_phrases.append(phrase_key(words))
        # Words every topic shares ("reflexology", "feet") say nothing about which
        # topic is meant: the domain bonus counts them, similarity ignores them.
        shared = knowledge.language.lexicon.list("shared_by_all") if knowledge.language else ()
        self.neutral: set[str] = {stem(w) for w in shared}
        self.neutral.update(self.domain_words)

        self.classes: list[ScoredClass] = []
        question_stems: dict[str, set[str]] = {}
        examples: list[str] = []
        self._example_owner: list[int] = []
        for index, (class_id, is_topic, keywords, weak, questions) in enumerate(sources):
            item = ScoredClass(id=class_id, is_topic=is_topic)
            for keyword_list, factor in ((keywords, 1.0), (weak, WEAK_WEIGHT)):
                for keyword in keyword_list:
                    words = clean(keyword).split()
                    if not words:
                        continue
                    if len(words) == 1:
                        key = stem(words[0])
                        item.words[key] = max(item.words.get(key, 0.0), KEYWORD_WEIGHT * factor)
                    else:
                        weight = PHRASE_WEIGHTS.get(len(words), LONG_PHRASE) * factor
                        key = phrase_key(words)
                        item.phrases[key] = max(item.phrases.get(key, 0.0), weight)
            stems: set[str] = set()
            for question in questions:
                content = [stem(w) for w in clean(question).split() if w not in stops]
                stems.update(content)
                specific = set(content) - self.neutral
                if specific:
                    examples.append(" ".join(sorted(specific)))
                    self._example_owner.append(index)
            question_stems[class_id] = stems
            item.phrases = dict(sorted(item.phrases.items(), key=lambda p: -len(p[0])))
            self.classes.append(item)

        # Example-question words, weighted by specificity.
        frequency: dict[str, int] = defaultdict(int)
        for stems in question_stems.values():
            for word in stems:
                frequency[word] += 1
        self._question_words: list[dict[str, float]] = []
        for item in self.classes:
            weights = {
                word: QUESTION_WORD_WEIGHT / frequency[word]
                for word in question_stems[item.id]
                if word not in item.words
            }
            self._question_words.append(weights)
        self._examples = examples

        # Phrases made only of generic and stop words ("how long", "side effects").
        generic_stems = generic | {stem(w) for w in stops}
        self._generic_phrases: frozenset[str] = frozenset(
            phrase
            for item in self.classes
            for phrase in item.phrases
            if set(phrase.split()) <= generic_stems
        )
        self._build_indexes()
        # Every stem the topics know (for "names another subject").
        self.vocabulary: frozenset[str] = frozenset(
            {s for stems in question_stems.values() for s in stems}
            | {w for item in self.classes for w in item.words}
            | {w for item in self.classes for p in item.phrases for w in p.split()}
            | {stem(w) for text in topics_file.domain_words for w in clean(text).split()}
        )

    def _build_indexes(self) -> None:
        """Inverted indexes of the classes' words, phrases and question words."""
        self._word_index: dict[str, list[tuple[int, float]]] = defaultdict(list)
        self._question_index: dict[str, list[tuple[int, float]]] = defaultdict(list)
        # A phrase " a b " can only be in the message if its first stem is.
        self._phrase_index: dict[str, list[tuple[int, int, str, float]]] = defaultdict(list)
        for index, item in enumerate(self.classes):
            for word, weight in item.words.items():
                self._word_index[word].append((index, weight))
            for word, weight in self._question_words[index].items():
                self._question_index[word].append((index, weight))
            for position, (phrase, weight) in enumerate(item.phrases.items()):
                self._phrase_index[phrase.split()[0]].append((index, position, phrase, weight))
        self._topic_indexes = tuple(i for i, c in enumerate(self.classes) if c.is_topic)

    def domain_vocabulary(self) -> tuple[set[str], set[str]]:
        """Words of the topics (the typo corrector's targets) and of the other classes."""
        domain_vocab: set[str] = set()
        other_vocab: set[str] = set()
        for _, is_topic, keywords, weak, questions in self.sources:
            target = domain_vocab if is_topic else other_vocab
            for text in (*keywords, *weak, *questions):
                target.update(clean(text).split())
        return domain_vocab, other_vocab

    def score(self, analysis: Analysis) -> Evidence:
        stem_set = analysis.stem_set
        sequence = analysis.sequence
        content_set = set(analysis.content)
        generic = self.generic
        domain = bool(stem_set & self.domain_words) or any(
            phrase in sequence for phrase in self.domain_phrases
        )
        # Indexed by stem, so a message touches only the classes and phrases its words
        # can match. Each class still adds up its evidence in the order one loop per
        # class would (words, phrases longest first, question words, bonus): the same
        # floating-point totals.
        count = len(self.classes)
        totals = [0.0] * count
        specifics = [0.0] * count
        for word in stem_set:
            is_generic = word in generic
            for index, weight in self._word_index.get(word, ()):
                totals[index] += weight
                if not is_generic:
                    specifics[index] += weight
        found: dict[int, list[tuple[int, str, float]]] = {}
        for word in stem_set:
            for index, position, phrase, weight in self._phrase_index.get(word, ()):
                if phrase in sequence:
                    found.setdefault(index, []).append((position, phrase, weight))
        for index, hits in found.items():
            hits.sort()
            matched: list[str] = []
            for _, phrase, weight in hits:
                if not any(phrase in m for m in matched):
                    matched.append(phrase)
                    totals[index] += weight
                    if phrase not in self._generic_phrases:
                        specifics[index] += weight
        for word in content_set:
            is_generic = word in generic
            for index, weight in self._question_index.get(word, ()):
                totals[index] += weight
                if not is_generic:
                    specifics[index] += weight
        if domain:
            for index in self._topic_indexes:
                totals[index] += DOMAIN_BONUS

        specific = content_set - self.neutral
        if specific:
            query = " ".join(sorted(specific))
            best: dict[int, float] = {}
            for _, similarity, position in process.extract(
                query,
                self._examples,
                scorer=SIMILARITY_SCORER,
                limit=None,
                score_cutoff=SIMILARITY_FLOOR,
            ):
                owner = self._example_owner[position]
                if similarity > best.get(owner, 0.0):
                    best[owner] = similarity
            for owner, similarity in best.items():
                share = (similarity - SIMILARITY_FLOOR) / (100.0 - SIMILARITY_FLOOR)
                totals[owner] += SIMILARITY_WEIGHT * share
        return Evidence(totals, specifics, domain)


__all__ = ["OOS_PREFIX", "Evidence", "EvidenceScorer", "ScoredClass", "phrase_key"]
