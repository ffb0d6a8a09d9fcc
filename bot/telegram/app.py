"""Builds the python-telegram-bot Application from its features.

Each feature is an object (``bot.telegram.feature.Feature``) that registers its own
handlers with ``application.add_handlers``; ``features()`` lists them explicitly, in
registration order: in one handler group the first matching handler wins, so the Q&A
feature, whose text handler catches every message, comes last. Handlers get a typed
``BotContext`` (``context.services``, ``context.bot_data``: bot/telegram/context.py),
and every button's callback data is packed and parsed in bot/telegram/callbacks.py.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, cast

from telegram import BotCommand, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import ApplicationBuilder, BaseUpdateProcessor
from telegram.request import BaseRequest

from bot.config import Settings

if TYPE_CHECKING:
    from bot.core.companion import Companion
from bot.core.knowledge import Knowledge
from bot.storage import DB_FILENAME
from bot.telegram import sending
from bot.telegram.admin import AdminFeature
from bot.telegram.context import CONTEXT_TYPES, BotApplication, BotContext, BotData
from bot.telegram.feature import Feature
from bot.telegram.inline import InlineFeature
from bot.telegram.privacy import PrivacyFeature
from bot.telegram.qa import QAFeature
from bot.telegram.routines import RoutinesFeature
from bot.telegram.services import BUDGET_KEY, SERVICES_KEY, Services
from bot.telegram.start import StartFeature
from bot.telegram.tips import TipsFeature

log = logging.getLogger(__name__)

MAX_CONCURRENT_UPDATES = 64
ERROR_TEXT = "Sorry, something went wrong on my side. Please try again in a moment."


def features() -> list[Feature]:
    """Every feature, in registration order; Q&A last (its text handler catches all)."""
    return [
        StartFeature(),
        RoutinesFeature(),
        TipsFeature(),
        PrivacyFeature(),
        AdminFeature(),
        InlineFeature(),
        QAFeature(),
    ]


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Updates of different chats run concurrently; one chat's updates run in order.

    A user who types "/start" then a question gets the answers in that order, while a slow
    upload in one chat never holds up another. (A waiting update holds one of the
    ``max_concurrent_updates`` slots; one user cannot send fast enough to fill 64.)
    """

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Run the update's handlers, after earlier updates of the same chat."""
        chat = update.effective_chat if isinstance(update, Update) else None
        if chat is None:
            await coroutine
            return
        lock = self._locks.setdefault(chat.id, asyncio.Lock())
        self._users[chat.id] = self._users.get(chat.id, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._users[chat.id] -= 1
            if not self._users[chat.id]:  # nobody waiting: forget the chat
                del self._users[chat.id]
                del self._locks[chat.id]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down."""


# The menu starts with what a newcomer needs: /start, /help, /topics.
MENU_FIRST = ("start", "qa")


def _menu(feature_list: list[Feature]) -> list[BotCommand]:
    """Every feature's commands, /start, /help and /topics first, without duplicates."""
    ordered = sorted(
        feature_list,
        key=lambda f: MENU_FIRST.index(f.name) if f.name in MENU_FIRST else len(MENU_FIRST),
    )
    menu: dict[str, BotCommand] = {}
    for feature in ordered:
        for command in feature.commands():
            menu.setdefault(command.command, command)
    return list(menu.values())


async def on_error(update: object, context: BotContext) -> None:
    """Log the error (token redacted) and tell the user something went wrong."""
    from bot.telegram.runner import redact

    error = context.error
    token = context.bot.token if context.bot else None
    details = "".join(traceback.format_exception(error)) if error else "(no exception)"
    update_id = update.update_id if isinstance(update, Update) else None
    log.error("error while handling update %s:\n%s", update_id, redact(details, token))
    chat = update.effective_chat if isinstance(update, Update) else None
    if chat is None or isinstance(error, Forbidden):  # blocked: nobody to apologise to
        return
    try:
        await context.bot.send_message(chat.id, ERROR_TEXT)
    except TelegramError as exc:  # the apology is best-effort: never loop on errors
        log.warning("could not tell chat %s about the error: %s", chat.id, redact(str(exc), token))


def build_application(
    settings: Settings,
    knowledge: Knowledge,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
    companion: Companion | None = None,
) -> BotApplication:
    """The whole bot, wired; ``request`` replaces the network layer in tests.

    ``companion`` lets a caller that already built one for ``knowledge`` share it
    (building it indexes the whole knowledge base).
    """
    if not settings.token:
        raise ValueError("a bot token is needed to build the Telegram application")
    from bot.core.companion import Companion
    from bot.pictures.foot_map import FootMapCache
    from bot.storage import open_store

    feature_list = features()
    menu = _menu(feature_list)

    async def post_init(application: BotApplication) -> None:
        services = application.bot_data.services
        if services.store.shared:
            # Every worker's sends come out of one budget (see bot/telegram/sending.py).
            scale = services.settings.time_scale
            budget = sending.SharedBudget(
                services.store, sending.OVERALL_PER_SECOND / min(scale, 1.0)
            )
            services.state[BUDGET_KEY] = budget
            sending.SHARED_BUDGET = budget
        try:
            await application.bot.set_my_commands(menu)
        except TelegramError as exc:  # the menu is a nicety: start anyway
            log.warning("setMyCommands failed: %s", exc)
        for feature in feature_list:
            await feature.post_init(application)

    async def post_shutdown(application: BotApplication) -> None:
        if sending.SHARED_BUDGET is application.bot_data.services.state.get(BUDGET_KEY):
            sending.SHARED_BUDGET = None
        for feature in feature_list:
            await feature.post_shutdown(application)  # last writes before the store closes
        await application.bot_data.services.store.close()

    from bot.telegram.polling import make_bot

    builder = (
        ApplicationBuilder()
        .bot(make_bot(settings, request, get_updates_request))  # survives unparsable updates
        .context_types(CONTEXT_TYPES)
        .concurrent_updates(PerChatUpdateProcessor())
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    # Application is invariant in its bot type; TolerantBot is an ExtBot[None] to handlers.
    application = cast(BotApplication, builder.build())

    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    bot_data: BotData = application.bot_data
    bot_data.services = Services(
        settings=settings,
        knowledge=knowledge,
        companion=companion if companion is not None else Companion(knowledge),
        store=open_store(settings),
        foot_maps=FootMapCache(),
        state={},
    )
    bot_data.features = feature_list
    bot_data.commands = menu
    for feature in feature_list:
        for topic_id, extra in feature.topic_extras().items():
            bot_data.topic_extras.setdefault(topic_id, []).append(extra)
        feature.register(application)
    application.add_error_handler(on_error)
    return application


__all__ = [
    "DB_FILENAME",
    "SERVICES_KEY",
    "PerChatUpdateProcessor",
    "Services",
    "build_application",
    "features",
]
