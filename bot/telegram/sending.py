"""Sending text safely: split at Telegram's 4,096-character limit, retry what can be retried.

Telegram answers a flood with 429 ``retry_after``: the only correct handling is to wait that
long and try again. Network errors and timeouts are retried with exponential backoff. A
reply is retried until it is delivered, the user has blocked the bot (403), the request is
wrong (400), or ``GIVE_UP_AFTER`` seconds have passed; a busy bot therefore delays replies
instead of dropping them. What is given up on is logged, never dropped silently.
Interactive replies are paced (``PACER``), overall and per chat, so a burst from many chats
stays under Telegram's limits instead of provoking floods of 429s: about 30 messages a
second overall and one a second in a chat, with a short burst tolerated. Each try of each
chunk waits its turn, so a retry never jumps the queue.

Several workers on one PostgreSQL database share one overall budget (``SharedBudget``,
installed by the app as ``SHARED_BUDGET``): each send takes the next free slot from the
database, so the whole bot stays within Telegram's 30 a second however many workers
there are. The per-chat buckets stay local: a chat's replies come from the worker that
got its message, and its next message may go elsewhere only after that reply.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import re
import time
import warnings
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from aiolimiter import AsyncLimiter
from telegram import (
    Bot,
    ForceReply,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.constants import MessageLimit
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_delay,
    wait_exponential,
)

from bot.storage.base import StorageError

log = logging.getLogger(__name__)

MAX_MESSAGE_LENGTH = int(MessageLimit.MAX_TEXT_LENGTH)
GIVE_UP_AFTER = 300.0  # seconds: a reply later than this is no longer a reply
MAX_RETRY_AFTER = 120.0  # a longer flood wait is a ban: give up and log rather than hang
# Telegram allows about 30 messages a second overall and about one a second per chat.
# The bursts are kept below the server's (30 overall, a few per chat) so that the jitter
# between our clock and the moment a request lands never tips a send over the limit.
OVERALL_PER_SECOND = 30.0
OVERALL_BURST = 10
CHAT_PER_SECOND = 1.0
CHAT_BURST = 2
_PRUNE_CHATS_AT = 4096  # idle per-chat limiters are dropped past this many
# Slots of the shared budget come one by one: no burst, so no one-second window ever
# holds more than 30 sends of the whole bot.
SHARED_BURST = 1
LATE_SLOT_STEPS = 3  # a slot used later than this many steps is given back for a new one
MAX_LATE_SLOTS = 3  # and at most this many times for one send: it goes out in the end

ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply
Sleep = Callable[[float], Awaitable[Any]]
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


class SlotSource(Protocol):
    """Hands out the send slots of the whole bot (``Store.take_send_slot``)."""

    async def take_send_slot(self, per_second: float, burst: int) -> float: ...


class SharedBudget:
    """One overall send budget for every worker, kept in the shared database.

    If the database cannot hand out a slot, this worker paces itself locally at the
    full rate (logged once per outage): a reply is never held back by the database.
    """

    def __init__(
        self, source: SlotSource, per_second: float = OVERALL_PER_SECOND, burst: int = SHARED_BURST
    ) -> None:
        self.source = source
        self.per_second = per_second
        self.burst = burst
        self.taken = 0
        self.late = 0  # slots given back because this worker woke up too late for them
        self._fallback: AsyncLimiter | None = None
        self._failing = False

    async def take(self) -> None:
        """Return when the whole bot may send one more message.

        A slot woken up for too late (this worker's event loop was held up) is given
        back and a new one taken: otherwise every sender held up together would send
        together when the loop frees up, a burst the budget never granted.
        """
        step = 1.0 / self.per_second
        for attempt in range(1, MAX_LATE_SLOTS + 1):
            try:
                wait = await self.source.take_send_slot(self.per_second, self.burst)
            except StorageError:
                if not self._failing:
                    log.warning("shared send budget unavailable: pacing this worker alone")
                    self._failing = True
                if self._fallback is None:
                    self._fallback = AsyncLimiter(1, step)
                await self._fallback.acquire()
                return
            self._failing = False
            self.taken += 1
            woken = time.monotonic() + wait
            if wait > 0:
                await asyncio.sleep(wait)
            if time.monotonic() - woken <= LATE_SLOT_STEPS * step or attempt == MAX_LATE_SLOTS:
                return
            self.late += 1


SHARED_BUDGET: SharedBudget | None = None  # set while an app on a shared database runs


class ReplyPacer:
    """Leaky buckets (aiolimiter) for interactive sends: one overall, one per chat.

    ``speedup`` multiplies every rate (tests run Telegram's limits in compressed time).
    A chat waits for its own slot first, then for the overall one, so a busy chat never
    holds a slot that another chat could use.
    """

    def __init__(
        self,
        per_second: float = OVERALL_PER_SECOND,
        burst: int = OVERALL_BURST,
        chat_per_second: float = CHAT_PER_SECOND,
        chat_burst: int = CHAT_BURST,
        speedup: float = 1.0,
    ) -> None:
        self.per_second = per_second * speedup
        self.burst = burst
        self.chat_per_second = chat_per_second * speedup
        self.chat_burst = chat_burst
        self._loop: asyncio.AbstractEventLoop | None = None
        self._overall = AsyncLimiter(burst, burst / self.per_second)
        self._chats: dict[int, AsyncLimiter] = {}

    def _chat_limiter(self, chat_id: int) -> AsyncLimiter:
        limiter = self._chats.get(chat_id)
        if limiter is None:
            if len(self._chats) >= _PRUNE_CHATS_AT:
                # A fully drained bucket holds no state worth keeping.
                self._chats = {
                    k: v for k, v in self._chats.items() if not v.has_capacity(v.max_rate)
                }
            limiter = AsyncLimiter(self.chat_burst, self.chat_burst / self.chat_per_second)
            self._chats[chat_id] = limiter
        return limiter

    def would_wait(self, chat_id: int | None) -> bool:
        """True when a message to ``chat_id`` now would have to wait for its turn."""
        if self._loop is not asyncio.get_running_loop():
            return False  # fresh limiters: full buckets
        chat = self._chats.get(chat_id) if chat_id is not None else None
        if chat is not None and not chat.has_capacity():
            return True
        return not self._overall.has_capacity()

    async def wait_turn(self, chat_id: int | None) -> None:
        """Return when one more message to ``chat_id`` keeps within both limits."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # limiters belong to one event loop (tests start many)
            self._loop = loop
            self._overall = AsyncLimiter(self.burst, self.burst / self.per_second)
            self._chats = {}
        if chat_id is not None:
            await self._chat_limiter(chat_id).acquire()
        shared = SHARED_BUDGET
        if shared is not None:
            await shared.take()
        else:
            await self._overall.acquire()


PACER = ReplyPacer()


def _pieces(text: str, limit: int, pattern: re.Pattern[str] | str) -> list[str]:
    """Split ``text`` at ``pattern`` and pack the parts greedily into pieces <= ``limit``."""
    parts = re.split(pattern, text) if isinstance(pattern, re.Pattern) else text.split(pattern)
    joiner = "\n\n" if pattern == "\n\n" else ("\n" if pattern == "\n" else " ")
    pieces: list[str] = []
    current = ""
    for part in parts:
        if not part.strip():
            continue
        candidate = f"{current}{joiner}{part}" if current else part
        if len(candidate) <= limit:
            current = candidate
            continue
        if current:
            pieces.append(current)
        current = part
    if current:
        pieces.append(current)
    return pieces


def split_text(text: str, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """Split ``text`` into chunks of at most ``limit`` characters.

    Cuts at paragraph breaks first, then line breaks, then sentence ends, then spaces; a
    single word longer than ``limit`` is cut hard.
    """
    text = text.strip()
    if len(text) <= limit:
        return [text] if text else []
    chunks: list[str] = []
    for paragraph in _pieces(text, limit, "\n\n"):
        if len(paragraph) <= limit:
            chunks.append(paragraph)
            continue
        for line in _pieces(paragraph, limit, "\n"):
            if len(line) <= limit:
                chunks.append(line)
                continue
            for sentence in _pieces(line, limit, _SENTENCE_END):
                if len(sentence) <= limit:
                    chunks.append(sentence)
                    continue
                for word_run in _pieces(sentence, limit, " "):
                    chunks.extend(word_run[i : i + limit] for i in range(0, len(word_run), limit))
    return chunks


def retry_after_seconds(exc: RetryAfter) -> float:
    """``exc.retry_after`` in seconds, whichever type this PTB version uses."""
    with warnings.catch_warnings():  # PTB 22 warns that the type will become timedelta
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, RetryAfter):
        return retry_after_seconds(exc) <= MAX_RETRY_AFTER
    return isinstance(exc, NetworkError) and not isinstance(exc, (BadRequest, Forbidden))


def _wait(state: RetryCallState) -> float:
    """Telegram's own ``retry_after`` for a flood; exponential backoff for network errors."""
    outcome = state.outcome
    exc = outcome.exception() if outcome is not None else None
    if isinstance(exc, RetryAfter):
        return retry_after_seconds(exc)
    return float(wait_exponential(multiplier=0.5, max=10)(state))


async def call_with_retry(
    make_call: Callable[[], Awaitable[Any]],
    *,
    what: str,
    give_up_after: float = GIVE_UP_AFTER,
    sleep: Sleep = asyncio.sleep,
) -> Any:
    """Await ``make_call()``, retrying on RetryAfter (waiting as told) and network errors.

    Raises the last error when giving up (after ``give_up_after`` seconds); BadRequest
    and Forbidden are never retried.
    """
    # The first try runs outside tenacity: almost every send succeeds at once, and setting
    # up the retry machinery costs more than the rest of our send path.
    try:
        return await make_call()
    except Exception as exc:
        if not _retryable(exc):
            raise
        first_failure: list[BaseException] = [exc]

    def before_sleep(state: RetryCallState) -> None:
        outcome = state.outcome
        exc = outcome.exception() if outcome is not None else None
        wait = state.upcoming_sleep
        log.info(
            "%s: %s; retrying in %.1f s (attempt %d)",
            what,
            type(exc).__name__,
            wait,
            state.attempt_number,
        )

    retrying = AsyncRetrying(
        retry=retry_if_exception(_retryable),
        wait=_wait,
        stop=stop_after_delay(give_up_after),
        sleep=sleep,
        before_sleep=before_sleep,
        reraise=True,
    )

    async def attempt() -> Any:
        # tenacity's first attempt is the try above (so its waits and counts are unchanged);
        # it awaits only coroutine functions, and make_call may be a plain lambda.
        if first_failure:
            raise first_failure.pop()
        return await make_call()

    return await retrying(attempt)


async def send_text(
    bot: Bot,
    chat_id: int,
    text: str,
    reply_markup: ReplyMarkup | None = None,
    *,
    raise_errors: bool = False,
    sleep: Sleep = asyncio.sleep,
    give_up_after: float = GIVE_UP_AFTER,
    **kwargs: Any,
) -> list[Message]:
    """Send ``text`` in as many messages as needed; ``reply_markup`` goes on the last one.

    Returns the messages sent. A failure it gives up on is logged and the remaining chunks
    are not sent; with ``raise_errors`` the error is raised after logging (e.g. so a
    broadcaster can notice a user who blocked the bot).
    """
    chunks = split_text(text)
    sent: list[Message] = []
    for index, chunk in enumerate(chunks):
        markup = reply_markup if index == len(chunks) - 1 else None

        async def make_call(chunk: str = chunk, markup: ReplyMarkup | None = markup) -> Any:
            await PACER.wait_turn(chat_id)
            return await bot.send_message(chat_id, chunk, reply_markup=markup, **kwargs)

        try:
            message = await call_with_retry(
                make_call,
                what=f"sendMessage to chat {chat_id}",
                sleep=sleep,
                give_up_after=give_up_after,
            )
        except Forbidden as exc:
            log.info("not sent to chat %s (%s): the user blocked the bot or left", chat_id, exc)
            if raise_errors:
                raise
            return sent
        except TelegramError as exc:
            log.error(
                "gave up sending message %d/%d to chat %s: %s: %s",
                index + 1,
                len(chunks),
                chat_id,
                type(exc).__name__,
                exc,
            )
            if raise_errors:
                raise
            return sent
        sent.append(message)
    return sent


__all__ = [
    "MAX_MESSAGE_LENGTH",
    "PACER",
    "SHARED_BUDGET",
    "ReplyPacer",
    "SharedBudget",
    "call_with_retry",
    "retry_after_seconds",
    "send_text",
    "split_text",
]
