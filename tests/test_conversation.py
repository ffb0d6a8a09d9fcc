"""A conversation that remembers: follow-ups read from a per-chat context, through the core,
``python -m bot ask --json --conversation`` (a real subprocess) and the terminal chat."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.console import run_chat
from bot.core.companion import Companion
from bot.core.conversation import IDLE_SECONDS, MemoryContextStore
from bot.core.reply import ReplyKind

ROOT = Path(__file__).resolve().parents[1]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def companion(knowledge, clock) -> Companion:
    return Companion(knowledge, contexts=MemoryContextStore(clock=clock))


def talk(companion: Companion, *turns: str, chat: str = "c"):
    return [companion.respond(turn, chat=chat) for turn in turns]


def test_follow_ups_are_answered_from_the_context(companion) -> None:
    _, often = talk(companion, "how long does a session take", "and how often?")
    assert (often.topic, often.entry) == ("session", "session-how-often")
    _, why = talk(companion, "is reflexology ok on blood thinners", "how come?")
    assert why.entry == "safety-blood-thinners"
    assert why.text != companion.respond("is reflexology ok on blood thinners").text  # its "more"
    _, bladder, thanks = talk(
        companion, "where is the kidney point", "what about the bladder?", "thanks"
    )
    assert (bladder.entry, thanks.entry) == ("map-bladder", "greet-thanks")
    _, where = talk(companion, "reflexology for period pain?", "wheres the point")
    assert where.topic == "foot-map" and where.entry != "map-overview"


def test_a_new_detail_stays_in_the_topic_or_goes_to_safety(companion) -> None:
    _, detail, safe = talk(
        companion,
        "would reflexology help my back pain",
        "and for my husband, he has diabetes?",
        "is that safe?",
    )
    assert (detail.topic, detail.entry) == ("safety", "safety-diabetes")
    assert safe.topic == "safety"
    _, mum = talk(companion, "is reflexology safe", "what about for my mum?", chat="m")
    assert mum.entry == "safety-older-people"


def test_yes_please_accepts_the_offer_and_no_thanks_declines(companion, knowledge) -> None:
    offering = next(e for e in knowledge.entry_by_id.values() if e.offer.startswith("routine:"))
    routine = knowledge.routines[offering.offer.removeprefix("routine:")]
    first = companion.choose(offering.id, chat="y")
    assert first.entry == offering.id
    yes, length = talk(companion, "yes please", "how long for?", chat="y")
    assert yes.topic == "routine" and yes.action == offering.offer
    assert f"{routine.minutes:g} minutes" in length.text
    companion.choose(offering.id, chat="n")
    [no] = talk(companion, "no thanks", chat="n")
    assert no.topic == "greeting" and no.kind is ReplyKind.GREETING


def test_a_message_with_a_subject_of_its_own_starts_afresh(companion) -> None:
    _, fresh = talk(companion, "how long does a session take", "where is the kidney point")
    assert fresh.entry == "map-kidneys"


def test_the_red_flag_screen_runs_first_whatever_the_context(companion) -> None:
    _, urgent = talk(
        companion, "would reflexology help my poor circulation", "my calf is red, hot and swollen"
    )
    assert urgent.kind is ReplyKind.URGENT


def test_context_holds_ids_only_expires_and_is_forgotten(companion, clock) -> None:
    talk(companion, "is reflexology ok on blood thinners for my husband")
    context = companion.contexts.get("c")
    assert context is not None
    assert (context.topic, context.entry, context.subject) == (
        "safety",
        "safety-blood-thinners",
        "partner",
    )
    assert "thinners for my" not in repr(context)  # no message text
    clock.now += IDLE_SECONDS - 60
    [why] = talk(companion, "why?")
    assert why.entry == "safety-blood-thinners"
    clock.now += IDLE_SECONDS + 1
    assert companion.contexts.get("c") is None
    [cold] = talk(companion, "why?")
    assert cold.entry != "safety-blood-thinners"
    talk(companion, "where is the kidney point")
    companion.forget("c")
    assert companion.contexts.get("c") is None


def test_without_a_chat_key_nothing_is_remembered(companion) -> None:
    companion.respond("how long does a session take")
    again = companion.respond("and how often?")
    assert len(companion.contexts) == 0  # type: ignore[arg-type]
    assert again.entry != "session-how-often" or again.topic == "session"


def ask_conversation(lines: list[str], *extra: str) -> list[dict]:
    env = dict(os.environ)
    env.pop("TELEGRAM_BOT_TOKEN", None)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", *extra],
        cwd=ROOT,
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_ask_json_conversation_through_a_real_process() -> None:
    lines = [
        "how long does a session usually take",
        "and how often?",
        "thx",
        "---",
        "and how often?",
        "where is the kidney point",
        "what about the bladder?",
    ]
    out = ask_conversation(lines, "--conversation")
    assert len(out) == 6  # "---" prints nothing
    assert [o["entry"] for o in out[:3]] == [
        "session-how-long",
        "session-how-often",
        "greet-thanks",
    ]
    assert all({"topic", "entry", "kind", "reply", "suggestions"} <= o.keys() for o in out)
    assert out[3]["kind"] in ("answer", "clarify", "fallback")  # a new conversation: no context
    assert [o["entry"] for o in out[4:]] == ["map-kidneys", "map-bladder"]
    # Without --conversation every line stands alone and "---" is just a line.
    alone = ask_conversation(["is reflexology ok on blood thinners", "how come?", "---"])
    assert len(alone) == 3 and alone[1]["entry"] != "safety-blood-thinners"


def test_the_terminal_chat_remembers_and_picks_options_by_number(knowledge) -> None:
    out = io.StringIO()
    script = (
        "where is the kidney point\nwhat about the bladder?\n"
        "my job is slowly killing me, need to relax\n2\n"
    )
    companion = Companion(knowledge)
    run_chat(companion, knowledge, stdin=io.StringIO(script + "quit\n"), stdout=out)
    text = out.getvalue()
    bladder = knowledge.entry_by_id["map-bladder"].answer
    assert bladder[:60] in text
    assert "1. " in text and "2. " in text  # the "did you mean" options, numbered
    clarify = companion.respond("my job is slowly killing me, need to relax")
    assert clarify.kind is ReplyKind.CLARIFY
    picked = companion.topic_reply(clarify.suggestions[1]).text
    assert picked[:60] in text


def test_one_long_chat_of_every_labelled_question_never_crashes(companion) -> None:
    """Any turn after any other: the context never breaks a reply (urgent turns included)."""
    rows = []
    for path in sorted((ROOT / "tests" / "data").glob("*.jsonl"))[:6]:
        rows += [json.loads(line)["q"] for line in path.read_text().splitlines() if line.strip()]
    follow_ups = ["why?", "how often?", "is that safe?", "where is that point?", "yes please"]
    for index, question in enumerate(rows):
        reply = companion.respond(question, chat="long")
        assert reply.text.strip()
        extra = companion.respond(follow_ups[index % len(follow_ups)], chat="long")
        assert extra.text.strip()


def test_a_new_detail_about_a_person_goes_to_the_safety_entry(companion) -> None:
    _, detail = talk(companion, "would reflexology help my back pain", "what about diabetes?")
    assert (detail.topic, detail.entry) == ("safety", "safety-diabetes")
    _, mum = talk(companion, "is reflexology safe", "what about for my mum?", chat="m")
    assert mum.entry == "safety-older-people"


def test_context_json_keeps_ids_only_and_reads_damage_as_no_context() -> None:
    from bot.core.conversation import Context, context_from_json, context_to_json

    context = Context(topic="sleep", entry="sleep-how", subject="partner", at=123.0)
    text = context_to_json(context)
    assert "123" not in text  # the store keeps the time on its own clock
    assert context_from_json(text, at=5.0) == context.but(at=5.0)
    assert context_from_json('{"topic": "pain", "from_a_newer_bot": "x"}') == Context(topic="pain")
    assert context_from_json("not json") is None
    assert context_from_json("[1, 2]") is None
    assert context_from_json('{"topic": 7}') == Context()  # a wrong type is dropped


def test_turn_returns_the_context_to_keep_for_callers_that_store_it(companion) -> None:
    first, after = companion.turn("does reflexology help with sleep?", None)
    assert after is not None and after.topic == first.topic
    second, _ = companion.turn("why?", after)
    alone, _ = companion.turn("why?", None)
    assert second.text != alone.text  # read against the context it was given
    assert companion.turn("Wie geht es dir?", after)[1] is None  # foreign: context kept
