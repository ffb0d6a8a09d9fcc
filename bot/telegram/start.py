"""/start and its deep links: t.me/<bot>?start=<payload>.

``/start`` welcomes and shows the caveat. A deep-link payload (Telegram allows up to 64
characters of ``A-Za-z0-9_-``) then opens straight on something: ``daily`` subscribes to
daily tips, a topic id (``-`` or ``_``) answers that topic.
"""

from __future__ import annotations

from typing import Any

from telegram import BotCommand, Update
from telegram.ext import BaseHandler, CommandHandler

from bot.telegram.context import BotContext
from bot.telegram.feature import Feature
from bot.telegram.formatting import PARSE_MODE, escape
from bot.telegram.keyboards import topics_keyboard
from bot.telegram.qa import send_reply
from bot.telegram.sending import send_text
from bot.telegram.tips import subscribe_and_confirm

START_TOPICS = ("what-is-reflexology", "benefits", "evidence", "safety", "routine", "tip")
DAILY_PAYLOAD = "daily"

GREETING = "Hello, {name}!"
GREETING_NO_NAME = "Hello!"
WELCOME = (
    "I'm a companion for foot reflexology, the practice of pressing points on the "
    "feet that are said to be linked to the rest of the body.\n\n"
    "Ask me anything about it in your own words, for example:\n"
    "• What is reflexology?\n"
    "• Can it help me sleep?\n"
    "• Does it really work?\n"
    "• Is it safe in pregnancy?\n\n"
    "I can also show the foot map, guide you through a short self-massage and send a daily "
    "tip. I tell you honestly what the evidence says."
)


async def start(update: Update, context: BotContext) -> None:
    """Welcome the user, say what the bot can do, show the caveat, then follow a deep link."""
    chat = update.effective_chat
    if chat is None:
        return
    payload = context.args[0] if context.args else ""
    if payload == DAILY_PAYLOAD:
        await subscribe_and_confirm(update, context)
        return
    services = context.services
    user = update.effective_user
    name = user.first_name if user is not None else ""
    # The name is the person's own text: escaped, like everything in an HTML message.
    hello = GREETING.format(name=escape(name)) if name else GREETING_NO_NAME
    caveat = escape(services.knowledge.caveat.strip())
    text = f"<b>{hello}</b> {escape(WELCOME)}\n\n<i>{caveat}</i>"
    keyboard = topics_keyboard(
        services.knowledge, [t for t in START_TOPICS if t in services.knowledge.topics]
    )
    await send_text(context.bot, chat.id, text, reply_markup=keyboard, parse_mode=PARSE_MODE)
    topic_id = payload.replace("_", "-")
    if topic_id in services.knowledge.topics:
        await send_reply(update, context, services.companion.topic_reply(topic_id))


class StartFeature(Feature):
    """/start, with or without a deep-link payload."""

    name = "start"

    def handlers(self) -> list[BaseHandler[Any, Any, Any]]:
        """The one /start handler (every payload is read in ``start``)."""
        return [CommandHandler("start", start)]

    def commands(self) -> list[BotCommand]:
        """/start comes first in the menu."""
        return [BotCommand("start", "What I can do")]


__all__ = ["DAILY_PAYLOAD", "START_TOPICS", "WELCOME", "StartFeature", "start"]
