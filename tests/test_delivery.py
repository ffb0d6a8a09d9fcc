"""Daily-tip delivery over HTTP against a faulty Bot API server on 127.0.0.1.

The real Application (real HTTPXRequest, real JobQueue, real SQLite) sends a day's
tips while the server answers some sends with 429 (retry_after 1), 403, 500 and a
dropped connection. Every subscribed user who did not block the bot gets exactly one
tip; blocked users end up unsubscribed.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from telegram.error import RetryAfter

from bot.telegram import tips as tips_feature
from bot.telegram.delivery import Outcome, PacedSender
from bot.telegram.services import SERVICES_KEY
from tests.support.bot_api_server import BotApiServer

NOW = datetime(2026, 6, 1, 9, 0, 30, tzinfo=UTC)  # 09:00 UTC has just passed


def fast_sender(**overrides) -> PacedSender:
    """Pacing on but quick, and short backoffs, so the test takes seconds."""
    options = {"rate": 200.0, "per_chat_interval": 0.0, "backoff": 0.05, "max_attempts": 5}
    options.update(overrides)
    return PacedSender(**options)


@contextlib.asynccontextmanager
async def bot_over_http(
    settings, knowledge, server: BotApiServer, sender: PacedSender, subscribers
):
    """Subscribers in the database, then the real Application started against ``server``."""
    from bot.storage import DB_FILENAME
    from bot.storage.sqlite import Database
    from bot.telegram.app import build_application

    seed = Database.open(settings.data_dir / DB_FILENAME)
    for chat_id in subscribers:
        seed.subscribe(chat_id, "09:00")
        seed.claim_day(chat_id, "2026-05-31", time.time())  # yesterday's tip went out
        seed.confirm_sent(chat_id, "2026-05-31", time.time())
    seed.close()

    application = build_application(replace(settings, base_url=server.base_url), knowledge)
    state = tips_feature.runtime(application)
    state.clock = lambda: NOW
    state.sender = sender
    await application.initialize()
    try:
        await application.post_init(application)  # starts the dispatcher: first pass now
        await application.start()
        yield application
    finally:
        if application.running:
            await application.stop()
        await application.shutdown()
        await application.post_shutdown(application)


async def wait_for_pass(application, passes: int = 1, timeout: float = 8.0) -> None:
    state = tips_feature.runtime(application)
    deadline = time.monotonic() + timeout
    while state.passes < passes:
        assert time.monotonic() < deadline, "the dispatcher pass did not finish in time"
        await asyncio.sleep(0.02)


async def test_every_reachable_subscriber_gets_exactly_one_tip(settings, knowledge) -> None:
    chats = list(range(1001, 1041))
    blocked = {1005, 1017, 1033}
    async with BotApiServer() as server:
        assert server.base_url.startswith("http://127.0.0.1:")
        server.retry_after = 1
        for chat_id in sorted(blocked)[:2]:
            server.block_chat(chat_id)  # blocked for good
        server.fail_next("sendMessage", "403", chat_id=1033)  # one 403 is enough to stop
        server.fail_next("sendMessage", "429", count=3)
        server.fail_next("sendMessage", "500", count=4)
        server.fail_next("sendMessage", "drop", count=2)
        server.fail_next("sendMessage", "500", count=2, chat_id=1040)
        sender = fast_sender()
        started = time.monotonic()
        async with bot_over_http(settings, knowledge, server, sender, chats) as application:
            await wait_for_pass(application)
            report = tips_feature.runtime(application).last_report
            elapsed = time.monotonic() - started
            store = application.bot_data[SERVICES_KEY].store.sync

            faults = {c.fault for c in server.calls if c.method == "sendMessage"}
            assert {"429", "403", "500", "drop"} <= faults  # every fault really happened
            for chat_id in chats:
                daily = [
                    m for m in server.sent("sendMessage", chat_id) if "Tip of the day" in m["text"]
                ]
                sub = store.get(chat_id)
                if chat_id in blocked:
                    # Injected faults may come first; the block ends it: one 403, never
                    # retried, nothing delivered.
                    faults = [
                        c.fault
                        for c in server.calls
                        if c.method == "sendMessage" and c.params.get("chat_id") == chat_id
                    ]
                    refusals = [f for f in faults if f in ("403", "blocked")]
                    assert faults[-1] in ("403", "blocked") and len(refusals) == 1, chat_id
                    assert daily == [], chat_id
                    assert sub.subscribed is False, chat_id
                else:
                    assert len(daily) == 1, (chat_id, len(daily))
                    assert sub.subscribed is True and sub.last_sent == "2026-06-01", chat_id
            assert report is not None
            assert (report.due, report.sent, report.gone) == (40, 37, 3)
            assert sender.stats.rate_limited == 3
            assert sender.stats.retries >= 3 + 4 + 2 + 2

            # A second pass the same day sends nothing more.
            again = await tips_feature.dispatch_due_tips(application)
            assert (again.due, again.sent) == (0, 0)
    assert elapsed < 10  # one retry_after of 1 s plus short backoffs


async def test_retryable_failure_releases_the_claim_for_a_later_pass(settings, knowledge) -> None:
    async with BotApiServer() as server:
        server.fail_next("sendMessage", "500", count=3, chat_id=7)  # more than 2 attempts
        sender = fast_sender(max_attempts=2)
        async with bot_over_http(settings, knowledge, server, sender, [7, 8]) as application:
            await wait_for_pass(application)
            store = application.bot_data[SERVICES_KEY].store.sync
            report = tips_feature.runtime(application).last_report
            assert (report.sent, report.retry_later) == (1, 1)
            assert store.get(7).last_sent == "2026-05-31"  # released: not today
            assert store.get(8).last_sent == "2026-06-01"

            later = await tips_feature.dispatch_due_tips(application)
            assert (later.due, later.sent) == (1, 1)
            assert store.get(7).last_sent == "2026-06-01"
            for chat_id in (7, 8):
                assert len(server.sent("sendMessage", chat_id)) == 1


# -- the sender on its own, with a fake clock --------------------------------------------


class VirtualTime:
    """A fake clock whose ``sleep`` returns exactly at its target, in target order."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self._waiters: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (self.now + seconds, next(self._seq), future))
        await future

    async def run(self, coroutine) -> object:
        """Run ``coroutine``, moving the clock to the next sleeper whenever all are idle."""
        task = asyncio.ensure_future(coroutine)
        for _ in range(100_000):
            for _ in range(20):  # let every runnable task reach its next sleep
                await asyncio.sleep(0)
            if task.done():
                return task.result()
            assert self._waiters, "deadlock: nothing is sleeping and the task is not done"
            target, _, future = heapq.heappop(self._waiters)
            self.now = max(self.now, target)
            future.set_result(None)
        raise AssertionError("virtual time ran away")


async def test_pacing_spreads_sends_overall_and_per_chat() -> None:
    fake = VirtualTime()
    sender = PacedSender(rate=30.0, clock=fake.clock, sleep=fake.sleep, max_in_flight=200)
    starts: list[tuple[int, float]] = []

    async def deliver(chat_id: int) -> None:
        async def send() -> str:
            starts.append((chat_id, fake.now))
            return "ok"

        assert (await sender.send(send, chat_id))[0] is Outcome.SENT

    chats = [1, 2, 3, 1, 4, 1, *range(10, 100)]
    await fake.run(sender.send_many(chats, deliver))
    times = sorted(t for _c, t in starts)
    assert len(times) == len(chats)
    # Never more than 30 sends in any one-second window.
    assert all(times[i + 30] - times[i] >= 1.0 - 1e-9 for i in range(len(times) - 30))
    # A chat that must wait does not hold up the others: they go back to back.
    others = sorted(t for c, t in starts if c != 1)
    assert others[-1] == pytest.approx(len(others) / 30.0, abs=1e-6)
    ones = [t for c, t in starts if c == 1]
    assert len(ones) == 3
    assert all(b - a >= 1.0 - 1e-9 for a, b in itertools.pairwise(ones))


async def test_a_429_holds_back_every_send() -> None:
    fake = VirtualTime()
    sender = PacedSender(rate=30.0, clock=fake.clock, sleep=fake.sleep, max_in_flight=10)
    starts: list[float] = []
    answered_429 = []

    async def deliver(chat_id: int) -> None:
        async def send() -> str:
            starts.append(fake.now)
            if chat_id == 0 and not answered_429:
                answered_429.append(fake.now)
                raise RetryAfter(5)
            return "ok"

        assert (await sender.send(send, chat_id))[0] is Outcome.SENT

    await fake.run(sender.send_many(range(10), deliver))
    assert len(starts) == 11
    # The 429 came on the very first send; nothing at all was sent for the next 5 s,
    # then the rest went out at the normal pace.
    assert answered_429 == [0.0]
    assert min(starts[1:]) == pytest.approx(5.0)
    assert max(starts) == pytest.approx(5.0 + 9 / 30.0)
    assert sender.stats.rate_limited == 1 and sender.stats.sent == 10


async def test_pacing_off_does_not_wait() -> None:
    fake = VirtualTime()
    sender = PacedSender(rate=None, clock=fake.clock, sleep=fake.sleep)

    async def send() -> str:
        return "ok"

    for chat_id in [1, 1, 1, 2]:
        assert (await sender.send(send, chat_id))[0] is Outcome.SENT
    assert fake.sleeps == []


@pytest.mark.parametrize("rate", [0.0, -1.0])
def test_rate_must_be_positive(rate: float) -> None:
    with pytest.raises(ValueError):
        PacedSender(rate=rate)
