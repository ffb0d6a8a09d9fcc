"""Time the whole safety screen (patterns + net + languages) per message.

.venv/bin/python scripts/bench_safety.py
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.core.knowledge import load_knowledge  # noqa: E402
from bot.core.safety import SafetyScreen  # noqa: E402


def main() -> None:
    screen = SafetyScreen(load_knowledge().red_flags)
    lines = [
        json.loads(line)["q"]
        for path in sorted((ROOT / "knowledge" / "safety" / "training").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    for text in lines[:200]:  # warm the caches
        screen.check(text)
        screen.language(text)
    times = []
    for text in lines:
        started = time.perf_counter()
        if screen.check(text) is None:
            screen.language(text)
        times.append(time.perf_counter() - started)
    times.sort()
    ms = [t * 1000 for t in times]
    print(
        f"{len(lines)} messages: mean {statistics.mean(ms):.3f} ms, median "
        f"{ms[len(ms) // 2]:.3f} ms, p99 {ms[int(len(ms) * 0.99)]:.3f} ms, max {ms[-1]:.3f} ms"
    )


if __name__ == "__main__":
    main()
