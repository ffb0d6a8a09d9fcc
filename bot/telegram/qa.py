"""The Q&A feature: /help, /topics, free-text questions and topic buttons.

Every question, typed or picked from a button, goes through ``Companion`` and is sent by
``send_reply`` (after "typing..." when it will take a moment) as Telegram HTML
(bot/telegram/formatting.py): an urgent reply first and alone, an answer with its
follow-up buttons and a last row
"📚 Topics 👍 👎" ("Did this help?", counted per entry with no user id, shown to admins
by /answerstats), a "did you mean ...?" with the candidates plus "None of these"; then
whatever the other features add for the reply's topic (``Feature.topic_extras``). Its
text handler catches every message the other features left, so it is registered last.
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.core.reply import Reply, ReplyKind
from bot.telegram import callbacks, conversations, sending
from bot.telegram.admin import admin_chat, note_reply
from bot.telegram.callbacks import AllTopics, Helpful, NoneOfThese, TopicPick
from bot.telegram.context import BotContext
from bot.telegram.feature import Feature
from bot.telegram.formatting import PARSE_MODE, escape, reply_html
from bot.telegram.keyboards import suggestions_keyboard, topics_keyboard
from bot.telegram.sending import MAX_MESSAGE_LENGTH, send_text

log = logging.getLogger(__name__)

HELP_INTRO = "Ask a question in your own words, or use a command:"
HELP_OUTRO = (
    'You can ask, for example: "how does reflexology work?", "is it safe with diabetes?", '
    '"how long is a session?", "where is the point for the back?" or "give me a tip".\n\n'
    "I give general information, never a diagnosis. If something feels wrong with your "
    "health, please see a doctor."
)
HELP_INLINE = "To share an answer in any chat, type @{bot} and your question, e.g. @{bot} sleep."
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
TOPICS_BUTTON = "📚 Topics"
DID_THIS_HELP = "Did this help?"
THANKS_FOR_VOTE = "Thank you for telling me!"
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
    "venue": "locations",
    "contact": "contacts",
    "poll": "polls",
    "dice": "dice",
}


def _own_commands() -> list[BotCommand]:
    return [
        BotCommand("help", "Commands and what to ask"),
        BotCommand("topics", "Pick a topic"),
    ]


def _all_commands(context: BotContext) -> list[BotCommand]:
    return list(context.bot_data.commands) or _own_commands()


async def send_reply(update: Update, context: BotContext, reply: Reply) -> None:
    """Send a core reply with its buttons, then the features' extras for its topic.

    A feature may take an answer over (``Feature.take_over``), e.g. a subscription
    request that names its time.
    """
    chat = update.effective_chat
    if chat is None:
        return
    services = context.services
    await _typing(context, chat.id, reply)
    if reply.kind is ReplyKind.ANSWER and not reply.urgent:
        for feature in context.bot_data.features:
            if await feature.take_over(update, context, reply):
                return
    text = reply_html(reply.text, _caveats(context, reply))
    if reply.kind is ReplyKind.URGENT or reply.urgent:
        # Safety first and undistracted: no buttons, no extras.
        await send_text(context.bot, chat.id, text, parse_mode=PARSE_MODE)
        return
    markup = suggestions_keyboard(
        services.knowledge,
        reply.suggestions,
        none_of_these=reply.kind is ReplyKind.CLARIFY,
    )
    if reply.kind is ReplyKind.ANSWER:
        markup = with_feedback_row(markup, reply.entry or reply.topic)
        text = f"{text}\n\n<i>{escape(DID_THIS_HELP)}</i>"
    await send_text(context.bot, chat.id, text, reply_markup=markup, parse_mode=PARSE_MODE)
    if reply.kind is not ReplyKind.ANSWER or reply.topic is None:
        return
    extras = context.bot_data.topic_extras.get(reply.topic, [])
    for extra in extras:
        try:
            await extra(update, context, reply)
        except TelegramError as exc:
            log.error("extra for topic %s failed in chat %s: %s", reply.topic, chat.id, exc)


async def _typing(context: BotContext, chat_id: int, reply: Reply) -> None:
    """ "typing..." when the answer will take a noticeable time to arrive (best effort).

    The Bot API's advice: use sendChatAction only then. An answer that goes out at once
    replaces the indicator before anyone sees it, and the extra request would cost as
    much as the answer itself; so it is sent when the answer must wait for its turn
    (flood limits), comes in several messages, or is followed by a picture.
    """
    slow = (
        sending.PACER.would_wait(chat_id)
        or len(reply.text) > MAX_MESSAGE_LENGTH
        or reply.topic in context.bot_data.topic_extras
    )
    if not slow:
        return
    try:
        await context.bot.send_chat_action(chat_id, ChatAction.TYPING)
    except TelegramError as exc:
        log.debug("chat action failed: %s", exc)


def _caveats(context: BotContext, reply: Reply) -> list[str]:
    """The caveats a reply may end with (shown in italics)."""
    knowledge = context.services.knowledge
    entry = knowledge.entry_by_id.get(reply.entry) if reply.entry else None
    return [knowledge.caveat, entry.caveat if entry else ""]


def with_feedback_row(
    markup: InlineKeyboardMarkup | None, answered: str | None
) -> InlineKeyboardMarkup:
    """``markup`` plus a last row: back to the topics, and "did this help?" 👍 👎."""
    rows = [list(row) for row in markup.inline_keyboard] if markup else []
    row = [InlineKeyboardButton(TOPICS_BUTTON, callback_data=callbacks.pack(AllTopics()))]
    if answered:
        for helped, label in ((True, "👍"), (False, "👎")):
            data = callbacks.pack(Helpful(answered, helped))
            row.append(InlineKeyboardButton(label, callback_data=data))
    return InlineKeyboardMarkup([*rows, row])


async def help_command(update: Update, context: BotContext) -> None:
    """List the commands and the kinds of questions to ask."""
    chat = update.effective_chat
    if chat is None:
        return
    lines = [HELP_INTRO, ""]
    lines += [f"/{c.command} - {c.description}" for c in _all_commands(context)]
    lines += ["", HELP_OUTRO]
    if context.bot.username:
        lines += ["", HELP_INLINE.format(bot=context.bot.username)]
    await send_text(context.bot, chat.id, "\n".join(lines))


async def topics(update: Update, context: BotContext) -> None:
    """Show a keyboard with every topic."""
    chat = update.effective_chat
    if chat is None:
        return
    keyboard = topics_keyboard(context.services.knowledge)
    await send_text(context.bot, chat.id, TOPICS_TEXT, reply_markup=keyboard)


async def question(update: Update, context: BotContext) -> None:
    """Answer a free-text question through the companion."""
    message = update.effective_message
    if message is None or not message.text:
        return
    await _answer_text(update, context, message.text)


async def _answer_text(update: Update, context: BotContext, text: str) -> None:
    chat = update.effective_chat
    if chat is None:
        return
    # Per chat: "why?" or "what about in pregnancy?" is read against this chat's last answer.
    reply = await conversations.respond(context.services, chat.id, text)
    note_reply(context, chat.id, text, reply)  # counts for /stats, the opt-in review
    await send_reply(update, context, reply)


async def topic_button(update: Update, context: BotContext) -> None:
    """Answer a pressed topic button through the same path as a typed question."""
    query = update.callback_query
    if query is None:
        return
    services = context.services
    payload = callbacks.parse(query.data)
    try:
        await query.answer()
    except TelegramError as exc:  # too old, or already answered: the reply still matters
        log.debug("answerCallbackQuery failed: %s", exc)
    chat = update.effective_chat
    if chat is None:
        return
    if isinstance(payload, NoneOfThese):
        keyboard = topics_keyboard(services.knowledge)
        await send_text(context.bot, chat.id, NONE_OF_THESE_TEXT, reply_markup=keyboard)
        return
    if isinstance(payload, AllTopics):
        keyboard = topics_keyboard(services.knowledge)
        await send_text(context.bot, chat.id, TOPICS_TEXT, reply_markup=keyboard)
        return
    topic_id = payload.topic if isinstance(payload, TopicPick) else None
    if topic_id is None or topic_id not in services.knowledge.topics:
        # A button from an older version of the bot: offer the current list instead.
        keyboard = topics_keyboard(services.knowledge)
        await send_text(context.bot, chat.id, UNAVAILABLE, reply_markup=keyboard)
        return
    await send_reply(update, context, await conversations.choose(services, chat.id, topic_id))


async def vote_button(update: Update, context: BotContext) -> None:
    """Count a 👍 or 👎 under an answer (per entry, no user id) and take the vote buttons off."""
    query = update.callback_query
    payload = callbacks.parse(query.data if query else None)
    if query is None or not isinstance(payload, Helpful):
        return
    knowledge = context.services.knowledge
    if payload.entry not in knowledge.entry_by_id and payload.entry not in knowledge.topics:
        await _answer_quietly(update)
        return
    await context.services.store.record_answer_vote(payload.entry, payload.helped)
    await _answer_quietly(update, THANKS_FOR_VOTE)
    message = query.message
    markup = getattr(message, "reply_markup", None)
    if markup is None:
        return
    # Keep the follow-ups and "Topics"; without 👍 👎 a second press cannot count twice.
    rows = [
        [b for b in row if not isinstance(callbacks.parse(b.callback_data), Helpful)]
        for row in markup.inline_keyboard
    ]
    try:
        await query.edit_message_reply_markup(InlineKeyboardMarkup([r for r in rows if r]))
    except BadRequest as exc:  # too old to edit: the vote is counted anyway
        log.debug("vote buttons not removed: %s", exc)


async def _answer_quietly(update: Update, text: str | None = None) -> None:
    query = update.callback_query
    if query is None:
        return
    try:
        await query.answer(text)
    except TelegramError as exc:
        log.debug("answerCallbackQuery failed: %s", exc)


async def answer_stats_command(update: Update, context: BotContext) -> None:
    """Show the aggregate "Did this help?" counts per entry (admins only)."""
    chat_id = await admin_chat(update, context)
    if chat_id is None:
        return
    services = context.services
    counts = await services.store.answer_vote_counts()
    lines = ["Did this help? Answers by entry (👍 / 👎):"]
    lines += [f"{entry}: {yes} / {no}" for entry, (yes, no) in counts.items()]
    if not counts:
        lines.append("No votes yet.")
    await send_text(context.bot, chat_id, "\n".join(lines))


async def not_text(update: Update, context: BotContext) -> None:
    """Answer a sticker, picture, voice message etc. politely with what the bot can do."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None:
        return
    what = next((label for attr, label in _MEDIA.items() if getattr(message, attr, None)), None)
    await send_text(context.bot, chat.id, NOT_TEXT.format(what=what or "that kind of message"))
    if message.caption:  # a captioned picture may still carry a question
        await _answer_text(update, context, message.caption)


async def edited(update: Update, context: BotContext) -> None:
    """Re-read an edited message only for safety: an edit that reveals a red flag is answered."""
    message = update.edited_message
    if message is None or not message.text:
        return
    reply = context.services.companion.respond(message.text)
    if reply.kind is ReplyKind.URGENT or reply.urgent:
        await send_reply(update, context, reply)


async def unknown_command(update: Update, context: BotContext) -> None:
    """Answer a command no feature knows."""
    chat = update.effective_chat
    if chat is not None:
        await send_text(context.bot, chat.id, UNKNOWN_COMMAND)


class QAFeature(Feature):
    """Questions in words, topic buttons, /help and /topics; its text handler is the last."""

    name = "qa"

    def handlers(self) -> list[BaseHandler[Any, Any, Any]]:
        """The Q&A handlers; the text handler catches every message the features left."""
        return [
            CommandHandler("help", help_command),
            CommandHandler("topics", topics),
            CommandHandler("answerstats", answer_stats_command),
            CallbackQueryHandler(
                topic_button, pattern=callbacks.matches((TopicPick, NoneOfThese, AllTopics))
            ),
            CallbackQueryHandler(vote_button, pattern=callbacks.matches(Helpful)),
            MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.TEXT, edited),
            MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND, question),
            MessageHandler(filters.UpdateType.MESSAGE & filters.COMMAND, unknown_command),
            MessageHandler(
                filters.UpdateType.MESSAGE & ~filters.TEXT & ~filters.StatusUpdate.ALL, not_text
            ),
        ]

    def commands(self) -> list[BotCommand]:
        """The Q&A commands for the command menu."""
        return _own_commands()


__all__ = ["QAFeature", "send_reply"]
