"""The shared backend: PostgreSQL when ``DATABASE_URL`` is set (psycopg 3, async pool).

The same tables and meaning as the SQLite backend (see ``bot.storage.sqlite``), in
PostgreSQL's dialect. Migrations run once at start-up, synchronously, under an advisory
lock, so several workers starting together migrate exactly once; the table
``schema_version`` plays the part of SQLite's ``PRAGMA user_version``. A database at a
newer version than this bot knows is refused.

Calls go through an ``AsyncConnectionPool`` opened on first use in the running event
loop; no call blocks the loop. Each connection has a short ``lock_timeout`` and a
``statement_timeout``, so a locked row or a stuck server fails one call with a logged
``StorageError`` instead of holding a handler for long. The password never reaches a log:
``description`` drops it.

Several workers share this database (``shared``):

- the daily-tip dispatcher runs where ``hold_dispatcher_role`` is true: a session
  advisory lock (``pg_try_advisory_lock``) on a connection of its own, held for the
  worker's life. The server frees it when that connection ends (the worker exits or is
  killed; TCP keepalives end it when the machine vanishes), and another worker's next
  try takes it over;
- ``take_send_slot`` is one send budget for the whole bot: a single row holds the next
  free slot, moved on atomically by every send of every worker, on the server's clock
  (workers' clocks may differ; the server's is one);
- the conversation context and the knowledge version are rows like any other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import AsyncConnectionPool

from bot.storage.base import (
    BLOCKED_RETENTION_SECONDS,
    CLAIM_MAX_AGE_SECONDS,
    OUTBOX_RETENTION_SECONDS,
    Claim,
    RoutineRunRow,
    StorageError,
    Subscription,
)
from bot.storage.sqlite import FINISHED_STATES, _subscription

log = logging.getLogger(__name__)

CONNECT_TIMEOUT = 5  # seconds
# Per connection: a row lock held elsewhere fails the call after 2 s, any statement after 10 s.
SESSION_OPTIONS = "-c lock_timeout=2000 -c statement_timeout=10000"
POOL_MAX = 8
MIGRATION_LOCK = 0x7265666C  # advisory lock key for migrations ("refl")
DISPATCHER_LOCK = 0x72656664  # advisory lock key of the daily-tip dispatcher's role ("refd")
# The dispatcher's connection: the server ends it (freeing the role) within about 25 s of
# its worker's machine going silent, instead of the kernel's two hours.
ROLE_OPTIONS = (
    f"{SESSION_OPTIONS} -c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5"
    " -c tcp_keepalives_count=3"
)

# The same steps as SQLite's MIGRATIONS, in PostgreSQL's dialect; append, never edit.
MIGRATIONS: tuple[str, ...] = (
    # 1: daily-tip subscriptions and tip positions.
    """
    CREATE TABLE users (
        chat_id      BIGINT  PRIMARY KEY,
        timezone     TEXT,
        daily_time   TEXT    NOT NULL DEFAULT '09:00',
        subscribed   BOOLEAN NOT NULL DEFAULT FALSE,
        last_sent    TEXT,
        tip_position INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX users_subscribed ON users (subscribed) WHERE subscribed;
    """,
    # 2: aggregate routine feedback (how people felt after a routine), no user id.
    """
    CREATE TABLE routine_feedback (
        routine_id TEXT    NOT NULL,
        feeling    TEXT    NOT NULL,
        count      INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (routine_id, feeling)
    );
    """,
    # 3: the daily-tip outbox, and when a chat blocked the bot (unix seconds).
    """
    ALTER TABLE users ADD COLUMN blocked_at DOUBLE PRECISION;
    CREATE TABLE tip_outbox (
        chat_id    BIGINT           NOT NULL,
        local_date TEXT             NOT NULL,
        position   INTEGER          NOT NULL,
        previous   TEXT,
        state      TEXT             NOT NULL DEFAULT 'claimed',
        claimed_at DOUBLE PRECISION NOT NULL,
        done_at    DOUBLE PRECISION,
        PRIMARY KEY (chat_id, local_date)
    );
    CREATE INDEX tip_outbox_claimed ON tip_outbox (claimed_at) WHERE state = 'claimed';
    CREATE INDEX users_blocked ON users (blocked_at) WHERE blocked_at IS NOT NULL;
    """,
    # 4: the live routine message per chat and aggregate "Did this help?" votes.
    """
    CREATE TABLE routine_runs (
        chat_id    BIGINT  PRIMARY KEY,
        routine_id TEXT    NOT NULL,
        token      TEXT    NOT NULL,
        message_id BIGINT,
        step       INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE answer_feedback (
        entry_id TEXT    NOT NULL,
        helpful  BOOLEAN NOT NULL,
        count    INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (entry_id, helpful)
    );
    """,
    # 5: the conversation context per chat key (shared by the workers), named numbers
    # (the knowledge version) and the bot's one send budget (the next free slot, unix s).
    """
    CREATE TABLE conversation_context (
        chat_key   TEXT             PRIMARY KEY,
        data       JSONB            NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL
    );
    CREATE INDEX conversation_context_updated ON conversation_context (updated_at);
    CREATE TABLE bot_state (
        name  TEXT             PRIMARY KEY,
        value DOUBLE PRECISION NOT NULL
    );
    INSERT INTO bot_state (name, value) VALUES ('knowledge_version', 0), ('send_slot', 0);
    """,
)
SCHEMA_VERSION = len(MIGRATIONS)

_USER_COLUMNS = "chat_id, timezone, daily_time, subscribed, last_sent, tip_position"
_SETTABLE = frozenset({"daily_time", "timezone", "subscribed"})


def safe_description(url: str) -> str:
    """``postgresql://user@host:port/db`` without the password (for logs and errors)."""
    try:
        parts = conninfo_to_dict(url)
    except psycopg.Error:
        return "postgresql://(unparsable URL)"
    user = f"{parts['user']}@" if parts.get("user") else ""
    port = f":{parts['port']}" if parts.get("port") else ""
    return f"postgresql://{user}{parts.get('host', '')}{port}/{parts.get('dbname', '')}"


def _one_line(exc: BaseException, url: str | None = None) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    if url:
        parts = conninfo_to_dict(url)
        password = parts.get("password")
        if password:
            text = text.replace(str(password), "<redacted>")
    return text


def migrate(connection: psycopg.Connection[Any]) -> int:
    """Apply every migration the database lacks; return the version it started at."""
    with connection.transaction():
        connection.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        connection.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        row = connection.execute("SELECT version FROM schema_version").fetchone()
        if row is None:
            connection.execute("INSERT INTO schema_version VALUES (0)")
            start = 0
        else:
            start = int(row[0])
        if start > SCHEMA_VERSION:
            raise StorageError(
                f"the database is at schema version {start}, this bot knows up to"
                f" {SCHEMA_VERSION}: use a newer bot or another DATABASE_URL"
            )
        for version in range(start, SCHEMA_VERSION):
            # One transaction for all: PostgreSQL's DDL is transactional, so a failed
            # step leaves the database exactly where it was.
            connection.execute(MIGRATIONS[version].encode())
            connection.execute("UPDATE schema_version SET version = %s", (version + 1,))
    return start


class PostgresStore:
    """The async ``Store`` over a PostgreSQL database shared by every bot process."""

    def __init__(self, url: str, *, pool_max: int = POOL_MAX) -> None:
        """Connect once and migrate now (start-up errors surface here, as ``StorageError``)."""
        self.url = url
        self._pool_max = pool_max
        self._pool: AsyncConnectionPool | None = None
        self._opening = asyncio.Lock()
        self._closed = False
        self._role: psycopg.AsyncConnection[Any] | None = None
        self._role_held = False
        self._role_lock: asyncio.Lock | None = None
        try:
            with psycopg.connect(
                url, connect_timeout=CONNECT_TIMEOUT, options=SESSION_OPTIONS, autocommit=True
            ) as connection:
                migrate(connection)
        except StorageError:
            raise
        except psycopg.Error as exc:
            raise StorageError(
                f"cannot use the database {self.description}: {_one_line(exc, url)}"
            ) from exc

    @property
    def description(self) -> str:
        return safe_description(self.url)

    @property
    def shared(self) -> bool:
        return True

    async def _get_pool(self) -> AsyncConnectionPool:
        if self._closed:
            raise StorageError("the database is closed")
        if self._pool is None:
            async with self._opening:
                if self._pool is None:
                    pool = AsyncConnectionPool(
                        self.url,
                        min_size=1,
                        max_size=self._pool_max,
                        kwargs={"options": SESSION_OPTIONS, "connect_timeout": CONNECT_TIMEOUT},
                        open=False,
                        timeout=CONNECT_TIMEOUT,
                    )
                    await pool.open(wait=True, timeout=CONNECT_TIMEOUT)
                    self._pool = pool
        return self._pool

    async def _run(self, name: str, *statements: tuple[Any, Sequence[Any]]) -> list[Any]:
        """Run statements in one transaction; the rows of each (None without a result)."""
        try:
            pool = await self._get_pool()
            async with pool.connection() as connection, connection.transaction():
                results: list[Any] = []
                for query, params in statements:
                    cursor = await connection.execute(query, params)
                    results.append(await cursor.fetchall() if cursor.description else None)
                    results.append(cursor.rowcount)
                return results
        except psycopg.Error as exc:
            # Never the parameters: they may be people's settings.
            log.error("storage: %s failed: %s", name, _one_line(exc, self.url))
            raise StorageError(f"{name}: {_one_line(exc, self.url)}") from exc
        except TimeoutError as exc:  # the pool could not hand out a connection in time
            log.error("storage: %s failed: no database connection in time", name)
            raise StorageError(f"{name}: no database connection in time") from exc

    async def _rows(self, name: str, query: Any, *params: Any) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = (await self._run(name, (query, params)))[0]
        return rows

    async def _count(self, name: str, query: Any, *params: Any) -> int:
        return int((await self._run(name, (query, params)))[1])

    async def close(self) -> None:
        """Close the pool (waiting for the calls under way) and give up the dispatcher role."""
        self._closed = True
        if self._role is not None:
            with contextlib.suppress(psycopg.Error):
                await self._role.close()
            self._role, self._role_held = None, False
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    async def schema_version(self) -> int:
        rows = await self._rows("schema_version", "SELECT version FROM schema_version")
        return int(rows[0][0])

    # -- subscriptions --------------------------------------------------------------

    async def get(self, chat_id: int) -> Subscription | None:
        rows = await self._rows(
            "get", f"SELECT {_USER_COLUMNS} FROM users WHERE chat_id = %s", chat_id
        )
        return _subscription(rows[0]) if rows else None

    async def _upsert(self, name: str, chat_id: int, values: dict[str, Any]) -> Subscription:
        assert values and set(values) <= _SETTABLE
        columns = list(values)
        query = sql.SQL(
            "INSERT INTO users (chat_id, {cols}) VALUES (%s, {marks})"
            " ON CONFLICT (chat_id) DO UPDATE SET {sets}, blocked_at = NULL"
            " RETURNING " + _USER_COLUMNS
        ).format(
            cols=sql.SQL(", ").join(sql.Identifier(c) for c in columns),
            marks=sql.SQL(", ").join(sql.Placeholder() for _ in columns),
            sets=sql.SQL(", ").join(
                sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in columns
            ),
        )
        rows = await self._rows(name, query, chat_id, *values.values())
        return _subscription(rows[0])

    async def subscribe(self, chat_id: int, daily_time: str | None = None) -> Subscription:
        values: dict[str, Any] = {"subscribed": True}
        if daily_time is not None:
            values["daily_time"] = daily_time
        return await self._upsert("subscribe", chat_id, values)

    async def unsubscribe(self, chat_id: int) -> bool:
        return (
            await self._count(
                "unsubscribe",
                "UPDATE users SET subscribed = FALSE WHERE chat_id = %s AND subscribed",
                chat_id,
            )
            > 0
        )

    async def set_time(self, chat_id: int, daily_time: str) -> Subscription:
        return await self._upsert("set_time", chat_id, {"daily_time": daily_time})

    async def set_timezone(self, chat_id: int, timezone: str) -> Subscription:
        return await self._upsert("set_timezone", chat_id, {"timezone": timezone})

    async def forget(self, chat_id: int) -> bool:
        results = await self._run(
            "forget",
            ("DELETE FROM users WHERE chat_id = %s", (chat_id,)),
            ("DELETE FROM tip_outbox WHERE chat_id = %s", (chat_id,)),
            ("DELETE FROM routine_runs WHERE chat_id = %s", (chat_id,)),
        )
        return int(results[1]) + int(results[5]) > 0

    async def subscribers(self) -> list[Subscription]:
        rows = await self._rows(
            "subscribers",
            f"SELECT {_USER_COLUMNS} FROM users WHERE subscribed ORDER BY chat_id",
        )
        return [_subscription(row) for row in rows]

    async def user_count(self) -> int:
        rows = await self._rows("user_count", "SELECT COUNT(*) FROM users")
        return int(rows[0][0])

    async def subscriber_count(self) -> int:
        rows = await self._rows("subscriber_count", "SELECT COUNT(*) FROM users WHERE subscribed")
        return int(rows[0][0])

    async def mark_blocked(self, chat_id: int, now: float) -> bool:
        return (
            await self._count(
                "mark_blocked",
                "UPDATE users SET subscribed = FALSE, blocked_at = COALESCE(blocked_at, %s)"
                " WHERE chat_id = %s",
                now,
                chat_id,
            )
            > 0
        )

    async def purge_blocked(self, now: float) -> int:
        cutoff = now - BLOCKED_RETENTION_SECONDS
        results = await self._run(
            "purge_blocked",
            (
                "DELETE FROM tip_outbox WHERE chat_id IN"
                " (SELECT chat_id FROM users WHERE blocked_at <= %s)",
                (cutoff,),
            ),
            ("DELETE FROM users WHERE blocked_at <= %s", (cutoff,)),
            (
                "DELETE FROM tip_outbox WHERE state <> 'claimed' AND claimed_at <= %s",
                (now - OUTBOX_RETENTION_SECONDS,),
            ),
        )
        return int(results[3])

    # -- tips and the outbox ---------------------------------------------------------------

    async def take_tip_position(self, chat_id: int) -> int:
        rows = await self._rows(
            "take_tip_position",
            "INSERT INTO users (chat_id, tip_position) VALUES (%s, 1)"
            " ON CONFLICT (chat_id) DO UPDATE SET tip_position = users.tip_position + 1"
            " RETURNING tip_position - 1",
            chat_id,
        )
        return int(rows[0][0])

    async def claim_day(self, chat_id: int, local_date: str, now: float) -> Claim | None:
        # FOR UPDATE SKIP LOCKED: a row another transaction holds (a second claimer, or
        # the person changing their settings right now) is skipped, not waited for: the
        # claim returns None at once and a later pass finds the row free and re-checked.
        # A claimer never blocks the dispatcher, and a day is still claimed only once.
        results = await self._run(
            "claim_day",
            (
                "WITH old AS (SELECT chat_id, last_sent FROM users WHERE chat_id = %s"
                ' AND subscribed AND (last_sent IS NULL OR last_sent < %s COLLATE "C")'
                " FOR UPDATE SKIP LOCKED),"
                " claimed AS (UPDATE users u SET last_sent = %s,"
                " tip_position = u.tip_position + 1 FROM old WHERE u.chat_id = old.chat_id"
                " RETURNING u.tip_position - 1 AS position, old.last_sent AS previous)"
                " INSERT INTO tip_outbox (chat_id, local_date, position, previous, state,"
                " claimed_at) SELECT %s, %s, position, previous, 'claimed', %s FROM claimed"
                " ON CONFLICT (chat_id, local_date) DO UPDATE SET position = EXCLUDED.position,"
                " previous = EXCLUDED.previous, state = 'claimed',"
                " claimed_at = EXCLUDED.claimed_at, done_at = NULL"
                " RETURNING position, previous",
                (chat_id, local_date, local_date, chat_id, local_date, now),
            ),
        )
        rows = results[0]
        if not rows:
            return None
        return Claim(chat_id, local_date, int(rows[0][0]), rows[0][1])

    async def confirm_sent(self, chat_id: int, local_date: str, now: float) -> None:
        await self.finish_claim(chat_id, local_date, "sent", now)

    async def finish_claim(self, chat_id: int, local_date: str, state: str, now: float) -> None:
        if state not in FINISHED_STATES:
            raise ValueError(f"not a final outbox state: {state!r}")
        await self._run(
            "finish_claim",
            (
                "UPDATE tip_outbox SET state = %s, done_at = %s"
                " WHERE chat_id = %s AND local_date = %s",
                (state, now, chat_id, local_date),
            ),
        )

    async def release_day(self, chat_id: int, local_date: str) -> bool:
        results = await self._run(
            "release_day",
            (
                "WITH gone AS (DELETE FROM tip_outbox WHERE chat_id = %s AND local_date = %s"
                " AND state = 'claimed' RETURNING chat_id, previous)"
                " UPDATE users u SET last_sent = gone.previous FROM gone"
                " WHERE u.chat_id = gone.chat_id AND u.last_sent = %s",
                (chat_id, local_date, local_date),
            ),
        )
        return int(results[1]) > 0

    async def unconfirmed_claims(self, now: float) -> list[Claim]:
        results = await self._run(
            "unconfirmed_claims",
            (
                "UPDATE tip_outbox SET state = 'expired', done_at = %s"
                " WHERE state = 'claimed' AND claimed_at < %s",
                (now, now - CLAIM_MAX_AGE_SECONDS),
            ),
            (
                "SELECT o.chat_id, o.local_date, o.position, o.previous,"
                " COALESCE(u.subscribed, FALSE)"
                " FROM tip_outbox o LEFT JOIN users u ON u.chat_id = o.chat_id"
                " WHERE o.state = 'claimed' ORDER BY o.claimed_at, o.chat_id",
                (),
            ),
        )
        rows = results[2]
        claims = [Claim(int(r[0]), str(r[1]), int(r[2]), r[3]) for r in rows if r[4]]
        for row in rows:
            if not row[4]:
                await self.release_day(int(row[0]), str(row[1]))
        return claims

    async def outbox_counts(self) -> dict[str, int]:
        rows = await self._rows(
            "outbox_counts", "SELECT state, COUNT(*) FROM tip_outbox GROUP BY state"
        )
        return {str(state): int(count) for state, count in rows}

    # -- routine feedback (aggregate only) --------------------------------------------

    async def record_routine_feedback(self, routine_id: str, feeling: str) -> None:
        await self._run(
            "record_routine_feedback",
            (
                "INSERT INTO routine_feedback (routine_id, feeling, count) VALUES (%s, %s, 1)"
                " ON CONFLICT (routine_id, feeling)"
                " DO UPDATE SET count = routine_feedback.count + 1",
                (routine_id, feeling),
            ),
        )

    async def routine_feedback_counts(self) -> dict[str, dict[str, int]]:
        rows = await self._rows(
            "routine_feedback_counts",
            "SELECT routine_id, feeling, count FROM routine_feedback ORDER BY routine_id, feeling",
        )
        counts: dict[str, dict[str, int]] = {}
        for routine_id, feeling, count in rows:
            counts.setdefault(routine_id, {})[feeling] = int(count)
        return counts

    # -- live routines (one row per chat with a routine on screen) ---------------------

    async def save_routine_run(self, run: RoutineRunRow) -> None:
        await self._run(
            "save_routine_run",
            (
                "INSERT INTO routine_runs (chat_id, routine_id, token, message_id, step)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT (chat_id) DO UPDATE SET"
                " routine_id = EXCLUDED.routine_id, token = EXCLUDED.token,"
                " message_id = EXCLUDED.message_id, step = EXCLUDED.step",
                (run.chat_id, run.routine_id, run.token, run.message_id, run.step),
            ),
        )

    async def end_routine_run(self, chat_id: int, token: str | None = None) -> bool:
        if token is None:
            return (
                await self._count(
                    "end_routine_run", "DELETE FROM routine_runs WHERE chat_id = %s", chat_id
                )
                > 0
            )
        return (
            await self._count(
                "end_routine_run",
                "DELETE FROM routine_runs WHERE chat_id = %s AND token = %s",
                chat_id,
                token,
            )
            > 0
        )

    async def routine_runs(self) -> list[RoutineRunRow]:
        rows = await self._rows(
            "routine_runs",
            "SELECT chat_id, routine_id, token, message_id, step FROM routine_runs"
            " ORDER BY chat_id",
        )
        return [
            RoutineRunRow(int(c), str(r), str(t), None if m is None else int(m), int(s))
            for c, r, t, m, s in rows
        ]

    # -- "Did this help?" (aggregate only) ----------------------------------------------

    async def record_answer_vote(self, entry_id: str, helpful: bool) -> None:
        await self._run(
            "record_answer_vote",
            (
                "INSERT INTO answer_feedback (entry_id, helpful, count) VALUES (%s, %s, 1)"
                " ON CONFLICT (entry_id, helpful)"
                " DO UPDATE SET count = answer_feedback.count + 1",
                (entry_id, helpful),
            ),
        )

    async def answer_vote_counts(self) -> dict[str, tuple[int, int]]:
        rows = await self._rows(
            "answer_vote_counts",
            "SELECT entry_id, helpful, count FROM answer_feedback ORDER BY entry_id",
        )
        counts: dict[str, tuple[int, int]] = {}
        for entry_id, helpful, count in rows:
            yes, no = counts.get(str(entry_id), (0, 0))
            counts[str(entry_id)] = (yes + int(count), no) if helpful else (yes, no + int(count))
        return counts

    # -- conversation context ----------------------------------------------------------

    async def get_context(
        self, chat_key: str, now: float, idle_seconds: float
    ) -> tuple[str, float] | None:
        rows = await self._rows(
            "get_context",
            "SELECT data::text, updated_at FROM conversation_context"
            " WHERE chat_key = %s AND updated_at >= %s",
            chat_key,
            now - idle_seconds,
        )
        return (str(rows[0][0]), float(rows[0][1])) if rows else None

    async def put_context(self, chat_key: str, data: str, now: float) -> None:
        await self._run(
            "put_context",
            (
                "INSERT INTO conversation_context (chat_key, data, updated_at)"
                " VALUES (%s, %s::jsonb, %s) ON CONFLICT (chat_key) DO UPDATE SET"
                " data = EXCLUDED.data, updated_at = EXCLUDED.updated_at",
                (chat_key, data, now),
            ),
        )

    async def clear_context(self, chat_key: str) -> bool:
        return (
            await self._count(
                "clear_context", "DELETE FROM conversation_context WHERE chat_key = %s", chat_key
            )
            > 0
        )

    async def purge_contexts(self, now: float, idle_seconds: float) -> int:
        return await self._count(
            "purge_contexts",
            "DELETE FROM conversation_context WHERE updated_at < %s",
            now - idle_seconds,
        )

    # -- several workers, one schedule -------------------------------------------------

    async def knowledge_version(self) -> int:
        rows = await self._rows(
            "knowledge_version", "SELECT value FROM bot_state WHERE name = 'knowledge_version'"
        )
        return int(rows[0][0]) if rows else 0

    async def bump_knowledge_version(self) -> int:
        rows = await self._rows(
            "bump_knowledge_version",
            "UPDATE bot_state SET value = value + 1 WHERE name = 'knowledge_version'"
            " RETURNING value",
        )
        return int(rows[0][0])

    async def hold_dispatcher_role(self) -> bool:
        """True while this process holds the dispatcher's advisory lock (tried if not).

        Checked at every pass: a connection that broke (server restart, network) lost
        the lock with it, so it is replaced and the lock tried again like any other
        worker would; a database that cannot be reached means no role, never an error.
        """
        if self._closed:
            return False
        if self._role_lock is None:
            self._role_lock = asyncio.Lock()
        async with self._role_lock:
            try:
                if self._role is not None and not self._role.closed:
                    if self._role_held:
                        await self._role.execute("SELECT 1")  # still ours while it answers
                        return True
                else:
                    self._role_held = False
                    self._role = await psycopg.AsyncConnection.connect(
                        self.url,
                        autocommit=True,
                        options=ROLE_OPTIONS,
                        connect_timeout=CONNECT_TIMEOUT,
                    )
                cursor = await self._role.execute(
                    "SELECT pg_try_advisory_lock(%s)", (DISPATCHER_LOCK,)
                )
                row = await cursor.fetchone()
                held = bool(row and row[0])
                if held and not self._role_held:
                    log.info("this worker now runs the daily-tip dispatcher")
                self._role_held = held
                return held
            except psycopg.Error as exc:
                if self._role_held:
                    log.warning("lost the daily-tip dispatcher role: %s", _one_line(exc, self.url))
                if self._role is not None:
                    with contextlib.suppress(psycopg.Error):
                        await self._role.close()
                self._role, self._role_held = None, False
                return False

    async def take_send_slot(self, per_second: float, burst: int) -> float:
        """Seconds to wait before the next send of the whole bot (every worker)."""
        step = 1.0 / per_second
        # A generic cell rate algorithm on the server's clock, one row for all workers.
        rows = await self._rows(
            "take_send_slot",
            "WITH clock AS (SELECT EXTRACT(EPOCH FROM clock_timestamp())::float8 AS now)"
            " UPDATE bot_state SET value = GREATEST(value, clock.now - %s) + %s FROM clock"
            " WHERE name = 'send_slot' RETURNING value - %s - clock.now",
            (max(burst, 1) - 1) * step,
            step,
            step,
        )
        return max(0.0, float(rows[0][0]))


__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "PostgresStore", "migrate", "safe_description"]
