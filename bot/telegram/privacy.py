"""Privacy commands: /privacy says what is kept and for how long; /forget deletes
everything stored about a chat, after a confirmation.

In a group, the confirmation buttons carry the id of the person who sent /forget
(``ForgetAction.requester``) and act only when that person presses them
(``bot.telegram.requester``).
"""

from __future__ import annotations

from typing import Any

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler

from bot.insights import REVIEW_DAYS
from bot.telegram import callbacks, conversations
from bot.telegram.callbacks import ForgetAction
from bot.telegram.context import BotContext
from bot.telegram.feature import Feature
from bot.telegram.requester import pressed_by_requester, requester_of
from bot.telegram.sending import send_text

FORGET_QUESTION = (
    "This deletes everything I keep about this chat: the daily-tip subscription, the time, "
    "the time zone and which tips you have seen. (Routine feedback is stored only as "
    "anonymous totals, with nothing that points to you.)\n\nDelete it all?"
)
FORGOTTEN = "Done: nothing about you is stored any more, and daily tips are off."
NOTHING_STORED = "There was nothing stored about you. Nothing to delete."
NOT_DELETED = "Nothing was deleted."

PRIVACY_TEXT = (
    "What I keep, and for how long:\n\n"
    "• Daily tips: if you subscribe, your chat id, time zone, daily time and which tips you "
    "have seen, until you unsubscribe or send /forget (which deletes all of it).\n"
    "• A routine on screen: which routine and step, until it ends.\n"
    '• The conversation: the topic of your last question, so that "why?" makes sense; '
    "never your words, for 30 minutes.\n"
    "• Counts: how many questions got which kind of answer each day, how people felt "
    'after a routine and the "Did this help?" votes, as totals with nothing that points '
    "to you.\n"
    "{review}\n\n"
    "Your messages are never written to the bot's logs, and nothing is shared with anyone."
)
REVIEW_ON = (
    "• Questions I could not answer: their text, without your name, chat or user id, so the "
    "editors can teach me those questions; phone numbers and e-mail addresses are masked, "
    "urgent messages are never kept, and each question is deleted after {days} days."
)
REVIEW_OFF = "• Questions I could not answer are not kept."


def privacy_text(review: bool) -> str:
    """The /privacy statement for this bot's settings (review on or off)."""
    return PRIVACY_TEXT.format(review=REVIEW_ON.format(days=REVIEW_DAYS) if review else REVIEW_OFF)


async def privacy(update: Update, context: BotContext) -> None:
    """Say what the bot keeps, for how long, and how to delete it."""
    chat = update.effective_chat
    if chat is None:
        return
    await send_text(context.bot, chat.id, privacy_text(context.services.settings.review))


def forget_keyboard(requester: int | None) -> InlineKeyboardMarkup:
    """Yes / No, for the person who asked."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "Yes, delete it all",
                    callback_data=callbacks.pack(ForgetAction("yes", requester)),
                ),
                InlineKeyboardButton(
                    "No, keep it", callback_data=callbacks.pack(ForgetAction("no", requester))
                ),
            ]
        ]
    )


async def forget(update: Update, context: BotContext) -> None:
    """Ask for confirmation before deleting everything stored about the chat."""
    chat = update.effective_chat
    if chat is None:
        return
    keyboard = forget_keyboard(requester_of(update))
    await send_text(context.bot, chat.id, FORGET_QUESTION, keyboard)


async def _edit(update: Update, text: str) -> None:
    query = update.callback_query
    if query is None:
        return
    try:
        await query.edit_message_text(text)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


async def forget_button(update: Update, context: BotContext) -> None:
    """Delete the chat's data after "yes"; ask first if it came from /settings."""
    query = update.callback_query
    chat = update.effective_chat
    payload = callbacks.parse(query.data if query else None)
    if query is None or chat is None or not isinstance(payload, ForgetAction):
        return
    if not await pressed_by_requester(update, payload.requester):
        return
    await query.answer()
    if payload.action == "ask":
        await forget(update, context)
    elif payload.action == "yes":
        services = context.services
        deleted = await services.store.forget(chat.id)
        await conversations.forget(services, chat.id)  # the conversation context too
        await _edit(update, FORGOTTEN if deleted else NOTHING_STORED)
    else:
        await _edit(update, NOT_DELETED)


class PrivacyFeature(Feature):
    """/privacy, /forget and its confirmation."""

    name = "privacy"

    def handlers(self) -> list[BaseHandler[Any, Any, Any]]:
        """/forget and its buttons."""
        return [
            CommandHandler("privacy", privacy),
            CommandHandler("forget", forget),
            CallbackQueryHandler(forget_button, pattern=callbacks.matches(ForgetAction)),
        ]

    def commands(self) -> list[BotCommand]:
        """The menu entry."""
        return [
            BotCommand("privacy", "What I keep about you"),
            BotCommand("forget", "Delete everything stored about you"),
        ]


__all__ = [
    "FORGET_QUESTION",
    "FORGOTTEN",
    "NOTHING_STORED",
    "NOT_DELETED",
    "PrivacyFeature",
    "forget",
    "forget_keyboard",
    "privacy_text",
]
