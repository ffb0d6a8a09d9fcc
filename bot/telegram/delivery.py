"""Paced, retrying delivery of bulk messages (daily tips) within Telegram's limits.

Telegram allows about 30 messages per second overall and about one per second per
chat; above that it answers 429 with ``retry_after``. ``PacedSender`` keeps under both
with reservations on a shared schedule (a token bucket with a burst of one: each send
takes the next free slot, ``1/rate`` seconds after the previous one; a chat is not
given a slot until ``per_chat_interval`` has passed since its last one). It does not rely on
``AIORateLimiter``, which by default does not retry.

What happens to one send (``Outcome``):

- sent: ``SENT``;
- 429: every later send waits ``retry_after`` (the limit is the bot's, not the chat's),
  then this one is retried; after ``max_attempts`` tries ``RETRY_LATER``;
- network error, timeout, 5xx: retried with exponential backoff (``backoff`` doubling,
  capped at ``max_backoff``); after ``max_attempts`` tries ``RETRY_LATER``;
- 403 (blocked, kicked, deactivated) or a chat that no longer exists: ``GONE``, no
  retry; the caller unsubscribes the chat;
- any other 400: ``FAILED``, no retry (retrying the same request cannot help).

``send_many`` runs many sends concurrently (bounded by ``max_in_flight``); one
failure never stops the rest. 16 in flight keeps 30/s going with round trips of up
to half a second; more only costs CPU in httpx's connection pool (see
benchmarks/bench_daily_tips.py). ``rate=None`` switches pacing off (benchmarks measure
our own overhead that way); retries stay on. With ``budget`` (several workers on one
database) every send also takes a slot of the whole bot's budget, after its own.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from telegram import Bot
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter

from bot.telegram.sending import SharedBudget, retry_after_seconds

log = logging.getLogger(__name__)

T = TypeVar("T")

TELEGRAM_BULK_RATE = 30.0  # messages per second, overall
TELEGRAM_PER_CHAT_INTERVAL = 1.0  # seconds between two messages to one chat
_GONE_MARKERS = ("chat not found", "user is deactivated", "peer_id_invalid", "bot was kicked")


class Outcome(StrEnum):
    """How one send ended."""

    SENT = "sent"
    GONE = "gone"  # blocked by the user or the chat no longer exists: unsubscribe
    RETRY_LATER = "retry_later"  # still failing after every retry, for a passing reason
    FAILED = "failed"  # rejected for good (a bad request)


@dataclass
class OutcomeCounts:
    """How many sends ended each way (one field per ``Outcome``)."""

    sent: int = 0
    gone: int = 0
    retry_later: int = 0
    failed: int = 0

    def count(self, outcome: Outcome) -> None:
        setattr(self, outcome.value, getattr(self, outcome.value) + 1)


@dataclass
class DeliveryStats(OutcomeCounts):
    """Counters over the sender's lifetime (for logs and the benchmark)."""

    retries: int = 0
    rate_limited: int = 0  # 429 answers received


class PacedSender:
    """Sends within Telegram's limits and retries what can be retried."""

    def __init__(
        self,
        rate: float | None = TELEGRAM_BULK_RATE,
        per_chat_interval: float = TELEGRAM_PER_CHAT_INTERVAL,
        *,
        max_attempts: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_retry_after: float = 120.0,
        max_in_flight: int = 16,
        retry_after_scale: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        budget: SharedBudget | None = None,
    ) -> None:
        if rate is not None and rate <= 0:
            raise ValueError("rate must be positive (or None for no pacing)")
        self.rate = rate
        self.per_chat_interval = per_chat_interval if rate is not None else 0.0
        self.max_attempts = max_attempts
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_retry_after = max_retry_after
        self.max_in_flight = max_in_flight
        # Multiplies the waits a 429 asks for: only BOT_TIME_SCALE (tests, demos) sets it.
        self.retry_after_scale = retry_after_scale
        self.stats = DeliveryStats()
        self._clock = clock
        self._sleep = sleep
        self._next_slot = 0.0  # the earliest instant the next send may start
        self._paused_until = 0.0  # set by a 429
        self._chat_next: dict[int, float] = {}
        self.budget = budget

    # -- pacing -------------------------------------------------------------------------

    async def _wait_for_slot(self, chat_id: int) -> None:
        """Wait until this chat may be sent to, then take the next overall slot.

        The chat's own interval is waited out first, without holding an overall slot,
        so one busy chat never leaves the overall schedule idle. Reserving is
        synchronous (no await between reading and moving the schedule), so concurrent
        senders on one event loop never take the same slot.
        """
        while True:
            now = self._clock()
            ready = max(self._paused_until, self._chat_next.get(chat_id, 0.0))
            if ready > now:
                await self._sleep(ready - now)
                continue
            start = now
            if self.rate is not None:
                start = max(now, self._next_slot)
                self._next_slot = start + 1.0 / self.rate
                self._chat_next[chat_id] = start + self.per_chat_interval
                if len(self._chat_next) > 50_000:  # forget chats whose interval is over
                    self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
            if start > now:
                await self._sleep(start - now)
            if self.budget is not None:
                await self.budget.take()
            # A 429 that arrived while we slept moves everyone back: queue again.
            if self._clock() + 1e-9 >= self._paused_until:
                return

    def _pause(self, seconds: float) -> None:
        until = self._clock() + seconds
        self._paused_until = max(self._paused_until, until)
        self._next_slot = max(self._next_slot, until)

    # -- sending ------------------------------------------------------------------------

    async def send(self, send: Callable[[], Awaitable[Any]], chat_id: int) -> tuple[Outcome, Any]:
        """Run ``send()`` (one Bot API call for ``chat_id``) paced and retried."""
        attempt = 0
        while True:
            attempt += 1
            await self._wait_for_slot(chat_id)
            try:
                result = await send()
            except RetryAfter as exc:
                self.stats.rate_limited += 1
                wait = retry_after_seconds(exc) * self.retry_after_scale
                log.warning("429 for chat %s: waiting %.1f s", chat_id, wait)
                if wait > self.max_retry_after or attempt >= self.max_attempts:
                    return self._done(Outcome.RETRY_LATER), exc
                self._pause(wait)
            except Forbidden as exc:
                return self._done(Outcome.GONE), exc
            except ChatMigrated as exc:  # the group became a supergroup: old id is gone
                return self._done(Outcome.GONE), exc
            except BadRequest as exc:
                gone = any(marker in str(exc).lower() for marker in _GONE_MARKERS)
                return self._done(Outcome.GONE if gone else Outcome.FAILED), exc
            except NetworkError as exc:  # includes TimedOut and 5xx answers
                if attempt >= self.max_attempts:
                    log.warning("giving up on chat %s for now: %s", chat_id, exc)
                    return self._done(Outcome.RETRY_LATER), exc
                delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                await self._sleep(delay)
            else:
                return self._done(Outcome.SENT), result
            self.stats.retries += 1

    def _done(self, outcome: Outcome) -> Outcome:
        self.stats.count(outcome)
        return outcome

    async def send_message(
        self, bot: Bot, chat_id: int, text: str, **kwargs: Any
    ) -> tuple[Outcome, Any]:
        """``bot.send_message`` paced and retried."""
        return await self.send(lambda: bot.send_message(chat_id, text, **kwargs), chat_id)

    async def send_many(
        self,
        jobs: Iterable[T],
        deliver: Callable[[T], Awaitable[Any]],
        *,
        should_stop: Callable[[], bool] | None = None,
        grace: float = 1.5,
    ) -> list[Any]:
        """Run ``deliver(job)`` for every job, at most ``max_in_flight`` at once.

        Exceptions are logged and returned in place of results, never raised, so one
        failing job cannot stop the others. Once ``should_stop()`` is true no job is
        started; jobs under way get ``grace`` seconds, then are cancelled (``deliver``
        sees the ``CancelledError`` and can give its work back). Jobs never started
        have no result.
        """
        queue = iter(enumerate(jobs))
        results: dict[int, Any] = {}

        async def worker() -> None:
            # ``next`` on a shared iterator is safe: workers only switch at awaits.
            for index, job in queue:
                if should_stop is not None and should_stop():
                    return
                try:
                    results[index] = await deliver(job)
                except Exception as exc:
                    log.exception("delivery job failed")
                    results[index] = exc

        workers = [asyncio.create_task(worker()) for _ in range(self.max_in_flight)]
        try:
            if should_stop is None:
                await asyncio.gather(*workers)
            else:
                await self._watch(workers, should_stop, grace)
        finally:
            for task in workers:  # the pass itself was cancelled: take the workers along
                task.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
        return [results[index] for index in sorted(results)]

    @staticmethod
    async def _watch(
        workers: list[asyncio.Task[None]], should_stop: Callable[[], bool], grace: float
    ) -> None:
        pending = set(workers)
        while pending and not should_stop():
            _, pending = await asyncio.wait(pending, timeout=0.05)
        if pending:
            log.info("stopping: %d sends in flight get %.1f s to finish", len(pending), grace)
            _, pending = await asyncio.wait(pending, timeout=grace)
            for task in pending:
                task.cancel()


__all__ = [
    "TELEGRAM_BULK_RATE",
    "TELEGRAM_PER_CHAT_INTERVAL",
    "DeliveryStats",
    "Outcome",
    "OutcomeCounts",
    "PacedSender",
]
