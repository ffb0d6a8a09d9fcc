"""A Telegram companion that explains foot reflexology honestly and safely.

Layout: ``bot.core`` is the pure core (no Telegram import); ``bot.telegram``,
``bot.console`` and ``bot.cli`` are thin adapters over it; ``bot.storage`` is the
only module that talks to the database; ``bot.pictures`` draws the foot map.
"""

__version__ = "0.1.0"
