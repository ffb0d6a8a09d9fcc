"""Where the Telegram adapter keeps each chat's conversation context.

One process (SQLite, the default): in the companion's ``MemoryContextStore``, as the
console and ``ask`` do. Several workers on one PostgreSQL database (``store.shared``):
in the database, keyed by chat, so a conversation whose turns reach different workers
keeps its context. The core stays pure: this module loads the context, hands it to
``Companion.turn`` and saves what comes back. Expiry is the core's 30 idle minutes,
counted on the wall clock (workers' monotonic clocks are not comparable); expired rows
read as absent and the dispatcher purges them.

A database that fails here costs the context of one turn, never the answer: the turn
is read as the start of a conversation and the failure is logged (by the store).
"""

from __future__ import annotations

import contextlib
import time

from bot.core.conversation import (
    IDLE_SECONDS,
    Context,
    context_from_json,
    context_to_json,
    telegram_key,
)
from bot.core.reply import Reply
from bot.storage import StorageError
from bot.telegram.services import Services


async def _load(services: Services, key: str) -> Context | None:
    try:
        found = await services.store.get_context(key, time.time(), IDLE_SECONDS)
    except StorageError:
        return None
    return context_from_json(*found) if found is not None else None


async def _save(services: Services, key: str, context: Context) -> None:
    with contextlib.suppress(StorageError):  # logged by the store; the next turn starts afresh
        await services.store.put_context(key, context_to_json(context), time.time())


async def respond(services: Services, chat_id: int, text: str) -> Reply:
    """The companion's reply to ``text`` in ``chat_id``, read against its context."""
    key = telegram_key(chat_id)
    if not services.store.shared:
        return services.companion.respond(text, chat=key)
    reply, after = services.companion.turn(text, await _load(services, key))
    if after is not None:
        await _save(services, key, after)
    return reply


async def choose(services: Services, chat_id: int, choice: str) -> Reply:
    """A pressed topic or entry button in ``chat_id``, as ``Companion.choose``."""
    key = telegram_key(chat_id)
    if not services.store.shared:
        return services.companion.choose(choice, key)
    reply, after = services.companion.choose_in(choice, await _load(services, key))
    await _save(services, key, after)
    return reply


async def forget(services: Services, chat_id: int) -> None:
    """/forget: the chat's conversation context, wherever it is kept."""
    key = telegram_key(chat_id)
    services.companion.forget(key)
    if services.store.shared:
        await services.store.clear_context(key)


__all__ = ["choose", "forget", "respond"]
