"""The single entry point every adapter uses: ``Companion.respond(text, chat=key)``.

Order: the safety screen first on every turn (a red flag always wins, whatever the
context), then a follow-up read from the chat's context ("why?", "what about in
pregnancy?"), then the matcher (topic) and the entry chooser (entry within it), then
one of three bands: answer, "did you mean ...?", or an honest fallback.
"""

from __future__ import annotations

from pathlib import Path

from bot.core.conversation import Context, ContextStore, MemoryContextStore
from bot.core.entries import EntryChooser
from bot.core.followups import FollowUpReader, Reading
from bot.core.knowledge import Entry, Knowledge, load_knowledge
from bot.core.knowledge.entries import ROUTINE_PREFIX
from bot.core.matcher import ANSWER_AT, CLARIFY_AT, GREETING, Matcher, MatchResult
from bot.core.normalize import clean
from bot.core.replies import (
    EMPTY_PROMPT,
    clarify_reply,
    compose_reply,
    entry_reply,
    fallback_reply,
    language_reply,
    urgent_reply,
)
from bot.core.reply import Reply, ReplyKind
from bot.core.safety import NET_FLAG, SafetyScreen

# Telegram's message limit: the whole of any real message is screened for red flags
# (the matcher itself reads only the start).
MAX_INPUT_CHARS = 4096
# When the two best topics are this close (in evidence) and the best is not
# confident, ask which one was meant.
AMBIGUOUS_GAP = 0.08
AMBIGUOUS_BELOW = 55.0
SAFETY = "safety"
SESSION = "session"
ROUTINE = "routine"
FOOT_MAP = "foot-map"
TIP = "tip"
# A short message the matcher cannot place is read as a detail of the last question.
SHORT_DETAIL_WORDS = 5


class Companion:
    """Answers messages from the knowledge base; never raises on odd input."""

    def __init__(self, knowledge: Knowledge, contexts: ContextStore | None = None) -> None:
        self.knowledge = knowledge
        self.safety = SafetyScreen(knowledge.red_flags)
        self.matcher = Matcher(knowledge)
        self.entries = EntryChooser(knowledge)
        self.followups = FollowUpReader(knowledge.followups)
        self.contexts: ContextStore = contexts if contexts is not None else MemoryContextStore()

    @classmethod
    def load(cls, directory: str | None = None) -> Companion:
        """Load the knowledge base (default directory) and build a companion."""
        return cls(load_knowledge(Path(directory) if directory else None))

    def respond(self, text: str, chat: str | None = None) -> Reply:
        """The reply to one user message; ``chat`` keys the conversation (None: no context)."""
        context = self.contexts.get(chat) if chat is not None else None
        reply, after = self.turn(text, context)
        if chat is not None and after is not None:
            self.contexts.put(chat, after)
        return reply

    def turn(self, text: str, context: Context | None) -> tuple[Reply, Context | None]:
        """One turn read against ``context``: the reply and the context to keep after it
        (None: keep the one there was). For callers that keep contexts themselves, such
        as several workers sharing a database: load, ``turn``, save."""
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        text = text[:MAX_INPUT_CHARS]
        flag = self.safety.screen(text)  # first, on every turn, whatever the context
        if flag is NET_FLAG:
            # the net reads other languages too: their emergency reply and local numbers
            foreign = self.safety.language(text, urgent=True)
            if foreign is not None:
                return language_reply(foreign), None
        if flag is not None:
            reply = urgent_reply(self.knowledge, flag)
        else:
            # not English (also Cyrillic, CJK...: clean() keeps a-z only): emergency or
            # "English only"; the conversation's context is left as it was
            foreign = self.safety.language(text)
            if foreign is not None:
                return language_reply(foreign), None
            if not clean(text):
                return fallback_reply(self.knowledge, text=EMPTY_PROMPT), None
            result = self.matcher.match(text)
            words = list(result.tokens) or clean(text).split()
            reply = self._answer(text, words, result, context)
        return reply, self._next_context(context, reply, text)

    def forget(self, chat: str) -> None:
        """Drop what the bot remembers of this chat's conversation (/forget)."""
        self.contexts.clear(chat)

    def choose(self, choice: str, chat: str | None = None) -> Reply:
        """A picked option (a topic or entry id from "did you mean", or a button)."""
        context = self.contexts.get(chat) if chat is not None else None
        reply, after = self.choose_in(choice, context)
        if chat is not None:
            self.contexts.put(chat, after)
        return reply

    def choose_in(self, choice: str, context: Context | None) -> tuple[Reply, Context]:
        """``choose`` against a context the caller keeps: the reply and the context after it."""
        entry = self.knowledge.entry_by_id.get(choice)
        reply = (
            entry_reply(self.knowledge, entry) if entry is not None else self.topic_reply(choice)
        )
        return reply, self._next_context(context, reply, "")

    def match(self, text: str) -> MatchResult:
        """The matcher's raw result (for evaluation and debugging)."""
        return self.matcher.match(text[:MAX_INPUT_CHARS])

    def topic_reply(self, topic_id: str) -> Reply:
        """The answer for a button press (same path as a matched answer)."""
        return compose_reply(self.knowledge, topic_id)

    # -- conversation ---------------------------------------------------------------

    def _answer(
        self, text: str, words: list[str], result: MatchResult, context: Context | None
    ) -> Reply:
        reading = self.followups.read(text)
        if context is not None:
            subject = self.followups.subject(words) or context.subject
            if reading.kind is not None:
                reply = self._follow_up(reading.kind, context, subject)
                if reply is not None:
                    return reply
            if reading.detail is not None:
                reply = self._detail(list(reading.detail), context, result, prefixed=True)
                if reply is not None:
                    return reply
            elif (
                reading.kind is None
                and result.out_of_scope is None
                and len(words) <= SHORT_DETAIL_WORDS
                and (result.topic is None or result.score < ANSWER_AT or self._says_more(words))
            ):
                reply = self._detail(words, context, result, prefixed=False)
                if reply is not None:
                    return reply
            elif (
                reading.kind is None
                and result.out_of_scope is not None
                and len(words) <= SHORT_DETAIL_WORDS
                and context.topic not in (None, "urgent", GREETING)
            ):
                # "and fungal nails?" after a safety answer is about reflexology, not foot
                # care: the conversation decides when the last topic has an entry for it.
                choice = self.entries.specific(context.topic, self.followups.telling(words))
                if choice is not None:
                    return entry_reply(self.knowledge, choice.entry)
        elif reading.kind in ("thanks", "bye", "ok", "no", "yes"):
            # Small talk needs no context: "thanks" gets "you're welcome", never the intro.
            reply = self._target("ok" if reading.kind == "yes" else reading.kind)
            if reply is not None:
                return reply
        reply = self._from_match(result, words, reading)
        if context is not None and context.topic and self.followups.points_back(words):
            reply = self._with_last_topic(reply, words, context.topic)
        return reply

    def _with_last_topic(self, reply: Reply, words: list[str], last_topic: str) -> Reply:
        """ "A routine for that?" after sleep: the new topic's entry for the last topic."""
        if (
            reply.kind is not ReplyKind.ANSWER
            or reply.topic in (None, last_topic)
            or last_topic not in self.knowledge.topics  # "urgent" is no topic to hint at
        ):
            return reply
        if self.entries.specific(reply.topic, words) is not None:
            return reply  # the message chose its own entry
        hint = clean(self.knowledge.topics[last_topic].title).split()
        choice = self.entries.specific(reply.topic, [*words, *hint])
        return entry_reply(self.knowledge, choice.entry, reply.score) if choice else reply

    def _entry(self, entry_id: str | None) -> Entry | None:
        return self.knowledge.entry_by_id.get(entry_id) if entry_id else None

    def _target(self, kind: str) -> Reply | None:
        entry = self._entry(self.followups.target(kind)) or (
            self._entry(self.followups.target("ok")) if kind == "no" else None
        )
        return entry_reply(self.knowledge, entry) if entry is not None else None

    def _follow_up(self, kind: str, context: Context, subject: str | None) -> Reply | None:
        """Answer a follow-up of ``kind`` from the context; None: answer it as new."""
        last = self._entry(context.entry)
        if kind == "yes-or-why":
            kind = "yes" if context.offer else "more"
        if context.topic in (None, "urgent") and kind not in ("thanks", "bye", "ok", "no"):
            return None
        if kind == "more":
            if last is None:
                return compose_reply(self.knowledge, context.topic) if context.topic else None
            if last.more:
                return entry_reply(self.knowledge, last, text=last.more)
            # No "more" of its own: the entry it leads on to, else the overview's "more".
            nxt = next(
                (self._entry(r) for r in last.follow_ups if self._entry(r) is not None), None
            )
            if nxt is not None:
                return entry_reply(self.knowledge, nxt)
            overview = self.entries.overview(last.topic)
            more = (overview.more if overview is not None else "") or last.answer
            return entry_reply(self.knowledge, last, text=more)
        if kind in ("how-often", "how-long"):
            routine = self._routine_of(context)
            if routine is not None or context.topic == ROUTINE:
                return self._routine_length(routine)
            return self._target(kind)
        if kind == "safe":
            entry = self._entry(self.followups.safety_entry(subject))
            if entry is None and last is not None and last.topic == SAFETY:
                entry = last
            entry = entry or self.entries.overview(SAFETY)
            return entry_reply(self.knowledge, entry) if entry is not None else None
        if kind == "where":
            entry = self.entries.by_area(context.area) if context.area else None
            entry = entry or self.entries.overview(FOOT_MAP)
            return entry_reply(self.knowledge, entry) if entry is not None else None
        if kind == "help":
            return entry_reply(self.knowledge, last) if last is not None else None
        if kind == "yes":
            return self._accept(context.offer) or self._target("ok")
        return self._target(kind)

    def _detail(
        self, words: list[str], context: Context, result: MatchResult, *, prefixed: bool
    ) -> Reply | None:
        """A new detail about the last question: stay in its topic when the detail fits."""
        words = self.followups.telling(words)
        if not words:
            return None
        if context.topic and context.topic not in ("urgent", GREETING):
            choice = self.entries.specific(context.topic, words)
            if choice is not None:
                return entry_reply(self.knowledge, choice.entry)
        choice = self.entries.specific(SAFETY, words)
        if choice is not None:
            return entry_reply(self.knowledge, choice.entry)
        subject = self.followups.subject(words)
        if subject is not None and context.topic == SAFETY:
            # "what about for my mum?" after a safety answer: the entry for that person.
            person = self._entry(self.followups.safety_entry(subject))
            if person is not None:
                return entry_reply(self.knowledge, person)
        if prefixed and result.topic is not None and result.score >= ANSWER_AT:
            return None  # a detail with a subject of its own: answered as new
        last = self._entry(context.entry)
        if not prefixed and self._says_more(words) and last is not None and last.topic != GREETING:
            return entry_reply(self.knowledge, last)
        return None

    def _says_more(self, words: list[str]) -> bool:
        """ "30 weeks" or "my mum" alone says more about the last question; "feet" does not."""
        return any(w.isdigit() for w in words) or self.followups.subject(words) is not None

    def _accept(self, offer: str | None) -> Reply | None:
        """ "Yes please" to what the last reply offered."""
        if not offer:
            return None
        if offer.startswith(ROUTINE_PREFIX):
            routine = self.knowledge.routines.get(offer[len(ROUTINE_PREFIX) :])
            if routine is None:
                return None
            text = (
                f"Let's do {routine.title} ({routine.minutes:g} minutes): {routine.purpose}\n\n"
                f"{self.knowledge.routines_file.safety}"
            )
            return Reply(ReplyKind.ANSWER, text, ROUTINE, 100.0, (), None, offer)
        if offer in (TIP, "subscribe"):
            entries = self.knowledge.entries.get(TIP, ())
            entry = next((e for e in entries if e.action == offer), None)
            if entry is not None:
                return entry_reply(self.knowledge, entry)
            reply = compose_reply(self.knowledge, TIP)
            return Reply(reply.kind, reply.text, TIP, 100.0, reply.suggestions, None, offer)
        entry = self._entry(offer)
        return entry_reply(self.knowledge, entry) if entry is not None else None

    def _routine_of(self, context: Context) -> str | None:
        return context.routine if context.routine in self.knowledge.routines else None

    def _routine_length(self, routine_id: str | None) -> Reply:
        routines = self.knowledge.routines
        if routine_id is not None:
            routine = routines[routine_id]
            text = (
                f"{routine.title} takes about {routine.minutes:g} minutes. Once a day is plenty;"
                " many people do it in the evening to wind down."
            )
        else:
            lengths = sorted({r.minutes for r in routines.values()})
            listed = ", ".join(f"{m:g}" for m in lengths[:-1]) + f" or {lengths[-1]:g}"
            text = (
                f"The guided routines take {listed} minutes. A few minutes once a day is"
                " plenty; stop if anything hurts."
            )
        return Reply(ReplyKind.ANSWER, text, ROUTINE, 100.0, (), None, None)

    def _next_context(self, context: Context | None, reply: Reply, text: str) -> Context:
        """The context after ``reply``: ids only, never the message text."""
        previous = context or Context()
        subject = self.followups.subject(clean(text).split()) or previous.subject
        if reply.kind in (ReplyKind.CLARIFY, ReplyKind.FALLBACK):
            return previous.but(offer=None, subject=subject)
        entry = self._entry(reply.entry)
        if reply.topic == GREETING:
            # "thanks" or "ok" does not end the subject: "where is that point?" may follow.
            return previous.but(offer=entry.offer if entry else None, subject=subject)
        routine = previous.routine
        for ref in (reply.action, entry.offer if entry else None, entry.action if entry else None):
            if ref and ref.startswith(ROUTINE_PREFIX):
                routine = ref[len(ROUTINE_PREFIX) :]
                break
        else:
            if reply.topic != ROUTINE:
                routine = None
        return Context(
            topic=reply.topic,
            entry=reply.entry,
            subject=subject,
            offer=(entry.offer or None) if entry else None,
            area=(entry.area or None) if entry else None,
            routine=routine,
        )

    # -- bands ------------------------------------------------------------------------

    def _answer_topic(self, topic: str, words: list[str], score: float) -> Reply:
        choice = self.entries.choose(topic, words)
        if choice is None:
            return compose_reply(self.knowledge, topic, score)
        if topic == SAFETY and not choice.specific:
            # "is it safe for my mum": the entry for that person, when there is one.
            person = self._entry(self.followups.safety_entry(self.followups.subject(words)))
            if person is not None:
                return entry_reply(self.knowledge, person, score)
        return entry_reply(self.knowledge, choice.entry, score)

    def _from_match(
        self, result: MatchResult, words: list[str] | None = None, reading: Reading | None = None
    ) -> Reply:
        words = words if words is not None else list(result.tokens)
        if result.topic is None:
            return fallback_reply(self.knowledge, score=result.score)
        if result.topic == GREETING:
            if reading is not None and reading.kind in ("thanks", "bye", "ok", "no"):
                target = self._target(reading.kind)
                if target is not None:
                    return target
            return self._answer_topic(GREETING, words, result.score)
        if result.score >= ANSWER_AT:
            runner = result.runners_up[0] if result.runners_up else None
            if (
                runner is not None
                and result.score < AMBIGUOUS_BELOW
                and runner.score >= ANSWER_AT
                and abs(result.evidence - runner.evidence) <= AMBIGUOUS_GAP
            ):
                close = tuple(
                    c.id for c in result.runners_up if not c.out_of_scope and c.score >= ANSWER_AT
                )
                return self._clarify(result, (result.topic, *close), words)
            return self._answer_topic(result.topic, words, result.score)
        if result.score >= CLARIFY_AT:
            candidates = (
                result.topic,
                *(c.id for c in result.runners_up if not c.out_of_scope and c.score >= CLARIFY_AT),
            )
            return self._clarify(result, candidates, words)
        return fallback_reply(self.knowledge, score=result.score)

    def _clarify(self, result: MatchResult, candidates: tuple[str, ...], words: list[str]) -> Reply:
        """ "Did you mean" with two or three real candidates; one alone is answered."""
        real = tuple(dict.fromkeys(c for c in candidates if c in self.knowledge.topics))[:3]
        if len(real) >= 2:
            return clarify_reply(self.knowledge, real, result.score)
        if real:
            return self._answer_topic(real[0], words, result.score)
        return fallback_reply(self.knowledge, score=result.score)


__all__ = ["Companion"]
