"""Benchmark: one day's tips for 10,000 subscribers, through the real code path.

The bot side is the real thing: a temporary SQLite database with N subscribers, the
real Application from ``build_application`` talking HTTP (httpx) to a Bot API server
on 127.0.0.1, and ``dispatch_due_tips`` doing the day claims, the tip rotation and
the sends. The server runs in a separate process, so the CPU time and memory measured
here are the bot's alone. It can enforce Telegram-like limits (a bucket of 30 messages
refilled at 30/s overall, 1 message/s per chat; above that: 429 with retry_after 1).

Phases:
1. pacing off, limits off, 10,000 subscribers: our own overhead (messages/s, CPU time,
   peak memory: RSS growth, and the Python heap peak from tracemalloc in a second run);
2. pacing on (30/s), limits on, 300 subscribers: holds near 30 messages/s, zero 429s;
3. pacing off, limits on, 300 subscribers: what the limits do to an unpaced sender
   (429s, each waited out and retried; everyone still gets exactly one tip).

Run:  .venv/bin/python benchmarks/bench_daily_tips.py [--subscribers 10000] [--paced 300]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import multiprocessing
import resource
import sys
import tempfile
import time
import tracemalloc
from collections import deque
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 6, 1, 9, 0, 30, tzinfo=UTC)
HOST = "127.0.0.1"
BOT_USER = {"id": 1, "is_bot": True, "first_name": "Bench", "username": "bench_bot"}

# -- the Bot API server (child process) ----------------------------------------------------


class Limits:
    """Telegram-like flood limits: a 30-message bucket refilled at 30/s, 1/s per chat."""

    def __init__(self, rate: float = 30.0, per_chat: float = 1.0) -> None:
        self.rate = rate
        self.per_chat = per_chat
        self.tokens = rate
        self.updated = time.monotonic()
        self.chat_last: dict[int, float] = {}

    def allow(self, chat_id: int) -> bool:
        now = time.monotonic()
        self.tokens = min(self.rate, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if now - self.chat_last.get(chat_id, -1e9) < self.per_chat or self.tokens < 1:
            return False
        self.tokens -= 1
        self.chat_last[chat_id] = now
        return True


def serve(conn: Any) -> None:
    """Child process: serve the Bot API on a free loopback port; commands over ``conn``."""
    from aiohttp import web

    state: dict[str, Any] = {"limits": None, "accepted": [], "rejected": 0, "message_id": 0}

    async def handle(request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if method == "getMe":
            return web.json_response({"ok": True, "result": BOT_USER})
        if method != "sendMessage":
            return web.json_response({"ok": True, "result": True})
        if request.content_type == "application/json":
            params = await request.json()
        else:
            params = dict(await request.post())
        chat_id = int(params["chat_id"])
        limits: Limits | None = state["limits"]
        if limits is not None and not limits.allow(chat_id):
            state["rejected"] += 1
            body = {
                "ok": False,
                "error_code": 429,
                "description": "Too Many Requests: retry after 1",
                "parameters": {"retry_after": 1},
            }
            return web.json_response(body, status=429)
        state["accepted"].append((time.monotonic(), chat_id))
        state["message_id"] += 1
        message = {
            "message_id": state["message_id"],
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "Reader"},
            "from": BOT_USER,
            "text": str(params.get("text", "")),
        }
        return web.json_response({"ok": True, "result": message})

    async def main() -> None:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, HOST, 0, backlog=1024)
        await site.start()
        conn.send(site._server.sockets[0].getsockname()[1])  # type: ignore[union-attr]
        loop = asyncio.get_running_loop()
        while True:
            command, arg = await loop.run_in_executor(None, conn.recv)
            if command == "reset":
                state.update(limits=Limits() if arg else None, accepted=[], rejected=0)
                conn.send("ok")
            elif command == "stats":
                times = [t for t, _ in state["accepted"]]
                chats = [c for _, c in state["accepted"]]
                conn.send(
                    {
                        "accepted": len(times),
                        "distinct_chats": len(set(chats)),
                        "rejected_429": state["rejected"],
                        "max_in_any_second": _max_in_window(times, 1.0),
                        "span_s": (times[-1] - times[0]) if len(times) > 1 else 0.0,
                    }
                )
            elif command == "stop":
                await runner.cleanup()
                conn.send("bye")
                return

    asyncio.run(main())


def _max_in_window(times: list[float], window: float) -> int:
    best, recent = 0, deque[float]()
    for t in times:
        recent.append(t)
        while recent[0] <= t - window:
            recent.popleft()
        best = max(best, len(recent))
    return best


# -- the bot side (this process) ---------------------------------------------------------


def seed(data_dir: Path, subscribers: int) -> None:
    """N subscribers at 09:00 UTC, yesterday's tip already sent."""
    from bot.storage import DB_FILENAME
    from bot.storage.sqlite import Database

    store = Database.open(data_dir / DB_FILENAME)
    with store._transaction() as db:  # one transaction: seeding is not what we measure
        db.executemany(
            "INSERT INTO users (chat_id, daily_time, subscribed, last_sent)"
            " VALUES (?, '09:00', 1, '2026-05-31')",
            [(100_000 + i,) for i in range(subscribers)],
        )
    store.close()


async def one_day(base_url: str, subscribers: int, paced: bool, trace: bool) -> dict[str, Any]:
    """Build the bot over a fresh database and run one dispatcher pass; return figures."""
    from bot.config import Settings
    from bot.core.knowledge import load_knowledge
    from bot.telegram import tips as tips_feature
    from bot.telegram.app import build_application
    from bot.telegram.delivery import PacedSender

    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        seed(data_dir, subscribers)
        settings = Settings(token="1:BENCH", base_url=base_url, data_dir=data_dir)
        application = build_application(replace(settings), load_knowledge())
        sender = PacedSender(rate=30.0 if paced else None)  # default: 16 in flight
        state = tips_feature.runtime(application)
        state.sender = sender
        await application.initialize()
        try:
            store = application.bot_data["services"].store
            scan_start = time.perf_counter()
            due = [s for s in await store.subscribers() if tips_feature._due(s, NOW)]
            scan_ms = (time.perf_counter() - scan_start) * 1000
            gc.collect()
            if trace:
                tracemalloc.start()
            rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            cpu_before = time.process_time()
            wall_before = time.perf_counter()
            report = await tips_feature.dispatch_due_tips(application, NOW)
            wall = time.perf_counter() - wall_before
            cpu = time.process_time() - cpu_before
            rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            heap_peak = tracemalloc.get_traced_memory()[1] if trace else None
            if trace:
                tracemalloc.stop()
            claimed_today = sum(1 for s in await store.subscribers() if s.last_sent == "2026-06-01")
        finally:
            await application.shutdown()
            await application.post_shutdown(application)
    return {
        "subscribers": subscribers,
        "due": len(due),
        "due_scan_ms": round(scan_ms, 1),
        "sent": report.sent,
        "retry_later": report.retry_later,
        "claimed_today": claimed_today,
        "wall_s": round(wall, 2),
        "messages_per_s": round(report.sent / wall, 1) if wall else None,
        "cpu_s": round(cpu, 2),
        "cpu_ms_per_message": round(cpu * 1000 / max(report.sent, 1), 3),
        "peak_rss_mb": round(rss_after / 1024, 1),
        "rss_growth_mb": round((rss_after - rss_before) / 1024, 1),
        "python_heap_peak_mb": round(heap_peak / 2**20, 1) if heap_peak is not None else None,
        "sender_429s_seen": sender.stats.rate_limited,
        "sender_retries": sender.stats.retries,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the three phases and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--paced", type=int, default=300)
    parser.add_argument("--no-trace", action="store_true", help="skip the tracemalloc run")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)

    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe()
    server = context.Process(target=serve, args=(child,), daemon=True)
    server.start()
    try:
        port = parent.recv()
        base_url = f"http://{HOST}:{port}/bot"
        results: dict[str, Any] = {}

        def phase(name: str, count: int, paced: bool, limits: bool, trace: bool = False) -> None:
            parent.send(("reset", limits))
            parent.recv()
            figures = asyncio.run(one_day(base_url, count, paced, trace))
            parent.send(("stats", None))
            figures["server"] = parent.recv()
            results[name] = figures
            print(f"\n== {name}\n{json.dumps(figures, indent=2)}", flush=True)

        phase("1. overhead: pacing off, no limits", args.subscribers, paced=False, limits=False)
        if not args.no_trace:
            phase(
                "1b. same with tracemalloc (Python heap peak; slower)",
                args.subscribers,
                paced=False,
                limits=False,
                trace=True,
            )
        phase("2. paced at 30/s against Telegram-like limits", args.paced, paced=True, limits=True)
        phase("3. unpaced against the same limits", args.paced, paced=False, limits=True)
    finally:
        parent.send(("stop", None))
        parent.recv()
        server.join(5)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
