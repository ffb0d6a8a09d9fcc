"""Restarts: a new Application over the same database rebuilds the schedule by itself.

Each "run" of the bot is a fresh real Application (fresh JobQueue, fresh Store
connection) over the same BOT_DATA_DIR, with a fake clock. The start-up pass alone,
with no test calling the dispatcher, must send what is due, and the last-sent dates
in the database must keep anyone from getting a second tip on one local day.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from telegram.ext import Application

from bot.telegram import tips as tips_feature
from bot.telegram.delivery import PacedSender
from bot.telegram.services import SERVICES_KEY
from tests.support.recording_request import FakeBotApi, RecordingRequest

CHAT = 31


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


@contextlib.asynccontextmanager
async def bot_run(
    settings, knowledge, api: FakeBotApi, now: datetime
) -> AsyncIterator[Application]:
    """One run of the bot: started (start-up pass included) and stopped again."""
    from bot.telegram.app import build_application

    request = RecordingRequest(api)
    application = build_application(
        settings, knowledge, request=request, get_updates_request=request
    )
    state = tips_feature.runtime(application)
    state.clock = lambda: now
    state.sender = PacedSender(rate=None, backoff=0.01)
    await application.initialize()
    try:
        await application.post_init(application)
        await application.start()
        await application.updater.start_polling(poll_interval=0.0, timeout=1)
        deadline = time.monotonic() + 5
        while state.passes < 1:  # the start-up pass, run by the JobQueue
            assert time.monotonic() < deadline, "no dispatcher pass after start-up"
            await asyncio.sleep(0.01)
        yield application
    finally:
        if application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()
        await application.post_shutdown(application)


def daily_tips(api: FakeBotApi, chat_id: int = CHAT) -> list[str]:
    return [m["text"] for m in api.sent("sendMessage", chat_id) if "Tip of the day" in m["text"]]


async def test_down_at_the_time_sends_on_restart_and_never_twice(settings, knowledge) -> None:
    api = FakeBotApi()
    # Run 1, Sunday 29 March 2026 (clocks went forward), 08:00 in Berlin: subscribe for 09:00.
    async with bot_run(settings, knowledge, api, utc(2026, 3, 29, 6)) as application:
        api.push_text(CHAT, "/timezone Europe/Berlin")
        api.push_text(CHAT, "/daily 09:00")
        await api.wait_for_sent("sendMessage", count=2, chat_id=CHAT)
        assert "next tip: today at 09:00" in api.sent("sendMessage", CHAT)[-1]["text"].lower()
        assert daily_tips(api) == []
    # Down at 09:00 CEST (07:00 UTC). Run 2 starts at 12:00 CEST: today's tip goes at once.
    async with bot_run(settings, knowledge, api, utc(2026, 3, 29, 10)) as application:
        assert len(application.job_queue.get_jobs_by_name(tips_feature.JOB_NAME)) >= 1
        assert len(daily_tips(api)) == 1
        store = application.bot_data[SERVICES_KEY].store.sync
        assert store.get(CHAT).last_sent == "2026-03-29"
    # Run 3, the same evening: the date in the database holds, no second tip.
    async with bot_run(settings, knowledge, api, utc(2026, 3, 29, 20)) as application:
        assert tips_feature.runtime(application).last_report.due == 0
        assert len(daily_tips(api)) == 1
    # Run 4, Monday 07:30 CEST: not yet; at 09:00 CEST (07:00 UTC) the repeating job sends.
    async with bot_run(settings, knowledge, api, utc(2026, 3, 30, 5, 30)) as application:
        assert len(daily_tips(api)) == 1
        report = await tips_feature.dispatch_due_tips(application, utc(2026, 3, 30, 7, 0, 5))
        assert report.sent == 1
        assert len(daily_tips(api)) == 2
        assert daily_tips(api)[0] != daily_tips(api)[1]  # the rotation carried over too


async def test_a_day_that_ended_while_down_is_skipped_not_sent_late(settings, knowledge) -> None:
    api = FakeBotApi()
    async with bot_run(settings, knowledge, api, utc(2026, 7, 1, 6)):
        api.push_text(CHAT, "/daily 07:00")  # UTC
        await api.wait_for_sent("sendMessage", chat_id=CHAT)
    # Down all of 1 July; back on 2 July at 06:00, before 07:00: nothing yet.
    async with bot_run(settings, knowledge, api, utc(2026, 7, 2, 6)) as application:
        assert tips_feature.runtime(application).last_report.due == 0
        assert daily_tips(api) == []


async def test_a_claim_left_unconfirmed_by_a_crash_is_sent_once_on_restart(
    settings, knowledge
) -> None:
    """A crash between claiming the day and confirming the send: the outbox row is still
    ``claimed``, so the next start sends that tip (the same one), once."""
    api = FakeBotApi()
    async with bot_run(settings, knowledge, api, utc(2026, 7, 1, 6)) as application:
        api.push_text(CHAT, "/daily 08:00")
        await api.wait_for_sent("sendMessage", chat_id=CHAT)
        # What a pass does just before it sends, then the "crash".
        store = application.bot_data[SERVICES_KEY].store
        claim = await store.claim_day(CHAT, "2026-07-01", time.time())
        assert claim is not None
    async with bot_run(settings, knowledge, api, utc(2026, 7, 1, 9)) as application:
        report = tips_feature.runtime(application).last_report
        assert (report.resent, report.sent) == (1, 1)
        assert len(daily_tips(api)) == 1
    async with bot_run(settings, knowledge, api, utc(2026, 7, 1, 10)) as application:
        assert tips_feature.runtime(application).last_report.due == 0
        assert len(daily_tips(api)) == 1


async def test_an_unconfirmed_claim_of_a_day_that_is_over_is_dropped(settings, knowledge) -> None:
    api = FakeBotApi()
    async with bot_run(settings, knowledge, api, utc(2026, 7, 1, 6)) as application:
        api.push_text(CHAT, "/daily 08:00")
        await api.wait_for_sent("sendMessage", chat_id=CHAT)
        await application.bot_data[SERVICES_KEY].store.claim_day(CHAT, "2026-07-01", time.time())
    # Back on 2 July at 07:00 UTC: 1 July's tip is not sent late, 2 July's is not due yet.
    async with bot_run(settings, knowledge, api, utc(2026, 7, 2, 7)) as application:
        report = tips_feature.runtime(application).last_report
        assert (report.expired, report.due, report.sent) == (1, 0, 0)
        assert daily_tips(api) == []


async def test_many_subscribers_survive_a_restart(settings, knowledge) -> None:
    api = FakeBotApi()
    async with bot_run(settings, knowledge, api, utc(2026, 9, 1, 5)) as application:
        store = application.bot_data[SERVICES_KEY].store.sync
        zones = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", None]
        for chat_id in range(100, 140):
            store.subscribe(chat_id, "09:00")
            if zones[chat_id % 4]:
                store.set_timezone(chat_id, zones[chat_id % 4])
    # 1 September 12:00 UTC: 09:00 has passed in Berlin (14:00), UTC (12:00) and Tokyo
    # (21:00) but not in New York (08:00).
    async with bot_run(settings, knowledge, api, utc(2026, 9, 1, 12)) as application:
        report = tips_feature.runtime(application).last_report
        assert (report.due, report.sent) == (30, 30)
    async with bot_run(settings, knowledge, api, utc(2026, 9, 1, 13, 30)) as application:
        report = tips_feature.runtime(application).last_report
        assert (report.due, report.sent) == (10, 10)  # New York's turn, nobody else again
    for chat_id in range(100, 140):
        assert len(daily_tips(api, chat_id)) == 1, chat_id
