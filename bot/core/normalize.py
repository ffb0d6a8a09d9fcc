"""Text normalisation shared by the safety screen and the matcher.

Two levels:

* ``clean(text)``: lower case, accents stripped, apostrophes dropped
  ("can't" -> "cant"), a few emoji turned into words, punctuation and control
  characters turned into spaces, letter runs shortened ("sooo" -> "soo"),
  whitespace collapsed. The safety patterns run on this.
* ``Normalizer.tokens(text)``: the cleaned words, with typos corrected towards
  the knowledge base's own vocabulary only, and only when no form of the word is
  already known (so "whether" never becomes "weather" and "relaxed" never
  becomes "related").

``stem`` is Snowball's English stemmer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

import Stemmer
from rapidfuzz import process
from rapidfuzz.distance import OSA

if TYPE_CHECKING:
    from bot.core.knowledge.language import Lexicon

_APOSTROPHES = re.compile(r"['’‘`´]")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_RUNS = re.compile(r"([a-z])\1{2,}")
_DOUBLES = re.compile(r"([a-z])\1")

# Snowball's English stemmer (PyStemmer, a C extension): a maintained, linguistically
# sound stemmer instead of a home-made suffix list.
_STEMMER = Stemmer.Stemmer("english")

# The vocabulary (stop words, common words, slang, rewrites, emoji) is data:
# knowledge/language/lexicon.yaml. Loading the knowledge base installs its lexicon;
# until then the shipped one is read on first use.
_lexicon: Lexicon | None = None


def install(lexicon: Lexicon) -> None:
    """Use ``lexicon`` for cleaning and stop words from now on."""
    global _lexicon
    _lexicon = lexicon
    clean.cache_clear()  # cleaned texts depend on the lexicon's emoji and rewrites


def lexicon() -> Lexicon:
    """The lexicon in use (the shipped one until a knowledge base installs its own)."""
    global _lexicon
    if _lexicon is None:
        from bot.core.knowledge import DEFAULT_DIR
        from bot.core.knowledge.language import load_lexicon

        _lexicon = load_lexicon(DEFAULT_DIR)
    return _lexicon


def stop_words() -> frozenset[str]:
    """Function words that carry no topic (ignored by the matcher's scorers)."""
    return lexicon().list("stop_words")


def strip_accents(text: str) -> str:
    """Remove accents: "café" -> "cafe"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# Marks dropped by fold(): Latin and Cyrillic accents (so "é" -> "e", "й" -> "и", as
# clean() and the languages file expect) and Arabic vowel signs, which chat rarely
# writes and which would split one word into many spellings. Other scripts' marks
# (Devanagari vowel signs, Japanese voicing) are part of their letters and stay.
_FOLDED_MARKS = frozenset(
    [*range(0x0300, 0x0370), *range(0x0483, 0x048A), *range(0x064B, 0x0660), 0x0670]
)
# Arabic letters written interchangeably in chat: one spelling each (and no tatweel).
_ARABIC_FOLD = str.maketrans({"ة": "ه", "ى": "ي", "ـ": None})
_LATIN_END = 0x024F


def fold(text: str) -> str:
    """Lower case, accents off, every script's letters kept, anything else a space.

    ``clean`` keeps a-z and digits only; this keeps Arabic, Devanagari, Cyrillic and
    CJK too, for the other-language screen and the net's features.
    """
    if text.isascii():
        return " ".join(_NON_WORD.sub(" ", _APOSTROPHES.sub("", text.lower())).split())
    decomposed = unicodedata.normalize("NFKD", text)
    kept = "".join(ch for ch in decomposed if ord(ch) not in _FOLDED_MARKS)
    text = unicodedata.normalize("NFC", kept).casefold().translate(_ARABIC_FOLD)
    text = _APOSTROPHES.sub("", text)
    letters = [ch if ch.isalnum() or unicodedata.category(ch)[0] == "M" else " " for ch in text]
    return " ".join("".join(letters).split())


def other_script(word: str) -> bool:
    """Whether ``word`` holds a letter beyond the Latin alphabets."""
    return any(ord(ch) > _LATIN_END for ch in word)


# One message is cleaned by the safety screen, the matcher, the follow-up reader and the
# entry chooser in turn: a small cache makes that one cleaning.
@lru_cache(maxsize=1024)
def clean(text: str) -> str:
    """Lower-cased, accent-free, punctuation-free text with single spaces."""
    if not text:
        return ""
    rules = lexicon()
    for emoji, word in rules.emoji.items():
        if emoji in text:
            text = text.replace(emoji, f" {word} ")
    text = strip_accents(text).casefold()
    text = _APOSTROPHES.sub("", text)
    text = _NON_WORD.sub(" ", text)
    text = _RUNS.sub(r"\1\1", text)
    text = " ".join(text.split())
    for pattern, replacement in rules.rewrites:
        text = pattern.sub(replacement, text)
    return text


@lru_cache(maxsize=20000)
def stem(word: str) -> str:
    """The Snowball (Porter 2) stem: "relaxing", "relaxation", "relaxed" -> "relax"."""
    return _STEMMER.stemWord(word)


class Normalizer:
    """Cleans text and corrects typos towards a fixed domain vocabulary.

    ``vocabulary`` holds the words the corrector may correct *into*;
    ``known`` holds further words that are left alone (other classes'
    words, stop words, common English). A word is corrected only when neither
    it nor its stem is known, it has at least four letters, and the closest
    domain word is one edit away (two for words of eight letters or more).
    """

    def __init__(self, vocabulary: Iterable[str], known: Iterable[str] = ()) -> None:
        self.vocabulary: tuple[str, ...] = tuple(
            sorted({w for w in vocabulary if len(w) >= 4 and w.isalpha()})
        )
        rules = lexicon()
        self._slang = rules.slang
        self._known: set[str] = set(rules.list("stop_words")) | set(rules.list("common_words"))
        self._known.update(known)
        self._known.update(self.vocabulary)
        self._known_stems: set[str] = {stem(w) for w in self._known}
        self._cache: dict[str, str] = {}
        # Candidates by first letter: typos rarely hit the first letter, and the
        # index keeps each look-up small.
        self._by_initial: dict[str, tuple[str, ...]] = {}
        for word in self.vocabulary:
            self._by_initial.setdefault(word[0], ())
            self._by_initial[word[0]] += (word,)

    def is_known(self, word: str) -> bool:
        return word in self._known or stem(word) in self._known_stems

    def correct(self, word: str) -> str:
        """``word`` itself, or the domain word it is a plain typo of."""
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        result = word
        if len(word) >= 4 and word.isalpha() and not self.is_known(word):
            single = _DOUBLES.sub(r"\1", word)
            if single != word and self.is_known(single):
                result = single
            else:
                limit = 2 if len(word) >= 8 else 1
                found = process.extractOne(
                    word,
                    self._by_initial.get(word[0], ()),
                    scorer=OSA.distance,
                    score_cutoff=limit,
                )
                if found is not None:
                    result = found[0]
        if len(self._cache) < 50000:
            self._cache[word] = result
        return result

    def tokens(self, text: str) -> list[str]:
        """Cleaned, typo-corrected words (stop words kept)."""
        found: list[str] = []
        for word in clean(text).split():
            slang = self._slang.get(word)
            if slang is not None:
                found.extend(slang.split())
            else:
                found.append(self.correct(word))
        return found


__all__ = [
    "Normalizer",
    "clean",
    "fold",
    "install",
    "lexicon",
    "other_script",
    "stem",
    "stop_words",
    "strip_accents",
]
