"""What the bot remembers of a conversation, and where it keeps it.

The context holds ids only (topic, entry, who it is about, the last offer and
foot-map area), never message text. It expires after ``IDLE_SECONDS`` without a
message and is cleared by /forget. Stores implement ``ContextStore`` so the
in-memory one can be swapped for the shared database when the bot runs as
several processes.
"""

from __future__ import annotations

import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass, fields, replace
from typing import Protocol

IDLE_SECONDS = 30 * 60
# An in-memory store forgets the least recently used chats beyond this many.
MAX_CHATS = 100_000


def telegram_key(chat_id: int) -> str:
    """The context key of a Telegram chat."""
    return f"tg:{chat_id}"


@dataclass(frozen=True)
class Context:
    """The last turn's ids; ``at`` is the store clock's time of the last message."""

    topic: str | None = None
    entry: str | None = None
    subject: str | None = None  # who the question is about: self, partner, parent, child...
    offer: str | None = None  # what "yes please" would do: routine:<id>, tip, <entry id>
    area: str | None = None  # the foot-map area of the last entry
    routine: str | None = None  # the routine last offered or shown
    at: float = 0.0

    def but(self, **changes: object) -> Context:
        """A copy with ``changes``."""
        return replace(self, **changes)  # type: ignore[arg-type]


_ID_FIELDS = tuple(f.name for f in fields(Context) if f.name != "at")


def context_to_json(context: Context) -> str:
    """The context's ids as JSON, for a store shared by several processes (no ``at``:
    the store keeps the time of the last turn on its own clock)."""
    data = asdict(context)
    return json.dumps({k: data[k] for k in _ID_FIELDS if data[k] is not None}, sort_keys=True)


def context_from_json(text: str, at: float = 0.0) -> Context | None:
    """The context ``context_to_json`` wrote; None for anything else (an unknown field
    from a newer bot is ignored, a damaged row reads as no context)."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    ids = {k: v for k, v in data.items() if k in _ID_FIELDS and (v is None or isinstance(v, str))}
    return Context(**ids, at=at)


class ContextStore(Protocol):
    """Per-chat context by chat key ("tg:123", "console", "ask:1")."""

    def get(self, key: str) -> Context | None: ...

    def put(self, key: str, context: Context) -> None: ...

    def clear(self, key: str) -> None: ...


class MemoryContextStore:
    """A process-local store; expired contexts read as absent."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        idle_seconds: float = IDLE_SECONDS,
        max_chats: int = MAX_CHATS,
    ) -> None:
        self.clock = clock
        self.idle_seconds = idle_seconds
        self.max_chats = max_chats
        self._items: OrderedDict[str, Context] = OrderedDict()
        # Telegram handlers may run concurrently; the dict must stay consistent.
        self._lock = threading.Lock()

    def get(self, key: str) -> Context | None:
        with self._lock:
            context = self._items.get(key)
            if context is None:
                return None
            if self.clock() - context.at > self.idle_seconds:
                del self._items[key]
                return None
            return context

    def put(self, key: str, context: Context) -> None:
        with self._lock:
            self._items[key] = context.but(at=self.clock())
            self._items.move_to_end(key)
            while len(self._items) > self.max_chats:
                self._items.popitem(last=False)

    def clear(self, key: str) -> None:
        with self._lock:
            self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)


__all__ = [
    "IDLE_SECONDS",
    "Context",
    "ContextStore",
    "MemoryContextStore",
    "context_from_json",
    "context_to_json",
    "telegram_key",
]
