"""The bot's storage: SQLite in ``BOT_DATA_DIR`` by default, PostgreSQL with ``DATABASE_URL``.

Every backend offers the same async interface (``Store``, see ``bot.storage.base``) and
the same schema through its own migrations; ``open_store`` picks one from the settings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.storage.base import (
    DEFAULT_DAILY_TIME,
    Claim,
    RoutineRunRow,
    StorageError,
    Store,
    Subscription,
)
from bot.storage.sqlite import DB_FILENAME, MIGRATIONS, SCHEMA_VERSION, SqliteStore, migrate

if TYPE_CHECKING:
    from bot.config import Settings


def open_store(settings: Settings) -> Store:
    """The store the settings ask for, opened and migrated; ``StorageError`` if it cannot be."""
    if settings.database_url:
        from bot.storage.postgres import PostgresStore  # psycopg only when it is used

        return PostgresStore(settings.database_url)
    return SqliteStore(settings.data_dir / DB_FILENAME)


__all__ = [
    "DB_FILENAME",
    "DEFAULT_DAILY_TIME",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Claim",
    "RoutineRunRow",
    "SqliteStore",
    "StorageError",
    "Store",
    "Subscription",
    "migrate",
    "open_store",
]
