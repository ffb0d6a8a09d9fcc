"""Aggregate counters and the opt-in review of unanswered questions, in SQLite.

Kept apart from ``bot.storage`` (its own file, ``insights.sqlite3`` in ``BOT_DATA_DIR``,
its own schema version) so that it never takes a lock the conversations' storage needs
and can be merged into it later as one block. What is stored, and nothing more:

- ``reply_counts``: per UTC day and reply kind (answer, clarify, fallback, urgent...), how
  many questions got that kind of reply; ``chats_seen``: per UTC day, how many distinct
  chats wrote (a lower bound: counted in memory, so chats seen both before and after a
  restart count once per process). No chat id is stored.
- ``review_questions`` (only with ``BOT_REVIEW=on``): the text of questions the bot could
  not answer ("fallback") or was unsure about ("did you mean"), with the UTC day and the
  closest topic; never a user or chat id, never an urgent message; phone numbers and
  e-mail addresses are masked; rows older than ``REVIEW_DAYS`` are deleted.

``Insights`` counts in memory on the event loop and writes in batches (``flush``, run
in a thread, every ``FLUSH_SECONDS`` and at shutdown): no message
waits for a database write. A hard stop loses at most the last batch of counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import logging
import os
import re
import sqlite3
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

INSIGHTS_FILENAME = "insights.sqlite3"
REVIEW_DAYS = 30
FLUSH_SECONDS = 30.0
MAX_REVIEW_CHARS = 500
MAX_PENDING_REVIEW = 10_000  # a flood of odd questions never grows memory without bound
SCHEMA = """
CREATE TABLE IF NOT EXISTS reply_counts (
    day   TEXT    NOT NULL,
    kind  TEXT    NOT NULL,
    count INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, kind)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS chats_seen (
    day   TEXT    PRIMARY KEY,
    count INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS review_questions (
    id      INTEGER PRIMARY KEY,
    day     TEXT NOT NULL,
    kind    TEXT NOT NULL,
    text    TEXT NOT NULL,
    topic   TEXT
);
CREATE INDEX IF NOT EXISTS review_questions_day ON review_questions (day);
PRAGMA user_version = 1;
"""
REVIEW_KINDS = frozenset({"fallback", "clarify"})
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")


def mask_personal(text: str) -> str:
    """``text`` with e-mail addresses and phone-like numbers masked, cut to a bounded size."""
    text = _EMAIL.sub("<email>", text)
    text = _PHONE.sub("<number>", text)
    return " ".join(text.split())[:MAX_REVIEW_CHARS]


@dataclass(frozen=True)
class ReviewQuestion:
    day: str
    kind: str
    text: str
    topic: str | None


@dataclass(frozen=True)
class Totals:
    """What ``/stats`` shows from this file: counts only."""

    kinds_today: dict[str, int]
    kinds_week: dict[str, int]
    chats_today: int
    review_waiting: int


def today() -> str:
    return dtm.datetime.now(dtm.UTC).date().isoformat()


class InsightStore:
    """The SQLite file; every method is short and meant to run off the event loop."""

    def __init__(self, path: Path) -> None:
        path = Path(path)
        if path.is_dir():
            path = path / INSIGHTS_FILENAME
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        old_umask = os.umask(0o077)  # questions people asked: only the bot's user reads them
        try:
            self._db = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=2.0
            )
        finally:
            os.umask(old_umask)
        with contextlib.suppress(OSError):
            path.chmod(0o600)
        self.path = path
        self._lock = threading.Lock()
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(SCHEMA)
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def write(
        self,
        counts: Counter[tuple[str, str]],
        chats: dict[str, int],
        review: list[ReviewQuestion],
        *,
        keep_days: int = REVIEW_DAYS,
        now: dtm.date | None = None,
    ) -> None:
        """Add ``counts`` ((day, kind) -> n), raise ``chats`` per day, append ``review``."""
        oldest = (now or dtm.datetime.now(dtm.UTC).date()) - dtm.timedelta(days=keep_days)
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO reply_counts (day, kind, count) VALUES (?, ?, ?)"
                    " ON CONFLICT (day, kind) DO UPDATE SET count = count + excluded.count",
                    [(day, kind, n) for (day, kind), n in counts.items()],
                )
                self._db.executemany(
                    "INSERT INTO chats_seen (day, count) VALUES (?, ?)"
                    " ON CONFLICT (day) DO UPDATE SET count = max(count, excluded.count)",
                    list(chats.items()),
                )
                self._db.executemany(
                    "INSERT INTO review_questions (day, kind, text, topic) VALUES (?, ?, ?, ?)",
                    [(q.day, q.kind, q.text, q.topic) for q in review],
                )
                self._db.execute(
                    "DELETE FROM review_questions WHERE day < ?", (oldest.isoformat(),)
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def totals(self, day: str | None = None) -> Totals:
        """Reply kinds today and over the last 7 days, chats today, review rows waiting."""
        day = day or today()
        week_start = (dtm.date.fromisoformat(day) - dtm.timedelta(days=6)).isoformat()
        with self._lock:
            today_rows = self._db.execute(
                "SELECT kind, count FROM reply_counts WHERE day = ?", (day,)
            ).fetchall()
            week_rows = self._db.execute(
                "SELECT kind, SUM(count) FROM reply_counts WHERE day >= ? AND day <= ?"
                " GROUP BY kind",
                (week_start, day),
            ).fetchall()
            chats = self._db.execute(
                "SELECT count FROM chats_seen WHERE day = ?", (day,)
            ).fetchone()
            (waiting,) = self._db.execute("SELECT COUNT(*) FROM review_questions").fetchone()
        return Totals(
            kinds_today={str(k): int(n) for k, n in today_rows},
            kinds_week={str(k): int(n) for k, n in week_rows},
            chats_today=int(chats[0]) if chats else 0,
            review_waiting=int(waiting),
        )

    def review_questions(
        self, keep_days: int = REVIEW_DAYS, now: dtm.date | None = None
    ) -> list[ReviewQuestion]:
        """Every stored question of the last ``keep_days`` days (older ones are deleted)."""
        oldest = (now or dtm.datetime.now(dtm.UTC).date()) - dtm.timedelta(days=keep_days)
        with self._lock:
            self._db.execute("DELETE FROM review_questions WHERE day < ?", (oldest.isoformat(),))
            rows = self._db.execute(
                "SELECT day, kind, text, topic FROM review_questions ORDER BY id"
            ).fetchall()
        return [ReviewQuestion(str(d), str(k), str(t), tp) for d, k, t, tp in rows]


class Insights:
    """In-memory counts for the event loop; ``flush`` hands them to the store in one batch."""

    def __init__(self, store: InsightStore, review: bool) -> None:
        self.store = store
        self.review = review
        self._counts: Counter[tuple[str, str]] = Counter()
        self._chats_day = ""
        self._chats: set[int] = set()  # today's chats, in memory only; never written
        self._chat_counts: dict[str, int] = {}
        self._review: list[ReviewQuestion] = []

    def note(
        self, chat_id: int | None, text: str, kind: str, *, urgent: bool, topic: str | None
    ) -> None:
        """Count one question's reply; keep it for review when it was not answered."""
        day = today()
        self._counts[(day, kind)] += 1
        if chat_id is not None:
            if day != self._chats_day:
                self._chats_day, self._chats = day, set()
            self._chats.add(chat_id)
            self._chat_counts[day] = len(self._chats)
        if (
            self.review
            and not urgent
            and kind in REVIEW_KINDS
            and len(self._review) < MAX_PENDING_REVIEW
        ):
            masked = mask_personal(text)
            if masked:
                self._review.append(ReviewQuestion(day, kind, masked, topic))

    def take_batch(
        self,
    ) -> tuple[Counter[tuple[str, str]], dict[str, int], list[ReviewQuestion]]:
        """What is waiting to be written, handed over (on the event loop, so no lock)."""
        batch = (self._counts, self._chat_counts, self._review)
        self._counts, self._chat_counts, self._review = Counter(), {}, []
        return batch

    def pending(self, day: str) -> tuple[dict[str, int], int]:
        """Counts of ``day`` not yet written, and today's chats so far."""
        kinds = {kind: n for (d, kind), n in self._counts.items() if d == day}
        return kinds, len(self._chats) if self._chats_day == day else 0

    async def flush(self) -> None:
        """Write everything waiting, in a thread; on a database error keep it for next time."""
        counts, chats, review = self.take_batch()
        if not (counts or chats or review):
            return
        try:
            await asyncio.to_thread(self.store.write, counts, chats, review)
        except sqlite3.Error as exc:
            log.warning("insights not written yet (%s); kept for the next try", exc)
            self._counts.update(counts)
            for day, n in chats.items():
                self._chat_counts[day] = max(n, self._chat_counts.get(day, 0))
            self._review[:0] = review[: MAX_PENDING_REVIEW - len(self._review)]


__all__ = [
    "FLUSH_SECONDS",
    "INSIGHTS_FILENAME",
    "REVIEW_DAYS",
    "InsightStore",
    "Insights",
    "ReviewQuestion",
    "Totals",
    "mask_personal",
]
