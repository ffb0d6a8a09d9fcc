"""The Q&A feature: /start, /help, /topics, free-text questions and topic buttons.

Every question, typed or picked from a button, goes through ``Companion`` and is sent by
``send_reply``: an urgent reply first and alone, an answer with its follow-up buttons, a
"did you mean ...?" with the candidates plus "None of these"; then whatever the other
features add for the reply's topic (``topic_extras``).
"""

from __future__ import annotations

import logging

from telegram import BotCommand, Update
from telegram.constants import ChatAction
from telegram.error import TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.core.conversation import telegram_key
from bot.core.reply import Reply, ReplyKind
from bot.telegram.admin import note_reply
from bot.telegram.keyboards import (
    NONE_OF_THESE,
    TOPIC_PREFIX,
    parse_topic_data,
    suggestions_keyboard,
    topics_keyboard,
)
from bot.telegram.sending import send_text
from bot.telegram.services import COMMANDS_KEY, TOPIC_EXTRAS_KEY, get_services

log = logging.getLogger(__name__)

START_TOPICS = ("what-is-reflexology", "benefits", "evidence", "safety", "routine", "tip")

WELCOME = (
    "Hello! I'm a companion for foot reflexology, the practice of pressing points on the "
    "feet that are said to be linked to the rest of the body.\n\n"
    "Ask me anything about it in your own words, for example:\n"
    "• What is reflexology?\n"
    "• Can it help me sleep?\n"
    "• Does it really work?\n"
    "• Is it safe in pregnancy?\n\n"
    "I can also show the foot map, guide you through a short self-massage and send a daily "
    "tip. I tell you honestly what the evidence says."
)
HELP_INTRO = "Ask a question in your own words, or use a command:"
HELP_OUTRO = (
    'You can ask, for example: "how does reflexology work?", "is it safe with diabetes?", '
    '"how long is a session?", "where is the point for the back?" or "give me a tip".\n\n'
    "I give general information, never a diagnosis. If something feels wrong with your "
    "health, please see a doctor."
)
TOPICS_TEXT = "Pick a topic:"
NONE_OF_THESE_TEXT = (
    "No problem. Try asking in other words, or pick a topic below. I can only talk about "
    "foot reflexology and foot massage."
)
NOT_TEXT = (
    "I can only read text messages, so I can't look at {what}. Ask me a question about foot "
    "reflexology in words, or pick a topic with /topics."
)
UNKNOWN_COMMAND = "I don't know that command. Send /help to see what I can do."
UNAVAILABLE = "Sorry, I can't answer that one right now. Please try again later."

_MEDIA = {
    "sticker": "stickers",
    "photo": "pictures",
    "voice": "voice messages",
    "video_note": "video messages",
    "video": "videos",
    "audio": "audio",
    "animation": "GIFs",
    "document": "files",
    "location": "locations",
    "venue": "locations",
    "contact": "contacts",
    "poll": "polls",
    "dice": "dice",
}


def _own_commands() -> list[BotCommand]:
    return [
        BotCommand("start", "What I can do"),
        BotCommand("help", "Commands and what to ask"),
        BotCommand("topics", "Pick a topic"),
    ]


def commands() -> list[BotCommand]:
    """The Q&A commands for the command menu."""
    return _own_commands()


def _all_commands(context: ContextTypes.DEFAULT_TYPE) -> list[BotCommand]:
    menu = context.application.bot_data.get(COMMANDS_KEY)
    return list(menu) if menu else _own_commands()


async def send_reply(update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply) -> None:
    """Send a core reply with its buttons, then the features' extras for its topic."""
    chat = update.effective_chat
    if chat is None:
        return
    services = get_services(context)
    if reply.kind is ReplyKind.URGENT or reply.urgent:
        # Safety first and undistracted: no buttons, no extras.
        await send_text(context.bot, chat.id, reply.text)
        return
    markup = suggestions_keyboard(
        services.knowledge,
        reply.suggestions,
        none_of_these=reply.kind is ReplyKind.CLARIFY,
    )
    await send_text(context.bot, chat.id, reply.text, reply_markup=markup)
    if reply.kind is not ReplyKind.ANSWER or reply.topic is None:
        return
    extras = context.application.bot_data.get(TOPIC_EXTRAS_KEY, {}).get(reply.topic, [])
    for extra in extras:
        try:
            await extra(update, context, reply)
        except TelegramError as exc:
            log.error("extra for topic %s failed in chat %s: %s", reply.topic, chat.id, exc)


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Welcome the user, say what the bot can do, and show the caveat."""
    chat = update.effective_chat
    if chat is None:
        return
    services = get_services(context)
    text = f"{WELCOME}\n\n{services.knowledge.caveat}".strip()
    keyboard = topics_keyboard(
        services.knowledge, [t for t in START_TOPICS if t in services.knowledge.topics]
    )
    await send_text(context.bot, chat.id, text, reply_markup=keyboard)
    # Deep link t.me/<bot>?start=<topic-id> opens straight on a topic.
    payload = context.args[0] if context.args else ""
    topic_id = payload.replace("_", "-")
    if topic_id in services.knowledge.topics:
        await send_reply(update, context, services.companion.topic_reply(topic_id))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the commands and the kinds of questions to ask."""
    chat = update.effective_chat
    if chat is None:
        return
    lines = [HELP_INTRO, ""]
    lines += [f"/{c.command} - {c.description}" for c in _all_commands(context)]
    await send_text(context.bot, chat.id, "\n".join([*lines, "", HELP_OUTRO]))


async def topics(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show a keyboard with every topic."""
    chat = update.effective_chat
    if chat is None:
        return
    keyboard = topics_keyboard(get_services(context).knowledge)
    await send_text(context.bot, chat.id, TOPICS_TEXT, reply_markup=keyboard)


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a free-text question through the companion."""
    message = update.effective_message
    if message is None or not message.text:
        return
    await _answer_text(update, context, message.text)


async def _answer_text(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    if len(text) > 200:  # a long read: show that something is happening
        try:
            await context.bot.send_chat_action(chat.id, ChatAction.TYPING)
        except TelegramError as exc:
            log.debug("chat action failed: %s", exc)
    # Per chat: "why?" or "what about in pregnancy?" is read against this chat's last answer.
    reply = get_services(context).companion.respond(text, chat=telegram_key(chat.id))
    note_reply(context, chat.id, text, reply)  # counts for /stats, the opt-in review
    await send_reply(update, context, reply)


async def topic_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a pressed topic button through the same path as a typed question."""
    query = update.callback_query
    if query is None:
        return
    services = get_services(context)
    topic_id = parse_topic_data(query.data)
    try:
        await query.answer()
    except TelegramError as exc:  # too old, or already answered: the reply still matters
        log.debug("answerCallbackQuery failed: %s", exc)
    chat = update.effective_chat
    if chat is None:
        return
    if query.data == NONE_OF_THESE:
        keyboard = topics_keyboard(services.knowledge)
        await send_text(context.bot, chat.id, NONE_OF_THESE_TEXT, reply_markup=keyboard)
        return
    if topic_id is None or topic_id not in services.knowledge.topics:
        # A button from an older version of the bot: offer the current list instead.
        keyboard = topics_keyboard(services.knowledge)
        await send_text(context.bot, chat.id, UNAVAILABLE, reply_markup=keyboard)
        return
    await send_reply(update, context, services.companion.choose(topic_id, telegram_key(chat.id)))


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a sticker, picture, voice message etc. politely with what the bot can do."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None:
        return
    what = next((label for attr, label in _MEDIA.items() if getattr(message, attr, None)), None)
    await send_text(context.bot, chat.id, NOT_TEXT.format(what=what or "that kind of message"))
    if message.caption:  # a captioned picture may still carry a question
        await _answer_text(update, context, message.caption)


async def edited(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Re-read an edited message only for safety: an edit that reveals a red flag is answered."""
    message = update.edited_message
    if message is None or not message.text:
        return
    reply = get_services(context).companion.respond(message.text)
    if reply.kind is ReplyKind.URGENT or reply.urgent:
        await send_reply(update, context, reply)


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a command no feature knows."""
    chat = update.effective_chat
    if chat is not None:
        await send_text(context.bot, chat.id, UNKNOWN_COMMAND)


def handlers() -> list[BaseHandler]:
    """The Q&A handlers; the text handler catches every message the features left."""
    return [
        CommandHandler("start", start),
        CommandHandler("help", help_command),
        CommandHandler("topics", topics),
        CallbackQueryHandler(topic_button, pattern=f"^{TOPIC_PREFIX}"),
        MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.TEXT, edited),
        MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND, question),
        MessageHandler(filters.UpdateType.MESSAGE & filters.COMMAND, unknown_command),
        MessageHandler(
            filters.UpdateType.MESSAGE & ~filters.TEXT & ~filters.StatusUpdate.ALL, not_text
        ),
    ]


__all__ = ["commands", "handlers", "send_reply"]
