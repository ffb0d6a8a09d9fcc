"""Sending text safely: split at Telegram's 4,096-character limit, retry what can be retried.

Telegram answers a flood with 429 ``retry_after``: the only correct handling is to wait that
long and try again. Network errors and timeouts get a short, bounded backoff. A failure we
give up on (blocked by the user, bad request, too many attempts) is logged, never dropped
silently.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import re
import warnings
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import (
    Bot,
    ForceReply,
    InlineKeyboardMarkup,
    Message,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.warnings import PTBDeprecationWarning

log = logging.getLogger(__name__)

MAX_MESSAGE_LENGTH = 4096
MAX_ATTEMPTS = 4  # per chunk: the first try and three retries
BACKOFF_SECONDS = (0.5, 1.0, 2.0)  # after a network error or timeout
MAX_RETRY_AFTER = 120.0  # a longer flood wait is a ban: give up and log rather than hang

ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply
Sleep = Callable[[float], Awaitable[Any]]
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


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


async def call_with_retry(
    make_call: Callable[[], Awaitable[Any]],
    *,
    what: str,
    attempts: int = MAX_ATTEMPTS,
    sleep: Sleep = asyncio.sleep,
) -> Any:
    """Await ``make_call()``, retrying on RetryAfter (waiting as told) and network errors.

    Raises the last error when giving up; BadRequest and Forbidden are never retried.
    """
    for attempt in range(1, attempts + 1):
        try:
            return await make_call()
        except RetryAfter as exc:
            wait = retry_after_seconds(exc)
            if attempt == attempts or wait > MAX_RETRY_AFTER:
                raise
            log.info("%s: flood control, waiting %.1f s (attempt %d)", what, wait, attempt)
            await sleep(wait)
        except (BadRequest, Forbidden):
            raise
        except NetworkError as exc:  # includes TimedOut
            if attempt == attempts:
                raise
            wait = BACKOFF_SECONDS[min(attempt - 1, len(BACKOFF_SECONDS) - 1)]
            log.info("%s: %s; retrying in %.1f s (attempt %d)", what, exc, wait, attempt)
            await sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


async def send_text(
    bot: Bot,
    chat_id: int,
    text: str,
    reply_markup: ReplyMarkup | None = None,
    *,
    raise_errors: bool = False,
    sleep: Sleep = asyncio.sleep,
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

        def make_call(chunk: str = chunk, markup: ReplyMarkup | None = markup) -> Awaitable[Any]:
            return bot.send_message(chat_id, chunk, reply_markup=markup, **kwargs)

        try:
            message = await call_with_retry(
                make_call, what=f"sendMessage to chat {chat_id}", sleep=sleep
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
    "call_with_retry",
    "retry_after_seconds",
    "send_text",
    "split_text",
]
