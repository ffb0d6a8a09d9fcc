"""Builds the python-telegram-bot Application from features.

A *feature* is a module with:

- ``handlers() -> list[BaseHandler]``: its command / callback handlers. They are
  added before the Q&A feature's catch-all text handler.
- ``commands() -> list[BotCommand]``: entries for the command menu (setMyCommands).
- optionally ``async post_init(application) -> None``: start-up work (e.g. rebuild jobs);
  optionally ``async post_shutdown(application) -> None``: last writes before the store closes.
- optionally ``topic_extras() -> dict[topic_id, coroutine]``: extra sends after a
  topic's answer (routine buttons after ``routine``, the picture after ``foot-map``,
  a tip and the subscription offer after ``tip``). Signature of each coroutine:
  ``async def extra(update, context, reply) -> None``.

Callback data namespaces (<= 64 bytes): ``t:`` topics (qa), ``r:`` routines,
``fb:`` routine feedback, ``tip:`` / ``set:`` / ``tz:`` / ``forget:`` tips and settings.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
import traceback
from collections.abc import Awaitable, Callable
from types import ModuleType
from typing import TYPE_CHECKING, Any

from telegram import BotCommand, Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import Application, ApplicationBuilder, BaseUpdateProcessor, ContextTypes
from telegram.request import BaseRequest

from bot.config import Settings

if TYPE_CHECKING:
    from bot.core.companion import Companion
from bot.core.knowledge import Knowledge
from bot.telegram.services import COMMANDS_KEY, SERVICES_KEY, TOPIC_EXTRAS_KEY, Services

log = logging.getLogger(__name__)

FEATURE_NAMES = ("routines", "tips", "admin", "qa")  # registration order: qa's catch-all last
DB_FILENAME = "bot.sqlite3"
MAX_CONCURRENT_UPDATES = 64
ERROR_TEXT = "Sorry, something went wrong on my side. Please try again in a moment."

TopicExtra = Callable[[Update, ContextTypes.DEFAULT_TYPE, Any], Awaitable[None]]


def features() -> list[ModuleType]:
    """Feature modules in registration order; ``qa`` is last (its text handler catches all)."""
    return [importlib.import_module(f"bot.telegram.{name}") for name in FEATURE_NAMES]


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


def _menu(modules: list[ModuleType]) -> list[BotCommand]:
    """Every feature's commands, Q&A's first (/start, /help, /topics), without duplicates."""
    ordered = sorted(modules, key=lambda m: m.__name__ != "bot.telegram.qa")
    menu: dict[str, BotCommand] = {}
    for module in ordered:
        for command in module.commands():
            menu.setdefault(command.command, command)
    return list(menu.values())


def _topic_extras(modules: list[ModuleType]) -> dict[str, list[TopicExtra]]:
    extras: dict[str, list[TopicExtra]] = {}
    for module in modules:
        provider = getattr(module, "topic_extras", None)
        if provider is None:
            continue
        for topic_id, extra in provider().items():
            extras.setdefault(topic_id, []).append(extra)
    return extras


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
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
) -> Application:
    """The whole bot, wired; ``request`` replaces the network layer in tests.

    ``companion`` lets a caller that already built one for ``knowledge`` share it
    (building it indexes the whole knowledge base).
    """
    if not settings.token:
        raise ValueError("a bot token is needed to build the Telegram application")
    from bot.core.companion import Companion
    from bot.pictures.foot_map import FootMapCache
    from bot.storage import Store

    modules = features()
    menu = _menu(modules)

    async def post_init(application: Application) -> None:
        try:
            await application.bot.set_my_commands(menu)
        except TelegramError as exc:  # the menu is a nicety: start anyway
            log.warning("setMyCommands failed: %s", exc)
        for module in modules:
            hook = getattr(module, "post_init", None)
            if hook is not None:
                await hook(application)

    async def post_shutdown(application: Application) -> None:
        for module in modules:
            hook = getattr(module, "post_shutdown", None)
            if hook is not None:
                await hook(application)
        services = application.bot_data.get(SERVICES_KEY)
        if isinstance(services, Services):
            services.store.close()

    from bot.telegram.polling import make_bot

    builder = (
        ApplicationBuilder()
        .bot(make_bot(settings, request, get_updates_request))  # survives unparsable updates
        .concurrent_updates(PerChatUpdateProcessor())
        .post_init(post_init)
        .post_shutdown(post_shutdown)
    )
    application = builder.build()

    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    application.bot_data[SERVICES_KEY] = Services(
        settings=settings,
        knowledge=knowledge,
        companion=companion if companion is not None else Companion(knowledge),
        store=Store.open(settings.data_dir / DB_FILENAME),
        foot_maps=FootMapCache(),
        state={},
    )
    application.bot_data[COMMANDS_KEY] = menu
    application.bot_data[TOPIC_EXTRAS_KEY] = _topic_extras(modules)
    for module in modules:
        for handler in module.handlers():
            application.add_handler(handler)
    application.add_error_handler(on_error)
    return application


__all__ = [
    "SERVICES_KEY",
    "PerChatUpdateProcessor",
    "Services",
    "build_application",
    "features",
]
