"""Settings from the environment and a ``.env`` file (docs/CONTRACT.md section 4).

Real environment variables win over ``.env``; python-dotenv parses the file (quotes,
inline comments, escapes, ``export``). Every value is checked here, so a bad one
stops the bot with one clear line instead of failing later. Nothing here logs the
token or the webhook secret.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from dotenv import dotenv_values

DEFAULT_BASE_URL = "https://api.telegram.org/bot"
DEFAULT_WEBHOOK_LISTEN = "0.0.0.0:8443"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# Telegram's rule for secret_token: 1-256 characters of A-Z, a-z, 0-9, _ and -.
_SECRET_SHAPE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_TOKEN_SHAPE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")


class ConfigError(ValueError):
    """A setting has a value the bot cannot use."""


def read_dotenv(path: Path) -> dict[str, str]:
    """The ``KEY=value`` pairs of ``path`` (none when it does not exist)."""
    if not path.is_file():
        return {}
    return {key: value or "" for key, value in dotenv_values(path).items()}


@dataclass(frozen=True)
class Settings:
    token: str | None = None
    base_url: str = DEFAULT_BASE_URL
    data_dir: Path = Path("data")
    admin_ids: frozenset[int] = field(default_factory=frozenset)
    time_scale: float = 1.0
    database_url: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_listen: tuple[str, int] = ("0.0.0.0", 8443)
    log_level: str = "INFO"
    review: bool = False  # BOT_REVIEW=on: keep unanswered questions (no user id) for review

    def __repr__(self) -> str:  # never show the token, the secret or a database password
        token = "set" if self.token else "none"
        database = "postgresql" if self.database_url else "sqlite"
        webhook = self.webhook_url or "off (long polling)"
        return (
            f"Settings(token={token}, base_url={self.base_url!r}, data_dir={str(self.data_dir)!r},"
            f" database={database}, webhook={webhook}, admin_ids={sorted(self.admin_ids)},"
            f" time_scale={self.time_scale}, log_level={self.log_level},"
            f" review={'on' if self.review else 'off'})"
        )

    __str__ = __repr__

    @property
    def log_level_number(self) -> int:
        return logging.getLevelNamesMapping()[self.log_level]


def _admin_ids(text: str | None) -> frozenset[int]:
    ids: set[int] = set()
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        if not part.lstrip("-").isdigit():
            raise ConfigError(f"BOT_ADMIN_IDS: {part!r} is not a Telegram user id")
        ids.add(int(part))
    return frozenset(ids)


def _time_scale(text: str | None) -> float:
    try:
        scale = float(text or "1")
    except ValueError as exc:
        raise ConfigError(f"BOT_TIME_SCALE: {text!r} is not a number") from exc
    if not 0 < scale <= 100:
        raise ConfigError("BOT_TIME_SCALE must be greater than 0 and at most 100")
    return scale


def _log_level(text: str | None) -> str:
    level = (text or "INFO").strip().upper()
    if level == "WARN":
        level = "WARNING"
    if level not in LOG_LEVELS:
        raise ConfigError(f"BOT_LOG_LEVEL: {text!r} is not one of {', '.join(LOG_LEVELS)}")
    return level


def _on_off(name: str, text: str | None) -> bool:
    value = (text or "off").strip().lower()
    if value in ("on", "1", "true", "yes"):
        return True
    if value in ("off", "0", "false", "no"):
        return False
    raise ConfigError(f"{name}: {text!r} is not on or off")


def _http_url(name: str, text: str | None, https_only: bool) -> str | None:
    if text is None:
        return None
    parts = urlsplit(text)
    schemes = ("https",) if https_only else ("http", "https")
    if parts.scheme not in schemes or not parts.netloc:
        wanted = "an https:// URL" if https_only else "an http:// or https:// URL"
        raise ConfigError(f"{name}: {text!r} is not {wanted}")
    return text


def _database_url(text: str | None) -> str | None:
    if text is None:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("postgresql", "postgres") or not parts.netloc:
        raise ConfigError("DATABASE_URL must look like postgresql://user:pass@host:port/db")
    return text


def _listen(text: str | None) -> tuple[str, int]:
    host, sep, port = (text or DEFAULT_WEBHOOK_LISTEN).rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise ConfigError(f"BOT_WEBHOOK_LISTEN: {text!r} is not host:port (e.g. 0.0.0.0:8443)")
    return (host.strip("[]") or "0.0.0.0", int(port))


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> Settings:
    """Build Settings from ``.env`` overlaid with the real environment."""
    values: dict[str, str] = read_dotenv(dotenv) if dotenv is not None else {}
    values.update(os.environ if environ is None else environ)

    def get(name: str) -> str | None:
        value = values.get(name, "").strip()
        return value or None

    token = get("TELEGRAM_BOT_TOKEN")
    if token is not None and not _TOKEN_SHAPE.match(token):
        raise ConfigError("TELEGRAM_BOT_TOKEN does not look like a token from @BotFather")
    webhook_url = _http_url("BOT_WEBHOOK_URL", get("BOT_WEBHOOK_URL"), https_only=True)
    secret = get("BOT_WEBHOOK_SECRET")
    if secret is not None and not _SECRET_SHAPE.match(secret):
        raise ConfigError("BOT_WEBHOOK_SECRET: use 1-256 characters of A-Z, a-z, 0-9, _ and -")
    if webhook_url and not secret:
        raise ConfigError("BOT_WEBHOOK_SECRET is required when BOT_WEBHOOK_URL is set")
    return Settings(
        token=token,
        base_url=_http_url("TELEGRAM_BASE_URL", get("TELEGRAM_BASE_URL"), https_only=False)
        or DEFAULT_BASE_URL,
        data_dir=Path(get("BOT_DATA_DIR") or "data"),
        admin_ids=_admin_ids(get("BOT_ADMIN_IDS")),
        time_scale=_time_scale(get("BOT_TIME_SCALE")),
        database_url=_database_url(get("DATABASE_URL")),
        webhook_url=webhook_url,
        webhook_secret=secret,
        webhook_listen=_listen(get("BOT_WEBHOOK_LISTEN")),
        log_level=_log_level(get("BOT_LOG_LEVEL")),
        review=_on_off("BOT_REVIEW", get("BOT_REVIEW")),
    )
