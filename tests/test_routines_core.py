"""The routine state machine and texts, with a fake clock and the real routines.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.foot_zones import AREA_IDS
from bot.core.knowledge.routines import Routine, RoutinesFile, Step, load_routines
from bot.core.knowledge.source import Problems
from bot.core.routines import (
    FEELINGS,
    RoutineRun,
    closing_text,
    feedback_reply,
    format_duration,
    intro_text,
    menu_text,
    step_header,
    step_seconds,
    step_text,
)

ROUTINES_YAML = Path(__file__).resolve().parents[1] / "knowledge" / "routines.yaml"


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture(scope="module")
def routines_file() -> RoutinesFile:
    problems = Problems(ROUTINES_YAML)
    loaded = load_routines(ROUTINES_YAML, problems)
    assert not problems.items, problems.items
    return loaded


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def small_routine() -> Routine:
    return Routine(
        id="test",
        title="Test",
        purpose="Testing.",
        minutes=1,
        steps=(
            Step("warm", 10, "whole-foot"),
            Step("thumb-walk", 20, "chest"),
            Step("hold", 30, "solar-plexus"),
        ),
    )


def test_the_shipped_routines_have_different_lengths_and_safe_wording(
    routines_file: RoutinesFile,
) -> None:
    routines = routines_file.routines
    assert {"quick-calm", "stress-relief", "sleep-wind-down"} <= routines.keys()
    assert len({r.minutes for r in routines.values()}) == len(routines)
    for routine in routines.values():
        assert routine.total_seconds == pytest.approx(routine.minutes * 60, rel=0.25)
        assert all(step.area in AREA_IDS for step in routine.steps)
        # Each one ends with the finishing strokes and uses the solar plexus point.
        assert routine.steps[-1].area == "whole-foot"
        assert any(step.area == "solar-plexus" for step in routine.steps)
        # Relaxation wording only: no promise to cure or treat.
        words = " ".join([routine.purpose, *(s.text for s in routine.steps)]).lower()
        for claim in ("cure", "heal", "treat", "detox"):
            assert claim not in words, (routine.id, claim)
    safety = routines_file.safety.lower()
    for needed in ("wound", "injur", "clot", "pregnan", "stop if"):
        assert needed in safety


def test_steps_come_in_order_when_their_time_is_up(clock: FakeClock) -> None:
    run = RoutineRun(small_routine(), now=clock)
    assert run.step is not None and run.step.text == "warm"
    assert run.remaining() == 10
    clock.advance(9.5)
    assert not run.due() and run.advance_if_due() is None
    clock.advance(0.5)
    assert run.due()
    assert run.advance_if_due() == Step("thumb-walk", 20, "chest")
    assert run.step_number == 2 and run.remaining() == 20
    clock.advance(20)
    assert run.advance_if_due() is not None and run.step_number == 3
    clock.advance(30)
    assert run.advance_if_due() is None  # past the last step: finished, no step
    assert run.finished and run.completed and run.step is None


def test_pause_holds_and_resume_continues_with_the_time_left(clock: FakeClock) -> None:
    run = RoutineRun(small_routine(), now=clock)
    clock.advance(4)
    assert run.pause()
    assert not run.pause()  # already paused
    clock.advance(500)  # a long pause uses none of the step's time
    assert run.remaining() == 6
    assert not run.due() and run.advance_if_due() is None and run.index == 0
    assert run.resume()
    assert not run.resume()
    assert run.remaining() == 6
    clock.advance(5)
    assert not run.due()
    clock.advance(1)
    assert run.due()


def test_next_skips_at_once_and_ends_after_the_last_step(clock: FakeClock) -> None:
    run = RoutineRun(small_routine(), now=clock)
    clock.advance(1)
    assert run.next() == Step("thumb-walk", 20, "chest")
    assert run.remaining() == 20  # a fresh step gets its whole time
    run.pause()
    assert run.next() == Step("hold", 30, "solar-plexus")
    assert not run.paused  # skipping ahead also resumes
    assert run.next() is None
    assert run.finished and run.completed
    assert run.next() is None and not run.stop()


def test_stop_ends_the_run_and_ignores_later_commands(clock: FakeClock) -> None:
    run = RoutineRun(small_routine(), now=clock)
    assert run.stop()
    assert run.finished and not run.completed and run.step is None
    clock.advance(100)
    assert not run.due() and run.advance_if_due() is None
    assert not run.pause() and not run.resume() and run.next() is None
    assert run.remaining() == 0


def test_time_scale_shortens_every_step(clock: FakeClock) -> None:
    routine = small_routine()
    assert step_seconds(routine.steps[2], 0.01) == pytest.approx(0.3)
    run = RoutineRun(routine, time_scale=0.01, now=clock)
    assert run.remaining() == pytest.approx(0.1)
    clock.advance(0.1)
    assert run.advance_if_due() is not None


def test_texts(routines_file: RoutinesFile) -> None:
    quick = routines_file.routines["quick-calm"]
    assert step_header(quick, 1) == "Step 2/6 · 25 s · Ball of the foot"
    assert step_header(quick, 2).endswith("· 1 min · Solar plexus point")
    assert step_text(quick, 0).startswith("Step 1/6 · 20 s · Whole foot\nSit ")
    intro = intro_text(quick, routines_file.safety)
    assert "Quick calm" in intro and routines_file.safety in intro and "pause" in intro
    assert "Quick calm" in closing_text(quick)
    menu = menu_text(routines_file.routines.values(), numbered=True)
    assert menu.splitlines()[1].startswith("1. ") and "3 min" in menu
    durations = [format_duration(s) for s in (5, 60, 90, 600)]
    assert durations == ["5 s", "1 min", "1 min 30 s", "10 min"]
    for feeling in FEELINGS:
        assert feedback_reply(feeling)
    assert "doctor" in feedback_reply("worse") and "safety" in feedback_reply("worse")
    with pytest.raises(ValueError):
        feedback_reply("ecstatic")


def test_restart_step_gives_the_whole_time_again(clock: FakeClock) -> None:
    run = RoutineRun(small_routine(), now=clock)
    clock.advance(3)  # e.g. the step took a while to send
    run.restart_step()
    assert run.remaining() == 10
    clock.advance(2)
    run.pause()
    run.restart_step()
    assert run.paused and run.remaining() == 10
    run.stop()
    run.restart_step()
    assert run.remaining() == 0
