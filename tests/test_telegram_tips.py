"""The tips feature through the real PTB Application over the in-process fake Bot API."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from bot.telegram import privacy
from bot.telegram import tips as tips_feature
from bot.telegram.context import services_of

NOW = datetime(2026, 5, 2, 12, 0, tzinfo=UTC)  # a Saturday, 14:00 in Berlin
CHAT = 4242


@pytest.fixture
def clock(app) -> dict[str, datetime]:
    """A fake clock for the tips feature (handlers and dispatcher)."""
    current = {"now": NOW}
    tips_feature.runtime(app).clock = lambda: current["now"]
    return current


def store(app):
    return services_of(app).store.sync


def tip_texts(app) -> set[str]:
    return {tip.text for tip in services_of(app).knowledge.tips}


def buttons(params: dict[str, Any]) -> dict[str, str]:
    """Callback data -> label of an inline keyboard in sent params."""
    markup = params.get("reply_markup") or {}
    return {b["callback_data"]: b["text"] for row in markup.get("inline_keyboard", []) for b in row}


async def say(api, text: str, chat_id: int = CHAT) -> dict[str, Any]:
    before = len(api.sent("sendMessage", chat_id))
    api.push_text(chat_id, text)
    await api.wait_for_sent("sendMessage", count=before + 1, chat_id=chat_id)
    await api.wait_until_idle(quiet=0.05)
    return api.sent("sendMessage", chat_id)[before]


async def press(api, data: str, chat_id: int = CHAT) -> None:
    before = len(api.calls)
    api.push_callback(chat_id, data)
    await api.wait_for(lambda calls: any(c.method == "answerCallbackQuery" for c in calls[before:]))
    await api.wait_until_idle(quiet=0.05)


async def test_tip_twice_gives_two_different_real_tips(app, api, clock) -> None:
    first = await say(api, "/tip")
    second = await say(api, "/tip")
    known = tip_texts(app)
    one, two = (m["text"].removeprefix("💡 ").strip() for m in (first, second))
    assert one in known and two in known
    assert one != two
    assert set(buttons(second)) == {"tip:next", "tip:daily"}
    assert store(app).get(CHAT).tip_position == 2
    assert store(app).get(CHAT).subscribed is False


async def test_another_tip_button_and_subscribe_button(app, api, clock) -> None:
    await say(api, "/tip")
    await press(api, "tip:next")
    texts = [m["text"] for m in api.sent("sendMessage", CHAT)]
    assert len(texts) == 2 and texts[0] != texts[1]
    await press(api, "tip:daily")
    assert store(app).get(CHAT).subscribed is True
    confirmation, todays = api.sent("sendMessage", CHAT)[-2:]
    assert "Daily tips are on" in confirmation["text"]
    assert todays["text"].startswith("💡 Tip of the day")  # 09:00 UTC had passed
    body = todays["text"].split("\n\n")[1]
    assert body not in {t.removeprefix("💡 ") for t in texts}  # the rotation moved on


async def test_daily_with_time_subscribes_and_says_utc(app, api, clock) -> None:
    reply = await say(api, "/daily 21:30")
    sub = store(app).get(CHAT)
    assert (sub.subscribed, sub.daily_time, sub.timezone) == (True, "21:30", None)
    assert "21:30 (UTC)" in reply["text"]
    assert "Next tip: today at 21:30" in reply["text"]
    assert "/timezone" in reply["text"]  # says that UTC is used until a zone is set


async def test_daily_after_todays_time_sends_todays_tip_once(app, api, clock) -> None:
    reply = await say(api, "/daily")
    assert store(app).get(CHAT).daily_time == "09:00"
    assert "Today's comes right now; the next one tomorrow at 09:00" in reply["text"]
    await api.wait_for_sent("sendMessage", count=2, chat_id=CHAT)
    tip = api.sent("sendMessage", CHAT)[1]
    assert tip["text"].startswith("💡 Tip of the day")
    assert store(app).get(CHAT).last_sent == "2026-05-02"
    # Today is claimed, so the dispatcher sends nothing more today.
    report = await tips_feature.dispatch_due_tips(app, NOW)
    assert report.due == 0
    assert len(api.sent("sendMessage", CHAT)) == 2


@pytest.mark.parametrize("args", ["/daily 25:00", "/daily soon", "/daily 9 30"])
async def test_daily_bad_arguments_answer_with_usage(app, api, clock, args: str) -> None:
    reply = await say(api, args)
    assert reply["text"].startswith("Usage: /daily [time|off]")
    assert store(app).get(CHAT) is None


async def test_daily_off_and_unsubscribe(app, api, clock) -> None:
    await say(api, "/daily 08:00")
    reply = await say(api, "/daily off")
    assert "off" in reply["text"]
    assert store(app).get(CHAT).subscribed is False
    await say(api, "/daily")
    await say(api, "/unsubscribe")
    assert store(app).get(CHAT).subscribed is False
    assert store(app).get(CHAT).daily_time == "08:00"  # the time is remembered


async def test_timezone_misspelling_suggests_and_button_sets_it(app, api, clock) -> None:
    await say(api, "/daily 18:00")
    reply = await say(api, "/timezone Europe/Berln")
    assert "Did you mean Europe/Berlin?" in reply["text"]
    assert "tz:Europe/Berlin" in buttons(reply)
    assert store(app).get(CHAT).timezone is None
    await press(api, "tz:Europe/Berlin")
    assert store(app).get(CHAT).timezone == "Europe/Berlin"
    [edit] = api.sent("editMessageText", CHAT)
    assert "Time zone set to Europe/Berlin" in edit["text"]
    assert "It is 14:00 there now" in edit["text"]
    assert "next tip: today at 18:00" in edit["text"]


async def test_timezone_valid_unknown_and_empty(app, api, clock) -> None:
    reply = await say(api, "/timezone america/new_york")
    assert "Time zone set to America/New_York" in reply["text"]
    assert store(app).get(CHAT).timezone == "America/New_York"
    reply = await say(api, "/timezone Qwxz/Plorp")
    assert "Usage: /timezone" in reply["text"]
    assert store(app).get(CHAT).timezone == "America/New_York"
    reply = await say(api, "/timezone")
    assert reply["text"].startswith("Usage: /timezone")
    assert "America/New_York" in reply["text"]


async def test_settings_shows_state_and_buttons_change_it(app, api, clock) -> None:
    reply = await say(api, "/settings")
    assert "Daily tips: off" in reply["text"]
    assert "not set, so UTC is used" in reply["text"]
    data = buttons(reply)
    assert {"set:on", "set:t:07:00", "set:t:21:00", "set:tz", "forget:ask"} <= set(data)

    await press(api, "set:on")
    assert store(app).get(CHAT).subscribed is True
    edit = api.sent("editMessageText", CHAT)[-1]
    assert "Daily tips: on, at 09:00 (UTC)" in edit["text"]
    assert "set:off" in buttons(edit)

    # 09:00 had passed: today's tip came with the switch, so 21:00 starts tomorrow.
    assert "Tip of the day" in api.sent("sendMessage", CHAT)[-1]["text"]
    await press(api, "set:t:21:00")
    assert store(app).get(CHAT).daily_time == "21:00"
    assert "Next tip: tomorrow at 21:00" in api.sent("editMessageText", CHAT)[-1]["text"]

    await press(api, "set:tz")
    assert "tz:Europe/London" in buttons(api.sent("sendMessage", CHAT)[-1])

    await press(api, "set:off")
    assert store(app).get(CHAT).subscribed is False


async def test_forget_needs_confirmation(app, api, clock) -> None:
    await say(api, "/daily 07:30")
    await say(api, "/timezone Asia/Tokyo")
    reply = await say(api, "/forget")
    assert {"forget:yes", "forget:no"} == set(buttons(reply))
    assert store(app).get(CHAT) is not None  # nothing deleted before the button

    await press(api, "forget:no")
    assert store(app).get(CHAT) is not None
    assert api.sent("editMessageText", CHAT)[-1]["text"] == privacy.NOT_DELETED

    await say(api, "/forget")
    await press(api, "forget:yes")
    assert store(app).get(CHAT) is None
    assert api.sent("editMessageText", CHAT)[-1]["text"] == privacy.FORGOTTEN


async def test_forget_leaves_other_chats(app, api, clock) -> None:
    await say(api, "/daily", chat_id=1)
    await say(api, "/daily", chat_id=2)
    await say(api, "/forget", chat_id=1)
    await press(api, "forget:yes", chat_id=1)
    assert store(app).get(1) is None
    assert store(app).get(2).subscribed is True


async def test_deep_link_start_daily_subscribes(app, api, clock) -> None:
    await say(api, "/start daily")
    # today's tip follows at once (the time has passed); under load the dispatcher's pass
    # may send it before the confirmation, so the confirmation is looked for, not counted
    await api.wait_for_sent("sendMessage", count=2, chat_id=CHAT)
    assert store(app).get(CHAT).subscribed is True
    assert any("Daily tips are on" in m["text"] for m in api.sent("sendMessage", CHAT))


async def test_plain_start_does_not_subscribe(app, api, clock) -> None:
    reply = await say(api, "/start", chat_id=77)
    assert "Daily tips are on" not in reply["text"]
    sub = store(app).get(77)
    assert sub is None or sub.subscribed is False


@pytest.mark.parametrize("how", ["typed", "button"])
async def test_tip_topic_gives_a_tip_and_offers_subscription(app, api, clock, how) -> None:
    if how == "typed":
        api.push_text(CHAT, "tip of the day please")
    else:
        api.push_callback(CHAT, "t:tip")  # the Q&A topic button: the same reply path

    def offer() -> list[dict[str, Any]]:
        return [m for m in api.sent("sendMessage", CHAT) if "tip:daily" in buttons(m)]

    await api.wait_for(lambda _calls: offer())
    await api.wait_until_idle(quiet=0.05)
    [message] = offer()
    assert message["text"].removeprefix("💡 ").strip() in tip_texts(app)
    assert store(app).get(CHAT).tip_position == 1


async def test_commands_are_in_the_menu(app, api, clock) -> None:
    await api.wait_for(lambda calls: any(c.method == "setMyCommands" for c in calls))
    menu = {c["command"] for c in api.sent("setMyCommands")[-1]["commands"]}
    assert {"tip", "daily", "timezone", "settings", "unsubscribe", "forget"} <= menu


async def test_dispatcher_sends_due_tip_once_and_unsubscribes_blocked(app, api, clock) -> None:
    await say(api, "/timezone Europe/Berlin", chat_id=1)
    await say(api, "/daily 15:00", chat_id=1)  # 13:00 UTC today
    await say(api, "/daily 15:00", chat_id=2)  # UTC: 15:00 UTC
    await say(api, "/daily 15:00", chat_id=3)
    api.block_chat(3)
    assert (await tips_feature.dispatch_due_tips(app, NOW)).due == 0
    at_berlin_time = datetime(2026, 5, 2, 13, 0, 30, tzinfo=UTC)
    report = await tips_feature.dispatch_due_tips(app, at_berlin_time)
    assert (report.due, report.sent) == (1, 1)
    daily = [m for m in api.sent("sendMessage", 1) if "Tip of the day" in m["text"]]
    assert len(daily) == 1
    assert (await tips_feature.dispatch_due_tips(app, at_berlin_time)).due == 0
    later = datetime(2026, 5, 2, 15, 1, tzinfo=UTC)
    report = await tips_feature.dispatch_due_tips(app, later)
    assert (report.due, report.sent, report.gone) == (2, 1, 1)
    assert store(app).get(3).subscribed is False
    assert store(app).get(2).last_sent == "2026-05-02"
    assert len([m for m in api.sent("sendMessage", 1) if "Tip of the day" in m["text"]]) == 1


async def test_dispatcher_job_is_registered_at_start(app, api, clock) -> None:
    jobs = app.job_queue.get_jobs_by_name(tips_feature.JOB_NAME)
    assert len(jobs) == 1


async def test_blocking_the_bot_unsubscribes_at_once(app, api, clock) -> None:
    await say(api, "/daily 20:00")
    user = {"id": CHAT, "is_bot": False, "first_name": "Tester"}
    bot_user = {"id": 123456, "is_bot": True, "first_name": "Reflexology Test Bot"}
    api.push_update(
        {
            "my_chat_member": {
                "chat": {"id": CHAT, "type": "private", "first_name": "Tester"},
                "from": user,
                "date": 1780000000,
                "old_chat_member": {"user": bot_user, "status": "member"},
                "new_chat_member": {"user": bot_user, "status": "kicked", "until_date": 0},
            }
        }
    )
    await api.wait_until_idle(quiet=0.05)
    assert store(app).get(CHAT).subscribed is False


async def test_typed_subscribe_and_stop_do_what_the_answer_says(app, api, clock) -> None:
    """ "Sign me up for tips" answers "Done! ..." and really subscribes; "stop" stops."""
    api.push_text(CHAT, "sign me up for tips")
    await api.wait_for(lambda _calls: store(app).get(CHAT) is not None)
    await api.wait_until_idle(quiet=0.05)
    assert store(app).get(CHAT).subscribed is True
    api.push_text(CHAT, "stop sending me tips")
    await api.wait_for(lambda _calls: not store(app).get(CHAT).subscribed)
    await api.wait_until_idle(quiet=0.05)
    assert store(app).get(CHAT).subscribed is False


async def test_forget_also_clears_the_conversation_context(app, api, clock) -> None:
    companion = services_of(app).companion
    await say(api, "where is the kidney point")
    assert companion.contexts.get(f"tg:{CHAT}") is not None
    await say(api, "/forget")
    await press(api, "forget:yes")
    assert companion.contexts.get(f"tg:{CHAT}") is None


@pytest.mark.parametrize(
    ("command", "expected"),
    [("/daily 7pm", "19:00"), ("/daily 19:30", "19:30"), ("/daily 7.30am", "07:30"),
     ("/daily 7 pm", "19:00")],
)  # fmt: skip
async def test_daily_understands_times_in_words(app, api, clock, command, expected) -> None:
    reply = await say(api, command)
    sub = store(app).get(CHAT)
    assert (sub.subscribed, sub.daily_time) == (True, expected)
    assert f"every day at {expected} (UTC)" in reply["text"]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [("send me a tip every morning at 8", "08:00"), ("daily tips at 9 please", "09:00")],
)
async def test_subscribing_in_a_sentence_uses_its_time(app, api, clock, sentence, expected):
    reply = await say(api, sentence)
    sub = store(app).get(CHAT)
    assert (sub.subscribed, sub.daily_time) == (True, expected)
    # The confirmation is the answer: no "tell me the time" before it.
    assert reply["text"].startswith(f"Daily tips are on: one tip every day at {expected}")


async def test_an_impossible_time_gets_the_usage_and_subscribes_nobody(app, api, clock):
    for text in ("/daily 25pm", "daily tips at 25pm"):
        reply = await say(api, text)
        assert reply["text"].startswith("Usage: /daily [time|off]"), text
        assert "7pm" in reply["text"]
    assert store(app).get(CHAT) is None


async def test_subscribing_asks_the_zone_with_likely_buttons_and_other(app, api, clock):
    api.language_codes[CHAT] = "de"
    reply = await say(api, "/daily 7pm")
    data = list(buttons(reply))
    assert data[:3] == ["tz:Europe/Berlin", "tz:Europe/Vienna", "tz:Europe/Zurich"]
    assert data[-1] == "tz:?" and buttons(reply)["tz:?"] == "Other..."
    await press(api, "tz:Europe/Berlin")
    assert store(app).get(CHAT).timezone == "Europe/Berlin"
    # Once a zone is set, subscribing again asks nothing.
    again = await say(api, "/daily 8pm")
    assert "reply_markup" not in again


async def test_other_zone_offers_a_location_button_and_a_location_sets_the_zone(
    app, api, clock
) -> None:
    await say(api, "/daily 7pm")
    await press(api, "tz:?")
    other = api.sent("sendMessage", CHAT)[-1]
    assert "/timezone" in other["text"]
    [[button]] = other["reply_markup"]["keyboard"]
    assert button["request_location"] is True
    api.push_location(CHAT, latitude=50.45, longitude=30.52)  # Kyiv
    await api.wait_for(lambda _c: store(app).get(CHAT).timezone == "Europe/Kyiv")
    await api.wait_until_idle(quiet=0.05)
    confirmation = api.sent("sendMessage", CHAT)[-1]
    assert "Time zone set to Europe/Kyiv" in confirmation["text"]
    assert confirmation["reply_markup"] == {"remove_keyboard": True}
    api.push_location(CHAT, latitude=0.0, longitude=-30.0)  # the Atlantic
    await api.wait_for(lambda _c: "could not find" in api.sent("sendMessage", CHAT)[-1]["text"])
    assert store(app).get(CHAT).timezone == "Europe/Kyiv"


GROUP = -100123
ALICE, BOB = 501, 502


async def press_as(api, data: str, user_id: int, chat_id: int = GROUP) -> dict[str, Any]:
    before = len(api.calls)
    api.push_callback(chat_id, data, user_id=user_id)
    await api.wait_for(lambda calls: any(c.method == "answerCallbackQuery" for c in calls[before:]))
    await api.wait_until_idle(quiet=0.05)
    return next(c.params for c in api.calls[before:] if c.method == "answerCallbackQuery")


async def test_in_a_group_forget_acts_only_for_the_person_who_asked(app, api, clock) -> None:
    api.push_text(GROUP, "/daily 8pm", user_id=ALICE)
    await api.wait_for(lambda _c: store(app).get(GROUP) is not None)
    api.push_text(GROUP, "/forget", user_id=ALICE)
    question = await api.wait_for(
        lambda _c: next(
            (m for m in api.sent("sendMessage", GROUP) if "Delete it all" in m["text"]), None
        )
    )
    assert set(buttons(question)) == {f"forget:yes:{ALICE}", f"forget:no:{ALICE}"}

    refused = await press_as(api, f"forget:yes:{ALICE}", BOB)
    assert refused["text"] == "Only the person who asked can use these buttons."
    assert refused["show_alert"] is True
    assert store(app).get(GROUP) is not None
    assert api.sent("editMessageText", GROUP) == []
    # A group button from before requesters were recorded acts for nobody.
    stale = await press_as(api, "forget:yes", ALICE)
    assert "out of date" in stale["text"]
    assert store(app).get(GROUP) is not None

    await press_as(api, f"forget:yes:{ALICE}", ALICE)
    assert store(app).get(GROUP) is None
    assert api.sent("editMessageText", GROUP)[-1]["text"] == privacy.FORGOTTEN


async def test_in_a_group_settings_buttons_act_only_for_the_person_who_asked(
    app, api, clock
) -> None:
    api.push_text(GROUP, "/daily 8pm", user_id=ALICE)
    await api.wait_for(lambda _c: store(app).get(GROUP) is not None)
    # the row is stored before the confirmation goes out: wait for the message itself
    zone_question = (await api.wait_for_sent("sendMessage", chat_id=GROUP))[0]
    assert f"tz:?:{ALICE}" in buttons(zone_question)  # the zone buttons are Alice's too
    api.push_text(GROUP, "/settings", user_id=ALICE)
    panel = await api.wait_for(
        lambda _c: next(
            (m for m in api.sent("sendMessage", GROUP) if "Your settings" in m["text"]), None
        )
    )
    data = set(buttons(panel))
    assert {f"set:off:{ALICE}", f"set:t:07:00:{ALICE}", f"forget:ask:{ALICE}"} <= data

    for pressed in (f"set:off:{ALICE}", f"set:t:07:00:{ALICE}", f"tz:Europe/Paris:{ALICE}"):
        refused = await press_as(api, pressed, BOB)
        assert refused["text"].startswith("Only the person who asked"), pressed
    sub = store(app).get(GROUP)
    assert (sub.subscribed, sub.daily_time, sub.timezone) == (True, "20:00", None)

    await press_as(api, f"set:t:07:00:{ALICE}", ALICE)
    await press_as(api, f"tz:Europe/Paris:{ALICE}", ALICE)
    await press_as(api, f"set:off:{ALICE}", ALICE)
    sub = store(app).get(GROUP)
    assert (sub.subscribed, sub.daily_time, sub.timezone) == (False, "07:00", "Europe/Paris")
    # In a private chat the buttons need no requester: the chat is the person.
    reply = await say(api, "/settings")
    assert "set:off" not in buttons(reply) and "set:on" in buttons(reply)
