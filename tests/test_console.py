"""The terminal chat (``run_chat``) with in-memory input and output, the real Companion
and the real knowledge base."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from bot.console import BANNER, GOODBYE, MAX_LINE, run_chat
from bot.core.companion import Companion
from bot.core.reply import Reply
from bot.core.routines import step_seconds


class SpyCompanion:
    """The real Companion, remembering what it was asked and what it answered."""

    def __init__(self, knowledge) -> None:
        self.real = Companion(knowledge)
        self.asked: list[str] = []
        self.replies: list[Reply] = []

    def respond(self, text: str, chat: str | None = None) -> Reply:
        self.asked.append(text)
        reply = self.real.respond(text, chat=chat)
        self.replies.append(reply)
        return reply

    def topic_reply(self, topic_id: str) -> Reply:
        return self.real.topic_reply(topic_id)

    def choose(self, choice: str, chat: str | None = None) -> Reply:
        reply = self.real.choose(choice, chat=chat)
        self.replies.append(reply)
        return reply


class Terminal(io.StringIO):
    """An output stream that says it is a terminal (so the countdown is drawn)."""

    def isatty(self) -> bool:
        return True


def chat(knowledge, text: str, **kwargs) -> tuple[int, str, SpyCompanion]:
    companion = SpyCompanion(knowledge)
    out = kwargs.pop("stdout", None) or io.StringIO()
    kwargs.setdefault("sleep", _no_real_sleep)
    status = run_chat(companion, knowledge, stdin=io.StringIO(text), stdout=out, **kwargs)
    return status, out.getvalue(), companion


def _no_real_sleep(seconds: float) -> None:
    raise AssertionError(f"slept {seconds} s although fast=True")


def test_a_routine_runs_fast_in_order_and_asks_how_you_feel(knowledge) -> None:
    status, out, companion = chat(knowledge, "routine\n1\nbetter\nquit\n", fast=True)
    assert status == 0
    routine = next(iter(knowledge.routines.values()))
    positions = [out.index(f"Step {i}/{len(routine.steps)} · ") for i in range(1, 7)]
    assert positions == sorted(positions)
    for step in routine.steps:
        assert step.text in out
    assert knowledge.routines_file.safety in out
    assert out.index(knowledge.routines_file.safety) < positions[0]
    assert out.index("How do you feel?") > positions[-1]
    assert "Glad to hear it" in out
    assert out.startswith(BANNER) and out.rstrip().endswith(GOODBYE)
    # Typed commands and answers to the bot's own questions never reach the matcher.
    assert companion.asked == []


def test_routine_by_name_and_worse_feedback_points_to_safety(knowledge) -> None:
    _, out, _ = chat(knowledge, "/routine sleep-wind-down\nworse\n", fast=True)
    assert "Step 14/14" in out and "Sleep wind-down" in out
    assert "doctor" in out and "is it safe?" in out


def test_the_countdown_waits_each_scaled_step(knowledge) -> None:
    slept: list[float] = []
    terminal = Terminal()
    status, out, _ = chat(
        knowledge, "/routine quick-calm\n", time_scale=0.01, sleep=slept.append, stdout=terminal
    )
    assert status == 0
    routine = knowledge.routines["quick-calm"]
    expected = sum(step_seconds(step, 0.01) for step in routine.steps)
    assert sum(slept) == pytest.approx(expected)
    assert all(0 < s <= 1 for s in slept)
    assert " left " in out  # the countdown line in a terminal


def test_the_countdown_ticks_once_a_second_at_full_speed(knowledge) -> None:
    slept: list[float] = []
    chat(knowledge, "/routine quick-calm\n", sleep=slept.append)
    assert len(slept) == 180 and sum(slept) == pytest.approx(180)


def test_ctrl_c_stops_a_routine_and_the_chat_goes_on(knowledge) -> None:
    def interrupted(seconds: float) -> None:
        raise KeyboardInterrupt

    status, out, _ = chat(knowledge, "/routine quick-calm\nquit\n", sleep=interrupted)
    assert status == 0
    assert "Step 1/6" in out and "Step 2/6" not in out
    assert "Stopped Quick calm" in out and "How do you feel?" not in out
    assert out.rstrip().endswith(GOODBYE)


def test_quit_and_exit_stop_reading(knowledge) -> None:
    for word in ("quit", "EXIT", "  quit  "):
        status, out, companion = chat(knowledge, f"{word}\nwhat is reflexology\n")
        assert status == 0
        assert companion.asked == []
        assert out == f"{BANNER}\n{GOODBYE}\n"


def test_end_of_input_ends_the_chat_after_the_last_line(knowledge) -> None:
    status, out, companion = chat(knowledge, "what is reflexology")
    assert status == 0
    assert companion.asked == ["what is reflexology"]
    assert companion.replies[0].text in out
    assert out.rstrip().endswith(GOODBYE)
    status, out, companion = chat(knowledge, "")
    assert (status, companion.asked) == (0, [])


def test_empty_lines_emoji_control_characters_and_long_lines(knowledge) -> None:
    long_line = "y" * 5000
    text = f"\n   \n🦶🦶 😴\nhello\x00\x1b[31m\x07 there\n{long_line}\nwhat is reflexology\n"
    status, out, companion = chat(knowledge, text)
    assert status == 0
    assert out.count("(Type a question") == 2  # each empty line gets a hint, not the matcher
    assert companion.asked[0] == "🦶🦶 😴"
    assert companion.asked[1] == "hello [31m there"
    assert companion.asked[2] == "y" * MAX_LINE
    assert companion.asked[3] == "what is reflexology"
    for reply in companion.replies:
        assert reply.text in out


def test_undecodable_input_bytes_do_not_crash(knowledge) -> None:
    raw = io.TextIOWrapper(io.BytesIO(b"\xff\xfe hello \xc3\nquit\n"), encoding="utf-8")
    out = io.StringIO()
    companion = SpyCompanion(knowledge)
    assert run_chat(companion, knowledge, stdin=raw, stdout=out) == 0
    assert companion.asked == ["\ufffd\ufffd hello \ufffd"]


def test_suggestions_are_listed_by_name(knowledge) -> None:
    _, out, companion = chat(knowledge, "what is reflexology\n")
    reply = companion.replies[0]
    assert reply.suggestions, "the what-is topic is expected to offer follow-ups"
    line = next(line for line in out.splitlines() if line.startswith("You could also ask about: "))
    for topic_id in reply.suggestions:
        topic = knowledge.topics[topic_id]
        assert (topic.button or topic.title) in line


def test_routine_topic_lists_routines_and_a_number_starts_one(knowledge) -> None:
    _, out, companion = chat(
        knowledge, "can you guide me through a foot self-massage routine?\n2\n", fast=True
    )
    assert companion.replies[0].topic == "routine"
    second = list(knowledge.routines.values())[1]
    assert "1. " in out and f"2. {second.title}" in out
    assert f"Step 1/{len(second.steps)}" in out
    assert len(companion.asked) == 1  # "2" picked a routine, it was not a question


def test_tip_topic_prints_a_tip(knowledge) -> None:
    _, out, companion = chat(knowledge, "give me a tip\n")
    assert companion.replies[0].topic == "tip"
    tip_line = next(line for line in out.splitlines() if line.startswith("Tip: "))
    assert tip_line.removeprefix("Tip: ") in {tip.text for tip in knowledge.tips}


def test_foot_map_topic_points_to_the_pictures(knowledge) -> None:
    _, out, companion = chat(knowledge, "which part of the foot matches which part of the body\n")
    assert companion.replies[0].topic == "foot-map"
    assert "python -m bot maps" in out  # no folder for pictures: how to draw them


def test_a_map_answer_saves_its_highlighted_chart_and_says_where(knowledge, tmp_path) -> None:
    from PIL import Image

    maps = tmp_path / "maps"
    _, out, companion = chat(knowledge, "where is the kidney point?\n", maps_dir=maps)
    reply = companion.replies[0]
    assert reply.topic == "foot-map"
    [saved] = [line for line in out.splitlines() if "saved as a picture" in line]
    path = Path(saved.rsplit(": ", 1)[1])
    assert path.parent == maps and "kidney" in path.name
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width >= 400


def test_an_interactive_terminal_gets_a_prompt(knowledge) -> None:
    class Keyboard(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = io.StringIO()
    status = run_chat(SpyCompanion(knowledge), knowledge, stdin=Keyboard("hello\n"), stdout=out)
    assert status == 0
    assert out.getvalue().count("You: ") == 2  # before "hello" and before end of input
    assert out.getvalue().endswith(f"You: \n{GOODBYE}\n")
