"""What every handler needs, built once per Application and kept in ``bot_data``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from telegram.ext import ContextTypes

from bot.config import Settings
from bot.core.knowledge import Knowledge

if TYPE_CHECKING:
    from bot.core.companion import Companion
    from bot.pictures.foot_map import FootMapCache
    from bot.storage import Store

SERVICES_KEY = "services"
# Also in bot_data, set by the app: the command menu (for /help) and the features'
# extra senders per topic id (see bot.telegram.app).
COMMANDS_KEY = "commands"
TOPIC_EXTRAS_KEY = "topic_extras"


@dataclass
class Services:
    settings: Settings
    knowledge: Knowledge
    companion: Companion
    store: Store
    foot_maps: FootMapCache
    # A feature may keep its own runtime state here (e.g. running routines per chat).
    state: dict[str, Any]


def get_services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    """The Services of the Application that is handling this update."""
    services = context.application.bot_data[SERVICES_KEY]
    assert isinstance(services, Services)
    return services
