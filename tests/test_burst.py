"""A burst under Telegram's flood control: every reply arrives, in order per chat.

200 chats send 5 questions each at once to the real Application, over HTTP, against a
Bot API server on 127.0.0.1 that enforces Telegram-like limits (30 messages/s overall,
one a second per chat with a burst of 3, 429 with ``retry_after`` above that). Time runs
``SPEEDUP`` times faster on both sides (the server's buckets and ``retry_after``, the
bot's pacing), so the same 1,000 replies that take about 35 s at Telegram's pace take a
few seconds here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings
from bot.core.conversation import MemoryContextStore
from bot.telegram import sending
from bot.telegram.app import build_application
from bot.telegram.formatting import escape, reply_html
from bot.telegram.qa import DID_THIS_HELP
from bot.telegram.sending import ReplyPacer, split_text
from tests.support.bot_api_server import BotApiServer
from tests.support.recording_request import SendLimits, running_application

SPEEDUP = 8.0
CHATS = 200
QUESTIONS = (
    "what is reflexology?",
    "does it really work?",
    "how long is a session?",
    "is it safe in pregnancy?",
    "can it help with stress?",
)


@pytest.fixture
def fast_pacing(monkeypatch: pytest.MonkeyPatch) -> ReplyPacer:
    """The bot's reply pacing at the server's compressed time."""
    pacer = ReplyPacer(speedup=SPEEDUP)
    monkeypatch.setattr(sending, "PACER", pacer)
    return pacer


async def test_a_burst_of_1000_questions_is_answered_in_full_and_in_order(
    tmp_path: Path, knowledge, companion, fast_pacing: ReplyPacer
) -> None:
    companion.contexts = MemoryContextStore()
    expected: list[str] = []
    for question in QUESTIONS:
        reply = companion.respond(question, chat="expected")
        entry = knowledge.entry_by_id.get(reply.entry) if reply.entry else None
        html = reply_html(reply.text, [knowledge.caveat, entry.caveat if entry else ""])
        expected += split_text(f"{html}\n\n<i>{escape(DID_THIS_HELP)}</i>")
    companion.contexts = MemoryContextStore()

    limits = SendLimits(speedup=SPEEDUP)
    async with BotApiServer(limits=limits) as server:
        settings = Settings(
            token="123456:BURST-TEST", base_url=server.base_url, data_dir=tmp_path / "data"
        )
        application = build_application(settings, knowledge, companion=companion)
        async with running_application(application):
            for chat in range(1, CHATS + 1):
                for question in QUESTIONS:
                    server.push_text(chat, question)
            total = CHATS * len(expected)
            await server.wait_for(
                lambda _calls: len(server.sent("sendMessage")) >= total, timeout=30.0
            )
            await server.wait_until_idle(timeout=5.0, quiet=0.3)

    missing = {
        chat: server.texts(chat) for chat in range(1, CHATS + 1) if server.texts(chat) != expected
    }
    assert not missing, f"{len(missing)} chats did not get every reply in order"
    sends = [c for c in server.calls if c.method == "sendMessage"]
    # Pacing, not brute retrying, is what keeps the replies flowing: a few 429s at most.
    assert limits.floods <= len(sends) // 20, f"{limits.floods} floods for {len(sends)} sends"
    assert not any(c.fault not in (None, "flood") for c in sends)


async def test_one_chat_asking_fast_is_paced_to_its_own_limit(
    tmp_path: Path, knowledge, companion, fast_pacing: ReplyPacer
) -> None:
    """A chat that fires 10 questions gets 10 answers, paced at about one a (scaled) second."""
    companion.contexts = MemoryContextStore()
    questions = [*QUESTIONS, *QUESTIONS]
    limits = SendLimits(speedup=SPEEDUP)
    async with BotApiServer(limits=limits) as server:
        settings = Settings(
            token="123456:BURST-TEST", base_url=server.base_url, data_dir=tmp_path / "data"
        )
        application = build_application(settings, knowledge, companion=companion)
        async with running_application(application):
            for question in questions:
                server.push_text(7, question)
            await server.wait_for_sent("sendMessage", count=len(questions), timeout=10.0)
    sends = [c for c in server.calls if c.method == "sendMessage"]
    assert len([c for c in sends if c.fault is None]) == len(questions)
    assert limits.floods == 0, "the bot should pace a chat itself, not wait for 429s"
    # After the burst of CHAT_BURST, one message per (scaled) second of per-chat rate.
    accepted = [c.at for c in sends if c.fault is None]
    span = accepted[-1] - accepted[0]
    assert span >= (len(questions) - sending.CHAT_BURST - 1) / SPEEDUP
