"""Settings: .env parsing by python-dotenv, real environment winning, bad values refused."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_settings

TOKEN = "123456:ABCdef_ghi-JKL"


def settings_from(tmp_path: Path, dotenv: str, environ: dict[str, str] | None = None) -> Settings:
    path = tmp_path / ".env"
    path.write_text(dotenv, encoding="utf-8")
    return load_settings(environ or {}, path)


def test_dotenv_quotes_comments_and_escapes(tmp_path: Path) -> None:
    settings = settings_from(
        tmp_path,
        "export TELEGRAM_BOT_TOKEN='123456:ABCdef_ghi-JKL'\n"
        "BOT_DATA_DIR='./data' # where the database lives\n"
        'BOT_ADMIN_IDS="1, 2,3"\n'
        "BOT_LOG_LEVEL=debug\n"
        'BOT_WEBHOOK_URL="https://bot.example.org/hook"\n'
        "BOT_WEBHOOK_SECRET=s3cret_-x\n",
    )
    assert settings.token == TOKEN
    assert settings.data_dir == Path("data")
    assert settings.admin_ids == frozenset({1, 2, 3})
    assert settings.log_level == "DEBUG"
    assert settings.webhook_url == "https://bot.example.org/hook"
    assert settings.webhook_listen == ("0.0.0.0", 8443)
    assert TOKEN not in repr(settings) and "s3cret" not in repr(settings)


def test_real_environment_wins_over_dotenv(tmp_path: Path) -> None:
    settings = settings_from(tmp_path, "BOT_LOG_LEVEL=DEBUG\n", {"BOT_LOG_LEVEL": "warning"})
    assert settings.log_level == "WARNING"


def test_defaults_without_anything(tmp_path: Path) -> None:
    settings = load_settings({}, tmp_path / "missing.env")
    assert settings.token is None
    assert settings.log_level == "INFO"
    assert settings.database_url is None and settings.webhook_url is None


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({"BOT_LOG_LEVEL": "TRACE"}, "BOT_LOG_LEVEL"),
        ({"BOT_LOG_LEVEL": "0"}, "BOT_LOG_LEVEL"),
        ({"BOT_TIME_SCALE": "fast"}, "BOT_TIME_SCALE"),
        ({"BOT_TIME_SCALE": "0"}, "BOT_TIME_SCALE"),
        ({"BOT_ADMIN_IDS": "12,bob"}, "BOT_ADMIN_IDS"),
        ({"TELEGRAM_BOT_TOKEN": "not a token"}, "TELEGRAM_BOT_TOKEN"),
        ({"TELEGRAM_BASE_URL": "ftp://x"}, "TELEGRAM_BASE_URL"),
        ({"DATABASE_URL": "mysql://a@b/c"}, "DATABASE_URL"),
        ({"BOT_WEBHOOK_URL": "http://insecure.example/hook"}, "BOT_WEBHOOK_URL"),
        ({"BOT_WEBHOOK_URL": "https://ok.example/hook"}, "BOT_WEBHOOK_SECRET"),
        (
            {"BOT_WEBHOOK_URL": "https://ok.example/hook", "BOT_WEBHOOK_SECRET": "has space"},
            "BOT_WEBHOOK_SECRET",
        ),
        ({"BOT_WEBHOOK_LISTEN": "8443"}, "BOT_WEBHOOK_LISTEN"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(
    tmp_path: Path, environ: dict[str, str], names: str
) -> None:
    with pytest.raises(ConfigError, match=names):
        load_settings(environ, tmp_path / "missing.env")


def test_empty_log_level_means_the_default(tmp_path: Path) -> None:
    assert load_settings({"BOT_LOG_LEVEL": ""}, tmp_path / "x").log_level == "INFO"


def test_command_line_reports_a_bad_value_in_one_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("BOT_LOG_LEVEL=TRACE\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--json", "hi"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
    )
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "BOT_LOG_LEVEL" in lines[0], result.stderr
