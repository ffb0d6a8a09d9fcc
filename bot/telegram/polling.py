"""The bot object: python-telegram-bot's ExtBot, tolerant of updates it cannot parse.

When one update in a ``getUpdates`` answer does not parse (a field this version of
python-telegram-bot does not understand, a malformed payload), PTB logs the whole raw
answer, people's messages included, and its Updater drops the batch without confirming
it: the next poll fetches the same batch, at once, forever. ``TolerantBot`` parses such a
batch one update at a time instead, replaces each broken update by an empty one with the
same ``update_id`` (so it is confirmed and never fetched again; no handler matches it),
and logs only the update id and the error's type.

The well-formed batch, the usual case, takes PTB's own path: nothing is parsed twice.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from telegram import Update
from telegram.ext import ExtBot
from telegram.request import BaseRequest, HTTPXRequest

from bot.config import Settings

log = logging.getLogger(__name__)

# PTB's defaults for the two connection pools of an Application's bot.
CONNECTION_POOL_SIZE = 256


class _WithoutContent(logging.Filter):
    """PTB's bot logs raw updates and call parameters (people's messages): withhold them.

    PTB logs a batch it cannot parse with its raw content at CRITICAL, and every call's
    parameters and result at DEBUG; the endpoint's name is kept, the content is not.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.msg if isinstance(record.msg, str) else ""
        if message.startswith("Error while parsing updates"):
            record.msg = "Error while parsing updates (content withheld)"
            record.args = None
            record.exc_info = None
        elif message.startswith(("Calling Bot API endpoint", "Call to Bot API endpoint")):
            args = record.args if isinstance(record.args, tuple) else ()
            endpoint = args[0] if args else "?"
            record.msg = "%s Bot API endpoint `%s` (content withheld)"
            record.args = (message.split(" ", 1)[0], endpoint)
        return True


# ExtBot's class-level logger, the one ``TolerantBot`` (and PTB's Bot code) logs through.
logging.getLogger("telegram.ext.ExtBot").addFilter(_WithoutContent())


class TolerantBot(ExtBot[None]):
    """``ExtBot`` whose ``get_updates`` skips, and confirms, updates that do not parse."""

    __slots__ = ("_raw_updates",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._raw_updates: list[Any] | None = None

    async def _post(self, endpoint: str, data: Any = None, **kwargs: Any) -> Any:
        result = await super()._post(endpoint, data, **kwargs)
        if endpoint == "getUpdates":
            # Kept for the rare batch that does not parse (see get_updates).
            self._raw_updates = result if isinstance(result, list) else None
        return result

    async def get_updates(self, *args: Any, **kwargs: Any) -> tuple[Update, ...]:
        """PTB's ``get_updates``; a batch that does not parse is read update by update."""
        self._raw_updates = None
        try:
            return await super().get_updates(*args, **kwargs)
        except Exception as exc:
            raw = self._raw_updates
            if raw is None:  # the failure was not in parsing (network, Telegram error)
                raise
            log.warning("a batch of %d updates did not parse (%s)", len(raw), type(exc).__name__)
            return self._parse_one_by_one(raw)

    def _parse_one_by_one(self, raw: Sequence[Any]) -> tuple[Update, ...]:
        updates: list[Update] = []
        for data in raw:
            try:
                update = Update.de_json(data, self)
            except Exception as exc:
                update_id = data.get("update_id") if isinstance(data, dict) else None
                if not isinstance(update_id, int):
                    log.warning("skipped an update without an id (%s)", type(exc).__name__)
                    continue
                log.warning(
                    "skipped update %d: it did not parse (%s)", update_id, type(exc).__name__
                )
                update = Update(update_id=update_id)
                update.set_bot(self)
            self.insert_callback_data(update)
            updates.append(update)
        return tuple(updates)


def make_bot(
    settings: Settings,
    request: BaseRequest | None = None,
    get_updates_request: BaseRequest | None = None,
) -> TolerantBot:
    """The Application's bot, with PTB's default connection pools unless requests are given."""
    assert settings.token
    return TolerantBot(
        token=settings.token,
        base_url=settings.base_url,
        request=request or HTTPXRequest(connection_pool_size=CONNECTION_POOL_SIZE),
        get_updates_request=get_updates_request or HTTPXRequest(),
    )


__all__ = ["TolerantBot", "make_bot"]
