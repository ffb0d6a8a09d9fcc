"""The single entry point every adapter uses: ``Companion.respond(text)``.

Order: the safety screen first (a red flag always wins), then the matcher, then
one of three bands: answer, "did you mean ...?", or an honest fallback.
"""

from __future__ import annotations

from pathlib import Path

from bot.core.knowledge import Knowledge, load_knowledge
from bot.core.matcher import ANSWER_AT, CLARIFY_AT, GREETING, Matcher, MatchResult
from bot.core.normalize import clean
from bot.core.replies import (
    EMPTY_PROMPT,
    clarify_reply,
    compose_reply,
    fallback_reply,
    language_reply,
    urgent_reply,
)
from bot.core.reply import Reply
from bot.core.safety import SafetyScreen

# Telegram's message limit: the whole of any real message is screened for red flags
# (the matcher itself reads only the start).
MAX_INPUT_CHARS = 4096
# When the two best topics are this close (in evidence) and the best is not
# confident, ask which one was meant.
AMBIGUOUS_GAP = 0.08
AMBIGUOUS_BELOW = 55.0


class Companion:
    """Answers messages from the knowledge base; never raises on odd input."""

    def __init__(self, knowledge: Knowledge) -> None:
        self.knowledge = knowledge
        self.safety = SafetyScreen(knowledge.red_flags)
        self.matcher = Matcher(knowledge)

    @classmethod
    def load(cls, directory: str | None = None) -> Companion:
        """Load the knowledge base (default directory) and build a companion."""
        return cls(load_knowledge(Path(directory) if directory else None))

    def respond(self, text: str) -> Reply:
        """The reply to one user message."""
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        text = text[:MAX_INPUT_CHARS]
        flag = self.safety.screen(text)
        if flag is not None:
            return urgent_reply(self.knowledge, flag)
        # not English (also Cyrillic, CJK...: clean() keeps a-z only): emergency or "English only"
        foreign = self.safety.language(text)
        if foreign is not None:
            return language_reply(foreign)
        if not clean(text):
            return fallback_reply(self.knowledge, text=EMPTY_PROMPT)
        return self._from_match(self.matcher.match(text))

    def match(self, text: str) -> MatchResult:
        """The matcher's raw result (for evaluation and debugging)."""
        return self.matcher.match(text[:MAX_INPUT_CHARS])

    def topic_reply(self, topic_id: str) -> Reply:
        """The answer for a button press (same path as a matched answer)."""
        return compose_reply(self.knowledge, topic_id)

    def _from_match(self, result: MatchResult) -> Reply:
        if result.topic is None:
            return fallback_reply(self.knowledge, score=result.score)
        if result.topic == GREETING:
            return compose_reply(self.knowledge, GREETING, result.score)
        if result.score >= ANSWER_AT:
            runner = result.runners_up[0] if result.runners_up else None
            if (
                runner is not None
                and result.score < AMBIGUOUS_BELOW
                and runner.score >= ANSWER_AT
                and abs(result.evidence - runner.evidence) <= AMBIGUOUS_GAP
            ):
                return clarify_reply(self.knowledge, (result.topic, *result.topics), result.score)
            return compose_reply(self.knowledge, result.topic, result.score)
        if result.score >= CLARIFY_AT:
            candidates = (result.topic, *(c.id for c in result.runners_up if c.score >= CLARIFY_AT))
            return clarify_reply(self.knowledge, candidates, result.score)
        return fallback_reply(self.knowledge, score=result.score)


__all__ = ["Companion"]
