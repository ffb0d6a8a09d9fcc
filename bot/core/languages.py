"""Messages not written in English: emergencies still understood, the rest told honestly.

Data in ``knowledge/safety/languages.yaml``: per language, stopwords (to tell the
language from the text itself), emergency patterns, the emergency reply with local
numbers, and a polite "I only understand English for now". Stopword counting beats a
library here: ten languages, no dependency, and the decision is easy to read in a test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.core.normalize import fold

_GAP = re.compile(r"\{w(\d+)\}")
# Letters with no accent for clean() to strip, mapped so patterns can be written plainly.
_PLAIN = str.maketrans({"ı": "i", "ł": "l", "ø": "o", "đ": "d"})
_LATIN = re.compile(r"[a-z]")
_OTHER_LETTER = re.compile(r"[^\W\d_a-z]")  # a letter outside a-z (Cyrillic, CJK, ...)
_UKRAINIAN_LETTERS = frozenset("іїєґ")
# Scripts that name their language (Han alone is read as Chinese, with kana as Japanese).
_SCRIPTS = (
    ("ru", "\u0400", "\u04ff"),
    ("ar", "\u0600", "\u06ff"),
    ("hi", "\u0900", "\u097f"),
    ("ja", "\u3040", "\u30ff"),
    ("zh", "\u4e00", "\u9fff"),
)
EMERGENCY_EN = (
    "This could be an emergency. Call your local emergency number now "
    "(112 in Europe and many countries, 911 in the US, 999 in the UK)."
)
ENGLISH_ONLY_EN = "Sorry, I only understand English for now. Could you write to me in English?"


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    stopwords: frozenset[str]
    emergency: str
    english_only: str
    patterns: tuple[re.Pattern[str], ...]


@dataclass(frozen=True)
class Verdict:
    """A message judged not to be English."""

    language: str  # the code of the language detected, or "other"
    emergency: bool
    text: str  # what to reply


def _compile(pattern: str) -> re.Pattern[str]:
    expanded = _GAP.sub(lambda m: "(?:\\w+ ){0," + m.group(1) + "}", pattern)
    return re.compile(expanded)


class Languages:
    """Detects non-English messages and screens them for emergencies."""

    def __init__(self, data: object) -> None:
        if not isinstance(data, dict) or not isinstance(data.get("languages"), dict):
            raise ValueError("must be a mapping with 'languages'")
        self.min_hits = int(data.get("min_hits", 2))
        self.english = frozenset(str(w) for w in data.get("english") or ())
        found: list[Language] = []
        for code, entry in data["languages"].items():
            if not isinstance(entry, dict) or not entry.get("patterns"):
                raise ValueError(f"languages.{code}: needs stopwords, patterns and replies")
            found.append(
                Language(
                    code=str(code),
                    name=str(entry.get("name", code)),
                    stopwords=frozenset(self.prepare(str(w)) for w in entry["stopwords"]),
                    emergency=" ".join(str(entry["emergency"]).split()),
                    english_only=" ".join(str(entry["english_only"]).split()),
                    patterns=tuple(_compile(str(p)) for p in entry["patterns"]),
                )
            )
        if not found:
            raise ValueError("no languages")
        self.languages = tuple(found)
        # "asking" (general questions) and "set_aside" (the past, "I nearly had...") are
        # both blanked before the patterns run; only a question also silences the net.
        self.asking = tuple(_compile(str(p)) for p in data.get("asking") or ())
        self.set_aside = tuple(_compile(str(p)) for p in data.get("set_aside") or ())
        self._by_code = {language.code: language for language in found}
        # one alternation instead of a hundred searches: every language's patterns run on
        # every non-English message, and this is most of the screen's time on them
        self._any = re.compile(
            "|".join(f"(?:{p.pattern})" for lang in found for p in lang.patterns)
        )

    @classmethod
    def load(cls, path: Path) -> Languages | None:
        if not path.is_file():
            return None
        return cls(yaml.safe_load(path.read_text(encoding="utf-8")))

    @staticmethod
    def prepare(text: str) -> str:
        """Like normalize.clean, but keeping letters of every script (clean keeps a-z only)."""
        return fold(text).translate(_PLAIN)

    def detect(self, text: str) -> str | None:
        """The language code of a non-English message, "other", or None for English."""
        return self._detect(text, self.prepare(text))

    def _detect(self, text: str, prepared: str) -> str | None:
        words = prepared.split()
        if not words:
            return None
        other = len(_OTHER_LETTER.findall(prepared))
        latin = len(_LATIN.findall(prepared))
        if other > latin:  # mostly another script: never English
            return self._script(text.casefold(), prepared, other)
        best, hits, english = self._scores(words)
        if best is not None and hits >= self.min_hits and hits > english:
            return best
        return None

    def plain_english(self, text: str) -> bool:
        """English to ``detect``, and at least half the words are common English words."""
        prepared = self.prepare(text)
        words = prepared.split()
        if not words or self._detect(text, prepared) is not None:
            return False
        if any(_OTHER_LETTER.search(word) for word in words):
            return False
        return 2 * sum(word in self.english for word in words) >= len(words)

    def _script(self, text: str, prepared: str, other: int) -> str:
        """The language of a message mostly in a non-Latin script, from the script."""
        if any(ch in _UKRAINIAN_LETTERS for ch in text):
            return "uk"
        counts = {code: sum(low <= ch <= high for ch in prepared) for code, low, high in _SCRIPTS}
        if counts["ja"]:  # kana: Japanese, even when most of it is kanji
            return self._known("ja")
        code = max(counts, key=lambda name: counts[name])
        if counts[code] * 2 > other:
            return self._known(code)
        return "other"

    def _emergency(self, code: str) -> str:
        language = self._by_code.get(code)
        return language.emergency if language is not None else EMERGENCY_EN

    def _known(self, code: str) -> str:
        return code if code in self._by_code else "other"

    def _scores(self, words: list[str]) -> tuple[str | None, int, int]:
        """The best non-English language, its stopword hits, and English's hits."""
        english = sum(word in self.english for word in words)
        best, hits = None, 0
        for language in self.languages:
            count = sum(word in language.stopwords for word in words)
            if count > hits:
                best, hits = language.code, count
        return best, hits, english

    def judge(self, text: str, urgent: bool = False) -> Verdict | None:
        """None for English; else the emergency reply or the "English only" reply.

        ``urgent``: the learned net already judged the message an emergency; a message in
        another language then gets that language's emergency reply, with its numbers.
        """
        prepared = self.prepare(text)
        code = self._detect(text, prepared)
        if urgent and code is None:
            return None
        asked = False
        for pattern in self.asking:  # "what are the signs of ...?" asks, it does not report
            prepared, count = pattern.subn(" ", prepared)
            asked = asked or count > 0
        for pattern in self.set_aside:
            prepared = pattern.sub(" ", prepared)
        if urgent and not asked:
            code = code or "other"
            return Verdict(language=code, emergency=True, text=self._emergency(code))
        # A general question in another language: the net learned alarming words, not
        # this language's way of asking, so the patterns decide, as the English guards do.
        if code is None:
            # short messages ("nie moge oddychac") have too few stopwords to tell the
            # language, so the patterns also run unless English words outnumber foreign ones
            _, hits, english = self._scores(prepared.split())
            if english > hits:
                return None
            if not self._any.search(prepared):
                return None
            code = "other"
        language = self._by_code.get(code)
        # every language's patterns run: neighbours share words, and a wrong guess of
        # the language must never cost an emergency
        if self._any.search(prepared):
            return Verdict(language=code, emergency=True, text=self._emergency(code))
        return Verdict(
            language=code,
            emergency=False,
            text=language.english_only + "\n\n" + ENGLISH_ONLY_EN if language else ENGLISH_ONLY_EN,
        )


__all__ = ["EMERGENCY_EN", "ENGLISH_ONLY_EN", "Language", "Languages", "Verdict"]
