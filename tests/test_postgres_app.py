"""The whole bot on PostgreSQL: ``python -m bot run`` with ``DATABASE_URL`` against a
Bot API server on 127.0.0.1 and a real PostgreSQL server started by the tests."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import pytest

from tests.support.bot_api_server import BotApiServer
from tests.support.bot_process import BotProcess, daily_tip_counts

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="signals to a child process")


async def test_run_on_postgres_subscribes_sends_and_resends_an_unconfirmed_tip(
    tmp_path: Path, postgres_url: str
) -> None:
    from bot.storage.postgres import PostgresStore

    store = PostgresStore(postgres_url)  # migrated here; the bot must accept it as it is
    for chat_id in (501, 502, 503):
        await store.subscribe(chat_id, "00:00")  # due today (UTC)
    # A previous worker claimed 503's tip and died before Telegram's answer was recorded.
    orphan = await store.claim_day(503, time.strftime("%Y-%m-%d", time.gmtime()), time.time())
    assert orphan is not None
    log = tmp_path / "bot.log"
    async with BotApiServer() as server:
        bot = BotProcess(server, tmp_path / "data", log, DATABASE_URL=postgres_url)
        try:
            await bot.start()
            await server.wait_for(lambda _c: set(daily_tip_counts(server)) >= {501, 502, 503})
            server.push_text(77, "/daily 21:30")
            [reply] = await server.wait_for_sent("sendMessage", chat_id=77, timeout=10)
            assert "21:30" in reply["text"]
            await asyncio.sleep(0.2)
            status, _ = await bot.terminate()
        finally:
            await bot.kill()
    assert status == 0, log.read_text()[-3000:]
    assert dict(daily_tip_counts(server)) == {501: 1, 502: 1, 503: 1}
    sub = await store.get(77)
    assert sub is not None and sub.subscribed and sub.daily_time == "21:30"
    assert await store.outbox_counts() == {"sent": 3}
    assert await store.unconfirmed_claims(time.time()) == []
    assert not (tmp_path / "data" / "bot.sqlite3").exists()  # nothing went to SQLite
    assert "postgresql://bot@127.0.0.1" in log.read_text()  # where it ran, password-free
    await store.close()
