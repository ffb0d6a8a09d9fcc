"""The embedded backend: one SQLite file in ``BOT_DATA_DIR``.

What is stored, and nothing more:

- ``users``: per chat, the daily-tip subscription: IANA time zone (``NULL`` until the
  user sets one: UTC is used and the bot says so), the daily time ``HH:MM``, whether
  subscribed, the local date of the last daily tip (``YYYY-MM-DD``), the position in
  the user's tip rotation, and when the bot learned it was blocked (the row is deleted
  30 days later).
- ``tip_outbox``: one row per daily tip claimed (chat, local day, tip position, state),
  so a tip claimed by a process that died before confirming it is sent on restart.
- ``routine_feedback``: aggregate counts per (routine id, feeling); no user id.
- ``routine_runs``: per chat, the routine being shown in its live message (routine id,
  the run's button token, the message id, the step): a restart ends it with a note.
- ``answer_feedback``: aggregate "Did this help?" counts per (entry id, yes/no); no user id.
- ``conversation_context``: per chat key, the conversation context's ids (JSON, never
  message text) and the time of the last turn; an expired row reads as absent and is
  purged. (Used when several workers share PostgreSQL; one process keeps it in memory.)
- ``bot_state``: named numbers, such as the knowledge base's version.

The file runs in WAL mode (readers never block the writer, a crash never leaves a
half-written row). ``PRAGMA user_version`` holds the schema version; ``MIGRATIONS``
brings any older file up to date in order, each step in its own transaction. A file
written by a newer version of the bot is refused rather than guessed at.

Threads: ``SqliteStore`` runs every call in its own small thread pool, each thread with
its own connection, so the event loop never waits on the file. The busy timeout is
short (``BUSY_TIMEOUT``): when another process holds the write lock longer, the call
fails with a logged ``StorageError`` instead of queueing work for many seconds.
``Database`` is the synchronous core (one connection), also used directly by tests
and tools through ``SqliteStore.sync``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from bot.storage.base import (
    BLOCKED_RETENTION_SECONDS,
    CLAIM_MAX_AGE_SECONDS,
    DEFAULT_DAILY_TIME,
    OUTBOX_RETENTION_SECONDS,
    Claim,
    RoutineRunRow,
    StorageError,
    Subscription,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

DB_FILENAME = "bot.sqlite3"
BUSY_TIMEOUT = 2.0  # seconds a call waits for another process's write lock
THREADS = 4  # worker threads (connections): reads never queue behind one locked write

# Each entry upgrades the schema by one version; never edit a released step, append one.
MIGRATIONS: tuple[str, ...] = (
    # 1: daily-tip subscriptions and tip positions.
    """
    CREATE TABLE users (
        chat_id      INTEGER PRIMARY KEY,
        timezone     TEXT,
        daily_time   TEXT    NOT NULL DEFAULT '09:00',
        subscribed   INTEGER NOT NULL DEFAULT 0,
        last_sent    TEXT,
        tip_position INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX users_subscribed ON users (subscribed) WHERE subscribed = 1;
    """,
    # 2: aggregate routine feedback (how people felt after a routine), no user id.
    """
    CREATE TABLE routine_feedback (
        routine_id TEXT    NOT NULL,
        feeling    TEXT    NOT NULL,
        count      INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (routine_id, feeling)
    ) WITHOUT ROWID;
    """,
    # 3: the daily-tip outbox, and when a chat blocked the bot (unix seconds).
    """
    ALTER TABLE users ADD COLUMN blocked_at REAL;
    CREATE TABLE tip_outbox (
        chat_id    INTEGER NOT NULL,
        local_date TEXT    NOT NULL,
        position   INTEGER NOT NULL,
        previous   TEXT,
        state      TEXT    NOT NULL DEFAULT 'claimed',
        claimed_at REAL    NOT NULL,
        done_at    REAL,
        PRIMARY KEY (chat_id, local_date)
    );
    CREATE INDEX tip_outbox_claimed ON tip_outbox (claimed_at) WHERE state = 'claimed';
    CREATE INDEX users_blocked ON users (blocked_at) WHERE blocked_at IS NOT NULL;
    """,
    # 4: the live routine message per chat (so a restart can end it with a note) and
    # aggregate "Did this help?" votes per answer entry, no user id.
    """
    CREATE TABLE routine_runs (
        chat_id    INTEGER PRIMARY KEY,
        routine_id TEXT    NOT NULL,
        token      TEXT    NOT NULL,
        message_id INTEGER,
        step       INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE answer_feedback (
        entry_id TEXT    NOT NULL,
        helpful  INTEGER NOT NULL,
        count    INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (entry_id, helpful)
    ) WITHOUT ROWID;
    """,
    # 5: the conversation context per chat key (for several workers) and named numbers.
    """
    CREATE TABLE conversation_context (
        chat_key   TEXT PRIMARY KEY,
        data       TEXT NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE INDEX conversation_context_updated ON conversation_context (updated_at);
    CREATE TABLE bot_state (
        name  TEXT PRIMARY KEY,
        value REAL NOT NULL
    ) WITHOUT ROWID;
    INSERT INTO bot_state (name, value) VALUES ('knowledge_version', 0);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)

_USER_COLUMNS = "chat_id, timezone, daily_time, subscribed, last_sent, tip_position"
FINISHED_STATES = frozenset({"sent", "gone", "failed", "expired"})


def _subscription(row: tuple[Any, ...]) -> Subscription:
    # Plain ints and strings in the column order of _USER_COLUMNS (both backends).
    chat_id, timezone, daily_time, subscribed, last_sent, position = row
    return Subscription(
        chat_id=int(chat_id),
        timezone=timezone,
        daily_time=str(daily_time),
        subscribed=bool(subscribed),
        last_sent=last_sent,
        tip_position=int(position),
    )


def migrate(connection: sqlite3.Connection) -> int:
    """Apply every migration the file lacks; return the version it started at."""
    (start,) = connection.execute("PRAGMA user_version").fetchone()
    if start > SCHEMA_VERSION:
        raise StorageError(
            f"the database is at schema version {start}, this bot knows up to"
            f" {SCHEMA_VERSION}: use a newer bot or another BOT_DATA_DIR"
        )
    for version in range(start, SCHEMA_VERSION):
        # executescript commits first, so the BEGIN is ours; user_version is transactional,
        # so a failed step leaves the file exactly at the previous version.
        try:
            connection.executescript(
                f"BEGIN IMMEDIATE;\n{MIGRATIONS[version]}\n"
                f"PRAGMA user_version = {version + 1};\nCOMMIT;"
            )
        except sqlite3.Error:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
    return int(start)


def _connect(path: Path, timeout: float) -> sqlite3.Connection:
    # People's settings are private: only the bot's own user may read the file (and
    # SQLite's -wal/-shm files, which the umask covers).
    old_umask = os.umask(0o077)
    try:
        connection = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=timeout
        )
    finally:
        os.umask(old_umask)
    return connection


def describe_error(exc: BaseException) -> str:
    """One line an operator can act on, for a storage failure."""
    text = str(exc) or type(exc).__name__
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return f"{text} (another process holds the database's write lock)"
    if "full" in lowered or "disk i/o" in lowered:
        return f"{text} (is the disk full? free some space, or check the disk)"
    if "not a database" in lowered or "malformed" in lowered:
        return f"{text} (the file is damaged: restore a backup or move it away)"
    if "unable to open" in lowered or isinstance(exc, OSError):
        return f"{text} (check that the folder exists and the bot's user may write to it)"
    return text


class Database:
    """Subscriptions, the tip outbox and routine feedback over one SQLite connection.

    Synchronous: ``SqliteStore`` runs it in worker threads. Safe to share between
    threads (one lock per connection).
    """

    def __init__(
        self,
        connection: sqlite3.Connection,
        path: Path,
        write_lock: threading.Lock | None = None,
    ) -> None:
        self._db = connection
        self.path = path
        self._lock = threading.RLock()
        # Shared by the connections of one process: they take turns here rather than in
        # SQLite's busy handler, which sleeps up to 100 ms a try and would throttle a
        # broadcast; only another process's lock makes a writer wait in SQLite.
        self._write_lock = write_lock or threading.Lock()

    @classmethod
    def open(
        cls, path: Path, *, timeout: float = BUSY_TIMEOUT, migrate_schema: bool = True
    ) -> Database:
        """Open (creating and migrating as needed) the database file at ``path``."""
        path = Path(path)
        if path.is_dir():
            path = path / DB_FILENAME
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            path.parent.chmod(0o700)
        connection = _connect(path, timeout)
        with contextlib.suppress(OSError):
            path.chmod(0o600)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA foreign_keys=ON")
            if migrate_schema:
                migrate(connection)
        except BaseException:
            connection.close()
            raise
        return cls(connection, path)

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock, self._write_lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def schema_version(self) -> int:
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def journal_mode(self) -> str:
        with self._lock:
            return str(self._db.execute("PRAGMA journal_mode").fetchone()[0])

    # -- subscriptions --------------------------------------------------------------

    def get(self, chat_id: int) -> Subscription | None:
        """The stored settings of ``chat_id``, or None if nothing is stored."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_USER_COLUMNS} FROM users WHERE chat_id = ?", (chat_id,)
            ).fetchone()
        return _subscription(row) if row else None

    def _upsert(self, chat_id: int, column: str, value: object) -> Subscription:
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO users (chat_id) VALUES (?)", (chat_id,))
            # A chat that changes its settings is talking to the bot: not blocked (any more).
            db.execute(
                f"UPDATE users SET {column} = ?, blocked_at = NULL WHERE chat_id = ?",
                (value, chat_id),
            )
            row = db.execute(
                f"SELECT {_USER_COLUMNS} FROM users WHERE chat_id = ?", (chat_id,)
            ).fetchone()
        return _subscription(row)

    def subscribe(self, chat_id: int, daily_time: str | None = None) -> Subscription:
        """Subscribe ``chat_id`` to daily tips, optionally setting the time ("HH:MM")."""
        if daily_time is not None:
            self._upsert(chat_id, "daily_time", daily_time)
        return self._upsert(chat_id, "subscribed", 1)

    def unsubscribe(self, chat_id: int) -> bool:
        """Stop daily tips for ``chat_id``; True if it was subscribed."""
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE users SET subscribed = 0 WHERE chat_id = ? AND subscribed = 1",
                (chat_id,),
            )
        return cursor.rowcount > 0

    def set_time(self, chat_id: int, daily_time: str) -> Subscription:
        """Set the daily time ("HH:MM", local) without changing the subscription."""
        return self._upsert(chat_id, "daily_time", daily_time)

    def set_timezone(self, chat_id: int, timezone: str) -> Subscription:
        """Set the IANA time zone (validated by the caller)."""
        return self._upsert(chat_id, "timezone", timezone)

    def forget(self, chat_id: int) -> bool:
        """Delete everything stored about ``chat_id``; True if anything was there."""
        with self._transaction() as db:
            cursor = db.execute("DELETE FROM users WHERE chat_id = ?", (chat_id,))
            db.execute("DELETE FROM tip_outbox WHERE chat_id = ?", (chat_id,))
            runs = db.execute("DELETE FROM routine_runs WHERE chat_id = ?", (chat_id,))
        return cursor.rowcount + runs.rowcount > 0

    def subscribers(self) -> list[Subscription]:
        """Every subscribed chat (the dispatcher decides who is due)."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_USER_COLUMNS} FROM users WHERE subscribed = 1 ORDER BY chat_id"
            ).fetchall()
        return [_subscription(row) for row in rows]

    def user_count(self) -> int:
        """How many chats have settings stored (for /stats; no ids leave the store)."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM users").fetchone()[0])

    def subscriber_count(self) -> int:
        with self._lock:
            return int(
                self._db.execute("SELECT COUNT(*) FROM users WHERE subscribed = 1").fetchone()[0]
            )

    def mark_blocked(self, chat_id: int, now: float) -> bool:
        """Unsubscribe a chat that blocked the bot and start its 30-day deletion clock."""
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE users SET subscribed = 0, blocked_at = COALESCE(blocked_at, ?)"
                " WHERE chat_id = ?",
                (now, chat_id),
            )
        return cursor.rowcount > 0

    def purge_blocked(self, now: float) -> int:
        """Delete the rows of chats that blocked the bot 30 days ago or more."""
        cutoff = now - BLOCKED_RETENTION_SECONDS
        with self._transaction() as db:
            db.execute(
                "DELETE FROM tip_outbox WHERE chat_id IN"
                " (SELECT chat_id FROM users WHERE blocked_at <= ?)",
                (cutoff,),
            )
            cursor = db.execute("DELETE FROM users WHERE blocked_at <= ?", (cutoff,))
            db.execute(
                "DELETE FROM tip_outbox WHERE state != 'claimed' AND claimed_at <= ?",
                (now - OUTBOX_RETENTION_SECONDS,),
            )
        return cursor.rowcount

    # -- tips and the outbox ---------------------------------------------------------------

    def take_tip_position(self, chat_id: int) -> int:
        """Return the chat's current tip position and advance it, atomically."""
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO users (chat_id) VALUES (?)", (chat_id,))
            (position,) = db.execute(
                "UPDATE users SET tip_position = tip_position + 1 WHERE chat_id = ?"
                " RETURNING tip_position - 1",
                (chat_id,),
            ).fetchone()
        return int(position)

    def claim_day(self, chat_id: int, local_date: str, now: float) -> Claim | None:
        """Claim ``local_date``'s daily tip for a subscribed chat, atomically.

        Returns the claim (an outbox row, ``claimed``) when this caller won, None when
        the day was already claimed or the chat is not subscribed. Only one caller, in
        any process, can win a given day.
        """
        with self._transaction() as db:
            row = db.execute(
                "SELECT last_sent FROM users WHERE chat_id = ? AND subscribed = 1"
                " AND (last_sent IS NULL OR last_sent < ?)",
                (chat_id, local_date),
            ).fetchone()
            if row is None:
                return None
            (position,) = db.execute(
                "UPDATE users SET last_sent = ?, tip_position = tip_position + 1"
                " WHERE chat_id = ? RETURNING tip_position - 1",
                (local_date, chat_id),
            ).fetchone()
            db.execute(
                "INSERT OR REPLACE INTO tip_outbox"
                " (chat_id, local_date, position, previous, state, claimed_at)"
                " VALUES (?, ?, ?, ?, 'claimed', ?)",
                (chat_id, local_date, position, row[0], now),
            )
        return Claim(chat_id, local_date, int(position), row[0])

    def confirm_sent(self, chat_id: int, local_date: str, now: float) -> None:
        """The Bot API accepted the tip: it must never be sent again."""
        self.finish_claim(chat_id, local_date, "sent", now)

    def finish_claim(self, chat_id: int, local_date: str, state: str, now: float) -> None:
        """Close an outbox row for good (``sent``, ``gone``, ``failed``)."""
        if state not in FINISHED_STATES:
            raise ValueError(f"not a final outbox state: {state!r}")
        with self._transaction() as db:
            db.execute(
                "UPDATE tip_outbox SET state = ?, done_at = ? WHERE chat_id = ? AND local_date = ?",
                (state, now, chat_id, local_date),
            )

    def release_day(self, chat_id: int, local_date: str) -> bool:
        """Undo a claim that was not sent (a passing failure, a stop), so a later pass
        sends it; True if the chat's day was given back."""
        with self._transaction() as db:
            row = db.execute(
                "DELETE FROM tip_outbox WHERE chat_id = ? AND local_date = ? AND state = 'claimed'"
                " RETURNING previous",
                (chat_id, local_date),
            ).fetchone()
            if row is None:
                return False
            cursor = db.execute(
                "UPDATE users SET last_sent = ? WHERE chat_id = ? AND last_sent = ?",
                (row[0], chat_id, local_date),
            )
        return cursor.rowcount > 0

    def unconfirmed_claims(self, now: float) -> list[Claim]:
        """Claims no running pass owns (their process stopped before confirming them).

        The caller holds the dispatcher role, so every ``claimed`` row is an orphan.
        Rows of chats that unsubscribed meanwhile are released; rows older than
        ``CLAIM_MAX_AGE_SECONDS`` are expired rather than sent a day late.
        """
        with self._transaction() as db:
            db.execute(
                "UPDATE tip_outbox SET state = 'expired', done_at = ?"
                " WHERE state = 'claimed' AND claimed_at < ?",
                (now, now - CLAIM_MAX_AGE_SECONDS),
            )
            rows = db.execute(
                "SELECT o.chat_id, o.local_date, o.position, o.previous, u.subscribed"
                " FROM tip_outbox o LEFT JOIN users u ON u.chat_id = o.chat_id"
                " WHERE o.state = 'claimed' ORDER BY o.claimed_at, o.chat_id"
            ).fetchall()
        claims = [Claim(int(r[0]), str(r[1]), int(r[2]), r[3]) for r in rows if r[4]]
        for row in rows:
            if not row[4]:
                self.release_day(int(row[0]), str(row[1]))
        return claims

    def outbox_counts(self) -> dict[str, int]:
        """Outbox rows per state (tests and logs)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT state, COUNT(*) FROM tip_outbox GROUP BY state"
            ).fetchall()
        return {str(state): int(count) for state, count in rows}

    # -- routine feedback (aggregate only) --------------------------------------------

    def record_routine_feedback(self, routine_id: str, feeling: str) -> None:
        """Count one "how do you feel now?" answer; no user id is kept."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO routine_feedback (routine_id, feeling, count) VALUES (?, ?, 1)"
                " ON CONFLICT (routine_id, feeling) DO UPDATE SET count = count + 1",
                (routine_id, feeling),
            )

    def routine_feedback_counts(self) -> dict[str, dict[str, int]]:
        """``{routine_id: {feeling: count}}`` over everyone."""
        with self._lock:
            rows = self._db.execute(
                "SELECT routine_id, feeling, count FROM routine_feedback"
                " ORDER BY routine_id, feeling"
            ).fetchall()
        counts: dict[str, dict[str, int]] = {}
        for routine_id, feeling, count in rows:
            counts.setdefault(routine_id, {})[feeling] = int(count)
        return counts

    # -- live routines (one row per chat with a routine on screen) ---------------------

    def save_routine_run(self, run: RoutineRunRow) -> None:
        """Record (or move on) the routine shown in ``run.chat_id``'s live message."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO routine_runs (chat_id, routine_id, token, message_id, step)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (chat_id) DO UPDATE SET"
                " routine_id = excluded.routine_id, token = excluded.token,"
                " message_id = excluded.message_id, step = excluded.step",
                (run.chat_id, run.routine_id, run.token, run.message_id, run.step),
            )

    def end_routine_run(self, chat_id: int, token: str | None = None) -> bool:
        """Forget the chat's live routine (only run ``token`` when given); True if one was."""
        with self._transaction() as db:
            if token is None:
                cursor = db.execute("DELETE FROM routine_runs WHERE chat_id = ?", (chat_id,))
            else:
                cursor = db.execute(
                    "DELETE FROM routine_runs WHERE chat_id = ? AND token = ?", (chat_id, token)
                )
        return cursor.rowcount > 0

    def routine_runs(self) -> list[RoutineRunRow]:
        """Every routine that was on screen when the bot last stopped."""
        with self._lock:
            rows = self._db.execute(
                "SELECT chat_id, routine_id, token, message_id, step FROM routine_runs"
                " ORDER BY chat_id"
            ).fetchall()
        return [
            RoutineRunRow(int(c), str(r), str(t), None if m is None else int(m), int(s))
            for c, r, t, m, s in rows
        ]

    # -- "Did this help?" (aggregate only) ----------------------------------------------

    def record_answer_vote(self, entry_id: str, helpful: bool) -> None:
        """Count one 👍 or 👎 under an answer; no user id is kept."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO answer_feedback (entry_id, helpful, count) VALUES (?, ?, 1)"
                " ON CONFLICT (entry_id, helpful) DO UPDATE SET count = count + 1",
                (entry_id, int(helpful)),
            )

    def answer_vote_counts(self) -> dict[str, tuple[int, int]]:
        """``{entry_id: (helpful, not helpful)}`` over everyone."""
        with self._lock:
            rows = self._db.execute(
                "SELECT entry_id, helpful, count FROM answer_feedback ORDER BY entry_id"
            ).fetchall()
        return _vote_counts(rows)

    # -- conversation context ----------------------------------------------------------

    def get_context(
        self, chat_key: str, now: float, idle_seconds: float
    ) -> tuple[str, float] | None:
        """The context's data and time of its last turn; None when absent or expired."""
        with self._lock:
            row = self._db.execute(
                "SELECT data, updated_at FROM conversation_context"
                " WHERE chat_key = ? AND updated_at >= ?",
                (chat_key, now - idle_seconds),
            ).fetchone()
        return (str(row[0]), float(row[1])) if row else None

    def put_context(self, chat_key: str, data: str, now: float) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT INTO conversation_context (chat_key, data, updated_at) VALUES (?, ?, ?)"
                " ON CONFLICT (chat_key) DO UPDATE SET data = excluded.data,"
                " updated_at = excluded.updated_at",
                (chat_key, data, now),
            )

    def clear_context(self, chat_key: str) -> bool:
        with self._transaction() as db:
            cursor = db.execute("DELETE FROM conversation_context WHERE chat_key = ?", (chat_key,))
        return cursor.rowcount > 0

    def purge_contexts(self, now: float, idle_seconds: float) -> int:
        with self._transaction() as db:
            cursor = db.execute(
                "DELETE FROM conversation_context WHERE updated_at < ?", (now - idle_seconds,)
            )
        return cursor.rowcount

    # -- named numbers -----------------------------------------------------------------

    def knowledge_version(self) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM bot_state WHERE name = 'knowledge_version'"
            ).fetchone()
        return int(row[0]) if row else 0

    def bump_knowledge_version(self) -> int:
        with self._transaction() as db:
            row = db.execute(
                "UPDATE bot_state SET value = value + 1 WHERE name = 'knowledge_version'"
                " RETURNING value"
            ).fetchone()
        return int(row[0])


def _vote_counts(rows: list[tuple[Any, ...]]) -> dict[str, tuple[int, int]]:
    counts: dict[str, tuple[int, int]] = {}
    for entry_id, helpful, count in rows:
        yes, no = counts.get(str(entry_id), (0, 0))
        counts[str(entry_id)] = (yes + int(count), no) if helpful else (yes, no + int(count))
    return counts


def _take_slot(holder: Any, now: float, per_second: float, burst: int) -> float:
    # A generic cell rate algorithm: slots 1/per_second apart, ``burst`` at once when idle.
    step = 1.0 / per_second
    start = max(holder._next_slot, now - (max(burst, 1) - 1) * step)
    holder._next_slot = start + step
    return max(0.0, start - now)


class SqliteStore:
    """The async ``Store`` over one SQLite file: every call runs in a worker thread."""

    def __init__(
        self, path: Path, *, timeout: float = BUSY_TIMEOUT, threads: int = THREADS
    ) -> None:
        """Open and migrate the file now (start-up errors surface here, as ``StorageError``)."""
        try:
            first = Database.open(path, timeout=timeout)
        except StorageError:
            raise
        except (sqlite3.Error, OSError) as exc:
            raise StorageError(f"cannot open the database {path}: {describe_error(exc)}") from exc
        self.path = first.path
        self._timeout = timeout
        self._write_lock = first._write_lock
        self._local = threading.local()
        self._local.db = first  # the opening thread's connection: tests' ``sync`` view
        self._all = [first]
        self._all_lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="sqlite")
        self._closed = False
        self._next_slot = 0.0  # the in-memory send budget (see ``take_send_slot``)

    @property
    def description(self) -> str:
        return f"sqlite:{self.path}"

    @property
    def shared(self) -> bool:
        """One process per file (the instance lock): nothing to share with another."""
        return False

    @property
    def sync(self) -> Database:
        """A blocking view on the calling thread's connection (tests, tools)."""
        return self._database()

    def _database(self) -> Database:
        db = getattr(self._local, "db", None)
        if db is None:
            connection = _connect(self.path, self._timeout)
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA foreign_keys=ON")
            db = Database(connection, self.path, self._write_lock)
            with self._all_lock:
                self._all.append(db)
            self._local.db = db
        return db

    async def _call(self, name: str, *args: Any) -> Any:
        if self._closed:
            raise StorageError("the database is closed")

        def work() -> Any:
            method: Callable[..., Any] = getattr(self._database(), name)
            return method(*args)

        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work)
        except sqlite3.Error as exc:
            # Never the arguments: they may be people's settings.
            log.error("storage: %s failed: %s", name, describe_error(exc))
            raise StorageError(f"{name}: {describe_error(exc)}") from exc

    async def close(self) -> None:
        """Finish the calls under way, then close every connection."""
        if self._closed:
            return
        self._closed = True
        await asyncio.get_running_loop().run_in_executor(None, self._executor.shutdown, True)
        self.close_sync()

    def close_sync(self) -> None:
        """``close`` for callers outside an event loop."""
        self._closed = True
        self._executor.shutdown(wait=True)
        with self._all_lock:
            for db in self._all:
                with contextlib.suppress(sqlite3.Error):
                    db.close()
            self._all.clear()

    async def schema_version(self) -> int:
        return int(await self._call("schema_version"))

    async def journal_mode(self) -> str:
        return str(await self._call("journal_mode"))

    async def get(self, chat_id: int) -> Subscription | None:
        result: Subscription | None = await self._call("get", chat_id)
        return result

    async def subscribe(self, chat_id: int, daily_time: str | None = None) -> Subscription:
        result: Subscription = await self._call("subscribe", chat_id, daily_time)
        return result

    async def unsubscribe(self, chat_id: int) -> bool:
        return bool(await self._call("unsubscribe", chat_id))

    async def set_time(self, chat_id: int, daily_time: str) -> Subscription:
        result: Subscription = await self._call("set_time", chat_id, daily_time)
        return result

    async def set_timezone(self, chat_id: int, timezone: str) -> Subscription:
        result: Subscription = await self._call("set_timezone", chat_id, timezone)
        return result

    async def forget(self, chat_id: int) -> bool:
        return bool(await self._call("forget", chat_id))

    async def subscribers(self) -> list[Subscription]:
        result: list[Subscription] = await self._call("subscribers")
        return result

    async def subscriber_count(self) -> int:
        return int(await self._call("subscriber_count"))

    async def user_count(self) -> int:
        return int(await self._call("user_count"))

    async def mark_blocked(self, chat_id: int, now: float) -> bool:
        return bool(await self._call("mark_blocked", chat_id, now))

    async def purge_blocked(self, now: float) -> int:
        return int(await self._call("purge_blocked", now))

    async def take_tip_position(self, chat_id: int) -> int:
        return int(await self._call("take_tip_position", chat_id))

    async def claim_day(self, chat_id: int, local_date: str, now: float) -> Claim | None:
        result: Claim | None = await self._call("claim_day", chat_id, local_date, now)
        return result

    async def confirm_sent(self, chat_id: int, local_date: str, now: float) -> None:
        await self._call("confirm_sent", chat_id, local_date, now)

    async def finish_claim(self, chat_id: int, local_date: str, state: str, now: float) -> None:
        await self._call("finish_claim", chat_id, local_date, state, now)

    async def release_day(self, chat_id: int, local_date: str) -> bool:
        return bool(await self._call("release_day", chat_id, local_date))

    async def unconfirmed_claims(self, now: float) -> list[Claim]:
        result: list[Claim] = await self._call("unconfirmed_claims", now)
        return result

    async def outbox_counts(self) -> dict[str, int]:
        result: dict[str, int] = await self._call("outbox_counts")
        return result

    async def record_routine_feedback(self, routine_id: str, feeling: str) -> None:
        await self._call("record_routine_feedback", routine_id, feeling)

    async def routine_feedback_counts(self) -> dict[str, dict[str, int]]:
        result: dict[str, dict[str, int]] = await self._call("routine_feedback_counts")
        return result

    async def save_routine_run(self, run: RoutineRunRow) -> None:
        await self._call("save_routine_run", run)

    async def end_routine_run(self, chat_id: int, token: str | None = None) -> bool:
        return bool(await self._call("end_routine_run", chat_id, token))

    async def routine_runs(self) -> list[RoutineRunRow]:
        result: list[RoutineRunRow] = await self._call("routine_runs")
        return result

    async def record_answer_vote(self, entry_id: str, helpful: bool) -> None:
        await self._call("record_answer_vote", entry_id, helpful)

    async def answer_vote_counts(self) -> dict[str, tuple[int, int]]:
        result: dict[str, tuple[int, int]] = await self._call("answer_vote_counts")
        return result

    async def get_context(
        self, chat_key: str, now: float, idle_seconds: float
    ) -> tuple[str, float] | None:
        result: tuple[str, float] | None = await self._call(
            "get_context", chat_key, now, idle_seconds
        )
        return result

    async def put_context(self, chat_key: str, data: str, now: float) -> None:
        await self._call("put_context", chat_key, data, now)

    async def clear_context(self, chat_key: str) -> bool:
        return bool(await self._call("clear_context", chat_key))

    async def purge_contexts(self, now: float, idle_seconds: float) -> int:
        return int(await self._call("purge_contexts", now, idle_seconds))

    async def knowledge_version(self) -> int:
        return int(await self._call("knowledge_version"))

    async def bump_knowledge_version(self) -> int:
        return int(await self._call("bump_knowledge_version"))

    async def hold_dispatcher_role(self) -> bool:
        """Always: a SQLite file has one polling process (``bot.storage.lock``)."""
        return True

    async def take_send_slot(self, per_second: float, burst: int) -> float:
        """Seconds to wait before the next send; one process needs no database for it."""
        return _take_slot(self, time.monotonic(), per_second, burst)


__all__ = [
    "BUSY_TIMEOUT",
    "DB_FILENAME",
    "DEFAULT_DAILY_TIME",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Database",
    "SqliteStore",
    "describe_error",
    "migrate",
]
