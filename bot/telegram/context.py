"""Typed context for every handler: ``context.services`` instead of string keys.

The Application is built with ``CONTEXT_TYPES``: PTB then creates one ``BotData`` as
``application.bot_data`` and hands each callback a ``BotContext``, so a handler reads
``context.services.store`` with its type known to mypy, and nothing is looked up by a
string and checked with ``assert isinstance``.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from telegram import BotCommand
from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot, JobQueue

from bot.telegram.services import SERVICES_KEY, Services

if TYPE_CHECKING:
    from bot.core.routines import RoutineRun
    from bot.telegram.feature import Feature, TopicExtra


@dataclass
class LiveRoutine:
    """A routine shown in one message that each step edits (see bot/telegram/routines.py)."""

    run: RoutineRun
    token: str  # in the buttons' callback data: a button of an older run is stale
    message_id: int | None = None
    has_photo: bool = False  # the live message is a picture whose caption is edited
    zone: str | None = None  # the chart variant it shows (None: the whole map)


@dataclass
class BotData:
    """``application.bot_data``: the services and the adapter's runtime state, typed."""

    _services: Services | None = None
    features: list[Feature] = field(default_factory=list)
    commands: list[BotCommand] = field(default_factory=list)  # the menu, for /help
    topic_extras: dict[str, list[TopicExtra]] = field(default_factory=dict)
    routines: dict[int, LiveRoutine] = field(default_factory=dict)  # chat id -> live routine
    feedback_open: dict[int, str] = field(default_factory=dict)  # chat id -> routine id
    routine_locks: dict[int, asyncio.Lock] = field(default_factory=dict)  # one per chat

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("the Application was not built by build_application")
        return self._services

    @services.setter
    def services(self, services: Services) -> None:
        self._services = services

    def __getitem__(self, key: str) -> Any:
        # Kept for code written against the old dict (``bot_data["services"]``).
        if key == SERVICES_KEY:
            return self.services
        raise KeyError(key)


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """The context of every handler and job of this bot."""

    @property
    def services(self) -> Services:
        return self.bot_data.services


CONTEXT_TYPES = ContextTypes(context=BotContext, bot_data=BotData)
BotApplication = Application[
    ExtBot[None], BotContext, dict[Any, Any], dict[Any, Any], BotData, JobQueue[Any]
]


def services_of(application: Application[Any, Any, Any, Any, Any, Any]) -> Services:
    """The Services of an Application built by ``build_application``."""
    bot_data = application.bot_data
    if not isinstance(bot_data, BotData):
        raise TypeError("the Application was not built by build_application")
    return bot_data.services


__all__ = [
    "CONTEXT_TYPES",
    "BotApplication",
    "BotContext",
    "BotData",
    "LiveRoutine",
    "services_of",
]
