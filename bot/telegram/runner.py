"""Runs the Telegram bot with long polling (``python -m bot run``).

Logging is set up so the token never reaches a log: httpx and httpcore (which log every
request URL, token included) are held at WARNING, and a filter on the root handlers
redacts the token and anything shaped like ``bot<digits>:<secret>`` from every record.
Stop the bot with Ctrl-C (SIGINT) or SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import sys
import threading
from collections.abc import Callable

from telegram.error import InvalidToken, NetworkError, TelegramError
from telegram.ext import Application

from bot.config import Settings
from bot.core.knowledge import Knowledge
from bot.storage import StorageError
from bot.storage.lock import InstanceLock
from bot.telegram import tips
from bot.telegram.app import build_application
from bot.telegram.webhook import run_webhook

log = logging.getLogger(__name__)

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_NO_TOKEN = 2
STOP_DEADLINE = 4.5  # seconds from SIGTERM to exit, at most (supervisors allow 5-10 s)
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Only what the handlers use: Telegram then does not even send the rest.
ALLOWED_UPDATES = [
    "message",
    "edited_message",
    "callback_query",
    "inline_query",
    "my_chat_member",
]
NO_TOKEN_MESSAGE = (
    "No bot token: set TELEGRAM_BOT_TOKEN (in the environment or a .env file) to the token "
    "from @BotFather. To try the bot without Telegram, run: python -m bot chat"
)
REDACTED = "<redacted>"
_BOT_URL_SHAPE = re.compile(r"bot\d+:[A-Za-z0-9_-]+")  # as in .../bot<token>/getMe
_BARE_TOKEN_SHAPE = re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}")  # a real token's length


def redact(text: str, token: str | None = None) -> str:
    """``text`` with the token and anything shaped like ``bot<digits>:<secret>`` hidden."""
    if token:
        text = text.replace(token, REDACTED)
    text = _BOT_URL_SHAPE.sub(f"bot{REDACTED}", text)
    return _BARE_TOKEN_SHAPE.sub(REDACTED, text)


class RedactingFilter(logging.Filter):
    """Rewrites each record so its message, traceback and stack carry no token."""

    def __init__(self, token: str | None) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; never drops it."""
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: still log what we have
            message = f"{record.msg!r} {record.args!r}"
        record.msg = redact(message, self.token)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, self.token)
            # The formatter prints exc_text when set; drop exc_info so nothing re-renders it.
            record.exc_info = None
        if record.stack_info:
            record.stack_info = redact(record.stack_info, self.token)
        return True


def install_redaction(token: str | None, logger: logging.Logger | None = None) -> None:
    """Put a ``RedactingFilter`` on every handler of ``logger`` (default: the root logger)."""
    target = logger or logging.getLogger()
    for handler in target.handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter(token))


def setup_logging(token: str | None, level: str | int = "INFO") -> None:
    """Log to stderr with the token redacted; chatty HTTP libraries at WARNING."""
    logging.basicConfig(format=LOG_FORMAT, level=level, stream=sys.stderr)
    logging.getLogger().setLevel(level)
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    install_redaction(token)


class SecretFilter(logging.Filter):
    """Hides one more secret (the webhook's) in records already redacted of the token.

    python-telegram-bot logs every request's parameters at DEBUG, ``setWebhook``'s
    ``secret_token`` included.
    """

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact the record in place; never drops it."""
        message = record.getMessage()
        if self.secret in message:
            record.msg, record.args = message.replace(self.secret, REDACTED), None
        if record.exc_text and self.secret in record.exc_text:
            record.exc_text = record.exc_text.replace(self.secret, REDACTED)
        return True


def run(settings: Settings, knowledge: Knowledge) -> int:
    """Run the bot until SIGINT/SIGTERM; returns the exit status."""
    setup_logging(settings.token, settings.log_level)
    if settings.webhook_secret:
        for handler in logging.getLogger().handlers:
            handler.addFilter(SecretFilter(settings.webhook_secret))
    if not settings.token:
        print(NO_TOKEN_MESSAGE, file=sys.stderr)
        return EXIT_NO_TOKEN
    try:
        # Not with a shared PostgreSQL database and several workers (webhook mode).
        instance = InstanceLock.acquire(settings.data_dir) if not settings.webhook_url else None
        application = build_application(settings, knowledge)
    except StorageError as exc:
        print(f"cannot start: {exc}", file=sys.stderr)
        return EXIT_FAILED
    log.info("starting: %s", settings)
    log.info("storage: %s", application.bot_data.services.store.description)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        if settings.webhook_url and settings.webhook_secret:
            stop = asyncio.Event()
            _install_stop_signals(loop, application, stop.set)
            loop.run_until_complete(
                run_webhook(
                    application,
                    settings.webhook_url,
                    settings.webhook_secret,
                    settings.webhook_listen,
                    ALLOWED_UPDATES,
                    stop,
                )
            )
        else:
            _install_stop_signals(loop, application, _raise_system_exit)
            application.run_polling(
                allowed_updates=ALLOWED_UPDATES,
                close_loop=False,
                stop_signals=None,  # ours, installed above
            )
    except OSError as exc:  # the webhook's port is taken or not ours to bind
        log.error("cannot listen on %s:%d: %s", *settings.webhook_listen, exc)
        return EXIT_FAILED
    except StorageError as exc:  # e.g. the database failed during start-up work
        print(f"cannot start: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except InvalidToken:
        log.error("Telegram rejected the token: check TELEGRAM_BOT_TOKEN")
        return EXIT_FAILED
    except NetworkError as exc:
        log.error("cannot reach the Bot API at %s: %s", settings.base_url, exc)
        return EXIT_FAILED
    except TelegramError as exc:
        log.error("the bot stopped on an error: %s", exc)
        return EXIT_FAILED
    finally:
        loop.close()
        if instance is not None:
            instance.release()
    log.info("stopped")
    return EXIT_OK


def _raise_system_exit() -> None:
    raise SystemExit  # what PTB's own handler does: run_polling then shuts down


def _install_stop_signals(
    loop: asyncio.AbstractEventLoop, application: Application, stop: Callable[[], None]
) -> None:
    """SIGINT/SIGTERM: stop daily-tip sends at once, then ``stop()`` the Application.

    A watchdog makes the stop bounded whatever is still running (``STOP_DEADLINE``): the
    outbox makes a hard exit safe, since unconfirmed tips are sent again at the next start.
    """

    received: list[int] = []

    def on_signal(signum: int) -> None:
        if received:  # a second signal must not abort the shutdown under way
            log.info("received %s again: still stopping", signal.Signals(signum).name)
            return
        received.append(signum)
        log.info("received %s: stopping", signal.Signals(signum).name)
        tips.request_stop(application)
        watchdog = threading.Timer(STOP_DEADLINE, _hard_exit)
        watchdog.daemon = True
        watchdog.start()
        stop()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):  # not on Windows
            loop.add_signal_handler(sig, on_signal, sig)


def _hard_exit() -> None:
    log.error(
        "the bot did not stop within %.0f s: exiting now (unconfirmed daily tips are sent at"
        " the next start)",
        STOP_DEADLINE,
    )
    logging.shutdown()
    os._exit(EXIT_FAILED)


__all__ = ["ALLOWED_UPDATES", "RedactingFilter", "install_redaction", "redact", "run"]
