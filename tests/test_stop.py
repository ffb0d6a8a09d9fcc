"""SIGTERM during a daily broadcast: a real ``python -m bot run`` process stops within
5 s even while its sends are held back by a 429 of a minute, gives back the claims in
flight, and the next start completes the day with everyone getting exactly one tip."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from tests.support.bot_api_server import BotApiServer
from tests.support.bot_process import (
    BotProcess,
    daily_tip_counts,
    outbox_states,
    seed_subscribers,
    wait_for_tips,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM to a child process")

SUBSCRIBERS = list(range(20_000, 20_600))  # 24 s of sending at the real 25 messages/s


async def test_sigterm_mid_broadcast_exits_within_5_s_and_restart_completes(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    seed_subscribers(data_dir, SUBSCRIBERS)
    log = tmp_path / "bot.log"
    async with BotApiServer() as server:
        paced = BotProcess(server, data_dir, log, BOT_TIME_SCALE="1")  # Telegram's real pace
        try:
            await paced.start()
            await wait_for_tips(server, 20)
            # Telegram asks for a minute's pause: every send in flight is now waiting.
            server.retry_after = 60
            server.fail_next("sendMessage", "429")
            await server.wait_for(lambda calls: any(c.fault == "429" for c in calls), 5)
            status, stop_seconds = await paced.terminate()
        finally:
            await paced.kill()
        sent_before = sum(daily_tip_counts(server).values())
        left_claimed = outbox_states(data_dir).get("claimed", 0)

        server.retry_after = 1
        fast = BotProcess(server, data_dir, log)
        try:
            await fast.start()
            await server.wait_for(
                lambda _calls: set(SUBSCRIBERS) <= set(daily_tip_counts(server)), timeout=20
            )
            await asyncio.sleep(0.2)  # anything extra would show up now
            status_2, _ = await fast.terminate()
        finally:
            await fast.kill()
    counts = daily_tip_counts(server)
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    print(
        f"SIGTERM: exit {status} after {stop_seconds:.2f} s, {sent_before} tips sent before,"
        f" {left_claimed} claims left; restart: duplicates {duplicates}"
    )
    assert status == 0, log.read_text()[-3000:]
    assert stop_seconds < 5.0
    assert sent_before < len(SUBSCRIBERS) // 2  # the broadcast really was cut short
    assert left_claimed == 0  # in-flight claims were released, not left dangling
    assert status_2 == 0
    assert set(counts) == set(SUBSCRIBERS)
    # Only a send Telegram accepted whose answer the stop cut off can come twice.
    assert duplicates <= 16
    assert outbox_states(data_dir) == {"sent": len(SUBSCRIBERS)}
