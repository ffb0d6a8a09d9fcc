"""Guided routines without Telegram: the run's state machine and the texts.

``RoutineRun`` knows which step is current, whether it is paused and how much of
the current step is left; the clock is injected (``now``) so tests need no sleeps.
The Telegram feature (bot/telegram/routines.py) and the console chat
(bot/console.py) drive it and print the same texts from here.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from bot.core.foot_zones import FOOT_ZONES, WHOLE_FOOT
from bot.core.knowledge.routines import Routine, Step

Clock = Callable[[], float]

FEELINGS: tuple[str, ...] = ("better", "same", "worse")
FEELING_LABELS: dict[str, str] = {
    "better": "🙂 Better",
    "same": "😐 About the same",
    "worse": "🙁 Worse",
}
FEEDBACK_QUESTION = "How do you feel?"
CONTROLS_HINT = "You can pause, skip to the next step or stop at any time."


def step_seconds(step: Step, time_scale: float = 1.0) -> float:
    """How long ``step`` lasts in real seconds once ``time_scale`` is applied."""
    return float(step.seconds) * time_scale


def area_label(area: str) -> str:
    """A short name for a step's area: "Ball of the foot", "Whole foot"."""
    if area == WHOLE_FOOT:
        return "Whole foot"
    label = FOOT_ZONES.get(area, area)
    return label.split(":", 1)[0].strip()


def format_duration(seconds: float) -> str:
    """``30 s``, ``1 min``, ``1 min 30 s``."""
    total = round(seconds)
    minutes, rest = divmod(total, 60)
    if not minutes:
        return f"{rest} s"
    if not rest:
        return f"{minutes} min"
    return f"{minutes} min {rest} s"


class RoutineRun:
    """One person's pass through a routine.

    The current step runs until its (scaled) time is used up; ``pause`` freezes the
    time left and ``resume`` continues with exactly that; ``next`` moves on at once;
    ``stop`` ends the run. A finished run ignores every further command.
    """

    def __init__(
        self, routine: Routine, *, time_scale: float = 1.0, now: Clock = time.monotonic
    ) -> None:
        if not routine.steps:
            raise ValueError(f"routine {routine.id!r} has no steps")
        self.routine = routine
        self.time_scale = time_scale
        self._now = now
        self.index = 0
        self.paused = False
        self.stopped = False
        self._started_at = now()
        self._left_at_pause = 0.0

    @property
    def total_steps(self) -> int:
        return len(self.routine.steps)

    @property
    def finished(self) -> bool:
        """True once the run was stopped or went past its last step."""
        return self.stopped or self.index >= self.total_steps

    @property
    def completed(self) -> bool:
        """True when every step was reached (not stopped early)."""
        return not self.stopped and self.index >= self.total_steps

    @property
    def step(self) -> Step | None:
        """The current step, or None when the run is finished."""
        return None if self.finished else self.routine.steps[self.index]

    @property
    def step_number(self) -> int:
        """The current step counted from 1."""
        return min(self.index, self.total_steps - 1) + 1

    def remaining(self) -> float:
        """Real seconds left on the current step (frozen while paused)."""
        step = self.step
        if step is None:
            return 0.0
        if self.paused:
            return self._left_at_pause
        elapsed = self._now() - self._started_at
        return max(0.0, step_seconds(step, self.time_scale) - elapsed)

    def due(self) -> bool:
        """True when the current step's time is up and the run should move on."""
        return not self.finished and not self.paused and self.remaining() <= 0

    def pause(self) -> bool:
        """Freeze the current step; False when there is nothing to pause."""
        if self.finished or self.paused:
            return False
        self._left_at_pause = self.remaining()
        self.paused = True
        return True

    def resume(self) -> bool:
        """Continue the current step with the time it had left; False if not paused."""
        if self.finished or not self.paused:
            return False
        step = self.step
        assert step is not None
        # Restart the clock as if the used part had just elapsed.
        used = step_seconds(step, self.time_scale) - self._left_at_pause
        self._started_at = self._now() - used
        self.paused = False
        return True

    def next(self) -> Step | None:
        """Move to the next step now (resuming if paused); None when that was the last."""
        if self.finished:
            return None
        self.index += 1
        self.paused = False
        self._started_at = self._now()
        return self.step

    def restart_step(self) -> None:
        """Give the current step its whole time again, counted from now.

        Adapters call this once the step is actually on screen, so a slow send (or the
        first render of a picture) does not eat into the person's time.
        """
        step = self.step
        if step is None:
            return
        if self.paused:
            self._left_at_pause = step_seconds(step, self.time_scale)
        else:
            self._started_at = self._now()

    def advance_if_due(self) -> Step | None:
        """Move on when the current step's time is up; returns the new step or None."""
        return self.next() if self.due() else None

    def stop(self) -> bool:
        """End the run early; False when it had already finished."""
        if self.finished:
            return False
        self.stopped = True
        self.paused = False
        return True


# ---------------------------------------------------------------------------
# Texts shared by Telegram and the console.


def menu_line(routine: Routine) -> str:
    """One line for a list of routines: title, length and purpose."""
    return f"{routine.title} · {format_duration(routine.minutes * 60)}: {routine.purpose}"


def button_label(routine: Routine) -> str:
    """A short button text: "Quick calm · 3 min"."""
    return f"{routine.title} · {format_duration(routine.minutes * 60)}"


def menu_text(routines: Iterable[Routine], *, numbered: bool = False) -> str:
    """The offer of routines; numbered for the console."""
    lines = ["Here are a few guided self-massage routines for relaxation:"]
    for number, routine in enumerate(routines, start=1):
        prefix = f"{number}. " if numbered else "• "
        lines.append(prefix + menu_line(routine))
    return "\n".join(lines)


def intro_text(routine: Routine, safety: str, controls: str = CONTROLS_HINT) -> str:
    """Said before step 1: what the routine is, the safety line and how to steer it."""
    return (
        f"{routine.title} (about {format_duration(routine.minutes * 60)}, "
        f"{len(routine.steps)} steps). {routine.purpose}\n\n"
        f"Before you start: {safety}\n\n"
        f"I'll give you each step when it is time for it. {controls}"
    )


def step_header(routine: Routine, index: int) -> str:
    """``Step 2/6 · 30 s · Ball of the foot`` for the step at ``index`` (from 0)."""
    step = routine.steps[index]
    return (
        f"Step {index + 1}/{len(routine.steps)} · {format_duration(step.seconds)}"
        f" · {area_label(step.area)}"
    )


def step_text(routine: Routine, index: int) -> str:
    """The header and the instruction of one step."""
    return f"{step_header(routine, index)}\n{routine.steps[index].text}"


def progress_bar(done: int, total: int, width: int = 10) -> str:
    """``▰▰▰▱▱▱``: ``done`` of ``total`` steps, at most ``width`` marks."""
    if total <= 0:
        return ""
    marks = min(total, width)
    filled = round(marks * min(max(done, 0), total) / total)
    return "▰" * filled + "▱" * (marks - filled)


def live_step_text(routine: Routine, index: int, left: float, *, paused: bool = False) -> str:
    """One step of a routine shown in its live message: where, progress, time, what to do."""
    step = routine.steps[index]
    total = len(routine.steps)
    clock = f"⏸ paused, {format_duration(left)} left" if paused else f"⏱ {format_duration(left)}"
    return (
        f"Step {index + 1}/{total} · {area_label(step.area)}\n"
        f"{progress_bar(index + 1, total)} {clock}\n\n"
        f"{step.text}"
    )


def interrupted_text(routine: Routine) -> str:
    """Said after a restart of the bot cut a routine short."""
    return (
        f"Sorry, I restarted and {routine.title} was cut short. "
        "Start it again whenever you like with /routine."
    )


ENDED_TEXT = "This routine has ended."


def closing_text(routine: Routine) -> str:
    """Said after the last step."""
    return (
        f"That's the end of {routine.title}. Take a moment before you stand up: some "
        "people feel a little light-headed or sleepy after a foot massage, and a glass "
        "of water may be welcome."
    )


def stopped_text(routine: Routine) -> str:
    """Said when the person stops a routine early."""
    return f"Stopped {routine.title}. You can start a routine again any time with /routine."


def replaced_text(old: Routine, new: Routine) -> str:
    """Said when a new routine replaces one that was still running."""
    return f"Stopping {old.title} and starting {new.title} instead."


def feedback_reply(feeling: str) -> str:
    """The answer to a ``How do you feel?`` choice."""
    if feeling == "better":
        return (
            "Glad to hear it. Thank you for telling me: it helps me see which routines "
            "people find relaxing."
        )
    if feeling == "same":
        return (
            "Thanks for telling me. Relaxation can take a few tries, and another routine "
            "or another time of day may suit you better."
        )
    if feeling == "worse":
        return (
            "I'm sorry it didn't feel good. Please rest and don't repeat the parts that "
            "felt uncomfortable; press more gently next time, or skip it. If pain, "
            "swelling or discomfort lasts, please talk to a doctor. The safety notes "
            "say who should be careful with foot massage."
        )
    raise ValueError(f"unknown feeling {feeling!r}")


__all__ = [
    "CONTROLS_HINT",
    "ENDED_TEXT",
    "FEEDBACK_QUESTION",
    "FEELINGS",
    "FEELING_LABELS",
    "Clock",
    "RoutineRun",
    "area_label",
    "button_label",
    "closing_text",
    "feedback_reply",
    "format_duration",
    "interrupted_text",
    "intro_text",
    "live_step_text",
    "menu_line",
    "menu_text",
    "progress_bar",
    "replaced_text",
    "step_header",
    "step_seconds",
    "step_text",
    "stopped_text",
]
