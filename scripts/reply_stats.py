"""Length and reading grade of the replies to a labelled file (issue 7's reply targets).

    .venv/bin/python scripts/reply_stats.py FILE.jsonl [...]

For every question (facet lines, conversation turns, or plain {"q": ...} lines) the bot's
whole reply is measured, caveat included: words (median, 90th percentile, max, how many
over 160) and Flesch-Kincaid grade (median). Urgent replies are left out of the grade
(they are fixed texts written to be read at once, not answers).
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.companion import Companion  # noqa: E402
from bot.core.evaluation import flesch_kincaid_grade  # noqa: E402
from bot.core.reply import ReplyKind  # noqa: E402

LONGEST = 160


def questions(path: Path) -> list[list[str]]:
    """Each conversation's questions in order (a facet line is a one-turn conversation)."""
    found: list[list[str]] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        turns = row.get("turns")
        found.append([t["q"] for t in turns] if turns else [row["q"]])
    return found


def main(paths: list[str]) -> int:
    companion = Companion.load()
    for name in paths:
        words: list[int] = []
        grades: list[float] = []
        for number, conversation in enumerate(questions(Path(name))):
            chat = f"stats:{number}"
            for question in conversation:
                reply = companion.respond(question, chat=chat)
                words.append(len(reply.text.split()))
                if reply.kind is ReplyKind.ANSWER and not reply.urgent:
                    grades.append(flesch_kincaid_grade(reply.text))
            companion.forget(chat)
        ordered = sorted(words)
        p90 = ordered[int(0.9 * (len(ordered) - 1))]
        over = sum(w > LONGEST for w in words)
        print(
            f"{name}: {len(words)} replies, words median {statistics.median(words):.0f}, "
            f"p90 {p90}, max {max(words)}, over {LONGEST}: {over}; "
            f"grade median {statistics.median(grades):.1f} over {len(grades)} answers"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
