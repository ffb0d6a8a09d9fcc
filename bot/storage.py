"""The bot's only database: SQLite in ``BOT_DATA_DIR``, behind this one module.

What is stored, and nothing more:

- ``users``: per chat, the daily-tip subscription: IANA time zone (``NULL`` until the
  user sets one: UTC is used and the bot says so), the daily time ``HH:MM``, whether
  subscribed, the local date of the last daily tip (``YYYY-MM-DD``), and the position
  in the user's tip rotation.
- ``routine_feedback``: aggregate counts per (routine id, feeling); no user id.

The file runs in WAL mode (readers never block the writer, a crash never leaves a
half-written row). ``PRAGMA user_version`` holds the schema version; ``MIGRATIONS``
brings any older file up to date in order, each step in its own transaction. A file
written by a newer version of the bot is refused rather than guessed at.

Every method is a short synchronous statement; on a local file these take
microseconds, so handlers call them directly from the event loop.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DB_FILENAME = "bot.sqlite3"
DEFAULT_DAILY_TIME = "09:00"

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
)
SCHEMA_VERSION = len(MIGRATIONS)

_USER_COLUMNS = "chat_id, timezone, daily_time, subscribed, last_sent, tip_position"


class StorageError(RuntimeError):
    """The database cannot be used (e.g. it was written by a newer bot)."""


@dataclass(frozen=True)
class Subscription:
    """One chat's daily-tip settings as stored."""

    chat_id: int
    timezone: str | None  # None: not set yet, UTC is used
    daily_time: str  # "HH:MM" in the user's time zone
    subscribed: bool
    last_sent: str | None  # local date "YYYY-MM-DD" of the last daily tip
    tip_position: int

    @property
    def timezone_or_utc(self) -> str:
        return self.timezone or "UTC"


def _subscription(row: tuple[Any, ...]) -> Subscription:
    # SQLite hands back plain ints and strings in the column order of SELECT_SUBSCRIPTION.
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


class Store:
    """Subscriptions, tip positions and routine feedback in one SQLite file."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path
        self._lock = threading.RLock()

    @classmethod
    def open(cls, path: Path) -> Store:
        """Open (creating and migrating as needed) the database at ``path``.

        ``path`` may also be a directory, e.g. ``BOT_DATA_DIR``: the file is then
        ``DB_FILENAME`` inside it.
        """
        path = Path(path)
        if path.is_dir():
            path = path / DB_FILENAME
        # People's settings are private: only the bot's own user may read the folder or
        # the database (and SQLite's -wal/-shm files, which the umask covers).
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            path.parent.chmod(0o700)
        old_umask = os.umask(0o077)
        try:
            connection = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=10.0
            )
        finally:
            os.umask(old_umask)
        with contextlib.suppress(OSError):
            path.chmod(0o600)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")
            connection.execute("PRAGMA foreign_keys=ON")
            migrate(connection)
        except BaseException:
            connection.close()
            raise
        return cls(connection, path)

    def close(self) -> None:
        """Close the connection (checkpointing the WAL)."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    @property
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
            db.execute(f"UPDATE users SET {column} = ? WHERE chat_id = ?", (value, chat_id))
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
        return cursor.rowcount > 0

    def subscribers(self) -> list[Subscription]:
        """Every subscribed chat (the dispatcher decides who is due)."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_USER_COLUMNS} FROM users WHERE subscribed = 1 ORDER BY chat_id"
            ).fetchall()
        return [_subscription(row) for row in rows]

    # -- speed branch: /stats needs this one count (merge: keep next to subscriber_count) --
    def user_count(self) -> int:
        """How many chats have settings stored (for /stats; no ids leave the store)."""
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM users").fetchone()[0])

    def subscriber_count(self) -> int:
        with self._lock:
            return int(
                self._db.execute("SELECT COUNT(*) FROM users WHERE subscribed = 1").fetchone()[0]
            )

    # -- tips -----------------------------------------------------------------------

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

    def claim_day(self, chat_id: int, local_date: str) -> tuple[str | None, int] | None:
        """Claim ``local_date``'s daily tip for a subscribed chat, atomically.

        Returns ``(previous last_sent, tip position to send)`` when this caller won
        the claim, None when the day was already claimed (or the chat unsubscribed
        meanwhile). Only one caller, in any process, can win a given day.
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
        return row[0], int(position)

    def release_day(self, chat_id: int, local_date: str, previous: str | None) -> bool:
        """Undo a claim whose send failed for a retryable reason, so a later pass retries."""
        with self._transaction() as db:
            cursor = db.execute(
                "UPDATE users SET last_sent = ? WHERE chat_id = ? AND last_sent = ?",
                (previous, chat_id, local_date),
            )
        return cursor.rowcount > 0

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


__all__ = [
    "DB_FILENAME",
    "DEFAULT_DAILY_TIME",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "StorageError",
    "Store",
    "Subscription",
    "migrate",
]
