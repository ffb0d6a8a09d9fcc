"""What every storage backend offers, whatever the database underneath.

Handlers and the dispatcher only ever ``await`` these methods: a backend runs its
database calls off the event loop (SQLite in worker threads, PostgreSQL on an async
pool), so a slow or locked database holds up only the coroutine that needs it and
every other chat keeps being answered.

Daily tips go through an outbox, one row per (chat, local day): ``claim_day`` writes
it as ``claimed`` in the same transaction that moves the chat's ``last_sent`` on;
after the Bot API accepted the message ``confirm_sent`` marks it ``sent``. A row still
``claimed`` when no pass is running belongs to a process that stopped mid-send
(kill -9, power loss): ``unconfirmed_claims`` hands it back and it is sent again with
the same tip. The only duplicate window is the time between Telegram accepting the
message and ``confirm_sent`` committing (one loopback round trip to the database).

Several workers on one database (PostgreSQL; ``shared`` is True) also keep here what
would otherwise live in one process: each chat's conversation context (ids only, as the
adapter's JSON, with the time of its last turn), the knowledge base's version (a /reload
on one worker bumps it, the others see it and reload), who runs the daily-tip dispatcher
(``hold_dispatcher_role``) and one shared budget of send slots for the whole bot
(``take_send_slot``). SQLite is one process: its role is always held and its budget is
kept in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

DEFAULT_DAILY_TIME = "09:00"
BLOCKED_RETENTION_SECONDS = 30 * 86_400  # rows of people who blocked the bot: 30 days
CLAIM_MAX_AGE_SECONDS = 20 * 3_600  # an unconfirmed tip older than this is stale: dropped
OUTBOX_RETENTION_SECONDS = 7 * 86_400  # finished outbox rows, kept to show what was sent


class StorageError(RuntimeError):
    """The database cannot be used; the message says why in one line."""


@dataclass(frozen=True)
class Subscription:
    """One chat's daily-tip settings as stored."""

    chat_id: int
    timezone: str | None  # None: not set yet, UTC is used
    daily_time: str  # "HH:MM" in the user's time zone
    subscribed: bool
    last_sent: str | None  # local date "YYYY-MM-DD" of the last daily tip
    tip_position: int


@dataclass(frozen=True)
class Claim:
    """One claimed daily tip (an outbox row): who, which local day, which tip."""

    chat_id: int
    local_date: str
    position: int
    previous: str | None  # ``last_sent`` before the claim, restored by ``release_day``


@dataclass(frozen=True)
class RoutineRunRow:
    """A routine on screen in a chat, as stored (a restart ends it with a note)."""

    chat_id: int
    routine_id: str
    token: str
    message_id: int | None
    step: int


class Store(Protocol):
    """The storage interface (``SqliteStore``, ``PostgresStore``)."""

    @property
    def description(self) -> str:
        """Where the data lives, for logs (never a password)."""
        ...

    @property
    def shared(self) -> bool:
        """True when several bot processes may use this database at once."""
        ...

    async def close(self) -> None: ...

    async def schema_version(self) -> int: ...

    # subscriptions
    async def get(self, chat_id: int) -> Subscription | None: ...
    async def subscribe(self, chat_id: int, daily_time: str | None = None) -> Subscription: ...
    async def unsubscribe(self, chat_id: int) -> bool: ...
    async def set_time(self, chat_id: int, daily_time: str) -> Subscription: ...
    async def set_timezone(self, chat_id: int, timezone: str) -> Subscription: ...
    async def forget(self, chat_id: int) -> bool: ...
    async def subscribers(self) -> list[Subscription]: ...
    async def subscriber_count(self) -> int: ...
    async def user_count(self) -> int: ...
    async def mark_blocked(self, chat_id: int, now: float) -> bool: ...
    async def purge_blocked(self, now: float) -> int: ...

    # tips and the outbox
    async def take_tip_position(self, chat_id: int) -> int: ...
    async def claim_day(self, chat_id: int, local_date: str, now: float) -> Claim | None: ...
    async def confirm_sent(self, chat_id: int, local_date: str, now: float) -> None: ...
    async def finish_claim(self, chat_id: int, local_date: str, state: str, now: float) -> None: ...
    async def release_day(self, chat_id: int, local_date: str) -> bool: ...
    async def unconfirmed_claims(self, now: float) -> list[Claim]: ...
    async def outbox_counts(self) -> dict[str, int]: ...

    # routine feedback (aggregate only)
    async def record_routine_feedback(self, routine_id: str, feeling: str) -> None: ...
    async def routine_feedback_counts(self) -> dict[str, dict[str, int]]: ...

    # live routines (one row per chat with a routine on screen)
    async def save_routine_run(self, run: RoutineRunRow) -> None: ...
    async def end_routine_run(self, chat_id: int, token: str | None = None) -> bool: ...
    async def routine_runs(self) -> list[RoutineRunRow]: ...

    # "Did this help?" (aggregate only)
    async def record_answer_vote(self, entry_id: str, helpful: bool) -> None: ...
    async def answer_vote_counts(self) -> dict[str, tuple[int, int]]: ...

    # conversation context by chat key: ``data`` is opaque here (the adapter's JSON)
    async def get_context(
        self, chat_key: str, now: float, idle_seconds: float
    ) -> tuple[str, float] | None: ...
    async def put_context(self, chat_key: str, data: str, now: float) -> None: ...
    async def clear_context(self, chat_key: str) -> bool: ...
    async def purge_contexts(self, now: float, idle_seconds: float) -> int: ...

    # several workers, one schedule
    async def knowledge_version(self) -> int: ...
    async def bump_knowledge_version(self) -> int: ...
    async def hold_dispatcher_role(self) -> bool: ...
    async def take_send_slot(self, per_second: float, burst: int) -> float: ...


__all__ = [
    "BLOCKED_RETENTION_SECONDS",
    "CLAIM_MAX_AGE_SECONDS",
    "DEFAULT_DAILY_TIME",
    "OUTBOX_RETENTION_SECONDS",
    "Claim",
    "RoutineRunRow",
    "StorageError",
    "Store",
    "Subscription",
]
