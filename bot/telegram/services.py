"""What every handler needs, built once per Application: ``context.services``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.core.knowledge import Knowledge

if TYPE_CHECKING:
    from bot.core.companion import Companion
    from bot.pictures.foot_map import FootMapCache
    from bot.storage import Store

# ``application.bot_data[SERVICES_KEY]`` still reaches the services (bot/telegram/context.py
# keeps it for code written against the old dict); new code uses ``context.services``.
SERVICES_KEY = "services"
# Services.state: the SharedBudget, when several workers may share the database.
BUDGET_KEY = "send-budget"


@dataclass
class Services:
    settings: Settings
    knowledge: Knowledge
    companion: Companion
    store: Store
    foot_maps: FootMapCache
    # Runtime state of code that predates the typed BotData (the daily-tip runtime).
    state: dict[str, Any]
