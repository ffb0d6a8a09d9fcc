"""Companion.respond: the single entry point, through the real knowledge base."""

from __future__ import annotations

import re

import pytest

from bot.core.companion import Companion
from bot.core.matcher import ANSWER_AT, CLARIFY_AT, Candidate, MatchResult
from bot.core.reply import ReplyKind


def test_urgent_wins_over_everything(companion: Companion) -> None:
    reply = companion.respond("hi! my chest hurts and my arm is numb, is reflexology ok?")
    assert reply.kind is ReplyKind.URGENT
    assert reply.topic == "urgent" and reply.urgent
    assert "112" in reply.text or "911" in reply.text or "999" in reply.text


def test_answer_carries_the_caveat_once(companion: Companion, knowledge) -> None:
    reply = companion.respond("can reflexology help me sleep better?")
    assert reply.kind is ReplyKind.ANSWER
    assert reply.topic == "sleep"
    assert reply.text.count(knowledge.caveat) == 1
    assert reply.suggestions == knowledge.topics["sleep"].follow_ups
    assert 0 < reply.score <= 100


def test_greeting_has_no_caveat(companion: Companion, knowledge) -> None:
    reply = companion.respond("hello")
    assert reply.kind is ReplyKind.GREETING
    assert reply.topic == "greeting"
    assert knowledge.caveat not in reply.text


def test_out_of_scope_is_an_honest_fallback(companion: Companion) -> None:
    reply = companion.respond("how do i make lasagne")
    assert reply.kind is ReplyKind.FALLBACK
    assert reply.topic is None
    assert reply.suggestions  # offers something useful instead


def test_topic_reply_for_buttons(companion: Companion, knowledge) -> None:
    for topic_id in knowledge.topics:
        reply = companion.topic_reply(topic_id)
        assert reply.topic == topic_id
        entries = knowledge.entries.get(topic_id)
        # The overview entry is the topic answer; topics/<id>.yaml's answer is the fallback.
        expected = entries[0].answer if entries else knowledge.topics[topic_id].answer
        assert reply.text.startswith(expected)
        assert reply.entry == (entries[0].id if entries else None)


@pytest.mark.parametrize(
    "message",
    ["", "   \n\t ", "🙂🙂🙂", "\x00\x01\x02", "a" * 5000, "reflexology " * 1000, "%%%", None],
)
def test_odd_input_never_crashes(companion: Companion, message) -> None:
    reply = companion.respond(message)
    assert reply.text.strip()
    assert reply.kind in set(ReplyKind)
    if message is None or not re.sub(r"[\W_]", "", message or ""):
        assert reply.topic is None


def test_clarify_offers_candidates(companion: Companion, knowledge) -> None:
    # a score in the clarify band (between CLARIFY_AT and ANSWER_AT)
    score = (CLARIFY_AT + ANSWER_AT) / 2
    runner = Candidate("relaxation", 1.0, CLARIFY_AT + 1)
    reply = companion._from_match(MatchResult(topic="sleep", score=score, runners_up=(runner,)))
    assert reply.kind is ReplyKind.CLARIFY
    assert reply.topic is None
    assert reply.suggestions == ("sleep", "relaxation")
    assert reply.text.startswith(knowledge.topics_file.clarify)


def test_clarify_never_offers_one_candidate(companion: Companion) -> None:
    # Only one candidate clears the bar: it is answered, not offered alone.
    score = (CLARIFY_AT + ANSWER_AT) / 2
    weak = Candidate("relaxation", 0.1, CLARIFY_AT - 5)
    reply = companion._from_match(MatchResult(topic="sleep", score=score, runners_up=(weak,)))
    assert reply.kind is ReplyKind.ANSWER
    assert reply.topic == "sleep"


def test_reply_text_is_plain(companion: Companion) -> None:
    for message in ("what is reflexology", "is it safe", "show me the foot map"):
        text = companion.respond(message).text
        assert "**" not in text and "<b>" not in text and "__" not in text


def test_every_answer_is_within_length(knowledge) -> None:
    for topic in knowledge.topics.values():
        words = len(topic.answer.split())
        assert 40 <= words <= 180, (topic.id, words)


def test_condition_question_gets_the_safety_answer(companion: Companion) -> None:
    reply = companion.respond("had a gout flare last month, can i still have reflexology?")
    assert reply.kind is ReplyKind.ANSWER
    assert reply.topic == "safety"


def test_a_foot_care_question_about_reflexology_is_answered(companion: Companion) -> None:
    # out-of-scope words (pedicure) do not win when reflexology itself is asked about
    reply = companion.respond("is a pedicure foot rub the same as reflexology?")
    assert reply.topic == "acupuncture-difference"
