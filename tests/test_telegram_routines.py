"""Guided routines through the real PTB Application over the in-process fake Bot API.

Time runs 100x faster (``settings.time_scale == 0.01``): quick-calm's 3 minutes take
about 1.8 s. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from bot.core.routines import step_seconds
from bot.telegram.services import SERVICES_KEY, Services
from tests.support.recording_request import Call, Upload

CHAT = 42
ADMIN = 777  # in the ``settings`` fixture's admin_ids


def services_of(app: Any) -> Services:
    services = app.bot_data[SERVICES_KEY]
    assert isinstance(services, Services)
    return services


def callback_data(params: dict[str, Any]) -> list[str]:
    markup = params.get("reply_markup") or {}
    if isinstance(markup, str):
        markup = json.loads(markup)
    return [
        button["callback_data"]
        for row in markup.get("inline_keyboard", [])
        for button in row
        if "callback_data" in button
    ]


def shown(call: Call) -> str:
    return str(call.params.get("text") or call.params.get("caption") or "")


def sends(calls: list[Call]) -> list[Call]:
    return [
        c
        for c in calls
        if c.fault is None and c.method in {"sendMessage", "sendPhoto"} and c.params.get("chat_id")
    ]


def step_calls(calls: list[Call]) -> list[Call]:
    return [c for c in sends(calls) if shown(c).startswith("Step ")]


def headers(calls: list[Call]) -> list[str]:
    return [shown(c).split(" · ", 1)[0] for c in step_calls(calls)]


def feedback_question(calls: list[Call]) -> Call | None:
    return next((c for c in sends(calls) if "How do you feel?" in shown(c)), None)


def answer_texts(api: Any) -> list[str]:
    return [str(p.get("text") or "") for p in api.sent("answerCallbackQuery")]


async def test_routine_command_offers_every_routine_as_a_button(app, api, knowledge) -> None:
    api.push_text(CHAT, "/routine")
    [menu] = await api.wait_for_sent("sendMessage", chat_id=CHAT)
    assert callback_data(menu) == [f"r:start:{rid}" for rid in knowledge.routines]
    for routine in knowledge.routines.values():
        assert routine.title in menu["text"]


async def test_a_routine_runs_in_order_at_its_pace_then_counts_how_you_feel(
    app, api, knowledge, settings
) -> None:
    store = services_of(app).store.sync
    # A feedback press for a routine that was never finished here counts nothing.
    api.push_callback(CHAT, "fb:quick-calm:better")
    await api.wait_for(lambda _c: api.sent("answerCallbackQuery"))
    assert store.routine_feedback_counts() == {}

    routine = knowledge.routines["quick-calm"]
    api.push_callback(CHAT, "r:start:quick-calm")
    question = await api.wait_for(feedback_question, timeout=8)
    steps = step_calls(api.calls)
    assert headers(api.calls) == [f"Step {i}/6" for i in range(1, 7)]

    # The safety line comes before step 1.
    intro = sends(api.calls)[0]
    assert knowledge.routines_file.safety in shown(intro)
    assert intro.at <= steps[0].at

    # Each step waits for the previous one's (scaled) time, give or take the polling.
    for before, after, step in zip(steps, steps[1:], routine.steps, strict=False):
        expected = step_seconds(step, settings.time_scale)
        gap = after.at - before.at
        assert expected * 0.8 <= gap <= expected + 0.5, (shown(before)[:20], gap, expected)
    last = step_seconds(routine.steps[-1], settings.time_scale)
    assert question.at - steps[-1].at >= last * 0.8

    # Zone steps show the chart (one upload per zone, then its file_id); others are text.
    for call, step in zip(steps, routine.steps, strict=True):
        assert call.method == ("sendMessage" if step.area == "whole-foot" else "sendPhoto")
        assert callback_data(call.params) == ["r:pause", "r:next", "r:stop"]
    solar = [
        c.params["photo"]
        for c, s in zip(steps, routine.steps, strict=True)
        if s.area == "solar-plexus"
    ]
    assert isinstance(solar[0], Upload) and isinstance(solar[1], str)
    assert callback_data(question.params) == [
        "fb:quick-calm:better",
        "fb:quick-calm:same",
        "fb:quick-calm:worse",
    ]
    assert not app.job_queue.get_jobs_by_name(f"routine:{CHAT}")

    # "Worse" is counted (no user id anywhere) and gets a kind note with the safety topic.
    sent_before = len(sends(api.calls))
    api.push_callback(CHAT, "fb:quick-calm:worse")
    await api.wait_for(lambda calls: len(sends(calls)) > sent_before)
    kind_note = sends(api.calls)[-1].params
    assert "doctor" in kind_note["text"]
    assert callback_data(kind_note) == ["t:safety"]
    assert store.routine_feedback_counts() == {"quick-calm": {"worse": 1}}
    # The button goes through the same path as asking about safety.
    safety_start = knowledge.topics["safety"].answer.split(".")[0]
    api.push_callback(CHAT, "t:safety")
    await api.wait_for(lambda calls: any(safety_start in shown(c) for c in sends(calls)))

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


async def test_pause_holds_and_resume_continues(app, api) -> None:
    api.push_callback(CHAT, "r:start:quick-calm")
    # Step 3 is the long one (60 s -> 0.6 s): pause it.
    await api.wait_for(lambda calls: len(step_calls(calls)) >= 3)
    api.push_callback(CHAT, "r:pause")
    await api.wait_for(lambda _c: any(t.startswith("Paused") for t in answer_texts(api)))
    paused_at = time.monotonic()
    edited = api.sent("editMessageReplyMarkup", chat_id=CHAT)[-1]
    assert callback_data(edited) == ["r:resume", "r:next", "r:stop"]
    await asyncio.sleep(1.0)  # longer than the rest of step 3
    assert headers(api.calls) == ["Step 1/6", "Step 2/6", "Step 3/6"]
    assert not app.job_queue.get_jobs_by_name(f"routine:{CHAT}")

    api.push_callback(CHAT, "r:resume")
    await api.wait_for(lambda _c: any(t.startswith("Carrying on") for t in answer_texts(api)))
    resumed_at = time.monotonic()
    await api.wait_for(lambda calls: len(step_calls(calls)) >= 4, timeout=3)
    step4 = step_calls(api.calls)[3]
    # Step 3 continued with what it had left, not from zero and not at once.
    assert 0.1 <= step4.at - resumed_at <= 0.6 + 0.3
    assert step4.at - paused_at >= 1.0
    api.push_text(CHAT, "/stop")
    await api.wait_for(lambda _c: any("Stopped Quick calm" in shown(c) for c in sends(_c)))


async def test_next_skips_at_once_and_stop_ends_for_good(app, api) -> None:
    api.push_callback(CHAT, "r:start:sleep-wind-down")  # step 1: 45 s -> 0.45 s
    await api.wait_for(lambda calls: len(step_calls(calls)) >= 1)
    first = step_calls(api.calls)[0]
    api.push_callback(CHAT, "r:next")
    await api.wait_for(lambda calls: len(step_calls(calls)) >= 2)
    second = step_calls(api.calls)[1]
    assert second.at - first.at < 0.4  # before step 1's own time was up
    # The skipped step's job is gone: step 3 comes after step 2's full 0.45 s.
    await api.wait_for(lambda calls: len(step_calls(calls)) >= 3)
    third = step_calls(api.calls)[2]
    assert third.at - second.at >= 0.45 * 0.8
    assert headers(api.calls) == ["Step 1/14", "Step 2/14", "Step 3/14"]

    api.push_callback(CHAT, "r:stop")
    await api.wait_for(lambda _c: any("Stopped Sleep wind-down" in shown(c) for c in sends(_c)))
    count = len(step_calls(api.calls))
    await asyncio.sleep(1.0)  # longer than any step
    assert len(step_calls(api.calls)) == count
    assert feedback_question(api.calls) is None
    assert not app.job_queue.get_jobs_by_name(f"routine:{CHAT}")

    # Buttons of the stopped routine now say so instead of acting.
    api.push_callback(CHAT, "r:resume")
    await api.wait_for(
        lambda _c: any(t.startswith("No routine is running") for t in answer_texts(api))
    )


async def test_stop_command_ends_a_routine(app, api) -> None:
    api.push_text(CHAT, "/stop")
    await api.wait_for(lambda _c: any("No routine is running" in shown(c) for c in sends(_c)))
    api.push_text(CHAT, "/routine stress-relief")
    await api.wait_for(lambda calls: len(step_calls(calls)) >= 1)
    api.push_text(CHAT, "/stop")
    await api.wait_for(lambda _c: any("Stopped Unwind" in shown(c) for c in sends(_c)))
    count = len(step_calls(api.calls))
    await asyncio.sleep(0.8)  # step 1 is 0.3 s, step 2 0.3 s
    assert len(step_calls(api.calls)) == count == 1


async def test_a_second_routine_replaces_the_first_and_says_so(app, api) -> None:
    api.push_callback(CHAT, "r:start:sleep-wind-down")  # step 1: 45 s -> 0.45 s
    await api.wait_for(lambda calls: len(step_calls(calls)) >= 1)
    api.push_callback(CHAT, "r:start:quick-calm")
    notice = await api.wait_for(
        lambda calls: next((c for c in sends(calls) if "instead" in shown(c)), None)
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
    api.push_callback(CHAT, "r:start:quick-calm")
    await api.wait_for(lambda calls: len(step_calls(calls)) >= 1)
    api.fail_next("sendPhoto", "429")  # step 2 is a picture
    await api.wait_for(lambda calls: len(step_calls(calls)) >= 2)
    assert [c.fault for c in api.calls if c.method == "sendPhoto"][:2] == ["429", None]
    assert headers(api.calls) == ["Step 1/6", "Step 2/6"]
    api.push_text(CHAT, "/stop")
    await api.wait_for(lambda _c: any("Stopped" in shown(c) for c in sends(_c)))


async def test_a_user_who_blocked_the_bot_ends_the_routine(app, api) -> None:
    api.push_callback(CHAT, "r:start:quick-calm")
    await api.wait_for(lambda calls: len(step_calls(calls)) >= 1)
    blocked_at = len(api.calls)
    api.block_chat(CHAT)
    runs = services_of(app).state["routines"]
    await api.wait_for(lambda _c: CHAT not in runs, timeout=3)
    assert not app.job_queue.get_jobs_by_name(f"routine:{CHAT}")
    await asyncio.sleep(0.4)  # longer than step 2: step 3 would have been tried by now
    tried = [c.method for c in api.calls[blocked_at:] if c.method.startswith("send")]
    assert tried == ["sendPhoto"]  # step 2 met the 403 once; nothing was tried after it
