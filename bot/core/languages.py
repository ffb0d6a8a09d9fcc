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

from bot.core.normalize import strip_accents

_GAP = re.compile(r"\{w(\d+)\}")
# Letters with no accent for clean() to strip, mapped so patterns can be written plainly.
_PLAIN = str.maketrans({"ı": "i", "ł": "l", "ø": "o", "đ": "d"})
_APOSTROPHES = re.compile(r"['’`´]")
_NON_LETTER = re.compile(r"[\W_]+")
_LATIN = re.compile(r"[a-z]")
_OTHER_LETTER = re.compile(r"[^\W\d_a-z]")  # a letter outside a-z (Cyrillic, CJK, ...)
_UKRAINIAN_LETTERS = frozenset("іїєґ")
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
        self.general = tuple(_compile(str(p)) for p in data.get("general") or ())
        self._by_code = {language.code: language for language in found}

    @classmethod
    def load(cls, path: Path) -> Languages | None:
        if not path.is_file():
            return None
        return cls(yaml.safe_load(path.read_text(encoding="utf-8")))

    @staticmethod
    def prepare(text: str) -> str:
        """Like normalize.clean, but keeping letters of every script (clean keeps a-z only)."""
        text = strip_accents(text).casefold().translate(_PLAIN)
        text = _APOSTROPHES.sub("", text)
        return " ".join(_NON_LETTER.sub(" ", text).split())

    def detect(self, text: str) -> str | None:
        """The language code of a non-English message, "other", or None for English."""
        prepared = self.prepare(text)
        words = prepared.split()
        if not words:
            return None
        other = len(_OTHER_LETTER.findall(prepared))
        latin = len(_LATIN.findall(prepared))
        if other > latin:  # mostly another script: never English
            if any(ch in _UKRAINIAN_LETTERS for ch in text.casefold()):
                return "uk"
            cyrillic = sum("\u0400" <= ch <= "\u04ff" for ch in prepared)
            return "ru" if cyrillic * 2 > other else "other"
        best, hits, english = self._scores(words)
        if best is not None and hits >= self.min_hits and hits > english:
            return best
        return None

    def _scores(self, words: list[str]) -> tuple[str | None, int, int]:
        """The best non-English language, its stopword hits, and English's hits."""
        english = sum(word in self.english for word in words)
        best, hits = None, 0
        for language in self.languages:
            count = sum(word in language.stopwords for word in words)
            if count > hits:
                best, hits = language.code, count
        return best, hits, english

    def judge(self, text: str) -> Verdict | None:
        """None for English; else the emergency reply or the "English only" reply."""
        code = self.detect(text)
        prepared = self.prepare(text)
        for pattern in self.general:  # "what are the signs of ...?" asks, it does not report
            prepared = pattern.sub(" ", prepared)
        if code is None:
            # short messages ("nie moge oddychac") have too few stopwords to tell the
            # language, so the patterns also run unless English words outnumber foreign ones
            _, hits, english = self._scores(prepared.split())
            if english > hits:
                return None
            if not any(p.search(prepared) for lang in self.languages for p in lang.patterns):
                return None
            code = "other"
        language = self._by_code.get(code)
        # every language's patterns run: neighbours share words, and a wrong guess of
        # the language must never cost an emergency
        if any(p.search(prepared) for lang in self.languages for p in lang.patterns):
            reply = language.emergency if language else self.languages[0].emergency
            if language is None:
                reply = (
                    "This could be an emergency. Call your local emergency number now "
                    "(112 in Europe and many countries, 911 in the US, 999 in the UK)."
                )
            return Verdict(language=code, emergency=True, text=reply)
        return Verdict(
            language=code,
            emergency=False,
            text=language.english_only + "\n\n" + ENGLISH_ONLY_EN if language else ENGLISH_ONLY_EN,
        )


__all__ = ["ENGLISH_ONLY_EN", "Language", "Languages", "Verdict"]
