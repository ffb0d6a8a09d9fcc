"""Shared fixtures: the real knowledge base, settings in a temporary data folder, and the
real python-telegram-bot Application running over an in-process fake Bot API.

Typical use::

    async def test_start(app, api):
        api.push_text(42, "/start")
        [message] = await api.wait_for_sent("sendMessage", chat_id=42)
"""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from telegram.ext import Application

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # ``tests.support`` importable however pytest is started
    sys.path.insert(0, str(ROOT))

from bot.config import Settings  # noqa: E402
from tests.support.postgres import postgres_server, postgres_url  # noqa: E402, F401
from tests.support.recording_request import RecordingRequest, running_application  # noqa: E402

TEST_TOKEN = "123456:TEST-TOKEN-do-not-log-me"


@pytest.fixture(scope="session")
def knowledge():  # -> bot.core.knowledge.Knowledge
    """The real knowledge base from ``knowledge/*.yaml``, loaded once."""
    from bot.core.knowledge import load_knowledge

    return load_knowledge()


@pytest.fixture(scope="session")
def companion(knowledge):  # -> bot.core.companion.Companion
    """One Companion over the real knowledge base, shared: building it indexes everything."""
    from bot.core.companion import Companion

    return Companion(knowledge)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings with a fake token, a temporary data folder and time scaled down 100x."""
    return Settings(
        token=TEST_TOKEN,
        data_dir=tmp_path / "data",
        admin_ids=frozenset({777}),
        time_scale=0.01,
    )


@pytest.fixture
def api() -> RecordingRequest:
    """The in-process fake Bot API the ``app`` fixture talks to."""
    return RecordingRequest()


@pytest.fixture
async def app(
    settings: Settings, knowledge, companion, api: RecordingRequest
) -> AsyncIterator[Application]:
    """The real Application from ``build_application``, initialized, started and polling."""
    from bot.core.conversation import MemoryContextStore
    from bot.telegram.app import build_application

    # The companion is shared; each test's chats start with no conversation context.
    companion.contexts = MemoryContextStore()
    application = build_application(
        settings, knowledge, request=api, get_updates_request=api, companion=companion
    )
    async with running_application(application) as running:
        yield running


@pytest.fixture(autouse=True)
def quick_reply_pacing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replies paced 100x faster than Telegram's limits: a test chat that gets several
    messages does not wait a real second for each (tests/test_burst.py checks pacing)."""
    from bot.telegram import sending

    monkeypatch.setattr(sending, "PACER", sending.ReplyPacer(speedup=100.0))
