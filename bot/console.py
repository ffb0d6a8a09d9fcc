"""Terminal chat: ``python -m bot chat [--fast]``, no token needed.

The same core as Telegram answers every line: ``Companion.respond`` gives the text
and the suggested topics; a routine runs step by step with a countdown (``fast``
skips the waiting, for demos and tests); a tip comes from the knowledge base.
Quit with ``quit``, ``exit``, Ctrl-D (end of input) or Ctrl-C.
"""

from __future__ import annotations

import itertools
import sys
import time
import unicodedata
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.core.knowledge import Knowledge, Routine
from bot.core.reply import Reply, ReplyKind
from bot.core.routines import (
    FEEDBACK_QUESTION,
    FEELINGS,
    closing_text,
    feedback_reply,
    format_duration,
    intro_text,
    menu_text,
    step_seconds,
    step_text,
)

if TYPE_CHECKING:
    from bot.core.companion import Companion

PROMPT = "You: "
QUIT_WORDS = frozenset({"quit", "exit", "/quit", "/exit"})
ROUTINE_WORDS = frozenset({"routine", "/routine", "routines", "/routines"})
# Telegram's own cap on a message; longer lines are cut rather than refused.
MAX_LINE = 4096
BANNER = (
    "Hello! I can explain foot reflexology: what it is, what it may help with, what the "
    "evidence says and how to try it safely. Type 'routine' for a guided self-massage, "
    "'quit' to leave."
)
GOODBYE = "Goodbye, and take care of your feet."
MAP_HINT = "(Every chart picture at once: python -m bot maps out/foot_maps)"
MAP_SAVED = "The chart for this answer is saved as a picture: {path}"
FAST_NOTE = "(Fast mode: the steps follow each other without waiting.)"
# The terminal is one chat: its conversation context lives under this key.
CHAT_KEY = "console"
PICK_HINT = "(Type a number to pick one.)"


def _is_tty(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty and isatty())
    except (ValueError, OSError):
        return False


def _read_lines(stdin: TextIO) -> Iterator[str]:
    """Lines of input without their newline; undecodable bytes become U+FFFD."""
    buffer = getattr(stdin, "buffer", None)
    while True:
        if buffer is not None and not _is_tty(stdin):
            raw = buffer.readline()
            if not raw:
                return
            line = raw.decode("utf-8", errors="replace")
        else:
            line = stdin.readline()
            if not line:
                return
        yield line.rstrip("\r\n")


def clean_line(text: str) -> str:
    """Control characters become spaces; the line is stripped and cut to MAX_LINE."""
    cleaned = "".join(" " if unicodedata.category(ch) in ("Cc", "Cs") else ch for ch in text)
    return " ".join(cleaned.split())[:MAX_LINE]


class ConsoleChat:
    """One terminal conversation; ``run`` returns the exit status."""

    def __init__(
        self,
        companion: Companion,
        knowledge: Knowledge,
        *,
        fast: bool,
        time_scale: float,
        stdin: TextIO,
        stdout: TextIO,
        sleep: Callable[[float], None],
        maps_dir: Path | None = None,
    ) -> None:
        self.companion = companion
        self.maps_dir = maps_dir  # where the foot-map answers' pictures go (None: a hint)
        self.knowledge = knowledge
        self.fast = fast
        self.time_scale = time_scale
        self.stdin = stdin
        self.stdout = stdout
        self.sleep = sleep
        self.interactive = _is_tty(stdin)
        self.countdown = _is_tty(stdout)
        self.routines: list[Routine] = list(knowledge.routines.values())
        self._tips = itertools.cycle(knowledge.tips) if knowledge.tips else None
        self._lines = _read_lines(stdin)
        # What the last thing we said is waiting for: a routine number or a feeling.
        self._pending: tuple[str, Routine | None] | None = None
        # The options of the last "did you mean ...?", pickable by number.
        self._options: tuple[str, ...] = ()

    # -- output ---------------------------------------------------------------------

    def say(self, text: str = "") -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def _read(self) -> str | None:
        if self.interactive:
            self.stdout.write(PROMPT)
            self.stdout.flush()
        return next(self._lines, None)

    def show_map(self, reply: Reply) -> None:
        """A terminal cannot show pictures: draw the answer's chart and say where it is."""
        if self.maps_dir is None:
            self.say(MAP_HINT)
            return
        from bot.core.foot_zones import map_picture
        from bot.pictures.foot_map import render_foot_map

        picture = map_picture(reply.entry, self.knowledge)
        path = self.maps_dir / f"foot_map_{picture.zone or 'all'}.png"
        try:
            self.maps_dir.mkdir(parents=True, exist_ok=True)
            path.write_bytes(render_foot_map(picture.zone, self.knowledge.foot_map))
        except OSError as exc:  # a read-only folder: the answer stands without its picture
            self.say(f"(The chart picture could not be saved: {exc.strerror or exc})")
            self.say(MAP_HINT)
            return
        self.say(MAP_SAVED.format(path=path))
        if picture.zone:
            self.say(f"({picture.line})")

    # -- the loop -------------------------------------------------------------------

    def run(self) -> int:
        self.say(BANNER)
        try:
            while True:
                line = self._read()
                if line is None:
                    if self.interactive:
                        self.say()  # Ctrl-D leaves the cursor after the prompt
                    break
                if not self.handle(line):
                    break
        except KeyboardInterrupt:
            self.say()
        self.say(GOODBYE)
        return 0

    def handle(self, raw: str) -> bool:
        """Answer one line; False when the person wants to quit."""
        text = clean_line(raw)
        if not text:
            if self._pending is None:
                self.say("(Type a question about foot reflexology, or 'quit' to leave.)")
            self._pending = None
            return True
        lowered = text.lower()
        if lowered in QUIT_WORDS:
            return False
        pending, self._pending = self._pending, None
        if pending is not None and self._answer_pending(pending, text):
            return True
        options, self._options = self._options, ()
        picked = _pick(options, text)
        if picked is not None:
            self.show(self.companion.choose(picked, chat=CHAT_KEY))
            return True
        first, _, rest = lowered.partition(" ")
        if first in ROUTINE_WORDS:
            chosen = self._find_routine(rest) if rest else None
            if chosen is not None:
                self.run_routine(chosen)
            else:
                self.offer_routines()
            return True
        self.answer(text)
        return True

    def _answer_pending(self, pending: tuple[str, Routine | None], text: str) -> bool:
        what, routine = pending
        if what == "pick":
            chosen = self._find_routine(text)
            if chosen is None:
                return False
            self.run_routine(chosen)
            return True
        if what == "feedback" and routine is not None:
            feeling = _feeling(text)
            if feeling is None:
                return False
            self.say(feedback_reply(feeling))
            if feeling == "worse":
                self.say('(Ask me "is it safe?" to read them.)')
            return True
        return False

    def _find_routine(self, text: str) -> Routine | None:
        wanted = text.strip().lower().removeprefix("#").rstrip(".")
        if wanted.isdigit() and 1 <= int(wanted) <= len(self.routines):
            return self.routines[int(wanted) - 1]
        for routine in self.routines:
            if wanted in (routine.id, routine.title.lower()):
                return routine
        return None

    # -- answers --------------------------------------------------------------------

    def answer(self, text: str) -> None:
        self.show(self.companion.respond(text, chat=CHAT_KEY))

    def show(self, reply: Reply) -> None:
        """Print a reply with what the terminal adds: numbered options, a tip, routines."""
        if reply.kind is ReplyKind.CLARIFY:
            lines = reply.text.split("\n")
            head = lines[0]
            names = [self._topic_name(t) for t in reply.suggestions]
            numbered = [f"{i}. {name}" for i, name in enumerate(names, 1)]
            self.say("\n".join([head, *numbered, PICK_HINT]))
            self._options = reply.suggestions
            return
        self.say(reply.text)
        action = reply.action or ""
        if reply.topic == "tip" or action == "tip":
            self.give_tip()
        elif reply.topic == "foot-map":
            self.show_map(reply)
        if reply.suggestions:
            names = [self._topic_name(topic_id) for topic_id in reply.suggestions]
            self.say("You could also ask about: " + ", ".join(names))
        chosen = self.knowledge.routines.get(action.removeprefix("routine:"))
        if action.startswith("routine:") and chosen is not None:
            self.run_routine(chosen)
        elif reply.topic == "routine" or action == "routine-menu":
            self.offer_routines()  # last, so its question is the last thing on screen

    def _topic_name(self, topic_id: str) -> str:
        topic = self.knowledge.topics.get(topic_id)
        if topic is None:
            return topic_id
        return getattr(topic, "button", None) or topic.title

    def give_tip(self) -> None:
        if self._tips is not None:
            self.say("Tip: " + next(self._tips).text)

    def offer_routines(self) -> None:
        if not self.routines:
            self.say("There are no routines to offer right now.")
            return
        self.say(menu_text(self.routines, numbered=True))
        self.say("Type a number to start one (or ask me something else).")
        self._pending = ("pick", None)

    # -- a routine ------------------------------------------------------------------

    def run_routine(self, routine: Routine) -> None:
        controls = FAST_NOTE if self.fast else "Press Ctrl-C to stop the routine."
        self.say(intro_text(routine, self.knowledge.routines_file.safety, controls))
        try:
            for index, step in enumerate(routine.steps):
                self.say()
                self.say(step_text(routine, index))
                if not self.fast:
                    self._wait(step_seconds(step, self.time_scale))
        except KeyboardInterrupt:
            self.say()
            self.say(f"Stopped {routine.title}. Type 'routine' to start one again.")
            return
        self.say()
        self.say(closing_text(routine))
        self.say(f"{FEEDBACK_QUESTION} (better / same / worse)")
        self._pending = ("feedback", routine)

    def _wait(self, seconds: float) -> None:
        """Wait ``seconds``, showing the time left on one line in a terminal."""
        left = seconds
        while left > 0:
            if self.countdown:
                self.stdout.write(f"\r  {format_duration(left):>10} left ")
                self.stdout.flush()
            tick = min(1.0, left)
            self.sleep(tick)
            left -= tick
        if self.countdown:
            self.stdout.write("\r" + " " * 18 + "\r")
            self.stdout.flush()


def _pick(options: tuple[str, ...], text: str) -> str | None:
    """The option picked by its number ("2", "#2", "2."), if any."""
    wanted = text.strip().removeprefix("#").rstrip(".)")
    if options and wanted.isdigit() and 1 <= int(wanted) <= len(options):
        return options[int(wanted) - 1]
    return None


def _feeling(text: str) -> str | None:
    word = text.strip().lower().rstrip(".!")
    aliases = {"1": "better", "2": "same", "3": "worse", "about the same": "same"}
    word = aliases.get(word, word)
    return word if word in FEELINGS else None


def run_chat(
    companion: Companion,
    knowledge: Knowledge,
    *,
    fast: bool = False,
    time_scale: float = 1.0,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    sleep: Callable[[float], None] = time.sleep,
    maps_dir: Path | None = None,
) -> int:
    """Chat in the terminal until quit or end of input; returns the exit status."""
    chat = ConsoleChat(
        companion,
        knowledge,
        fast=fast,
        time_scale=time_scale,
        stdin=stdin if stdin is not None else sys.stdin,
        stdout=stdout if stdout is not None else sys.stdout,
        sleep=sleep,
        maps_dir=maps_dir,
    )
    return chat.run()


__all__ = ["BANNER", "GOODBYE", "ConsoleChat", "clean_line", "run_chat"]
