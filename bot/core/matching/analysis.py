"""A message analysed once: cleaned and corrected words, stems, and shape hits.

Every later step (evidence, frames, decisions, the entry chooser) reads this one
object instead of cleaning, splitting and stemming the text again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.core.knowledge.language import Language
from bot.core.normalize import Normalizer, stem, stop_words

# Messages are cut to this many characters before matching (keeps it fast).
MAX_CHARS = 600


@dataclass
class Analysis:
    """The words of one message and, on demand, which shapes they match."""

    words: list[str]
    stems: list[str]
    shapes: dict[str, re.Pattern[str]]
    text: str = ""
    sequence: str = ""
    stem_set: frozenset[str] = frozenset()
    content: list[str] = field(default_factory=list)
    _hits: dict[str, re.Match[str] | None] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.text = " ".join(self.words)
        self.sequence = " " + " ".join(self.stems) + " "
        self.stem_set = frozenset(self.stems)
        stops = stop_words()
        self.content = [s for w, s in zip(self.words, self.stems, strict=True) if w not in stops]

    def search(self, shape: str) -> re.Match[str] | None:
        """The shape's first match in the message (each shape is tried once)."""
        if shape not in self._hits:
            self._hits[shape] = self.shapes[shape].search(self.text)
        return self._hits[shape]

    def whole(self, shape: str) -> bool:
        return self.shapes[shape].fullmatch(self.text) is not None


class Analyser:
    """Builds ``Analysis`` objects with the knowledge base's normaliser and shapes."""

    def __init__(self, language: Language, normalizer: Normalizer) -> None:
        self.shapes = language.shapes
        self.normalizer = normalizer
        self._equals = language.shapes.get(language.preprocess.get("equals_sign", ""))
        self._set_aside = language.shapes.get(language.preprocess.get("set_aside", ""))

    def analyse(self, text: str) -> Analysis:
        text = text[:MAX_CHARS]
        if self._equals is not None:
            # "heel = lower back?": the sign is read as a word before cleaning drops it.
            text = self._equals.sub(r"\1 equals ", text)
        words = self.normalizer.tokens(text)
        if self._set_aside is not None:
            # "apart from it feeling nice, does it do anything": that part names no topic.
            kept = self._set_aside.sub(" ", " ".join(words)).split()
            if len(kept) >= 2:
                words = kept
        return Analysis(words=words, stems=[stem(w) for w in words], shapes=self.shapes)


__all__ = ["MAX_CHARS", "Analyser", "Analysis"]
