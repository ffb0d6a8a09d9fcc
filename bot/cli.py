"""Command line: ``python -m bot [run|chat|ask|kb check|eval|maps|review]``.

Every command loads and validates the knowledge base first and refuses a broken
one with every problem listed (file, line, field) and a non-zero exit status.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import sys
from collections.abc import Iterator, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TextIO

from bot.config import ConfigError, Settings, load_settings
from bot.core.knowledge import DEFAULT_DIR, Knowledge, KnowledgeError, load_knowledge

EXIT_BROKEN_KNOWLEDGE = 2
EXIT_CONFIG = 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot",
        description="A Telegram companion that explains foot reflexology. Without a command:"
        " the Telegram bot when TELEGRAM_BOT_TOKEN is set, otherwise a terminal chat.",
    )
    parser.add_argument(
        "--knowledge",
        type=Path,
        default=DEFAULT_DIR,
        metavar="DIR",
        help="folder of the knowledge files (default: %(default)s)",
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the Telegram bot (long polling)")
    chat = sub.add_parser("chat", help="talk to the bot in the terminal (no token needed)")
    chat.add_argument("--fast", action="store_true", help="run routines without waiting")
    ask = sub.add_parser("ask", help="answer questions (arguments, or one per line on stdin)")
    ask.add_argument("--json", action="store_true", help="one JSON object per question")
    ask.add_argument(
        "--conversation",
        action="store_true",
        help="the lines are the turns of one conversation ('---' starts a new one)",
    )
    ask.add_argument("question", nargs="*", help="the question; none: read standard input")
    kb = sub.add_parser("kb", help="knowledge base tools")
    kb_sub = kb.add_subparsers(dest="kb_command", required=True)
    kb_sub.add_parser("check", help="validate every knowledge file")
    evaluate = sub.add_parser("eval", help="accuracy on a labelled .jsonl file")
    evaluate.add_argument("file", type=Path, help='lines of {"q": ..., "expect": [...]}')
    review = sub.add_parser(
        "review", help="group the stored unanswered questions (BOT_REVIEW=on) for editors"
    )
    review.add_argument("--min-count", type=int, default=1, help="hide smaller groups")
    maps = sub.add_parser("maps", help="render every foot map picture to PNG files")
    maps.add_argument("outdir", type=Path, nargs="?", default=Path("out/foot_maps"))
    return parser


def _load(directory: Path, stderr: TextIO) -> Knowledge | None:
    try:
        return load_knowledge(directory)
    except KnowledgeError as exc:
        count = len(exc.problems)
        print(
            f"The knowledge base is broken ({count} problem{'s' if count != 1 else ''}):",
            file=stderr,
        )
        for problem in exc.problems:
            print(f"  {problem}", file=stderr)
        return None


def _utf8_lines(stream: TextIO) -> Iterator[str]:
    """Lines of standard input as UTF-8 that never fail on a bad byte.

    Only ``\n`` ends a line (a trailing ``\r`` is dropped): a lone carriage return
    inside a question is part of it, so one input line always gives one output line.
    """
    buffer = getattr(stream, "buffer", None)
    if buffer is None:
        for line in stream:
            yield line.removesuffix("\n").removesuffix("\r")
        return
    for raw in buffer:
        yield raw.decode("utf-8", errors="replace").removesuffix("\n").removesuffix("\r")


CONVERSATION_BREAK = "---"


class TipPicker:
    """A tip for ``ask``: one sharing a word with the message, else the next in turn."""

    def __init__(self, knowledge: Knowledge) -> None:
        from bot.core.entries import content_stems
        from bot.core.normalize import clean

        self._stems = content_stems
        self._clean = clean
        self._tips = [
            (tip.text, set(content_stems(clean(f"{tip.text} {' '.join(tip.tags)}").split())))
            for tip in knowledge.tips
        ]
        self._next = 0

    def pick(self, text: str) -> str:
        if not self._tips:
            return ""
        wanted = set(self._stems(self._clean(text).split())) - {"tip", "reflexology", "foot"}
        for tip_text, stems in self._tips:
            if wanted & stems:
                return tip_text
        tip_text = self._tips[self._next % len(self._tips)][0]
        self._next += 1
        return tip_text


def cmd_ask(
    knowledge: Knowledge, questions: Sequence[str], as_json: bool, conversation: bool = False
) -> int:
    """Answer the questions given, or every line of standard input, in order.

    With ``conversation`` the lines are turns of one chat (a line ``---`` starts a new
    one and prints nothing); without it every line is answered on its own.
    """
    from bot.core.companion import Companion

    companion = Companion(knowledge)
    out = sys.stdout
    chats = itertools.count(1)
    chat: str | None = f"ask:{next(chats)}" if conversation else None

    tips = TipPicker(knowledge)

    def answer(text: str) -> None:
        reply = companion.respond(text, chat=chat)
        if reply.action == "tip":
            # As the chats do: the tip itself follows "here is a tip" (Telegram sends it
            # as its own message; here it joins the reply, before the caveat).
            head, sep, rest = reply.text.partition("\n\n")
            reply = replace(reply, text=f"{head}\n\n{tips.pick(text)}{sep}{rest}")
        if as_json:
            out.write(json.dumps(reply.as_json(), ensure_ascii=False) + "\n")
        else:
            out.write(reply.text + "\n\n")
        out.flush()

    if questions:
        answer(" ".join(questions))
        return 0
    for line in _utf8_lines(sys.stdin):
        if conversation and line.strip() == CONVERSATION_BREAK:
            companion.forget(chat or "")
            chat = f"ask:{next(chats)}"
            continue
        answer(line)
    return 0


def cmd_kb_check(knowledge: Knowledge) -> int:
    """Print a one-line summary of a valid knowledge base."""
    questions = sum(len(t.questions) for t in knowledge.topics.values())
    entries = sum(len(e) for e in knowledge.entries.values())
    steps = sum(len(r.steps) for r in knowledge.routines.values())
    print(
        f"Knowledge OK: {len(knowledge.topics)} topics ({questions} example questions),"
        f" {entries} entries,"
        f" {len(knowledge.topics_file.out_of_scope)} out-of-scope classes,"
        f" {len(knowledge.red_flags.flags)} red flags, {len(knowledge.routines)} routines"
        f" ({steps} steps), {len(knowledge.tips)} tips in {knowledge.directory}"
    )
    return 0


def cmd_eval(knowledge: Knowledge, path: Path) -> int:
    """Print accuracy figures for a labelled file."""
    from bot.core.companion import Companion
    from bot.core.evaluation import evaluate, format_report, load_rows

    try:
        rows = load_rows(path)
    except (OSError, ValueError) as exc:
        print(f"Cannot read {path}: {exc}", file=sys.stderr)
        return 1
    print(format_report(evaluate(Companion(knowledge), rows)))
    return 0


def cmd_maps(outdir: Path) -> int:
    """Render every foot map variant to PNG files."""
    from bot.pictures.foot_map import render_all

    paths = render_all(outdir)
    for path in paths:
        print(path)
    return 0


def cmd_review(knowledge: Knowledge, data_dir: Path, min_count: int = 1) -> int:
    """Print the unanswered questions of the last 30 days, grouped, with the closest entry."""
    from bot.core.review import format_groups, group_questions
    from bot.insights import INSIGHTS_FILENAME, InsightStore

    if not (data_dir / INSIGHTS_FILENAME).exists():
        print(f"Nothing to review: no {INSIGHTS_FILENAME} in {data_dir} (is BOT_REVIEW=on?).")
        return 0
    store = InsightStore(data_dir)
    try:
        questions = store.review_questions()
    finally:
        store.close()
    groups = group_questions(((q.text, q.kind) for q in questions), knowledge)
    print(format_groups([g for g in groups if g.count >= min_count]), end="")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Parse arguments and run one command; returns the exit status."""
    try:
        return _main(argv)
    except BrokenPipeError:
        # The reader went away (``ask --json | head -1``): stop quietly, as Unix tools do.
        # Point stdout at devnull so the interpreter's final flush cannot raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


def _main(argv: Sequence[str] | None) -> int:
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8", errors="replace")
    args = _parser().parse_args(argv)
    try:
        settings: Settings = load_settings()
    except ConfigError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    command = args.command or ("run" if settings.token else "chat")

    if command == "maps":
        return cmd_maps(args.outdir)
    knowledge = _load(args.knowledge, sys.stderr)
    if knowledge is None:
        return EXIT_BROKEN_KNOWLEDGE
    if command == "kb":
        return cmd_kb_check(knowledge)
    if command == "ask":
        return cmd_ask(knowledge, args.question, args.json, args.conversation)
    if command == "eval":
        return cmd_eval(knowledge, args.file)
    if command == "review":
        return cmd_review(knowledge, settings.data_dir, args.min_count)
    if command == "chat":
        from bot.console import run_chat
        from bot.core.companion import Companion

        return run_chat(
            Companion(knowledge),
            knowledge,
            fast=getattr(args, "fast", False),
            time_scale=settings.time_scale,
            maps_dir=settings.data_dir / "maps",
        )
    from bot.telegram.runner import run

    return run(settings, knowledge)
