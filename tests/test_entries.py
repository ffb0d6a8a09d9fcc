"""Entries inside topics: loading and validation (file, line, field), the two-stage choice
on the real knowledge base, reply length and reading grade, and speed."""

from __future__ import annotations

import shutil
import statistics
import time
from pathlib import Path

import pytest

from bot.core.companion import Companion
from bot.core.evaluation import flesch_kincaid_grade
from bot.core.knowledge import DEFAULT_DIR, KnowledgeError, load_knowledge
from bot.core.knowledge.entries import MAX_ANSWER_WORDS
from bot.core.replies import entry_reply

QUESTIONS = "\n".join(f"      - example question number {i}" for i in range(1, 7))


def _entry(entry_id: str, *, overview: bool = False, extra: str = "", questions: str = "") -> str:
    return (
        f"  - id: {entry_id}\n"
        + ("    overview: true\n" if overview else "")
        + "    questions:\n"
        + (questions or QUESTIONS.replace("number", entry_id))
        + "\n    keywords: [word]\n"
        + "    answer: A short plain answer.\n"
        + extra
    )


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    """A copy of the real knowledge base to break on purpose."""
    target = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_DIR, target)
    (target / "entries" / "sleep.yaml").unlink()  # the tests write their own sleep entries
    return target


def problems_for(kb: Path, name: str, text: str) -> list[str]:
    (kb / "entries" / name).write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(kb)
    return [str(p) for p in caught.value.problems if p.path.name == name]


def test_the_real_entries_load_with_an_overview_first_in_every_topic(knowledge) -> None:
    assert len(knowledge.entry_by_id) >= 120
    for topic_id, entries in knowledge.entries.items():
        assert entries[0].overview, topic_id
        assert sum(e.overview for e in entries) == 1, topic_id


def test_an_entry_without_questions_or_answer_is_named_with_file_line_and_field(kb) -> None:
    text = (
        "topic: sleep\nentries:\n"
        + _entry("sleep-x", overview=True)
        + "  - id: sleep-empty\n    keywords: [nothing]\n"
    )
    found = problems_for(kb, "zz-test.yaml", text)
    assert any(":14: entries[1] (sleep-empty).questions: missing field" in p for p in found), found
    assert any(":14: entries[1] (sleep-empty).answer: missing field" in p for p in found), found


def test_too_few_questions_and_a_long_answer_are_errors(kb) -> None:
    long_answer = " ".join(["word"] * (MAX_ANSWER_WORDS + 5))
    text = (
        "topic: sleep\nentries:\n"
        "  - id: sleep-x\n    overview: true\n    questions: [one, two, three]\n"
        f"    answer: {long_answer}\n"
    )
    found = problems_for(kb, "zz-test.yaml", text)
    assert any(":5: entries[0] (sleep-x).questions: needs at least 6" in p for p in found), found
    assert any(":6: entries[0] (sleep-x).answer: 75 words" in p for p in found), found


def test_duplicate_ids_unknown_topic_and_references_are_errors(kb) -> None:
    text = (
        "topic: sleep\nentries:\n"
        + _entry("sleep-x", overview=True, extra="    follow_ups: [nowhere]\n    area: elbow\n")
        + _entry("safety-overview", questions=QUESTIONS.replace("number", "dup"))
        + _entry("sleep-y", extra="    offer: routine:no-such\n    action: dance\n")
    )
    found = problems_for(kb, "zz-test.yaml", text)
    joined = "\n".join(found)
    assert "entries[0] (sleep-x).follow_ups[0]: unknown follow-up 'nowhere'" in joined
    assert "entries[0] (sleep-x).area: unknown foot-map area 'elbow'" in joined
    assert "entries[1] (safety-overview).id: duplicate entry id" in joined
    assert "entries[2] (sleep-y).offer: unknown routine 'routine:no-such'" in joined
    assert "entries[2] (sleep-y).action: unknown action 'dance'" in joined
    found = problems_for(kb, "zz-test.yaml", "topic: dreams\nentries:\n" + _entry("dream-x"))
    assert any(":1: topic: unknown topic 'dreams'" in p for p in found), found


def test_overview_count_and_a_question_under_two_entries(kb) -> None:
    shared = "\n".join(f"      - shared question {i}" for i in range(1, 7))
    text = (
        "topic: sleep\nentries:\n"
        + _entry("sleep-x", overview=True, questions=shared)
        + _entry("sleep-y", overview=True, questions=shared)
    )
    found = problems_for(kb, "zz-test.yaml", text)
    joined = "\n".join(found)
    assert "overview: topic 'sleep' has 2 overview entries" in joined
    assert (
        "entries[1] (sleep-y).questions[0]: 'shared question 1' also appears under 'sleep-x'"
        in (joined)
    )
    found = problems_for(kb, "zz-test.yaml", "topic: sleep\nentries:\n" + _entry("sleep-x"))
    assert any("entries: no entry of 'sleep' has overview: true" in p for p in found), found


def test_followups_file_is_validated(kb) -> None:
    path = kb / "followups.yaml"
    text = path.read_text(encoding="utf-8").replace("  - id: more\n", "  - id: moar\n", 1)
    text = text.replace("target: session-how-often", "target: session-never")

    path.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(kb)
    joined = "\n".join(str(p) for p in caught.value.problems)
    assert "followups.yaml" in joined
    assert "kinds[0].id: unknown kind 'moar'" in joined
    assert "kinds[1].target: unknown entry 'session-never'" in joined
    original = (DEFAULT_DIR / "followups.yaml").read_text(encoding="utf-8")
    doubled = original.replace("      - how often\n", "      - how often\n      - go on\n", 1)
    path.write_text(doubled, encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(kb)
    joined = "\n".join(str(p) for p in caught.value.problems)
    assert "kinds[1].phrasings[1]: 'go on' is also under 'more'" in joined


@pytest.fixture(scope="module")
def companion() -> Companion:
    return Companion.load()


@pytest.mark.parametrize(
    ("question", "topic", "entry", "opening"),
    [
        (
            "9 weeks pregnant, is it safe",
            "safety",
            "safety-pregnancy-first-trimester",
            ("pregnan", "midwife"),
        ),
        ("im on warfarin, can i have reflexology", "safety", "safety-blood-thinners", ()),
        ("how much does a session cost", "session", "session-cost", ()),
        ("does it hurt", "session", "session-does-it-hurt", ()),
        ("where is the kidney point", "foot-map", "map-kidneys", ("kidney",)),
        ("what is reflexology", "what-is-reflexology", "whatis-overview", ()),
        ("thanks!", "greeting", "greet-thanks", ()),
        ("bye", "greeting", "greet-bye", ()),
    ],
)
def test_two_stage_choice_on_real_entries(companion, question, topic, entry, opening) -> None:
    reply = companion.respond(question)
    assert (reply.topic, reply.entry) == (topic, entry)
    head = reply.text[:300].lower()
    for word in opening:
        assert word in head, (word, head)


def test_greeting_entries_carry_no_caveat_and_topical_ones_do(companion, knowledge) -> None:
    thanks = companion.respond("thank you")
    assert knowledge.caveat not in thanks.text
    answer = companion.respond("how long does a session take")
    assert answer.text.endswith(knowledge.caveat)
    pregnancy = knowledge.entry_by_id["safety-pregnancy-first-trimester"]
    if pregnancy.caveat:  # its own caveat replaces the general wording
        assert entry_reply(knowledge, pregnancy).text.endswith(pregnancy.caveat)


def test_replies_are_short_and_plain(knowledge) -> None:
    words, grades = [], []
    for entry in knowledge.entry_by_id.values():
        text = entry_reply(knowledge, entry).text
        words.append(len(text.split()))
        grades.append(flesch_kincaid_grade(text))
    assert statistics.median(words) <= 90
    assert max(words) <= 160
    assert statistics.median(grades) <= 8.0


def test_flesch_kincaid_grade_orders_plain_and_hard_text() -> None:
    plain = "Press the ball of your foot. Breathe out slowly. It helps you relax."
    hard = (
        "Reflexology is a complementary practice, purportedly influencing physiological "
        "homeostasis through somatotopic representations."
    )
    assert flesch_kincaid_grade(plain) < 5 < 12 < flesch_kincaid_grade(hard)


def test_respond_stays_well_under_a_millisecond(companion) -> None:
    questions = [
        q for e in list(companion.knowledge.entry_by_id.values())[:60] for q in e.questions
    ]
    companion.respond("warm up")
    times = []
    for question in questions:
        started = time.perf_counter()
        companion.respond(question)
        times.append(time.perf_counter() - started)
    # The machine running CI may be shared and slow: a generous bound, the median only.
    assert statistics.median(times) < 0.003


@pytest.mark.parametrize(
    "question",
    [
        "My mum takes a daily aspirin, does that matter for reflexology?",
        "can i have reflexology every day",
    ],
)
def test_an_acting_entry_needs_its_required_words(companion, question) -> None:
    """Subscribing is an action: "daily" or "every day" alone must never sign anyone up."""
    reply = companion.respond(question)
    assert reply.entry != "tip-subscribe" and reply.action != "subscribe"


def test_asking_for_daily_tips_still_subscribes(companion) -> None:
    reply = companion.respond("send me daily tips")
    assert (reply.entry, reply.action) == ("tip-subscribe", "subscribe")
