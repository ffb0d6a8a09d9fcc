"""The learned safety net behind the red-flag patterns.

A logistic regression over TF-IDF word (1-2) and character (3-5, inside word
boundaries) n-grams, trained by ``scripts/train_safety_net.py`` on the labelled
lines in ``knowledge/safety/training/``. The weights are exported to
``knowledge/safety/net.json`` and applied here with the standard library only, so
scikit-learn is needed to train, never to run. Featurisation lives in this module
and the trainer imports it: training and run time can never tokenise differently.

A message is urgent when a pattern fires OR ``SafetyNet.urgent`` says so; the net
catches wording the patterns were never written for.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from bot.core.normalize import clean, fold, other_script

WORD_NGRAMS = (1, 2)
CHAR_NGRAMS = (3, 5)
# Chinese and Japanese have no spaces: a "word" is a whole clause, so short character
# n-grams over it stand in for words (one character is often a word: 胸 chest, 痛 pain).
CJK_NGRAMS = (1, 3)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
# Letters clean() drops for want of an accent to strip; kept so Turkish and Polish words
# stay whole ("ağrıyor" -> "agriyor", as the languages file writes them).
_PLAIN = str.maketrans({"ı": "i", "ł": "l", "ø": "o", "đ": "d"})


def _words(found: Counter[str], words: list[str]) -> None:
    low, high = WORD_NGRAMS
    for size in range(low, high + 1):
        for start in range(len(words) - size + 1):
            found["w:" + " ".join(words[start : start + size])] += 1
    low, high = CHAR_NGRAMS
    for word in words:
        padded = f" {word} "  # char_wb: n-grams never cross a word boundary
        for size in range(low, high + 1):
            for start in range(len(padded) - size + 1):
                found["c:" + padded[start : start + size]] += 1


def features(text: str) -> Counter[str]:
    """Raw n-gram counts of one message (the same at training and at run time).

    English and the other Latin-script languages as ``clean`` reads them; words of other
    scripts (which ``clean`` drops) from ``fold``, CJK clauses as character n-grams.
    """
    found: Counter[str] = Counter()
    if text.isascii():
        _words(found, clean(text).split())
        return found
    _words(found, clean(text.translate(_PLAIN)).split())
    other = [word for word in fold(text).split() if other_script(word)]
    if not other:
        return found
    spaced: list[str] = []
    low, high = CJK_NGRAMS
    for word in other:
        if not _CJK.search(word):
            spaced.append(word)
            continue
        padded = f" {word} "
        for size in range(low, high + 1):
            for start in range(len(padded) - size + 1):
                gram = padded[start : start + size]
                if gram != " ":
                    found["c:" + gram] += 1
    _words(found, spaced)
    return found


def data_hash(directory: Path) -> str:
    """SHA-256 over the training files (names and bytes), sorted by name."""
    digest = hashlib.sha256()
    for path in sorted(directory.glob("*.jsonl")):
        digest.update(path.name.encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass(frozen=True)
class SafetyNet:
    """Exported weights: per feature (idf, coefficient), a bias and a threshold."""

    weights: dict[str, tuple[float, float]]
    bias: float
    threshold: float
    data_sha256: str = ""

    def probability(self, text: str, counts: Counter[str] | None = None) -> float:
        """The net's probability that ``text`` is positive (an emergency, for the urgent net).

        ``counts``: ``features(text)`` when the caller has them already (two nets, one
        message: the features are the slow part).
        """
        if counts is None:
            counts = features(text)
        weights = self.weights
        total = 0.0
        norm = 0.0
        for name, count in counts.items():
            known = weights.get(name)
            if known is None:
                continue
            idf, coef = known
            # sublinear tf, as trained (TfidfVectorizer(sublinear_tf=True) semantics)
            value = (1.0 + math.log(count)) * idf
            norm += value * value
            total += value * coef
        score = self.bias + (total / math.sqrt(norm) if norm else 0.0)
        if score < -30:
            return 0.0
        return 1.0 / (1.0 + math.exp(-score))

    def urgent(self, text: str, counts: Counter[str] | None = None) -> bool:
        """Whether the probability reaches the threshold CV picked."""
        return self.probability(text, counts) >= self.threshold

    def to_json(self) -> str:
        data = {
            "about": "safety net weights; regenerate with scripts/train_safety_net.py",
            "data_sha256": self.data_sha256,
            "threshold": self.threshold,
            "bias": self.bias,
            "weights": {name: [idf, coef] for name, (idf, coef) in sorted(self.weights.items())},
        }
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> SafetyNet:
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("weights"), dict):
            raise ValueError("not a safety net weights file")
        weights = {str(k): (float(v[0]), float(v[1])) for k, v in data["weights"].items()}
        if not weights:
            raise ValueError("the safety net has no weights")
        return cls(
            weights=weights,
            bias=float(data["bias"]),
            threshold=float(data["threshold"]),
            data_sha256=str(data.get("data_sha256", "")),
        )


def load_net(path: Path) -> SafetyNet | None:
    """The shipped net, or None when the file is absent (patterns alone then)."""
    if not path.is_file():
        return None
    return SafetyNet.from_json(path.read_text(encoding="utf-8"))


__all__ = ["CHAR_NGRAMS", "WORD_NGRAMS", "SafetyNet", "data_hash", "features", "load_net"]
