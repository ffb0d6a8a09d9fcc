"""``python -m bot run`` as a real subprocess against a ``BotApiServer`` on 127.0.0.1.

For the crash and stop tests: seed a SQLite database with many subscribers, start the
bot exactly as in production (environment variables, long polling, real httpx), watch
its sends on the server, and stop it with SIGKILL or SIGTERM.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections import Counter
from pathlib import Path

from bot.storage import DB_FILENAME
from bot.storage.sqlite import Database
from tests.support.bot_api_server import BotApiServer

TOKEN = "123456:TEST-TOKEN"
DAILY_MARK = "Tip of the day"
START_TIMEOUT = 30.0


def seed_subscribers(data_dir: Path, chat_ids: list[int], daily_time: str = "00:00") -> None:
    """Subscribers in UTC whose tip is due today (their time has passed, none sent yet)."""
    db = Database.open(data_dir / DB_FILENAME)
    with db._transaction() as raw:  # one transaction: seeding is not what is tested
        raw.executemany(
            "INSERT INTO users (chat_id, daily_time, subscribed) VALUES (?, ?, 1)",
            [(chat_id, daily_time) for chat_id in chat_ids],
        )
    db.close()


def outbox_states(data_dir: Path) -> dict[str, int]:
    db = Database.open(data_dir / DB_FILENAME, migrate_schema=False)
    try:
        return db.outbox_counts()
    finally:
        db.close()


def daily_tip_counts(server: BotApiServer) -> Counter[int]:
    """How many daily tips each chat received (successful sends only)."""
    counts: Counter[int] = Counter()
    for call in server.calls:
        if call.method != "sendMessage" or call.fault is not None:
            continue
        if DAILY_MARK in str(call.params.get("text", "")):
            counts[int(call.params["chat_id"])] += 1
    return counts


class BotProcess:
    """One run of the bot as a subprocess (stderr kept in a file, never a pipe)."""

    def __init__(self, server: BotApiServer, data_dir: Path, log_path: Path, **env: str) -> None:
        self.server = server
        self.data_dir = data_dir
        self.log_path = log_path
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "BOT_"))},
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_BASE_URL": server.base_url,
            "BOT_DATA_DIR": str(data_dir),
            "BOT_TIME_SCALE": "0.01",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start the bot and wait until it polls for updates (it is then fully up)."""
        await self._start_until("getUpdates")

    async def start_webhook(self) -> None:
        """Start the bot in webhook mode and wait until it has set its webhook."""
        await self._start_until("setWebhook")
        await asyncio.sleep(0.05)  # setWebhook is called right after the server listens

    async def _start_until(self, method: str) -> None:
        """Start ``python -m bot run``; return once it has made one more ``method`` call."""
        before = sum(1 for c in self.server.calls if c.method == method)
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                cwd=self.data_dir.parent,
                env=self.env,
                stdout=log,
                stderr=log,
            )
        await self.server.wait_for(
            lambda calls: (
                sum(1 for c in calls if c.method == method) > before
                or self.process is None
                or self.process.returncode is not None
            ),
            timeout=START_TIMEOUT,
        )
        assert self.process.returncode is None, self.log_path.read_text()[-3000:]

    async def kill(self) -> None:
        """SIGKILL: no clean-up of any kind."""
        if self.process is None or self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGKILL)
        await self.process.wait()

    async def terminate(self, timeout: float = 15.0) -> tuple[int, float]:
        """SIGTERM; returns (exit status, seconds until the process was gone)."""
        assert self.process is not None
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), timeout)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()
        assert self.process.returncode is not None
        return self.process.returncode, time.monotonic() - started


async def wait_for_tips(server: BotApiServer, count: int, timeout: float = 20.0) -> None:
    """Until ``count`` daily tips in all were accepted by the server."""
    deadline = time.monotonic() + timeout
    while sum(daily_tip_counts(server).values()) < count:
        assert time.monotonic() < deadline, f"fewer than {count} daily tips in {timeout} s"
        await asyncio.sleep(0.005)
