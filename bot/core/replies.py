"""Turning a decision (topic, clarify, fallback, urgent) into a ``Reply``.

All reply text is plain text: adapters may add buttons from ``suggestions``.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.core.knowledge import Entry, Knowledge, RedFlag
from bot.core.languages import Verdict
from bot.core.reply import Reply, ReplyKind

GREETING = "greeting"
URGENT = "urgent"
# Offered when the bot does not know what was meant.
DEFAULT_SUGGESTIONS: tuple[str, ...] = ("what-is-reflexology", "benefits", "safety", "routine")
EMPTY_PROMPT = (
    'Send me a question about foot reflexology, for example "what is reflexology?", '
    '"is it safe?" or "can it help me sleep?".'
)


def _known(knowledge: Knowledge, ids: Iterable[str]) -> tuple[str, ...]:
    seen: list[str] = []
    for topic_id in ids:
        if topic_id in knowledge.topics and topic_id not in seen:
            seen.append(topic_id)
    return tuple(seen)


def compose_reply(knowledge: Knowledge, topic_id: str, score: float = 100.0) -> Reply:
    """The answer for ``topic_id``, with the caveat appended when the topic wants it."""
    topic = knowledge.topics.get(topic_id)
    if topic is None:
        return fallback_reply(knowledge)
    entries = knowledge.entries.get(topic_id)
    if entries:  # the overview entry is the topic answer; topics/<id>.yaml's is the fallback
        return entry_reply(knowledge, entries[0], score)
    text = topic.answer
    if topic.caveat and knowledge.caveat:
        text = f"{text}\n\n{knowledge.caveat}"
    kind = ReplyKind.GREETING if topic_id == GREETING else ReplyKind.ANSWER
    return Reply(
        kind=kind,
        text=text,
        topic=topic_id,
        score=score,
        suggestions=_known(knowledge, topic.follow_ups),
    )


def entry_suggestions(knowledge: Knowledge, entry: Entry) -> tuple[str, ...]:
    """Topic ids to offer after ``entry``: its follow-ups (an entry stands for its topic)."""
    ids = (
        knowledge.entry_by_id[r].topic if r in knowledge.entry_by_id else r
        for r in entry.follow_ups
    )
    found = tuple(t for t in _known(knowledge, ids) if t != entry.topic)
    # Follow-ups inside the same topic are no button: the topic's own follow-ups are.
    return found or _known(knowledge, knowledge.topics[entry.topic].follow_ups)


def entry_reply(
    knowledge: Knowledge, entry: Entry, score: float = 100.0, text: str | None = None
) -> Reply:
    """An entry's answer (or ``text``, e.g. its ``more``) plus the caveat it needs.

    The entry's own caveat (naming the midwife, the diabetes team) replaces the general
    one; greeting-like topics carry none.
    """
    topic = knowledge.topics[entry.topic]
    body = text if text is not None else entry.answer
    caveat = entry.caveat or (knowledge.caveat if topic.caveat else "")
    if caveat and topic.caveat:
        body = f"{body}\n\n{caveat}"
    kind = ReplyKind.GREETING if entry.topic == GREETING else ReplyKind.ANSWER
    return Reply(
        kind=kind,
        text=body,
        topic=entry.topic,
        score=score,
        suggestions=entry_suggestions(knowledge, entry),
        entry=entry.id,
        action=entry.action or None,
    )


def clarify_reply(knowledge: Knowledge, candidates: Iterable[str], score: float) -> Reply:
    """ "Did you mean ...?" with the candidate topics as suggestions."""
    ids = _known(knowledge, candidates)[:3]
    if not ids:
        return fallback_reply(knowledge, score=score)
    lines = [knowledge.topics_file.clarify]
    lines.extend(f"- {knowledge.topics[topic_id].title}" for topic_id in ids)
    return Reply(
        kind=ReplyKind.CLARIFY, text="\n".join(lines), topic=None, score=score, suggestions=ids
    )


def fallback_reply(knowledge: Knowledge, score: float = 0.0, text: str | None = None) -> Reply:
    """The honest "I don't know that one", with a few useful topics to try."""
    return Reply(
        kind=ReplyKind.FALLBACK,
        text=text if text is not None else knowledge.topics_file.fallback,
        topic=None,
        score=score,
        suggestions=_known(knowledge, DEFAULT_SUGGESTIONS),
    )


def urgent_reply(knowledge: Knowledge, flag: RedFlag) -> Reply:
    """Seek care now (the flag's own reply or the common one), then why this flag matters.

    A "see someone soon" flag is not urgent: topic medical-advice, kind see-soon.
    """
    text = f"{flag.reply or knowledge.red_flags.reply}\n\n{flag.why}".strip()
    if flag.band == "soon":
        return Reply(kind=ReplyKind.SEE_SOON, text=text, topic="medical-advice", score=100.0)
    return Reply(kind=ReplyKind.URGENT, text=text, topic=URGENT, score=100.0, suggestions=())


def language_reply(verdict: Verdict) -> Reply:
    """A non-English message: the emergency reply in its language, or "English only"."""
    if verdict.emergency:
        return Reply(kind=ReplyKind.URGENT, text=verdict.text, topic=URGENT, score=100.0)
    return Reply(kind=ReplyKind.ENGLISH_ONLY, text=verdict.text, topic=None, score=0.0)


__all__ = [
    "DEFAULT_SUGGESTIONS",
    "EMPTY_PROMPT",
    "clarify_reply",
    "compose_reply",
    "entry_reply",
    "fallback_reply",
    "language_reply",
    "urgent_reply",
]
