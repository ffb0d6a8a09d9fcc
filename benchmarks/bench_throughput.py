"""Messages per second of the real bot against a bare python-telegram-bot echo bot.

    .venv/bin/python benchmarks/bench_throughput.py [--chats 200] [--per-chat 5] [--rounds 3]
    .venv/bin/python benchmarks/bench_throughput.py --profile bot   # cProfile of the bot's rounds

One run starts the loopback Bot API server (tests/support/bot_api_server.py) without
flood limits in a child process, so its own CPU is not charged to either bot, and then,
in turns, the real bot (``build_application``, knowledge base, SQLite, HTTP) and an echo
bot (PTB's ``ApplicationBuilder`` with one ``MessageHandler`` answering each text with
``send_message``) with the same concurrency (64 updates at once) and the same INFO
logging. Each round pushes the same burst, ``--chats`` chats x ``--per-chat`` questions,
and the server times it from the first update queued to the last reply received. The
best round of each is printed, with their ratio, and the matcher's time per question
(``Matcher.match`` and the whole ``Companion.respond``) over the labelled questions.
The bot's reply pacing is switched off: the server sets no limits, and the subject is the
bot's own cost per message.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import logging
import multiprocessing as mp
import pstats
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

QUESTIONS = (
    "what is reflexology?",
    "does it really work?",
    "how long is a session?",
    "is it safe in pregnancy?",
    "can it help with stress?",
)
TOKEN = "123456:BENCHMARK"


# -- the server, in its own process -------------------------------------------------------


def _serve(conn: Connection) -> None:
    from tests.support.bot_api_server import BotApiServer

    async def main() -> None:
        async with BotApiServer() as server:
            server.max_long_poll = 0.2
            conn.send(server.base_url)
            while True:
                command = await asyncio.to_thread(conn.recv)
                if command is None:
                    return
                chats, per_chat, first_chat = command
                await server.wait_for(
                    lambda calls: any(c.method == "getUpdates" for c in calls), timeout=30
                )
                before = len(server.sent("sendMessage"))
                started = time.perf_counter()
                for index in range(per_chat):
                    for chat in range(first_chat, first_chat + chats):
                        server.push_text(chat, QUESTIONS[index % len(QUESTIONS)])
                total = before + chats * per_chat
                await server.wait_for(
                    lambda _c, total=total: len(server.sent("sendMessage")) >= total,
                    timeout=300,
                )
                elapsed = time.perf_counter() - started
                server.calls.clear()  # keep the server's own bookkeeping flat across rounds
                conn.send(elapsed)

    asyncio.run(main())


# -- the two bots -------------------------------------------------------------------------


def _echo_application(base_url: str) -> Any:
    from telegram import Update
    from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        if message is not None and message.text:
            await context.bot.send_message(message.chat_id, message.text)

    application = (
        ApplicationBuilder().token(TOKEN).base_url(base_url).concurrent_updates(64).build()
    )
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return application


def _bot_application(base_url: str, data_dir: Path, knowledge: Any, companion: Any) -> Any:
    from bot.config import Settings
    from bot.telegram.app import build_application

    settings = Settings(token=TOKEN, base_url=base_url, data_dir=data_dir)
    return build_application(settings, knowledge, companion=companion)


async def _round(
    application: Any, conn: Connection, chats: int, per_chat: int, first: int
) -> tuple[float, float]:
    """(wall seconds timed by the server, CPU seconds this process spent meanwhile)."""
    from tests.support.recording_request import running_application

    async with running_application(application, poll_timeout=1):
        cpu = time.process_time()
        conn.send((chats, per_chat, first))
        elapsed = await asyncio.to_thread(conn.recv)
        cpu = time.process_time() - cpu
    return float(elapsed), cpu


def _matcher_times(companion: Any) -> tuple[float, float]:
    """Median microseconds per question: ``Matcher.match`` and ``Companion.respond``."""
    files = sorted((ROOT / "tests" / "data").glob("*.jsonl"))
    items = [
        str(json.loads(line)["q"])
        for path in files
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    for text in items:  # warm the caches, as a running bot's would be
        companion.respond(text)
    match_times, respond_times = [], []
    for _ in range(3):
        for text in items:
            t0 = time.perf_counter()
            companion.matcher.match(text)
            t1 = time.perf_counter()
            companion.respond(text)
            t2 = time.perf_counter()
            match_times.append((t1 - t0) * 1e6)
            respond_times.append((t2 - t1) * 1e6)
    return statistics.median(match_times), statistics.median(respond_times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--per-chat", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--profile", choices=("bot", "echo"), help="cProfile that bot's rounds and print it"
    )
    args = parser.parse_args()

    from bot.core.companion import Companion
    from bot.core.knowledge import load_knowledge
    from bot.telegram import sending
    from bot.telegram.runner import setup_logging

    setup_logging(TOKEN, "INFO")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # No limits on the server: measure the bot's own cost, not Telegram's pace.
    sending.PACER = sending.ReplyPacer(speedup=1e6)
    knowledge = load_knowledge()
    companion = Companion(knowledge)

    parent, child = mp.Pipe()
    server = mp.get_context("spawn").Process(target=_serve, args=(child,), daemon=True)
    server.start()
    base_url = parent.recv()
    messages = args.chats * args.per_chat
    rates: dict[str, list[float]] = {"bot": [], "echo": []}
    cpu_ms: dict[str, list[float]] = {"bot": [], "echo": []}
    profiler = cProfile.Profile() if args.profile else None
    first_chat = 1
    with tempfile.TemporaryDirectory() as tmp:
        for index in range(args.rounds):
            for name in ("echo", "bot"):
                if name == "bot":
                    app = _bot_application(
                        base_url, Path(tmp) / f"data{index}", knowledge, companion
                    )
                else:
                    app = _echo_application(base_url)
                if profiler is not None and name == args.profile:
                    profiler.enable()
                elapsed, cpu = asyncio.run(
                    _round(app, parent, args.chats, args.per_chat, first_chat)
                )
                if profiler is not None and name == args.profile:
                    profiler.disable()
                first_chat += args.chats  # fresh chats: no conversation context carried over
                rates[name].append(messages / elapsed)
                cpu_ms[name].append(cpu * 1000 / messages)
                print(
                    f"round {index + 1} {name:>4}: {messages / elapsed:7.0f} messages/s,"
                    f" {cpu * 1000 / messages:.2f} ms CPU a message"
                )
    parent.send(None)
    server.join(timeout=5)

    bot, echo = max(rates["bot"]), max(rates["echo"])
    match_us, respond_us = _matcher_times(companion)
    print(f"burst: {args.chats} chats x {args.per_chat} messages, best of {args.rounds} rounds")
    bot_cpu, echo_cpu = min(cpu_ms["bot"]), min(cpu_ms["echo"])
    print(f"bot:  {bot:7.0f} messages/s, {bot_cpu:.2f} ms CPU a message")
    print(f"echo: {echo:7.0f} messages/s, {echo_cpu:.2f} ms CPU a message")
    print(f"ratio bot/echo: {bot / echo:.2f} (messages/s), {echo_cpu / bot_cpu:.2f} (CPU)")
    print(f"matcher: median {match_us:.0f} us a question (Companion.respond: {respond_us:.0f} us)")
    if profiler is not None:
        stats = pstats.Stats(profiler).sort_stats("cumulative")
        stats.print_stats(40)
        stats.sort_stats("tottime").print_stats(30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
