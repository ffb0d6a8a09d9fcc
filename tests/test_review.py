"""The opt-in review of unanswered questions (``BOT_REVIEW=on``, ``python -m bot review``).

The questions go through the real Application and are written by its own batch writer
to SQLite; the review command reads that file back.
"""

from __future__ import annotations

import datetime as dtm
import sqlite3
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import Settings, load_settings
from bot.core.review import group_questions
from bot.insights import INSIGHTS_FILENAME, InsightStore, ReviewQuestion, mask_personal
from bot.telegram.app import build_application
from bot.telegram.privacy import REVIEW_ON
from tests.support.recording_request import RecordingRequest, running_application

USER = 5150
FALLBACKS = [
    "what is the capital of france",
    "whats the capital of France?",
    "capital of france please",
    "recommend a good pizza place",
]
URGENT = "I have crushing chest pain and my left arm is numb"
ANSWERED = "what is reflexology?"


async def _ask(settings: Settings, knowledge, companion, questions: list[str]) -> RecordingRequest:
    api = RecordingRequest()
    application = build_application(
        settings, knowledge, request=api, get_updates_request=api, companion=companion
    )
    async with running_application(application):
        for question in questions:
            api.push_text(USER, question)
        await api.wait_for_sent("sendMessage", count=len(questions), chat_id=USER)
        await api.wait_until_idle()
    return api  # stopping the Application wrote the batch


def _rows(settings: Settings) -> list[tuple]:
    with sqlite3.connect(settings.data_dir / INSIGHTS_FILENAME) as db:
        return db.execute("SELECT * FROM review_questions").fetchall()


async def test_review_keeps_unanswered_questions_without_ids_and_never_urgent_ones(
    settings: Settings, knowledge, companion
) -> None:
    settings = replace(settings, review=True)
    await _ask(settings, knowledge, companion, [*FALLBACKS, URGENT, ANSWERED])
    rows = _rows(settings)
    texts = sorted(row[3] for row in rows)
    assert texts == sorted(FALLBACKS)
    with sqlite3.connect(settings.data_dir / INSIGHTS_FILENAME) as db:
        columns = {r[1] for r in db.execute("PRAGMA table_info(review_questions)")}
    assert columns == {"id", "day", "kind", "text", "topic"}  # nothing that points to a person
    assert all(str(USER) not in repr(row) for row in rows)
    assert oct((settings.data_dir / INSIGHTS_FILENAME).stat().st_mode & 0o777) == "0o600"


async def test_review_off_keeps_no_question(settings: Settings, knowledge, companion) -> None:
    await _ask(settings, knowledge, companion, FALLBACKS[:2])
    assert _rows(settings) == []


def test_questions_older_than_30_days_are_deleted(tmp_path: Path) -> None:
    store = InsightStore(tmp_path)
    now = dtm.date(2026, 6, 30)
    old = ReviewQuestion("2026-05-30", "fallback", "an old question", None)
    recent = ReviewQuestion("2026-06-01", "fallback", "a recent question", None)
    store.write(Counter(), {}, [old, recent], now=now)
    assert [q.text for q in store.review_questions(now=now)] == ["a recent question"]
    later = dtm.date(2026, 7, 2)
    assert store.review_questions(now=later) == []
    store.close()


def test_personal_details_are_masked() -> None:
    masked = mask_personal("call me on +44 7700 900123 or jo.smith@example.com, blorp")
    assert "7700" not in masked and "example.com" not in masked
    assert "<number>" in masked and "<email>" in masked and "blorp" in masked


def test_similar_wordings_are_grouped_and_given_the_closest_entry(knowledge) -> None:
    questions = [(q, "fallback") for q in FALLBACKS] + [
        ("does reflexology help tinnitus", "clarify"),
        ("can reflexology help with tinnitus?", "clarify"),
    ]
    groups = group_questions(questions, knowledge)
    by_leading = {g.leading.lower(): g for g in groups}
    france = next(g for g in groups if "france" in g.leading.lower())
    assert france.count == 3
    assert {w for w, _ in france.wordings} == set(FALLBACKS[:3])
    tinnitus = next(g for g in groups if "tinnitus" in g.leading)
    assert tinnitus.count == 2 and tinnitus.kinds == {"clarify": 2}
    assert tinnitus.suggestion is not None
    assert tinnitus.suggestion.entry in knowledge.entry_by_id
    assert sum(g.count for g in groups) == len(questions), by_leading
    assert groups[0] is france  # largest first


async def test_python_m_bot_review_prints_the_groups(
    tmp_path: Path,
    knowledge,
    companion,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("BOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("BOT_REVIEW", "on")
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    settings = replace(load_settings(), token="123456:REVIEW-TEST")
    assert settings.review
    await _ask(settings, knowledge, companion, [*FALLBACKS, FALLBACKS[0]])
    assert main(["review"]) == 0
    out = capsys.readouterr().out
    assert "5 unanswered questions in 2 groups" in out
    assert "1. 4 x  (fallback 4)" in out
    assert "  2 x  what is the capital of france" in out
    assert "closest entry:" in out


async def test_privacy_describes_the_review_when_it_is_on(
    settings: Settings, knowledge, companion
) -> None:
    settings = replace(settings, review=True)
    api = await _ask(settings, knowledge, companion, ["/privacy"])
    assert REVIEW_ON.format(days=30) in api.texts(USER)[0]
