"""Settings from the environment and a ``.env`` file (CONTRACT section 4).

Real environment variables win over ``.env``. Nothing here logs the token.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_BASE_URL = "https://api.telegram.org/bot"


class ConfigError(ValueError):
    """A setting has a value the bot cannot use."""


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse a simple ``KEY=value`` file; comments and blank lines are skipped."""
    values: dict[str, str] = {}
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return values
    for raw in lines:
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        key = key.strip().removeprefix("export ").strip()
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        elif " #" in value:
            value = value.split(" #", 1)[0].rstrip()
        values[key] = value
    return values


@dataclass(frozen=True)
class Settings:
    token: str | None = None
    base_url: str = DEFAULT_BASE_URL
    data_dir: Path = Path("data")
    admin_ids: frozenset[int] = field(default_factory=frozenset)
    time_scale: float = 1.0

    def __repr__(self) -> str:  # never show the token
        token = "set" if self.token else "none"
        return (
            f"Settings(token={token}, base_url={self.base_url!r}, data_dir={str(self.data_dir)!r},"
            f" admin_ids={sorted(self.admin_ids)}, time_scale={self.time_scale})"
        )

    __str__ = __repr__


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> Settings:
    """Build Settings from ``.env`` overlaid with the real environment."""
    values: dict[str, str] = read_dotenv(dotenv) if dotenv is not None else {}
    values.update(os.environ if environ is None else environ)

    def get(name: str) -> str | None:
        value = values.get(name, "").strip()
        return value or None

    admin_ids: set[int] = set()
    for part in (get("BOT_ADMIN_IDS") or "").split(","):
        if part.strip():
            try:
                admin_ids.add(int(part.strip()))
            except ValueError as exc:
                raise ConfigError(f"BOT_ADMIN_IDS: {part.strip()!r} is not a user id") from exc
    scale_text = get("BOT_TIME_SCALE") or "1"
    try:
        time_scale = float(scale_text)
    except ValueError as exc:
        raise ConfigError(f"BOT_TIME_SCALE: {scale_text!r} is not a number") from exc
    if not 0 < time_scale <= 100:
        raise ConfigError("BOT_TIME_SCALE must be greater than 0 and at most 100")
    return Settings(
        token=get("TELEGRAM_BOT_TOKEN"),
        base_url=get("TELEGRAM_BASE_URL") or DEFAULT_BASE_URL,
        data_dir=Path(get("BOT_DATA_DIR") or "data"),
        admin_ids=frozenset(admin_ids),
        time_scale=time_scale,
    )
