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

``stem`` is a deliberately light suffix stripper: it only has to make the
knowledge base and the user's message meet, not be linguistically right.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import OSA

# Emoji that carry meaning for this bot; every other symbol becomes a space.
EMOJI_WORDS: dict[str, str] = {
    "😴": " sleep ",
    "💤": " sleep ",
    "🛌": " sleep ",
    "😰": " stressed ",
    "😫": " stressed ",
    "😩": " stressed ",
    "😖": " stressed ",
    "😮‍💨": " stressed ",
    "🤕": " pain ",
    "👋": " hello ",
    "🙏": " thanks ",
    "🦶": " foot ",
    "🧘": " relax ",
    "❤": " ",
    "≠": " different from ",
}

# Word-level rewrites applied after cleaning (multi-word forms first).
_PHRASE_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(rf"\b(?:{src})\b"), dst)
    for src, dst in (
        # "foot acupuncture" is the source text's other name for reflexology
        (r"foot acupunctures?", "reflexology"),
        (r"can not", "cant"),
        (r"cannot", "cant"),
        (r"could not", "couldnt"),
        (r"do not", "dont"),
        (r"does not", "doesnt"),
        (r"did not", "didnt"),
        (r"will not", "wont"),
        (r"is not", "isnt"),
        (r"are not", "arent"),
        (r"i am", "im"),
        (r"it is", "its"),
        (r"what is", "whats"),
        (r"wanna", "want to"),
        (r"gonna", "going to"),
        (r"gotta", "got to"),
        (r"kinda", "kind of"),
        (r"sorta", "sort of"),
        (r"dunno", "dont know"),
        (r"pls|plz|plse", "please"),
        (r"thx|thnx|thanx|ty", "thanks"),
        (r"u", "you"),
        (r"ur", "your"),
        (r"r", "are"),
        (r"y", "why"),
        (r"b4", "before"),
        (r"bc|cuz|coz|cos", "because"),
        (r"abt", "about"),
        (r"w", "with"),
        (r"n", "and"),
    )
)

_APOSTROPHES = re.compile(r"['’‘`´]")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_RUNS = re.compile(r"([a-z])\1{2,}")
_DOUBLES = re.compile(r"([a-z])\1")

# Function words that carry no topic: ignored by the matcher's scorers.
STOP_WORDS: frozenset[str] = frozenset(
    """
    a about above after again against all also am an and any anyone anything are arent as at
    be been before being both but by can cant could couldnt did didnt do does doesnt doing
    dont down during each else even ever every few for from further get gets getting got had
    has have having he her here hers herself him himself his how i id if ill im in into is
    isnt it its itself ive just let lets like me might mine more most much must my myself no
    nor not now of off on once one only or other our ours out over own please pretty quite
    rather really same she should shouldnt so some someone something such than that thats
    the their them then there these they this those though through to too under until up
    upon us very was wasnt we were what whats when where which while who whom whose why will
    with wont would wouldnt yeah yes yet you youd youll your youre yours yourself
    maybe actually basically honestly lol ok okay hmm um uh well still already ya
    thing things stuff kind sort way bit lot lots gonna wanna want wants wanted tell
    know think anybody somebody everyone go going went say said hey hi
    """.split()
)

# Common words that are not in the knowledge base but must never be "corrected"
# into a domain word ("seeing" is not "sleeping", "whether" is not "weather").
COMMON_WORDS: frozenset[str] = frozenset(
    """
    whether weather seeing seen see saw look looking looked watch watching feel feeling felt
    make made making take taking took give giving gave come coming came find found keep kept
    need needs needed try trying tried use used using work works worked working help helps
    helped helping day days night nights week weeks month months year years time times today
    tomorrow yesterday morning evening afternoon good bad better best worse worst great nice
    fine new old big small long short high low right left first last next many people person
    man woman child children kid kids friend friends mum mom dad mother father wife husband
    partner sister brother son daughter grandma grandad grandpa granny family boss doctor
    nurse home house car train bus job school money water food coffee tea beer wine
    related relating relate seeking seek sleeping reading read writing write wrote called
    call talk talking walk walking run running sit sitting stand standing lying lie play
    playing playing game games movie music song book books phone computer internet
    question questions answer answers thing place world country city town
    mean means meant real really true false sure fine cool thank thanks hello bye goodbye
    jump jumping hold holding case coach dying die died congestion coworker coworkers bland
    grand hose sink string stung throwing spitting grinding fade faded weak
    mess messy cancel cancelled canceled cancelling wait waiting waited waits
    pay pays paying paid crook crooked gammy dodgy knackered sharp sharply
    """.split()
)

_SUFFIXES: tuple[tuple[str, str, int], ...] = (
    # (suffix, replacement, minimum stem length left)
    ("ational", "ate", 3),
    ("ations", "", 3),
    ("ation", "", 3),
    ("ness", "", 3),
    ("ments", "", 3),
    ("ment", "", 3),
    ("ingly", "", 3),
    ("edly", "", 3),
    ("ings", "", 3),
    ("ing", "", 3),
    ("ies", "y", 2),
    ("ied", "y", 2),
    ("ily", "y", 3),
    ("ly", "", 4),
    ("ers", "", 3),
    ("er", "", 4),
    ("ed", "", 3),
    ("es", "", 4),
    ("s", "", 3),
)


# Words whose "-er" is part of the word, not a suffix: stripping it would make
# them meet a different word ("shoulder" -> "should", "number" -> "numb",
# "corner" -> "corn", "flower" -> "flow", "bother" -> "both").
_ER_WORDS: frozenset[str] = frozenset(
    """
    shoulder number corner shower flower bother mother father brother sister daughter
    finger winter summer dinner cancer bladder hammer answer partner matter letter better
    border center temper tender water power paper ginger danger anger hunger ladder butter
    litter chapter computer monster silver lavender pepper powder spider poster fever ulcer
    liver other never ever over under after later order lower upper toddler blister
    pointer trainer
    """.split()
)

# Spellings of common words that the typo corrector leaves alone (too short, or
# chat spellings): rewritten word for word before matching.
SLANG: dict[str, str] = {
    "wat": "what",
    "wot": "what",
    "wut": "what",
    "whut": "what",
    "wats": "whats",
    "hw": "how",
    "hru": "how are you",
    "ppl": "people",
    "sth": "something",
    "smth": "something",
    "prob": "probably",
    "tho": "though",
    "rly": "really",
    "srsly": "seriously",
    "feets": "feet",
    "footsies": "feet",
    "tootsies": "feet",
}


def strip_accents(text: str) -> str:
    """Remove accents: "café" -> "cafe"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# One message is cleaned by the safety screen, the matcher, the follow-up reader and the
# entry chooser in turn: a small cache makes that one cleaning.
@lru_cache(maxsize=1024)
def clean(text: str) -> str:
    """Lower-cased, accent-free, punctuation-free text with single spaces."""
    if not text:
        return ""
    for emoji, word in EMOJI_WORDS.items():
        if emoji in text:
            text = text.replace(emoji, word)
    text = strip_accents(text).casefold()
    text = _APOSTROPHES.sub("", text)
    text = _NON_WORD.sub(" ", text)
    text = _RUNS.sub(r"\1\1", text)
    text = " ".join(text.split())
    for pattern, replacement in _PHRASE_REWRITES:
        text = pattern.sub(replacement, text)
    return text


@lru_cache(maxsize=20000)
def stem(word: str) -> str:
    """A light stem: "relaxing", "relaxation", "relaxed" -> "relax"."""
    if len(word) <= 3 or word.isdigit():
        return word
    if word.endswith(("ss", "us", "is")) and len(word) <= 5:
        return word
    if word in _ER_WORDS:
        return word
    if word.endswith("s") and word[:-1] in _ER_WORDS:
        return word[:-1]
    for suffix, replacement, minimum in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= minimum:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                break
            word = word[: len(word) - len(suffix)] + replacement
            break
    if len(word) > 3 and word[-1] == word[-2] and word[-1] not in "ls":
        word = word[:-1]  # "stopped" -> "stopp" -> "stop"
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


def words(text: str) -> list[str]:
    """The cleaned words of ``text`` (stop words kept, no correction)."""
    return clean(text).split()


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
        self._known: set[str] = set(STOP_WORDS) | set(COMMON_WORDS) | set(known)
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
            slang = SLANG.get(word)
            if slang is not None:
                found.extend(slang.split())
            else:
                found.append(self.correct(word))
        return found


__all__ = [
    "COMMON_WORDS",
    "EMOJI_WORDS",
    "SLANG",
    "STOP_WORDS",
    "Normalizer",
    "clean",
    "stem",
    "strip_accents",
    "words",
]
