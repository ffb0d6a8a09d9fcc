"""The reply object the core hands to every adapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ReplyKind(StrEnum):
    """What the core decided to do with a message."""

    ANSWER = "answer"  # a topic answered directly
    CLARIFY = "clarify"  # "did you mean ...?" with candidate topics
    FALLBACK = "fallback"  # "I don't know that one" with suggestions
    URGENT = "urgent"  # a red flag: seek medical care now
    GREETING = "greeting"  # hello / thanks / who are you
    SEE_SOON = "see-soon"  # see a professional within a day or so (topic medical-advice)
    ENGLISH_ONLY = "english-only"  # a non-English message that is not an emergency


@dataclass(frozen=True)
class Reply:
    """A reply as plain text plus what adapters need to render it.

    ``topic`` is a topic id of docs/CONTRACT.md section 1 or ``None``; ``suggestions`` are
    topic ids offered as follow-ups (buttons on Telegram).
    """

    kind: ReplyKind
    text: str
    topic: str | None = None
    score: float = 0.0
    suggestions: tuple[str, ...] = field(default_factory=tuple)
    # The specific entry that answered (``None`` when a topic answer or no answer).
    entry: str | None = None
    # What an adapter may do next (an entry's ``action``: tip, routine:<id>, ...).
    action: str | None = None

    @property
    def urgent(self) -> bool:
        return self.topic == "urgent"

    def as_json(self) -> dict[str, object]:
        """The ``ask --json`` object (docs/CONTRACT.md section 2)."""
        return {
            "topic": self.topic,
            "score": round(float(self.score), 1),
            "urgent": self.urgent,
            "reply": self.text,
            "suggestions": list(self.suggestions),
            "kind": self.kind.value,
            "entry": self.entry,
        }
