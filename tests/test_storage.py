"""bot/storage.py against a real SQLite file."""

from __future__ import annotations

import sqlite3
import stat
import threading
from pathlib import Path

import pytest

from bot.storage import (
    DB_FILENAME,
    MIGRATIONS,
    SCHEMA_VERSION,
    StorageError,
    Store,
)


@pytest.fixture
def store(tmp_path: Path):
    store = Store.open(tmp_path / "bot.sqlite3")
    yield store
    store.close()


def test_new_file_is_wal_at_current_schema(tmp_path: Path) -> None:
    store = Store.open(tmp_path)  # a directory: the file goes inside it
    assert store.path == tmp_path / DB_FILENAME
    assert store.journal_mode == "wal"
    assert store.schema_version == SCHEMA_VERSION == len(MIGRATIONS)
    store.close()
    raw = sqlite3.connect(tmp_path / DB_FILENAME)
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"users", "routine_feedback"} <= tables
    raw.close()


def test_subscribe_change_time_and_zone_unsubscribe(store: Store) -> None:
    assert store.get(42) is None
    sub = store.subscribe(42)
    assert (sub.subscribed, sub.daily_time, sub.timezone, sub.timezone_or_utc) == (
        True,
        "09:00",
        None,
        "UTC",
    )
    assert store.subscribe(42, "21:30").daily_time == "21:30"
    assert store.set_timezone(42, "Europe/Berlin").timezone == "Europe/Berlin"
    assert store.set_time(42, "07:15").daily_time == "07:15"
    assert [s.chat_id for s in store.subscribers()] == [42]
    assert store.unsubscribe(42) is True
    assert store.unsubscribe(42) is False
    after = store.get(42)
    assert after is not None
    assert (after.subscribed, after.daily_time, after.timezone) == (
        False,
        "07:15",
        "Europe/Berlin",
    )
    assert store.subscribers() == []


def test_settings_without_subscribing_do_not_subscribe(store: Store) -> None:
    store.set_timezone(7, "Asia/Tokyo")
    assert store.get(7).subscribed is False  # type: ignore[union-attr]
    assert store.subscriber_count() == 0


def test_forget_deletes_the_row_and_keeps_others(store: Store, tmp_path: Path) -> None:
    store.subscribe(1)
    store.subscribe(2, "10:00")
    store.take_tip_position(1)
    assert store.forget(1) is True
    assert store.forget(1) is False
    assert store.get(1) is None
    assert store.get(2) is not None
    raw = sqlite3.connect(store.path)
    assert raw.execute("SELECT COUNT(*) FROM users WHERE chat_id = 1").fetchone()[0] == 0
    raw.close()


def test_tip_positions_advance_atomically(store: Store) -> None:
    assert [store.take_tip_position(5) for _ in range(3)] == [0, 1, 2]
    assert store.get(5).tip_position == 3  # type: ignore[union-attr]
    assert store.get(5).subscribed is False  # type: ignore[union-attr]


def test_claim_day_only_once_and_release(store: Store) -> None:
    store.subscribe(9)
    assert store.claim_day(9, "2026-03-29") == (None, 0)
    assert store.claim_day(9, "2026-03-29") is None  # already claimed
    assert store.claim_day(9, "2026-03-28") is None  # never backwards
    assert store.release_day(9, "2026-03-29", None) is True
    assert store.get(9).last_sent is None  # type: ignore[union-attr]
    assert store.claim_day(9, "2026-03-29") == (None, 1)
    assert store.claim_day(9, "2026-03-30") == ("2026-03-29", 2)
    # A stale release (the day moved on) changes nothing.
    assert store.release_day(9, "2026-03-29", None) is False
    assert store.get(9).last_sent == "2026-03-30"  # type: ignore[union-attr]


def test_claim_day_refuses_unsubscribed(store: Store) -> None:
    store.subscribe(3)
    store.unsubscribe(3)
    assert store.claim_day(3, "2026-01-01") is None
    assert store.claim_day(404, "2026-01-01") is None


def test_claim_is_exclusive_across_connections(tmp_path: Path) -> None:
    path = tmp_path / "bot.sqlite3"
    first = Store.open(path)
    for chat_id in range(50):
        first.subscribe(chat_id)
    stores = [first, Store.open(path), Store.open(path)]
    wins: list[int] = []

    def claim_all(s: Store) -> None:
        for chat_id in range(50):
            if s.claim_day(chat_id, "2026-06-01") is not None:
                wins.append(chat_id)

    threads = [threading.Thread(target=claim_all, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for s in stores:
        s.close()
    assert sorted(wins) == list(range(50))  # every day claimed exactly once


def test_data_survives_reopen(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "bot.sqlite3")
    store.subscribe(11, "06:45")
    store.set_timezone(11, "America/New_York")
    store.claim_day(11, "2026-10-25")
    store.close()
    again = Store.open(tmp_path / "bot.sqlite3")
    sub = again.get(11)
    again.close()
    assert sub is not None
    assert (sub.daily_time, sub.timezone, sub.last_sent, sub.tip_position) == (
        "06:45",
        "America/New_York",
        "2026-10-25",
        1,
    )


def test_migrates_a_version_1_file_keeping_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    raw = sqlite3.connect(path)
    raw.executescript(MIGRATIONS[0] + "\nPRAGMA user_version = 1;")
    raw.execute(
        "INSERT INTO users (chat_id, timezone, subscribed, tip_position) VALUES (8, 'UTC', 1, 4)"
    )
    raw.commit()
    raw.close()
    store = Store.open(path)
    assert store.schema_version == SCHEMA_VERSION
    assert store.get(8).tip_position == 4  # type: ignore[union-attr]
    store.record_routine_feedback("calm-5", "better")
    assert store.routine_feedback_counts() == {"calm-5": {"better": 1}}
    store.close()


def test_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "future.sqlite3"
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    raw.close()
    with pytest.raises(StorageError, match="newer bot"):
        Store.open(path)


def test_routine_feedback_is_aggregate(store: Store) -> None:
    for feeling in ("better", "better", "same"):
        store.record_routine_feedback("evening", feeling)
    store.record_routine_feedback("quick", "worse")
    assert store.routine_feedback_counts() == {
        "evening": {"better": 2, "same": 1},
        "quick": {"worse": 1},
    }
    raw = sqlite3.connect(store.path)
    columns = [r[1] for r in raw.execute("PRAGMA table_info(routine_feedback)")]
    raw.close()
    assert columns == ["routine_id", "feeling", "count"]


def test_data_folder_and_database_are_private(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    store = Store.open(folder / "bot.sqlite3")
    store.subscribe(1)  # a write, so SQLite creates its -wal and -shm files too
    store.close()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, path
