"""What a feature is: an object that registers its own handlers on the Application.

``bot/telegram/app.py`` lists the features explicitly, in registration order. A feature
adds its handlers with ``application.add_handlers``, names its commands for the menu,
may do start-up work (``post_init``), may add sends after a topic's answer
(``topic_extras``: the routine buttons after ``routine``, a tip after ``tip``) and may
take a topic's answer over (``take_over``: "daily tips at 9" subscribes at 09:00
instead of answering how to subscribe).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from telegram import BotCommand, Update
from telegram.ext import BaseHandler

if TYPE_CHECKING:
    from bot.core.reply import Reply
    from bot.telegram.context import BotApplication, BotContext

TopicExtra = Callable[[Update, "BotContext", "Reply"], Awaitable[None]]


class Feature:
    """Base of every feature; subclasses override ``handlers`` and what else they need."""

    name = "feature"

    def handlers(self) -> list[BaseHandler[Any, Any, Any]]:
        """The feature's handlers, in the order they are tried."""
        raise NotImplementedError

    def commands(self) -> list[BotCommand]:
        """Entries for the command menu (setMyCommands) and /help."""
        return []

    def topic_extras(self) -> dict[str, TopicExtra]:
        """Extra sends after the answer of a topic id."""
        return {}

    async def take_over(self, update: Update, context: BotContext, reply: Reply) -> bool:
        """Handle an answer instead of the Q&A feature; True when it did."""
        return False

    async def post_init(self, application: BotApplication) -> None:
        """Start-up work, after the Application is initialized."""

    async def post_shutdown(self, application: BotApplication) -> None:
        """Last work at shutdown, before the store closes (e.g. writing counts)."""

    def register(self, application: BotApplication) -> None:
        """Add the handlers to ``application`` (group 0: the first that matches runs)."""
        application.add_handlers(self.handlers())


__all__ = ["Feature", "TopicExtra"]
