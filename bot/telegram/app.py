"""Builds the python-telegram-bot Application from features.

A *feature* is a module with:

- ``handlers() -> list[BaseHandler]``: its command / callback handlers. They are
  added before the Q&A feature's catch-all text handler.
- ``commands() -> list[BotCommand]``: entries for the command menu (setMyCommands).
- optionally ``async post_init(application) -> None``: start-up work (e.g. rebuild jobs).
- optionally ``topic_extras() -> dict[topic_id, coroutine]``: extra sends after a
  topic's answer (routine buttons after ``routine``, the picture after ``foot-map``,
  a tip and the subscription offer after ``tip``). Signature of each coroutine:
  ``async def extra(update, context, reply) -> None``.

Callback data namespaces (<= 64 bytes): ``t:`` topics (qa), ``r:`` routines,
``fb:`` routine feedback, ``tip:`` / ``set:`` / ``tz:`` / ``forget:`` tips and settings.
"""

from __future__ import annotations

import logging
from types import ModuleType

from telegram.ext import Application, ApplicationBuilder
from telegram.request import BaseRequest

from bot.config import Settings
from bot.core.knowledge import Knowledge
from bot.telegram.services import SERVICES_KEY, Services

log = logging.getLogger(__name__)


def features() -> list[ModuleType]:
    """Feature modules in registration order; ``qa`` is last (its text handler catches all)."""
    from bot.telegram import qa, routines, tips

    return [routines, tips, qa]


def build_application(
    settings: Settings,
    knowledge: Knowledge,
    *,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
) -> Application:
    """The whole bot, wired; ``request`` replaces the network layer in tests."""
    raise NotImplementedError  # written by the Telegram Q&A engineer


__all__ = ["SERVICES_KEY", "Services", "build_application", "features"]
