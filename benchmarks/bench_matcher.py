"""Time Companion.respond, and the matcher alone, over every labelled question.

    .venv/bin/python benchmarks/bench_matcher.py [--repeat N]

Loads the knowledge base once, then answers every question of
every labelled file under tests/data N times (the first pass
warms the typo-correction cache, as a running bot would be). Prints median,
p95 and mean microseconds per question, and the load time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def questions() -> list[str]:
    files = sorted((ROOT / "tests" / "data").rglob("*.jsonl"))
    found: list[str] = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                turns = row.get("turns") or [row]  # conversations: every turn
                found.extend(str(turn["q"]) for turn in turns)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()

    started = time.perf_counter()
    from bot.core.companion import Companion
    from bot.core.knowledge import load_knowledge

    knowledge = load_knowledge()
    loaded = time.perf_counter()
    companion = Companion(knowledge)
    built = time.perf_counter()

    items = questions()
    cold: list[float] = []
    for text in items:
        t0 = time.perf_counter()
        companion.respond(text)
        cold.append((time.perf_counter() - t0) * 1e6)
    times: list[float] = []
    for _ in range(args.repeat):
        for text in items:
            t0 = time.perf_counter()
            companion.respond(text)
            times.append((time.perf_counter() - t0) * 1e6)
    matching: list[float] = []
    for _ in range(args.repeat):
        for text in items:
            t0 = time.perf_counter()
            companion.match(text)
            matching.append((time.perf_counter() - t0) * 1e6)
    times.sort()
    p95 = times[int(0.95 * (len(times) - 1))]
    print(f"questions: {len(items)} x {args.repeat} repetitions")
    print(f"load knowledge: {(loaded - started) * 1000:.1f} ms (including imports)")
    print(f"build companion: {(built - loaded) * 1000:.1f} ms")
    print(
        f"first pass:  median {statistics.median(cold):.0f} us, "
        f"mean {statistics.fmean(cold):.0f} us"
    )
    print(
        f"warm passes: median {statistics.median(times):.0f} us, p95 {p95:.0f} us, "
        f"mean {statistics.fmean(times):.0f} us"
    )
    print(
        f"matcher alone: median {statistics.median(matching):.0f} us, "
        f"mean {statistics.fmean(matching):.0f} us"
    )


if __name__ == "__main__":
    main()
