"""An update python-telegram-bot cannot parse is skipped and confirmed, never re-polled.

Against the loopback Bot API server, over HTTP, with the real Application: without the
tolerant bot the Updater re-fetches the same broken batch as fast as it can (hundreds of
getUpdates a second) and never answers anyone again.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from bot.config import Settings
from bot.core.conversation import MemoryContextStore
from bot.telegram.app import build_application
from tests.support.bot_api_server import BotApiServer
from tests.support.recording_request import running_application

SECRET_WORDS = "my private symptom words"


async def test_a_malformed_update_does_not_make_polling_spin(
    tmp_path: Path, knowledge, companion, caplog: pytest.LogCaptureFixture
) -> None:
    companion.contexts = MemoryContextStore()
    async with BotApiServer() as server:
        settings = Settings(
            token="123456:MALFORMED", base_url=server.base_url, data_dir=tmp_path / "data"
        )
        application = build_application(settings, knowledge, companion=companion)
        caplog.set_level(logging.DEBUG)
        async with running_application(application):
            # A chat without its type, in the same batch as a good message.
            server.push_update(
                {"message": {"message_id": 1, "date": 0, "chat": {"id": 5}, "text": SECRET_WORDS}}
            )
            server.push_update({"callback_query": {"id": "1"}})
            server.push_text(6, "what is reflexology?")
            await server.wait_for_sent("sendMessage", chat_id=6, timeout=5.0)
            assert server.pending_updates == 0  # all three confirmed
            polls_before = sum(1 for c in server.calls if c.method == "getUpdates")
            await asyncio.sleep(1.0)
            polls = sum(1 for c in server.calls if c.method == "getUpdates") - polls_before
            # Long polls of at most 0.5 s here: a few a second, not a spin.
            assert polls <= 4, f"{polls} getUpdates in one second"
            server.push_text(6, "does it really work?")
            await server.wait_for_sent("sendMessage", count=2, chat_id=6, timeout=5.0)

    assert server.sent("sendMessage", chat_id=5) == []
    assert SECRET_WORDS not in caplog.text
    assert "did not parse" in caplog.text
