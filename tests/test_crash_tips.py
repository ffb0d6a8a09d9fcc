"""Daily tips exactly once through kill -9: a real ``python -m bot run`` process, 2,000
subscribers, a faulty Bot API on 127.0.0.1 (429, 403, 500, dropped connections), killed
at three moments of the broadcast and restarted each time."""

from __future__ import annotations

import sys
import time
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

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL to a child process")

SUBSCRIBERS = list(range(10_000, 12_000))
BLOCKED = set(SUBSCRIBERS[7::97])  # about 20 people who blocked the bot
KILL_AT = (250, 900, 1500)  # daily tips accepted by the server when each kill comes
MAX_IN_FLIGHT = 16  # PacedSender's default: sends that can be under way at once


async def test_kill_9_three_times_mid_broadcast_loses_nothing(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    seed_subscribers(data_dir, SUBSCRIBERS)
    reachable = set(SUBSCRIBERS) - BLOCKED
    started = time.monotonic()
    in_flight: list[int] = []
    async with BotApiServer() as server:
        server.retry_after = 1  # 10 ms at BOT_TIME_SCALE=0.01
        for chat_id in BLOCKED:
            server.block_chat(chat_id)
        for kind, count in (("429", 6), ("500", 10), ("drop", 10), ("403", 3)):
            server.fail_next("sendMessage", kind, count=count)
        log = tmp_path / "bot.log"
        bots: list[BotProcess] = []
        try:
            status = await _kill_three_times_then_finish(server, data_dir, log, in_flight, bots)
        finally:
            for bot in bots:
                await bot.kill()
    elapsed = time.monotonic() - started

    counts = daily_tip_counts(server)
    refused = _refused(server)  # blocked for good, or one injected 403: unsubscribed
    lost = sorted(reachable - refused - set(counts))
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    faults = {c.fault for c in server.calls if c.method == "sendMessage"}
    final = outbox_states(data_dir)
    print(
        f"kill -9 x3: lost {len(lost)}, duplicates {duplicates}, unconfirmed at each kill"
        f" {in_flight}, outbox {final}, {elapsed:.1f} s"
    )
    assert {"429", "403", "500", "drop", "blocked"} <= faults
    assert status == 0, log.read_text()[-3000:]
    assert lost == []
    assert refused >= BLOCKED and not set(counts) & BLOCKED  # no tip to who blocked the bot
    # A duplicate needs a send Telegram accepted whose confirmation the kill prevented.
    assert duplicates <= sum(in_flight) <= len(KILL_AT) * MAX_IN_FLIGHT
    assert final.get("sent", 0) == len(set(SUBSCRIBERS) - refused)
    assert final.get("gone", 0) == len(refused)


async def _kill_three_times_then_finish(
    server: BotApiServer,
    data_dir: Path,
    log: Path,
    in_flight: list[int],
    bots: list[BotProcess],
) -> int:
    reachable = set(SUBSCRIBERS) - BLOCKED
    for moment in KILL_AT:
        bot = BotProcess(server, data_dir, log)
        bots.append(bot)
        await bot.start()
        await wait_for_tips(server, moment)
        await bot.kill()
        bots.remove(bot)
        in_flight.append(outbox_states(data_dir).get("claimed", 0))  # never confirmed
        assert sum(daily_tip_counts(server).values()) < len(reachable)  # really mid-way
        server.fail_next("sendMessage", "500", count=3)  # more faults for the next run
        server.fail_next("sendMessage", "drop", count=3)
    bot = BotProcess(server, data_dir, log)
    bots.append(bot)
    await bot.start()
    await server.wait_for(
        lambda _calls: reachable - _refused(server) <= set(daily_tip_counts(server)),
        timeout=20,
    )
    await server.wait_for(lambda _calls: "claimed" not in outbox_states(data_dir), timeout=5)
    status, _ = await bot.terminate()
    bots.remove(bot)
    return status


def _refused(server: BotApiServer) -> set[int]:
    return {
        int(c.params["chat_id"])
        for c in server.calls
        if c.method == "sendMessage" and c.fault in ("403", "blocked")
    }
