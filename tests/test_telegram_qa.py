"""The Q&A feature through the real PTB Application over the in-process fake Bot API.

Each test pushes updates as Telegram would deliver them and asserts on the Bot API calls
the bot made: real YAML knowledge, real SQLite, real handlers, no mocks inside PTB.
"""

from __future__ import annotations

import html
import json
import logging
import re
from typing import Any

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from bot.core.reply import ReplyKind
from bot.telegram import sending
from bot.telegram.app import build_application
from bot.telegram.context import services_of
from bot.telegram.keyboards import MAX_CALLBACK_BYTES, NONE_OF_THESE, topics_keyboard
from bot.telegram.runner import REDACTED, RedactingFilter, install_redaction, redact
from bot.telegram.sending import MAX_MESSAGE_LENGTH, send_text, split_text
from tests.conftest import TEST_TOKEN
from tests.support.recording_request import RecordingRequest, running_application

CHAT = 4242
URGENT_TEXT = "my dad has crushing chest pain and cant breathe, can reflexology help him?"


def buttons(params: dict[str, Any]) -> list[dict[str, Any]]:
    """Every inline button of a sent message, in order."""
    markup = params.get("reply_markup") or {}
    return [button for row in markup.get("inline_keyboard", []) for button in row]


def button_data(params: dict[str, Any]) -> list[str]:
    return [str(button.get("callback_data")) for button in buttons(params)]


def follow_ups(params: dict[str, Any]) -> list[str]:
    """The topic buttons of a reply, without the last "Topics / 👍 / 👎" row."""
    return [d for d in button_data(params) if d != "t:all" and not d.startswith("h:")]


def plain(text: str) -> str:
    """What the person reads: Telegram HTML without its tags and entities."""
    return html.unescape(re.sub(r"</?[a-z]+>", "", text))


async def converse(api, text: str, chat_id: int = CHAT) -> list[dict[str, Any]]:
    """Send ``text`` as the user and return the messages the bot sent in answer."""
    before = len(api.sent("sendMessage", chat_id))
    api.push_text(chat_id, text)
    await api.wait_for_sent("sendMessage", before + 1, chat_id=chat_id)
    await api.wait_until_idle()
    return api.sent("sendMessage", chat_id)[before:]


def first_sentence(text: str) -> str:
    return text.strip().split(". ")[0][:60]


async def test_set_my_commands_at_start_up(app, api) -> None:
    [call] = [c for c in api.sent("setMyCommands") if not c.get("scope")]
    names = [command["command"] for command in call["commands"]]
    assert names[:3] == ["start", "help", "topics"]
    assert len(names) == len(set(names))
    assert all(command["description"] for command in call["commands"])


async def test_start_welcomes_and_shows_the_caveat(app, api, knowledge) -> None:
    [welcome] = await converse(api, "/start")
    assert knowledge.caveat.strip() in welcome["text"]
    assert "not a substitute for medical care" in welcome["text"]
    data = button_data(welcome)
    assert data and all(d.startswith("t:") for d in data)
    assert all(d[2:] in knowledge.topics for d in data)


async def test_start_deep_link_opens_a_topic(app, api, knowledge) -> None:
    welcome, answer = await converse(api, "/start sleep")
    assert knowledge.caveat.strip() in welcome["text"]
    assert first_sentence(knowledge.topic_answer("sleep")) in answer["text"]


async def test_help_lists_every_command_of_the_menu(app, api) -> None:
    [menu] = [c for c in api.sent("setMyCommands") if not c.get("scope")]
    [help_message] = await converse(api, "/help")
    for command in menu["commands"]:
        assert f"/{command['command']}" in help_message["text"]
    assert "doctor" in help_message["text"]
    assert "@reflexology_test_bot sleep" in help_message["text"]  # inline mode


async def test_topics_shows_a_button_for_every_topic(app, api, knowledge) -> None:
    [message] = await converse(api, "/topics")
    data = button_data(message)
    expected = {f"t:{topic_id}" for topic_id in knowledge.topics if topic_id != "greeting"}
    assert set(data) == expected
    assert len(data) == len(expected)
    assert all(len(d.encode()) <= MAX_CALLBACK_BYTES for d in data)
    labels = [button["text"] for button in buttons(message)]
    assert knowledge.topics["evidence"].button in labels


async def test_a_question_gets_the_answer_caveat_and_follow_up_buttons(app, api, knowledge) -> None:
    topic = knowledge.topics["evidence"]
    question = "does reflexology really work? what do studies say?"
    [answer] = await converse(api, question)
    expected = services_of(app).companion.respond(question)  # the chosen entry
    assert expected.topic == topic.id
    assert first_sentence(expected.text) in answer["text"]
    assert knowledge.caveat.strip() in answer["text"]
    data = follow_ups(answer)
    assert data, "an answer offers follow-up topics"
    assert all(d.startswith("t:") and d[2:] in knowledge.topics for d in data)
    assert f"t:{topic.id}" not in data
    entry = expected.entry
    assert button_data(answer)[-3:] == ["t:all", f"h:{entry}:u", f"h:{entry}:d"]


# Chosen to land in each band of the matcher today; the rendering check holds for any band.
BAND_EXAMPLES = (
    "my job is slowly killing me, need to relax",
    "feet",
    "does reflexology help me sleep?",
    "hello there",
)


async def test_every_kind_of_reply_is_rendered_with_its_buttons(app, api) -> None:
    companion = services_of(app).companion
    kinds = set()
    for text in BAND_EXAMPLES:
        # The same turns in a chat of their own: the chat's context is mirrored.
        expected = companion.respond(text, chat="mirror")
        kinds.add(expected.kind)
        [message, *_extras] = await converse(api, text)
        did_this_help = "\n\nDid this help?" if expected.kind is ReplyKind.ANSWER else ""
        as_listed = re.sub(r"(?m)^- ", "• ", expected.text)  # list lines get bullets
        assert plain(message["text"]) == as_listed + did_this_help
        wanted = [f"t:{topic_id}" for topic_id in expected.suggestions]
        if expected.kind is ReplyKind.CLARIFY:
            wanted.append(NONE_OF_THESE)
        assert follow_ups(message) == wanted, text
    assert {ReplyKind.CLARIFY, ReplyKind.FALLBACK, ReplyKind.ANSWER} <= kinds, (
        "the matcher moved: pick new BAND_EXAMPLES so every band is still covered"
    )


async def test_html_escapes_what_people_write_and_bolds_the_first_line(app, api) -> None:
    api.first_names[CHAT] = "<b>Bob</b> & Co"
    [welcome] = await converse(api, "/start")
    assert welcome["parse_mode"] == "HTML"
    assert welcome["text"].startswith("<b>Hello, &lt;b&gt;Bob&lt;/b&gt; &amp; Co!</b>")
    assert plain(welcome["text"]).startswith("Hello, <b>Bob</b> & Co!")
    # A question full of markup is answered (the fake refuses invalid HTML with a 400).
    [answer] = await converse(api, "<b>does</b> reflexology help & <i>sleep</i>?")
    assert answer["parse_mode"] == "HTML"
    assert answer["text"].startswith("<b>")
    assert "<i>Reflexology is not a substitute" in answer["text"]
    [unknown] = await converse(api, "/timezone <b>Mars</b>&co")
    assert "<i>&lt;b&gt;Mars&lt;/b&gt;&amp;co</i>" in unknown["text"]
    assert "&lt;Area/City&gt;" in unknown["text"]
    assert not [c for c in api.calls if c.fault == "400"]


async def test_typing_shows_only_when_the_answer_takes_a_moment(
    app, api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Telegram's pace, 4x faster: a chat's fourth message in a burst must wait its turn.
    monkeypatch.setattr(sending, "PACER", sending.ReplyPacer(speedup=4.0))
    before = len(api.calls)
    await converse(api, "what is reflexology?")
    methods = [c.method for c in api.calls[before:] if c.method != "getUpdates"]
    assert methods == ["sendMessage"]  # it goes out at once: no indicator to flash

    before = len(api.calls)
    questions = ["does it hurt?", "how long is a session?", "is it safe?", "can it help sleep?"]
    for text in questions:
        api.push_text(CHAT, text)
    await api.wait_for_sent("sendMessage", 1 + len(questions), chat_id=CHAT, timeout=10.0)
    await api.wait_until_idle()
    methods = [c.method for c in api.calls[before:] if c.method != "getUpdates"]
    assert methods.count("sendMessage") == len(questions)
    # The answers held back by the per-chat limit each get "typing..." first.
    assert methods[-2:] == ["sendChatAction", "sendMessage"], methods
    action = next(c for c in api.calls[before:] if c.method == "sendChatAction")
    assert action.params["action"] == "typing"

    before = len(api.calls)
    await converse(api, "where is the kidney point?")  # a picture follows the answer
    methods = [c.method for c in api.calls[before:] if c.method != "getUpdates"]
    assert methods[:2] == ["sendChatAction", "sendMessage"], methods


async def test_topics_and_did_this_help_buttons_count_per_entry_only(
    app, api, knowledge, settings
) -> None:
    [answer] = await converse(api, "how long is a session?")
    entry = services_of(app).companion.respond("how long is a session?").entry
    assert entry
    assert button_data(answer)[-3:] == ["t:all", f"h:{entry}:u", f"h:{entry}:d"]
    assert [b["text"] for b in buttons(answer)][-3:] == ["📚 Topics", "👍", "👎"]
    api.push_callback(CHAT, f"h:{entry}:u")
    await api.wait_for(lambda _c: api.sent("editMessageReplyMarkup", CHAT))
    [thanks] = api.sent("answerCallbackQuery")
    assert thanks["text"] == "Thank you for telling me!"
    # The vote buttons are gone (no second count); the follow-ups and Topics stay.
    [edit] = api.sent("editMessageReplyMarkup", CHAT)
    assert button_data(edit) == [*follow_ups(answer), "t:all"]
    api.push_callback(CHAT + 1, f"h:{entry}:d")
    api.push_callback(CHAT + 2, f"h:{entry}:d")
    api.push_callback(CHAT + 2, "h:no-such-entry:d")
    await api.wait_for(lambda _c: len(api.sent("answerCallbackQuery")) == 4)
    store = services_of(app).store.sync
    assert store.answer_vote_counts() == {entry: (1, 2)}
    # Aggregate only: no user or chat id anywhere in the table.
    import sqlite3

    raw = sqlite3.connect(store.path)
    columns = [r[1] for r in raw.execute("PRAGMA table_info(answer_feedback)")]
    raw.close()
    assert columns == ["entry_id", "helpful", "count"]
    # "Topics" lists every topic.
    api.push_callback(CHAT, "t:all")
    listing = await api.wait_for(
        lambda _c: next(
            (m for m in api.sent("sendMessage", CHAT) if m["text"] == "Pick a topic:"), None
        )
    )
    assert len(button_data(listing)) == len(knowledge.topics) - 1
    # Admins see the counts.
    api.push_text(CHAT, "/answerstats", user_id=777)
    stats = await api.wait_for(
        lambda _c: next((m for m in api.sent("sendMessage", CHAT) if "👍 / 👎" in m["text"]), None)
    )
    assert f"{entry}: 1 / 2" in stats["text"]


async def test_inline_mode_offers_answer_cards_with_the_caveat(app, api, knowledge) -> None:
    api.push_inline_query(CHAT, "sleep")
    [answer] = await api.wait_for_sent("answerInlineQuery")
    cards = answer["results"]
    cards = json.loads(cards) if isinstance(cards, str) else cards
    assert 1 <= len(cards) <= 5
    first = cards[0]
    assert first["type"] == "article"
    assert first["title"] == knowledge.topics["sleep"].title
    assert first["description"].startswith("Some people report sleeping better")
    content = first["input_message_content"]
    assert content["parse_mode"] == "HTML"
    assert "<i>Reflexology is not a substitute for medical care." in content["message_text"]
    assert all(knowledge.caveat.split(".")[0] in c["input_message_content"]["message_text"]
               for c in cards)  # fmt: skip
    assert len({c["id"] for c in cards}) == len(cards)
    # A red flag is one card: the seek-care reply, never a reflexology answer.
    api.push_inline_query(CHAT, URGENT_TEXT)
    urgent = await api.wait_for_sent("answerInlineQuery", count=2)
    [card] = (
        urgent[1]["results"]
        if not isinstance(urgent[1]["results"], str)
        else json.loads(urgent[1]["results"])
    )
    assert card["title"] == "Please get medical help now"
    assert first_sentence(knowledge.red_flags.reply) in plain(
        card["input_message_content"]["message_text"]
    )
    # Nothing typed yet: a few starting points.
    api.push_inline_query(CHAT, "")
    empty = await api.wait_for_sent("answerInlineQuery", count=3)
    assert len(empty[2]["results"]) >= 3


async def test_a_button_press_is_answered_through_the_same_path(app, api, knowledge) -> None:
    await converse(api, "/topics")
    api.push_callback(CHAT, "t:safety")
    [ack] = await api.wait_for_sent("answerCallbackQuery")
    assert ack["callback_query_id"]
    sent = await api.wait_for_sent("sendMessage", 2, chat_id=CHAT)
    await api.wait_until_idle()
    answer = sent[1]
    assert first_sentence(knowledge.topic_answer("safety")) in answer["text"]
    assert knowledge.caveat.strip() in answer["text"]
    typed = services_of(app).companion.topic_reply("safety")
    assert plain(answer["text"]) == typed.text + "\n\nDid this help?"


async def test_none_of_these_offers_the_topic_list(app, api, knowledge) -> None:
    api.push_callback(CHAT, NONE_OF_THESE)
    [message] = await api.wait_for_sent("sendMessage", chat_id=CHAT)
    assert "other words" in message["text"]
    assert len(button_data(message)) == len(knowledge.topics) - 1


async def test_a_stale_button_is_answered_with_the_topic_list(app, api) -> None:
    api.push_callback(CHAT, "t:no-such-topic")
    [message] = await api.wait_for_sent("sendMessage", chat_id=CHAT)
    await api.wait_for_sent("answerCallbackQuery")
    assert button_data(message)


@pytest.mark.parametrize(
    ("push", "word"),
    [
        ("push_sticker", "stickers"),
        ("push_photo", "pictures"),
        ("push_voice", "voice messages"),
        ("push_document", "files"),
    ],
)
async def test_non_text_messages_get_a_polite_answer(app, api, push: str, word: str) -> None:
    getattr(api, push)(CHAT)
    [message] = await api.wait_for_sent("sendMessage", chat_id=CHAT)
    await api.wait_until_idle()
    assert word in message["text"]
    assert "/topics" in message["text"]
    assert len(api.sent("sendMessage", CHAT)) == 1


async def test_a_captioned_photo_still_gets_its_question_answered(app, api, knowledge) -> None:
    api.push_photo(CHAT, caption="is reflexology safe during pregnancy?")
    sent = await api.wait_for_sent("sendMessage", 2, chat_id=CHAT)
    assert "pictures" in sent[0]["text"]
    assert "pregnan" in sent[1]["text"][:300].lower()  # the pregnancy entry answers


async def test_an_urgent_message_gets_the_seek_care_reply_first_and_alone(
    app, api, knowledge
) -> None:
    sent = await converse(api, URGENT_TEXT)
    assert len(sent) == 1, [m["text"][:60] for m in sent]
    [urgent] = sent
    assert first_sentence(knowledge.red_flags.reply) in urgent["text"]
    assert "reply_markup" not in urgent
    assert api.sent("sendPhoto") == []


async def test_a_benign_edit_is_ignored_and_an_urgent_edit_answered(app, api, knowledge) -> None:
    api.push_edited_text(CHAT, 1, "what is reflexology exactly?")
    await api.wait_until_idle()
    assert api.sent("sendMessage", CHAT) == []
    api.push_edited_text(CHAT, 1, URGENT_TEXT)
    [urgent] = await api.wait_for_sent("sendMessage", chat_id=CHAT)
    assert first_sentence(knowledge.red_flags.reply) in urgent["text"]


async def test_an_unknown_command_points_to_help(app, api) -> None:
    [message] = await converse(api, "/frobnicate now")
    assert "/help" in message["text"]


async def test_a_5000_character_message_is_answered_within_telegram_limits(app, api) -> None:
    question = ("Does reflexology help me sleep? " * 160)[:5000]
    assert len(question) == 5000
    sent = await converse(api, question)
    assert sent
    assert all(0 < len(m["text"]) <= MAX_MESSAGE_LENGTH for m in sent)
    assert not [c for c in api.calls if c.fault == "400"]


async def test_a_long_reply_is_split_with_the_buttons_on_the_last_part(app, api) -> None:
    paragraph = "Reflexology is said to relax. " * 40  # ~1,200 characters
    text = "\n\n".join(f"{i}. {paragraph.strip()}" for i in range(8))  # ~9,700 characters
    markup = topics_keyboard(services_of(app).knowledge, ["sleep"])
    messages = await send_text(app.bot, CHAT, text, reply_markup=markup)
    sent = api.sent("sendMessage", CHAT)
    assert len(messages) == len(sent) >= 3
    assert all(len(m["text"]) <= MAX_MESSAGE_LENGTH for m in sent)
    assert ["reply_markup" in m for m in sent] == [False] * (len(sent) - 1) + [True]
    # Nothing lost, and every cut falls between paragraphs.
    assert "\n\n".join(m["text"] for m in sent) == text


def test_split_text_cuts_sentences_then_words_when_paragraphs_are_too_long() -> None:
    sentence = "This sentence is about feet. "
    chunks = split_text(sentence * 300, limit=1000)
    assert all(len(c) <= 1000 for c in chunks)
    assert all(c.endswith("feet.") for c in chunks)
    word = "x" * 2500
    assert [len(c) for c in split_text(word, limit=1000)] == [1000, 1000, 500]
    assert split_text("   ") == []


async def test_send_text_waits_out_a_429_and_sends_once(app, api) -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    api.retry_after = 3
    api.fail_next("sendMessage", "429", count=2)
    messages = await send_text(app.bot, CHAT, "hello", sleep=fake_sleep)
    assert len(messages) == 1
    assert waits == [3.0, 3.0]
    assert [c.fault for c in api.calls if c.method == "sendMessage"] == ["429", "429", None]
    assert len(api.sent("sendMessage", CHAT)) == 1


async def test_send_text_backs_off_on_network_errors(app, api) -> None:
    waits: list[float] = []

    async def fake_sleep(seconds: float) -> None:
        waits.append(seconds)

    api.fail_next("sendMessage", "drop")
    api.fail_next("sendMessage", "500")
    messages = await send_text(app.bot, CHAT, "hello", sleep=fake_sleep)
    assert len(messages) == 1
    assert waits == [0.5, 1.0]


async def test_send_text_logs_what_it_gives_up_on(app, api, caplog) -> None:
    async def no_sleep(seconds: float) -> None:
        return None

    caplog.set_level(logging.INFO, logger="bot.telegram.sending")
    api.fail_next("sendMessage", "500", count=6)  # more failures than the old 4 tries
    delivered = await send_text(app.bot, CHAT, "hello", sleep=no_sleep)
    assert [m.text for m in delivered] == ["hello"]  # retried until delivered
    api.fail_next("sendMessage", "500", count=3)
    assert await send_text(app.bot, CHAT, "hello", sleep=no_sleep, give_up_after=0) == []
    assert "gave up sending message 1/1 to chat 4242" in caplog.text
    api.block_chat(CHAT)
    assert await send_text(app.bot, CHAT, "hello", sleep=no_sleep) == []
    assert "blocked" in caplog.text
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="x" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await send_text(app.bot, CHAT + 1, "hi", reply_markup=too_long, raise_errors=True)
    assert len([c for c in api.calls if c.fault == "400"]) == 1  # a bad request: no retry


async def test_topic_extras_follow_the_answer(app, api, knowledge) -> None:
    seen: list[str] = []

    async def extra(update, context, reply) -> None:
        seen.append(reply.topic)
        await context.bot.send_message(update.effective_chat.id, "extra for " + reply.topic)

    extras = app.bot_data.topic_extras
    extras.setdefault("evidence", []).append(extra)
    api.push_callback(CHAT, "t:evidence")
    sent = await api.wait_for_sent("sendMessage", 2, chat_id=CHAT)
    await api.wait_until_idle()
    assert first_sentence(knowledge.topic_answer("evidence")) in sent[0]["text"]
    assert sent[-1]["text"] == "extra for evidence"
    assert seen == ["evidence"]


async def test_a_failing_handler_is_logged_and_the_bot_keeps_going(
    app, api, knowledge, caplog, monkeypatch
) -> None:
    companion = services_of(app).companion
    real_respond = companion.respond
    calls = 0

    def flaky(text: str, chat: str | None = None):
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError(f"boom while calling https://example.invalid/bot{TEST_TOKEN}/x")
        return real_respond(text, chat=chat)

    monkeypatch.setattr(companion, "respond", flaky)
    caplog.set_level(logging.ERROR, logger="bot.telegram.app")
    [apology] = await converse(api, "what is reflexology?")
    assert "went wrong" in apology["text"]
    assert "RuntimeError: boom" in caplog.text
    assert TEST_TOKEN not in caplog.text
    [answer] = await converse(api, "what is reflexology?")
    assert first_sentence(knowledge.topic_answer("what-is-reflexology")) in answer["text"]


async def test_the_token_never_reaches_the_logs_even_at_debug(settings, knowledge, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    install_redaction(settings.token)  # what the runner does to the root handlers
    try:
        api = RecordingRequest()
        application = build_application(settings, knowledge, request=api, get_updates_request=api)
        async with running_application(application):
            await converse(api, "/start")
            await converse(api, "can it help with back pain?")
            api.push_callback(CHAT, "t:session")
            await api.wait_for_sent("sendMessage", 3, chat_id=CHAT)
            api.fail_next("sendMessage", "drop")  # a network error, retried after 0.5 s
            api.push_text(CHAT, "hello")
            await api.wait_for(lambda calls: any(c.fault == "drop" for c in calls))
            await api.wait_until_idle()
    finally:
        for handler in logging.getLogger().handlers:
            for log_filter in [f for f in handler.filters if isinstance(f, RedactingFilter)]:
                handler.removeFilter(log_filter)
    text = caplog.text
    assert "Set Bot API URL" in text  # PTB logs its URL, token included, at DEBUG...
    assert "calling bot api endpoint" in text.lower()
    secret = settings.token.split(":", 1)[1]
    assert secret not in text  # ... and the filter took it out
    for record in caplog.records:
        assert secret not in record.getMessage()


def test_the_redacting_filter_hides_tokens_in_messages_and_tracebacks() -> None:
    token = "987654321:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"
    stream_records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            stream_records.append(self.format(record))

    logger = logging.getLogger("tests.redaction")
    handler = Keep()
    handler.addFilter(RedactingFilter(token))
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("HTTP Request: POST %s", f"https://api.telegram.org/bot{token}/getMe")
        try:
            raise ValueError(f"bad url bot{token}/sendMessage")
        except ValueError:
            logger.exception("failed")
        logger.warning("another bot: bot1234567:SECRET_part-xyz/getUpdates")
    finally:
        logger.removeHandler(handler)
    text = "\n".join(stream_records)
    assert token not in text and "AAHdqTcv" not in text and "SECRET_part" not in text
    assert text.count(REDACTED) >= 3
    assert "Traceback" in text
    assert redact("meet at 12:30") == "meet at 12:30"


async def test_each_chat_keeps_its_own_conversation(app, api, knowledge) -> None:
    often = knowledge.entry_by_id["session-how-often"].answer
    await converse(api, "how long does a session usually take")
    await converse(api, "where is the kidney point", chat_id=CHAT + 1)
    [follow_up] = await converse(api, "and how often?")
    assert first_sentence(often) in follow_up["text"]
    [bladder] = await converse(api, "what about the bladder?", chat_id=CHAT + 1)
    assert first_sentence(knowledge.entry_by_id["map-bladder"].answer) in bladder["text"]
    companion = services_of(app).companion
    assert companion.contexts.get(f"tg:{CHAT}").entry == "session-how-often"
