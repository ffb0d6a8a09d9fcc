"""The storage interface against real databases: SQLite files (and PostgreSQL, see
``tests/support/postgres.py``, when a server binary is installed)."""

from __future__ import annotations

import asyncio
import sqlite3
import stat
import time
from pathlib import Path

import pytest

from bot.storage import (
    DB_FILENAME,
    MIGRATIONS,
    SCHEMA_VERSION,
    StorageError,
    Store,
)
from bot.storage.base import (
    BLOCKED_RETENTION_SECONDS,
    CLAIM_MAX_AGE_SECONDS,
    Claim,
    RoutineRunRow,
)
from bot.storage.sqlite import SqliteStore

NOW = 1_780_000_000.0  # unix seconds


@pytest.fixture(params=["sqlite", "postgres"])
async def store(request, tmp_path: Path):
    """The same suite against both backends (PostgreSQL: a fresh database per test)."""
    if request.param == "sqlite":
        store: Store = SqliteStore(tmp_path / "bot.sqlite3")
    else:
        from bot.storage.postgres import PostgresStore

        store = PostgresStore(request.getfixturevalue("postgres_url"))
    yield store
    await store.close()


async def test_new_file_is_wal_at_current_schema(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path)  # a directory: the file goes inside it
    assert store.path == tmp_path / DB_FILENAME
    assert await store.journal_mode() == "wal"
    assert await store.schema_version() == SCHEMA_VERSION == len(MIGRATIONS)
    await store.close()
    raw = sqlite3.connect(tmp_path / DB_FILENAME)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"users", "routine_feedback", "tip_outbox", "routine_runs", "answer_feedback"} <= tables
    raw.close()


async def test_subscribe_change_time_and_zone_unsubscribe(store: Store) -> None:
    assert await store.get(42) is None
    sub = await store.subscribe(42)
    assert (sub.subscribed, sub.daily_time, sub.timezone) == (True, "09:00", None)
    assert (await store.subscribe(42, "21:30")).daily_time == "21:30"
    assert (await store.set_timezone(42, "Europe/Berlin")).timezone == "Europe/Berlin"
    assert (await store.set_time(42, "07:15")).daily_time == "07:15"
    assert [s.chat_id for s in await store.subscribers()] == [42]
    assert await store.unsubscribe(42) is True
    assert await store.unsubscribe(42) is False
    after = await store.get(42)
    assert after is not None
    assert (after.subscribed, after.daily_time, after.timezone) == (
        False,
        "07:15",
        "Europe/Berlin",
    )
    assert await store.subscribers() == []


async def test_settings_without_subscribing_do_not_subscribe(store: Store) -> None:
    await store.set_timezone(7, "Asia/Tokyo")
    assert (await store.get(7)).subscribed is False  # type: ignore[union-attr]
    assert await store.subscriber_count() == 0


async def test_forget_deletes_the_row_and_the_outbox_and_keeps_others(store: Store) -> None:
    await store.subscribe(1)
    await store.subscribe(2, "10:00")
    await store.take_tip_position(1)
    await store.claim_day(1, "2026-03-01", NOW)
    assert await store.forget(1) is True
    assert await store.forget(1) is False
    assert await store.get(1) is None
    assert await store.get(2) is not None
    assert await store.unconfirmed_claims(NOW) == []


async def test_tip_positions_advance_atomically(store: Store) -> None:
    assert [await store.take_tip_position(5) for _ in range(3)] == [0, 1, 2]
    assert (await store.get(5)).tip_position == 3  # type: ignore[union-attr]
    assert (await store.get(5)).subscribed is False  # type: ignore[union-attr]


async def test_claim_day_only_once_and_release(store: Store) -> None:
    await store.subscribe(9)
    assert await store.claim_day(9, "2026-03-29", NOW) == Claim(9, "2026-03-29", 0, None)
    assert await store.claim_day(9, "2026-03-29", NOW) is None  # already claimed
    assert await store.claim_day(9, "2026-03-28", NOW) is None  # never backwards
    assert await store.release_day(9, "2026-03-29") is True
    assert (await store.get(9)).last_sent is None  # type: ignore[union-attr]
    assert await store.release_day(9, "2026-03-29") is False  # nothing claimed any more
    assert await store.claim_day(9, "2026-03-29", NOW) == Claim(9, "2026-03-29", 1, None)
    await store.confirm_sent(9, "2026-03-29", NOW)
    assert await store.release_day(9, "2026-03-29") is False  # a sent tip stays sent
    assert await store.claim_day(9, "2026-03-30", NOW) == Claim(9, "2026-03-30", 2, "2026-03-29")
    assert (await store.get(9)).last_sent == "2026-03-30"  # type: ignore[union-attr]


async def test_claim_day_refuses_unsubscribed(store: Store) -> None:
    await store.subscribe(3)
    await store.unsubscribe(3)
    assert await store.claim_day(3, "2026-01-01", NOW) is None
    assert await store.claim_day(404, "2026-01-01", NOW) is None


async def test_outbox_hands_back_only_unconfirmed_claims(store: Store) -> None:
    for chat_id in (1, 2, 3, 4, 5):
        await store.subscribe(chat_id)
        await store.claim_day(chat_id, "2026-04-01", NOW)
    await store.confirm_sent(1, "2026-04-01", NOW)
    await store.finish_claim(2, "2026-04-01", "gone", NOW)
    await store.finish_claim(3, "2026-04-01", "failed", NOW)
    await store.unsubscribe(5)  # unsubscribed after the claim: released, not sent
    assert await store.unconfirmed_claims(NOW + 60) == [Claim(4, "2026-04-01", 0, None)]
    assert (await store.get(5)).last_sent is None  # type: ignore[union-attr]
    assert await store.outbox_counts() == {"sent": 1, "gone": 1, "failed": 1, "claimed": 1}
    # A claim nobody confirmed for most of a day is stale: expired, never sent late.
    assert await store.unconfirmed_claims(NOW + CLAIM_MAX_AGE_SECONDS + 1) == []
    assert (await store.outbox_counts())["expired"] == 1
    with pytest.raises(ValueError):
        await store.finish_claim(4, "2026-04-01", "claimed", NOW)


async def test_blocked_rows_are_deleted_after_30_days(store: Store) -> None:
    await store.subscribe(1)
    await store.subscribe(2)
    await store.subscribe(3)
    await store.claim_day(1, "2026-04-01", NOW)
    assert await store.mark_blocked(1, NOW) is True
    assert await store.mark_blocked(2, NOW + 10 * 86_400) is True
    assert (await store.get(1)).subscribed is False  # type: ignore[union-attr]
    await store.mark_blocked(3, NOW)
    await store.subscribe(3)  # came back: the deletion clock stops
    assert await store.purge_blocked(NOW + BLOCKED_RETENTION_SECONDS - 1) == 0
    assert await store.purge_blocked(NOW + BLOCKED_RETENTION_SECONDS) == 1
    assert await store.get(1) is None
    assert await store.get(2) is not None and await store.get(3) is not None
    assert await store.unconfirmed_claims(NOW) == []  # its outbox row went too
    assert await store.purge_blocked(NOW + BLOCKED_RETENTION_SECONDS + 10 * 86_400) == 1
    assert await store.get(3) is not None


async def test_claim_is_exclusive_across_processes_connections(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    first = SqliteStore(path)
    for chat_id in range(50):
        await first.subscribe(chat_id)
    stores = [first, SqliteStore(path), SqliteStore(path)]
    import asyncio

    async def claim_all(s: SqliteStore) -> list[int]:
        return [c for c in range(50) if await s.claim_day(c, "2026-06-01", NOW) is not None]

    wins = [c for won in await asyncio.gather(*(claim_all(s) for s in stores)) for c in won]
    for s in stores:
        await s.close()
    assert sorted(wins) == list(range(50))  # every day claimed exactly once


async def test_data_survives_reopen(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "bot.sqlite3")
    await store.subscribe(11, "06:45")
    await store.set_timezone(11, "America/New_York")
    await store.claim_day(11, "2026-10-25", NOW)
    await store.close()
    again = SqliteStore(tmp_path / "bot.sqlite3")
    sub = await again.get(11)
    claims = await again.unconfirmed_claims(NOW)
    await again.close()
    assert sub is not None
    assert (sub.daily_time, sub.timezone, sub.last_sent, sub.tip_position) == (
        "06:45",
        "America/New_York",
        "2026-10-25",
        1,
    )
    assert claims == [Claim(11, "2026-10-25", 0, None)]


async def test_migrates_a_version_1_file_keeping_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    raw = sqlite3.connect(path)
    raw.executescript(MIGRATIONS[0] + "\nPRAGMA user_version = 1;")
    raw.execute(
        "INSERT INTO users (chat_id, timezone, subscribed, tip_position) VALUES (8, 'UTC', 1, 4)"
    )
    raw.commit()
    raw.close()
    store = SqliteStore(path)
    assert await store.schema_version() == SCHEMA_VERSION
    assert (await store.get(8)).tip_position == 4  # type: ignore[union-attr]
    await store.record_routine_feedback("calm-5", "better")
    assert await store.routine_feedback_counts() == {"calm-5": {"better": 1}}
    assert await store.claim_day(8, "2026-01-01", NOW) is not None
    await store.close()


def test_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(StorageError, match="newer bot"):
        SqliteStore(path)


def test_a_damaged_file_is_refused_in_one_line(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    path.write_bytes(b"this is not a database, just some text " * 200)
    with pytest.raises(StorageError, match="damaged") as caught:
        SqliteStore(path)
    assert "\n" not in str(caught.value) and str(path) in str(caught.value)


def test_an_unwritable_folder_is_refused_in_one_line(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("a file where the data folder should be")
    with pytest.raises(StorageError, match="cannot open the database") as caught:
        SqliteStore(blocker / "data" / DB_FILENAME)
    assert "\n" not in str(caught.value)


async def test_routine_feedback_is_aggregate(store: Store) -> None:
    for feeling in ("better", "better", "same"):
        await store.record_routine_feedback("evening", feeling)
    await store.record_routine_feedback("quick", "worse")
    assert await store.routine_feedback_counts() == {
        "evening": {"better": 2, "same": 1},
        "quick": {"worse": 1},
    }
    assert await _columns(store, "routine_feedback") == ["routine_id", "feeling", "count"]


async def test_answer_votes_are_aggregate_per_entry(store: Store) -> None:
    for helped in (True, False, False):
        await store.record_answer_vote("session-how-long", helped)
    await store.record_answer_vote("sleep-overview", True)
    assert await store.answer_vote_counts() == {
        "session-how-long": (1, 2),
        "sleep-overview": (1, 0),
    }
    assert await _columns(store, "answer_feedback") == ["entry_id", "helpful", "count"]


async def test_live_routine_rows_move_on_end_and_are_forgotten(store: Store) -> None:
    await store.save_routine_run(RoutineRunRow(5, "quick-calm", "tok1", 101, 0))
    await store.save_routine_run(RoutineRunRow(5, "quick-calm", "tok1", 101, 2))  # next step
    await store.save_routine_run(RoutineRunRow(6, "sleep-wind-down", "tok2", None, 0))
    assert await store.routine_runs() == [
        RoutineRunRow(5, "quick-calm", "tok1", 101, 2),
        RoutineRunRow(6, "sleep-wind-down", "tok2", None, 0),
    ]
    assert await store.end_routine_run(5, "another-run") is False  # a newer run is kept
    assert await store.end_routine_run(5, "tok1") is True
    assert await store.forget(6) is True  # a routine on screen is something stored
    assert await store.routine_runs() == []


async def _columns(store: Store, table: str) -> list[str]:
    if isinstance(store, SqliteStore):
        raw = sqlite3.connect(store.path)
        names = [r[1] for r in raw.execute(f"PRAGMA table_info({table})")]
        raw.close()
        return names
    import psycopg

    async with await psycopg.AsyncConnection.connect(store.url) as raw:  # type: ignore[attr-defined]
        cursor = await raw.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s"
            " ORDER BY ordinal_position",
            (table,),
        )
        return [r[0] for r in await cursor.fetchall()]


async def test_data_folder_and_database_are_private(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    store = SqliteStore(folder / "bot.sqlite3")
    await store.subscribe(1)  # a write, so SQLite creates its -wal and -shm files too
    await store.close()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path


async def test_a_locked_database_fails_fast_without_blocking_the_loop(tmp_path: Path) -> None:
    import asyncio

    store = SqliteStore(tmp_path / "bot.sqlite3", timeout=0.3)
    await store.subscribe(1)
    holder = sqlite3.connect(tmp_path / "bot.sqlite3", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    with pytest.raises(StorageError, match="locked"):
        await store.subscribe(2)
    elapsed = time.monotonic() - started
    assert (await store.get(1)).subscribed is True  # type: ignore[union-attr]  # reads go on
    ticker.cancel()
    holder.execute("ROLLBACK")
    holder.close()
    assert 0.25 < elapsed < 2.0
    assert ticks >= 10  # the event loop kept running while the write waited
    await store.subscribe(2)
    await store.close()


# -- PostgreSQL only: migrations, concurrency and locks on a real server ------------------


async def test_postgres_new_database_is_at_current_schema_and_migrates_once(postgres_url) -> None:
    from bot.storage.postgres import SCHEMA_VERSION as PG_VERSION
    from bot.storage.postgres import PostgresStore

    assert PG_VERSION == SCHEMA_VERSION  # both backends move in step
    first, second = PostgresStore(postgres_url), PostgresStore(postgres_url)
    assert await first.schema_version() == await second.schema_version() == SCHEMA_VERSION
    assert await _columns(first, "tip_outbox") == [
        "chat_id",
        "local_date",
        "position",
        "previous",
        "state",
        "claimed_at",
        "done_at",
    ]
    await first.close()
    await second.close()


async def test_postgres_migrates_a_version_1_database_keeping_rows(postgres_url) -> None:
    import psycopg

    from bot.storage.postgres import MIGRATIONS as PG_MIGRATIONS
    from bot.storage.postgres import PostgresStore

    with psycopg.connect(postgres_url, autocommit=True) as raw:
        raw.execute(PG_MIGRATIONS[0].encode())
        raw.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        raw.execute("INSERT INTO schema_version VALUES (1)")
        raw.execute(
            "INSERT INTO users (chat_id, timezone, subscribed, tip_position)"
            " VALUES (8, 'UTC', TRUE, 4)"
        )
    store = PostgresStore(postgres_url)
    assert await store.schema_version() == SCHEMA_VERSION
    assert (await store.get(8)).tip_position == 4  # type: ignore[union-attr]
    assert await store.claim_day(8, "2026-01-01", NOW) == Claim(8, "2026-01-01", 4, None)
    await store.record_routine_feedback("calm-5", "better")
    assert await store.routine_feedback_counts() == {"calm-5": {"better": 1}}
    await store.close()


def test_postgres_refuses_a_newer_schema_and_a_bad_server_in_one_line(
    postgres_url, postgres_server
) -> None:
    import psycopg

    from bot.storage.postgres import PostgresStore

    PostgresStore(postgres_url)
    with psycopg.connect(postgres_url, autocommit=True) as raw:
        raw.execute("UPDATE schema_version SET version = %s", (SCHEMA_VERSION + 1,))
    with pytest.raises(StorageError, match="newer bot"):
        PostgresStore(postgres_url)
    url = postgres_server.url("no_such_database").replace("bot@", "bot:s3cret@")
    with pytest.raises(StorageError, match="cannot use the database") as caught:
        PostgresStore(url)
    assert "\n" not in str(caught.value) and "s3cret" not in str(caught.value)


async def test_postgres_claims_are_exclusive_across_workers(postgres_url) -> None:
    import asyncio

    from bot.storage.postgres import PostgresStore

    stores = [PostgresStore(postgres_url) for _ in range(3)]
    for chat_id in range(60):
        await stores[0].subscribe(chat_id)

    async def claim_all(s: PostgresStore) -> list[int]:
        won = await asyncio.gather(*(s.claim_day(c, "2026-06-01", NOW) for c in range(60)))
        return [claim.chat_id for claim in won if claim is not None]

    wins = [c for won in await asyncio.gather(*(claim_all(s) for s in stores)) for c in won]
    for s in stores:
        await s.close()
    assert sorted(wins) == list(range(60))  # every day claimed exactly once


async def test_postgres_a_locked_row_fails_fast_without_blocking_the_loop(postgres_url) -> None:
    import asyncio

    import psycopg

    from bot.storage.postgres import PostgresStore

    store = PostgresStore(postgres_url)
    await store.subscribe(1)
    await store.subscribe(2)
    holder = psycopg.connect(postgres_url)  # another process's transaction holds row 1
    holder.execute("UPDATE users SET daily_time = '10:00' WHERE chat_id = 1")
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    ticker = asyncio.create_task(tick())
    started = time.monotonic()
    with pytest.raises(StorageError, match="lock"):
        await store.set_time(1, "11:00")
    elapsed = time.monotonic() - started
    assert (await store.set_time(2, "12:00")).daily_time == "12:00"  # other rows go on
    ticker.cancel()
    holder.rollback()
    holder.close()
    assert 1.5 < elapsed < 5.0
    assert ticks >= 100
    await store.close()


# -- several workers: conversation context, knowledge version, role, send budget ----------


async def test_conversation_context_is_kept_by_key_expires_and_is_purged(store: Store) -> None:
    idle = 1800.0
    assert await store.get_context("tg:1", NOW, idle) is None
    await store.put_context("tg:1", '{"topic": "sleep"}', NOW)
    await store.put_context("tg:2", '{"topic": "pain"}', NOW - 2 * idle)
    data, at = await store.get_context("tg:1", NOW + idle, idle)  # type: ignore[misc]
    assert ('"topic"' in data and "sleep" in data, at) == (True, NOW)
    assert await store.get_context("tg:1", NOW + idle + 1, idle) is None  # expired: absent
    assert await store.get_context("tg:2", NOW, idle) is None
    await store.put_context("tg:1", '{"topic": "stress"}', NOW + 10)  # a newer turn wins
    data, _ = await store.get_context("tg:1", NOW + 10, idle)  # type: ignore[misc]
    assert "stress" in data
    assert await store.purge_contexts(NOW, idle) == 1  # tg:2 only
    assert await store.clear_context("tg:1") is True
    assert await store.clear_context("tg:1") is False
    assert await store.get_context("tg:1", NOW + 10, idle) is None


async def test_knowledge_version_moves_on_once_per_bump(store: Store) -> None:
    assert await store.knowledge_version() == 0
    assert await store.bump_knowledge_version() == 1
    assert await store.bump_knowledge_version() == 2
    assert await store.knowledge_version() == 2


async def test_send_slots_are_spaced_after_a_burst(store: Store) -> None:
    waits = [await store.take_send_slot(100.0, 3) for _ in range(8)]
    assert waits[0] == 0.0
    # three at once, then 10 ms apart (minus the time the calls themselves took)
    assert waits[-1] == pytest.approx(0.05, abs=0.03)
    assert waits == sorted(waits)


async def test_sqlite_always_holds_the_dispatcher_role(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "bot.sqlite3")
    assert store.shared is False
    assert await store.hold_dispatcher_role() is True
    await store.close()


async def test_postgres_dispatcher_role_is_held_by_one_worker_and_taken_over(
    postgres_url,
) -> None:
    from bot.storage.postgres import PostgresStore

    first, second = PostgresStore(postgres_url), PostgresStore(postgres_url)
    assert first.shared and second.shared
    assert await first.hold_dispatcher_role() is True
    assert await second.hold_dispatcher_role() is False
    assert await first.hold_dispatcher_role() is True  # still held, not taken twice
    assert await second.hold_dispatcher_role() is False
    await first.close()  # the holder's connection ends (as when its process dies)
    # The server frees a session's locks when its backend has ended, a moment after the
    # client hangs up; a worker tries at every pass, so the test tries for a bounded while.
    deadline = time.monotonic() + 5.0
    while not await second.hold_dispatcher_role():
        assert time.monotonic() < deadline, "the role was not taken over within 5 s"
        await asyncio.sleep(0.05)
    assert await first.hold_dispatcher_role() is False  # closed: never a role
    await second.close()


async def test_postgres_dispatcher_role_lost_with_its_connection_is_tried_again(
    postgres_url,
) -> None:
    import psycopg

    from bot.storage.postgres import PostgresStore

    store = PostgresStore(postgres_url)
    assert await store.hold_dispatcher_role() is True
    with psycopg.connect(postgres_url, autocommit=True) as admin:  # the server drops it
        pids = [
            row[0]
            for row in admin.execute(
                "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND pid <> pg_backend_pid()"
            ).fetchall()
        ]
        admin.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", (pids,))
        # pg_terminate_backend only signals: wait (bounded) until those backends are gone
        deadline = time.monotonic() + 5.0
        while admin.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)
        ).fetchone()[0]:
            assert time.monotonic() < deadline, "the terminated backend did not end"
            time.sleep(0.02)
    assert await store.hold_dispatcher_role() is False  # noticed at the next pass
    assert await store.hold_dispatcher_role() is True  # and taken again on a new connection
    await store.close()


async def test_postgres_send_budget_is_one_for_every_worker(postgres_url) -> None:
    import asyncio

    from bot.storage.postgres import PostgresStore

    stores = [PostgresStore(postgres_url) for _ in range(3)]
    rate = 200.0
    started = time.monotonic()

    async def granted(s: PostgresStore) -> float:
        # When the slot is, as granted: what this event loop does after is not the budget's.
        wait = await s.take_send_slot(rate, 1)
        return time.monotonic() + wait - started

    moments = sorted(await asyncio.gather(*(granted(s) for s in stores for _ in range(20))))
    for s in stores:
        await s.close()
    # 60 sends from three workers: one budget, so they span 59 steps, not 19.
    assert moments[-1] - moments[0] >= 59 / rate * 0.9
    # (moments read after each call returns: this loop's own scheduling blurs them a little)
    assert max(sum(1 for m in moments if a <= m < a + 0.1) for a in moments) <= 0.1 * rate + 8


async def test_postgres_claims_skip_a_row_locked_elsewhere(postgres_url) -> None:
    import psycopg

    from bot.storage.postgres import PostgresStore

    store = PostgresStore(postgres_url)
    await store.subscribe(1)
    holder = psycopg.connect(postgres_url)  # e.g. another worker saving this person's time
    holder.execute("UPDATE users SET daily_time = '10:00' WHERE chat_id = 1")
    started = time.monotonic()
    assert await store.claim_day(1, "2026-06-01", NOW) is None  # skipped, not waited for
    assert time.monotonic() - started < 1.0
    holder.rollback()
    holder.close()
    assert await store.claim_day(1, "2026-06-01", NOW) is not None  # the next pass gets it
    await store.close()
