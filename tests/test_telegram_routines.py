"""Guided routines through the real PTB Application over the in-process fake Bot API.

A routine is one live message edited per step. Time runs 100x faster
(``settings.time_scale == 0.01``): quick-calm's 3 minutes take about 1.8 s. Every wait
is bounded.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from bot.core.routines import ENDED_TEXT, step_seconds
from bot.storage.sqlite import Database
from bot.telegram.app import build_application
from bot.telegram.context import services_of
from tests.support.recording_request import Call, RecordingRequest, Upload, running_application

CHAT = 42
ADMIN = 777  # in the ``settings`` fixture's admin_ids
NEW_MESSAGES = {"sendMessage", "sendPhoto"}
EDITS = {"editMessageText", "editMessageCaption", "editMessageMedia", "editMessageReplyMarkup"}


def _markup(params: dict[str, Any]) -> dict[str, Any]:
    markup = params.get("reply_markup") or {}
    return json.loads(markup) if isinstance(markup, str) else markup


def callback_data(params: dict[str, Any]) -> list[str]:
    return [
        button["callback_data"]
        for row in _markup(params).get("inline_keyboard", [])
        for button in row
        if "callback_data" in button
    ]


def _media(params: dict[str, Any]) -> dict[str, Any]:
    media = params.get("media") or {}
    return json.loads(media) if isinstance(media, str) else media


def shown(call: Call) -> str:
    """The words a call put on screen (text, caption or the new media's caption)."""
    if call.method == "editMessageMedia":
        return str(_media(call.params).get("caption") or "")
    return str(call.params.get("text") or call.params.get("caption") or "")


def ok(calls: list[Call], chat_id: int = CHAT) -> list[Call]:
    return [c for c in calls if c.fault is None and str(c.params.get("chat_id")) == str(chat_id)]


def new_messages(calls: list[Call], chat_id: int = CHAT) -> list[Call]:
    return [c for c in ok(calls, chat_id) if c.method in NEW_MESSAGES]


def step_shows(calls: list[Call]) -> list[Call]:
    """The first call showing each step, in order (a pause edit repeats a step)."""
    first: list[Call] = []
    seen: set[str] = set()
    for call in ok(calls):
        text = shown(call)
        if call.method in NEW_MESSAGES | EDITS and text.startswith("Step "):
            header = text.split(" · ", 1)[0]
            if header not in seen or not first or not shown(first[-1]).startswith(header):
                if header in seen and "paused" in text:
                    continue
                first.append(call)
                seen.add(header)
    return first


def headers(calls: list[Call]) -> list[str]:
    return [shown(c).split(" · ", 1)[0] for c in step_shows(calls)]


def feedback_question(calls: list[Call]) -> Call | None:
    return next((c for c in ok(calls) if "How do you feel?" in shown(c)), None)


def answer_texts(api: Any) -> list[str]:
    return [str(p.get("text") or "") for p in api.sent("answerCallbackQuery")]


def live_buttons(api: Any) -> list[str]:
    """The Pause/Next/Stop data on the latest step shown."""
    return callback_data(step_shows(api.calls)[-1].params)


async def start(api: Any, routine: str) -> None:
    api.push_callback(CHAT, f"r:start:{routine}")
    await api.wait_for(lambda calls: step_shows(calls))


async def test_routine_command_offers_every_routine_as_a_button(app, api, knowledge) -> None:
    api.push_text(CHAT, "/routine")
    [menu] = await api.wait_for_sent("sendMessage", chat_id=CHAT)
    assert callback_data(menu) == [f"r:start:{rid}" for rid in knowledge.routines]
    for routine in knowledge.routines.values():
        assert routine.title in menu["text"]


async def test_a_six_step_routine_is_two_messages_and_edits_then_how_you_feel(
    app, api, knowledge, settings
) -> None:
    store = services_of(app).store.sync
    # A feedback press for a routine that was never finished here counts nothing.
    api.push_callback(CHAT, "fb:quick-calm:better")
    await api.wait_for(lambda _c: api.sent("answerCallbackQuery"))
    assert store.routine_feedback_counts() == {}

    routine = knowledge.routines["quick-calm"]
    assert len(routine.steps) == 6
    before = len(api.calls)
    api.push_callback(CHAT, "r:start:quick-calm")
    question = await api.wait_for(feedback_question, timeout=8)
    during = api.calls[before:]

    # Two new messages for the whole routine: the safety line, then the live message.
    intro, live = new_messages(during)
    assert len(new_messages(during)) == 2
    assert knowledge.routines_file.safety in shown(intro)
    assert live.method == "sendPhoto"
    edits = [c for c in ok(during) if c.method in EDITS]
    [live_id] = {int(c.params["message_id"]) for c in edits}  # every edit: one message
    assert "photo" in api.api._messages[(CHAT, live_id)]
    assert headers(during) == [f"Step {i}/6" for i in range(1, 7)]
    assert question.method == "editMessageCaption"  # the end is the last edit

    # Each step waits for the previous one's (scaled) time, give or take the polling.
    steps = step_shows(during)
    for earlier, later, step in zip(steps, steps[1:], routine.steps, strict=False):
        expected = step_seconds(step, settings.time_scale)
        gap = later.at - earlier.at
        assert expected * 0.8 <= gap <= expected + 0.5, (shown(earlier)[:20], gap, expected)

    # Every step shows its chart: the whole map for whole-foot steps, else the zone;
    # the picture is replaced only when it changes, and each variant uploaded once.
    assert [s.area for s in routine.steps] == [
        "whole-foot", "chest", "solar-plexus", "whole-foot", "solar-plexus", "whole-foot"
    ]  # fmt: skip
    assert [c.method for c in steps] == ["sendPhoto"] + ["editMessageMedia"] * 5
    sources = [_media(c.params).get("media") for c in steps[1:]]
    assert [s.startswith("attach://") for s in sources] == [True, True, False, False, False]
    assert isinstance(steps[0].params["photo"], Upload)
    for call in steps:
        text = shown(call)
        assert "▰" in text and "⏱" in text  # progress bar and the step's time
        token = callback_data(call.params)[0].split(":")[2]
        assert callback_data(call.params) == [
            f"r:pause:{token}",
            f"r:next:{token}",
            f"r:stop:{token}",
        ]
    assert callback_data(question.params) == [
        "fb:quick-calm:better",
        "fb:quick-calm:same",
        "fb:quick-calm:worse",
    ]
    assert not app.job_queue.get_jobs_by_name(f"routine:{CHAT}")
    assert store.routine_runs() == []  # nothing left to end at a restart

    # "Worse" is counted (no user id anywhere) and gets a kind note with the safety topic.
    sent_before = len(new_messages(api.calls))
    api.push_callback(CHAT, "fb:quick-calm:worse")
    await api.wait_for(lambda calls: len(new_messages(calls)) > sent_before)
    kind_note = new_messages(api.calls)[-1].params
    assert "doctor" in kind_note["text"]
    assert callback_data(kind_note) == ["t:safety"]
    assert store.routine_feedback_counts() == {"quick-calm": {"worse": 1}}

    # A second press on the same question is thanked but not counted again.
    api.push_callback(CHAT, "fb:quick-calm:better")
    await api.wait_for(lambda _c: any("already" in t for t in answer_texts(api)))
    assert store.routine_feedback_counts() == {"quick-calm": {"worse": 1}}

    # The admin sees the aggregate; anyone else is refused.
    api.push_text(CHAT, "/routinestats", user_id=ADMIN)
    stats = await api.wait_for(
        lambda _c: next(
            (p["text"] for p in api.sent(chat_id=CHAT) if "(quick-calm)" in p["text"]), None
        )
    )
    assert "Quick calm (quick-calm): 0 / 0 / 1" in stats
    api.push_text(CHAT + 1, "/routinestats")
    [refusal] = await api.wait_for_sent("sendMessage", chat_id=CHAT + 1)
    assert "admins" in refusal["text"]


async def test_stale_buttons_say_the_routine_ended_and_do_nothing(app, api) -> None:
    await start(api, "sleep-wind-down")
    old = live_buttons(api)  # r:pause:<token>, r:next:<token>, r:stop:<token>
    api.push_callback(CHAT, "r:start:stress-relief")
    await api.wait_for(lambda _c: any(h.endswith("/12") for h in headers(api.calls)))
    current = live_buttons(api)
    assert current != old

    # Pressing the first routine's Next (the reported bug) must not skip the new step.
    for data in [*old, "r:next", "r:pause:ffffff"]:
        before = len(api.calls)
        api.push_callback(CHAT, data)
        await api.wait_for(
            lambda calls, b=before: any(c.method == "answerCallbackQuery" for c in calls[b:])
        )
        await api.wait_until_idle(quiet=0.05)
        answered = [c for c in api.calls[before:] if c.method == "answerCallbackQuery"]
        assert answered[0].params.get("text") == ENDED_TEXT
        acted = [c for c in api.calls[before:] if c.method in NEW_MESSAGES | EDITS]
        # Only the new routine's own steps may have moved on meanwhile.
        assert all(shown(c).startswith("Step ") and "/12" in shown(c) for c in acted), acted
    assert headers(api.calls)[-1] in {"Step 1/12", "Step 2/12", "Step 3/12"}
    api.push_text(CHAT, "/stop")
    await api.wait_for(lambda _c: any("Stopped Unwind" in shown(c) for c in ok(_c)))

    # A stopped routine's buttons are stale too.
    before = len(api.calls)
    api.push_callback(CHAT, current[0])
    await api.wait_for(lambda _c: ENDED_TEXT in answer_texts(api)[-1:])
    await api.wait_until_idle(quiet=0.05)
    assert [c.method for c in api.calls[before:] if c.method != "getUpdates"] == [
        "answerCallbackQuery"
    ]


async def test_pause_holds_and_resume_continues(app, api) -> None:
    await start(api, "quick-calm")
    # Step 3 is the long one (60 s -> 0.6 s): pause it.
    await api.wait_for(lambda calls: len(step_shows(calls)) >= 3)
    pause, _next, _stop = live_buttons(api)
    api.push_callback(CHAT, pause)
    await api.wait_for(lambda _c: any(t.startswith("Paused") for t in answer_texts(api)))
    paused_at = time.monotonic()
    edit = [c for c in ok(api.calls) if c.method == "editMessageCaption"][-1]
    assert "paused" in shown(edit) and shown(edit).startswith("Step 3/6")
    assert callback_data(edit.params)[0].startswith("r:resume:")
    await asyncio.sleep(1.0)  # longer than the rest of step 3
    assert headers(api.calls) == ["Step 1/6", "Step 2/6", "Step 3/6"]
    assert not app.job_queue.get_jobs_by_name(f"routine:{CHAT}")

    api.push_callback(CHAT, callback_data(edit.params)[0])
    await api.wait_for(lambda _c: any(t.startswith("Carrying on") for t in answer_texts(api)))
    resumed_at = time.monotonic()
    await api.wait_for(lambda calls: len(step_shows(calls)) >= 4, timeout=3)
    step4 = step_shows(api.calls)[3]
    # Step 3 continued with what it had left, not from zero and not at once.
    assert 0.1 <= step4.at - resumed_at <= 0.6 + 0.3
    assert step4.at - paused_at >= 1.0
    api.push_text(CHAT, "/stop")
    await api.wait_for(lambda _c: any("Stopped Quick calm" in shown(c) for c in ok(_c)))


async def test_next_skips_at_once_and_stop_ends_for_good(app, api) -> None:
    await start(api, "sleep-wind-down")  # step 1: 45 s -> 0.45 s
    first = step_shows(api.calls)[0]
    api.push_callback(CHAT, live_buttons(api)[1])
    await api.wait_for(lambda calls: len(step_shows(calls)) >= 2)
    second = step_shows(api.calls)[1]
    assert second.at - first.at < 0.4  # before step 1's own time was up
    # The skipped step's job is gone: step 3 comes after step 2's full 0.45 s.
    await api.wait_for(lambda calls: len(step_shows(calls)) >= 3)
    third = step_shows(api.calls)[2]
    assert third.at - second.at >= 0.45 * 0.8
    assert headers(api.calls) == ["Step 1/14", "Step 2/14", "Step 3/14"]

    api.push_callback(CHAT, live_buttons(api)[2])
    await api.wait_for(lambda _c: any("Stopped Sleep wind-down" in shown(c) for c in ok(_c)))
    stopped = next(c for c in ok(api.calls) if "Stopped Sleep" in shown(c))
    assert stopped.method == "editMessageCaption" and not callback_data(stopped.params)
    count = len(step_shows(api.calls))
    await asyncio.sleep(1.0)  # longer than any step
    assert len(step_shows(api.calls)) == count
    assert feedback_question(api.calls) is None
    assert not app.job_queue.get_jobs_by_name(f"routine:{CHAT}")


async def test_stop_command_ends_a_routine(app, api) -> None:
    api.push_text(CHAT, "/stop")
    await api.wait_for(lambda _c: any("No routine is running" in shown(c) for c in ok(_c)))
    api.push_text(CHAT, "/routine stress-relief")
    await api.wait_for(lambda calls: len(step_shows(calls)) >= 1)
    api.push_text(CHAT, "/stop")
    await api.wait_for(lambda _c: any("Stopped Unwind" in shown(c) for c in new_messages(_c)))
    count = len(step_shows(api.calls))
    await asyncio.sleep(0.8)  # step 1 is 0.3 s, step 2 0.3 s
    assert len(step_shows(api.calls)) == count == 1


async def test_a_second_routine_replaces_the_first_and_says_so(app, api) -> None:
    await start(api, "sleep-wind-down")  # step 1: 45 s -> 0.45 s
    api.push_callback(CHAT, "r:start:quick-calm")
    notice = await api.wait_for(
        lambda calls: next((c for c in new_messages(calls) if "instead" in shown(c)), None)
    )
    assert shown(notice).startswith("Stopping Sleep wind-down and starting Quick calm instead.")
    await api.wait_for(lambda _c: "Step 2/6" in headers(api.calls))
    await asyncio.sleep(0.4)  # by now the old routine's step 2 would have come
    assert headers(api.calls)[0] == "Step 1/14"
    assert all(h.endswith("/6") for h in headers(api.calls)[1:])
    assert len(app.job_queue.get_jobs_by_name(f"routine:{CHAT}")) == 1


async def test_foot_map_topic_sends_the_chart_and_reuses_its_file_id(app, api) -> None:
    api.push_text(CHAT, "where are the points on the foot")
    [first] = await api.wait_for_sent("sendPhoto", chat_id=CHAT)
    assert isinstance(first["photo"], Upload) and first["photo"].content.startswith(b"\x89PNG")
    api.push_text(CHAT, "where are the points on the foot")
    photos = await api.wait_for_sent("sendPhoto", count=2, chat_id=CHAT)
    assert isinstance(photos[1]["photo"], str)  # the file_id: no second upload
    assert services_of(app).foot_maps.get_file_id(None) == photos[1]["photo"]


async def test_routine_topic_offers_the_routine_buttons(app, api, knowledge) -> None:
    api.push_text(CHAT, "can you guide me through a foot massage routine")
    menu = await api.wait_for(
        lambda _c: next(
            (
                p
                for p in api.sent("sendMessage")
                if callback_data(p) and callback_data(p)[0].startswith("r:start:")
            ),
            None,
        )
    )
    assert len(callback_data(menu)) == len(knowledge.routines)


async def test_a_flood_wait_delays_a_step_but_does_not_lose_it(app, api) -> None:
    api.retry_after = 0  # keep the test fast; the wait-and-retry path is the same
    await start(api, "quick-calm")
    api.fail_next("editMessageMedia", "429")  # step 2 changes the picture
    await api.wait_for(lambda calls: len(step_shows(calls)) >= 2)
    assert [c.fault for c in api.calls if c.method == "editMessageMedia"][:2] == ["429", None]
    assert headers(api.calls) == ["Step 1/6", "Step 2/6"]
    api.push_text(CHAT, "/stop")
    await api.wait_for(lambda _c: any("Stopped" in shown(c) for c in ok(_c)))


async def test_a_user_who_blocked_the_bot_ends_the_routine(app, api) -> None:
    await start(api, "quick-calm")
    blocked_at = len(api.calls)
    api.block_chat(CHAT)
    runs = app.bot_data.routines
    store = services_of(app).store.sync
    # the run leaves memory first, then its row is deleted by a storage thread
    await api.wait_for(lambda _c: CHAT not in runs and not store.routine_runs(), timeout=3)
    assert not app.job_queue.get_jobs_by_name(f"routine:{CHAT}")
    assert store.routine_runs() == []
    await asyncio.sleep(0.4)  # longer than step 2: step 3 would have been tried by now
    tried = [c.method for c in api.calls[blocked_at:] if c.method not in {"getUpdates"}]
    assert tried == ["editMessageMedia"]  # step 2 met the 403 once; nothing was tried after


async def test_a_restart_mid_routine_ends_it_with_a_short_note(settings, knowledge, companion):
    api = RecordingRequest()
    first = build_application(
        settings, knowledge, request=api, get_updates_request=api, companion=companion
    )
    async with running_application(first):
        await start(api, "sleep-wind-down")
        await api.wait_for(lambda calls: len(step_shows(calls)) >= 2)
        old = live_buttons(api)
        live_id = max(
            m["message_id"]
            for (chat, _), m in api.api._messages.items()
            if chat == CHAT and "photo" in m
        )
    # The bot is down; the routine's row outlives it.
    stored = Database.open(settings.data_dir)
    assert [(r.routine_id, r.message_id) for r in stored.routine_runs()] == [
        ("sleep-wind-down", live_id)
    ]
    stored.close()
    before = len(api.calls)
    second = build_application(
        settings, knowledge, request=api, get_updates_request=api, companion=companion
    )
    async with running_application(second):
        note = await api.wait_for(
            lambda calls: next(
                (c for c in new_messages(calls[before:]) if "cut short" in shown(c)), None
            )
        )
        assert "Sleep wind-down" in shown(note)
        assert callback_data(note.params) == ["r:start:sleep-wind-down"]
        [unbuttoned] = [c for c in api.calls[before:] if c.method == "editMessageReplyMarkup"]
        assert int(unbuttoned.params["message_id"]) == live_id
        assert services_of(second).store.sync.routine_runs() == []
        # The old run's buttons are stale in the new process.
        api.push_callback(CHAT, old[1], message_id=live_id)
        await api.wait_for(lambda _c: ENDED_TEXT in answer_texts(api))
        await asyncio.sleep(0.6)  # longer than a step: nothing moves on
        assert not [c for c in api.calls[before:] if c.method in {"editMessageMedia"}]


async def test_stop_during_a_slow_step_edit_leaves_the_message_stopped(app, api) -> None:
    api.slow_seconds = 0.3
    await start(api, "quick-calm")  # step 1: 10 s -> 0.1 s; step 2 changes the picture
    stop = live_buttons(api)[2]
    api.fail_next("editMessageMedia", "slow")
    await api.wait_for(lambda calls: any(c.method == "editMessageMedia" for c in calls))
    api.push_callback(CHAT, stop)  # while step 2's picture is still on its way
    await api.wait_for(lambda _c: "Stopped." in answer_texts(api))
    await asyncio.sleep(api.slow_seconds + 0.1)  # the slow edit has landed by now
    await api.wait_until_idle(quiet=0.1)
    [live] = [m for (chat, _), m in api.api._messages.items() if chat == CHAT and "photo" in m]
    assert live["caption"].startswith("Stopped Quick calm")
    assert "reply_markup" not in live
