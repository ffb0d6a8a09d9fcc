"""An in-process fake of the Telegram Bot API for the real python-telegram-bot Application.

``FakeBotApi`` holds the fake Telegram state (updates waiting to be polled, messages sent,
commands set, faults to inject) and answers Bot API methods in their real shapes.
``RecordingRequest`` plugs it into PTB as a ``BaseRequest``: pass one to
``ApplicationBuilder().request(...)`` and ``.get_updates_request(...)`` and the whole
Application, the Updater's polling loop and the JobQueue run for real with no socket.
``tests.support.bot_api_server.BotApiServer`` serves the same state over HTTP.

Shared API (both classes):

- ``.calls``: every call, in order, as ``Call(method, params, fault, files)``;
- ``.sent(method="sendMessage", chat_id=None)``: params of the successful calls of a method;
- ``push_text``, ``push_callback``, ``push_sticker``, ``push_photo``, ``push_update``: queue
  updates for the bot's next ``getUpdates``;
- ``await wait_for(predicate, timeout=5.0)``: wait, bounded, until ``predicate(calls)`` is
  truthy; raises ``AssertionError`` listing the calls on timeout;
- ``fail_next(method, kind, count=1, chat_id=None)``: the next ``count`` calls of ``method``
  fail with ``kind`` in ``{"429", "403", "500", "drop", "slow"}``; ``block_chat(chat_id)``
  makes every send to a chat answer 403 "bot was blocked by the user";
- ``limits = SendLimits(...)`` (off by default): Telegram's flood control on sends, about
  30 messages a second overall and one a second per chat with short bursts tolerated;
  a send over either limit answers 429 with ``retry_after`` (recorded with fault
  ``"flood"``). ``SendLimits.speedup`` compresses time so a test stays short.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

from telegram.ext import Application
from telegram.request import BaseRequest, RequestData

BOT_USER: dict[str, Any] = {
    "id": 123456,
    "is_bot": True,
    "first_name": "Reflexology Test Bot",
    "username": "reflexology_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
FAULT_KINDS = frozenset({"429", "403", "500", "drop", "slow"})
MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
# Long polls are answered after at most this long even if the bot asked for more: keeps
# shutdown fast and every test bounded. Real Telegram would hold the full ``timeout``.
MAX_LONG_POLL = 0.5

# Methods answered with plain ``true``.
_TRUE_METHODS = frozenset(
    {
        "answerCallbackQuery",
        "sendChatAction",
        "setMyCommands",
        "deleteMyCommands",
        "deleteWebhook",
        "setWebhook",
        "setMyDescription",
        "setMyShortDescription",
        "setMyName",
        "setChatMenuButton",
        "setMyDefaultAdministratorRights",
        "deleteMessage",
        "deleteMessages",
        "close",
        "logOut",
        "setMessageReaction",
    }
)
_SEND_METHODS = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendSticker",
        "sendVoice",
        "sendAudio",
        "sendVideo",
        "sendAnimation",
        "sendLocation",
        "sendDice",
        "copyMessage",
        "forwardMessage",
    }
)
_FILE_FIELDS = ("photo", "document", "sticker", "voice", "audio", "video", "animation")


@dataclass
class SendLimits:
    """Telegram-like flood control on the send methods: token buckets, overall and per chat.

    ``speedup`` multiplies both rates and divides every ``retry_after`` (a test at
    ``speedup=10`` sees 300 messages/s overall and 10/s per chat). ``retry_after`` is
    rounded up to whole (scaled) seconds, as Telegram announces it.
    """

    overall_per_second: float = 30.0
    overall_burst: float = 30.0
    per_chat_per_second: float = 1.0
    per_chat_burst: float = 3.0
    speedup: float = 1.0
    floods: int = 0  # 429s answered so far
    _overall: tuple[float, float] | None = field(default=None, repr=False)
    _chats: dict[int, tuple[float, float]] = field(default_factory=dict, repr=False)

    @staticmethod
    def _level(bucket: tuple[float, float] | None, rate: float, burst: float) -> float:
        # Tokens available now in a bucket stored as (tokens, when).
        if bucket is None:
            return burst
        tokens, when = bucket
        return min(burst, tokens + (time.monotonic() - when) * rate)

    def take(self, chat_id: int | None) -> float | None:
        """Take one send's tokens; None if allowed, else the ``retry_after`` to announce."""
        now = time.monotonic()
        overall_rate = self.overall_per_second * self.speedup
        chat_rate = self.per_chat_per_second * self.speedup
        overall = self._level(self._overall, overall_rate, self.overall_burst)
        chat = (
            self._level(self._chats.get(chat_id), chat_rate, self.per_chat_burst)
            if chat_id is not None
            else 1.0
        )
        if overall >= 1.0 and chat >= 1.0:
            self._overall = (overall - 1.0, now)
            if chat_id is not None:
                self._chats[chat_id] = (chat - 1.0, now)
            return None
        self.floods += 1
        wait = max((1.0 - overall) / overall_rate, (1.0 - chat) / chat_rate, 0.0)
        return max(1, math.ceil(wait * self.speedup)) / self.speedup


class Drop(Exception):
    """The fake API decided to drop the connection for this call."""


@dataclass(frozen=True)
class Upload:
    """A file the bot uploaded (multipart) in place of a file_id or URL."""

    filename: str
    content: bytes

    def __repr__(self) -> str:
        return f"Upload({self.filename!r}, {len(self.content)} bytes)"


@dataclass
class Call:
    """One Bot API call as the fake received it."""

    method: str
    params: dict[str, Any]
    fault: str | None = None  # the injected fault, if the call was made to fail
    files: dict[str, Upload] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)


@dataclass
class _Fault:
    method: str
    kind: str
    remaining: int
    chat_id: int | None


def _error(code: int, description: str, **parameters: Any) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return code, body


def _ok(result: Any) -> tuple[int, dict[str, Any]]:
    return 200, {"ok": True, "result": result}


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class FakeBotApi:
    """Fake Telegram state plus Bot API answers; transport-agnostic."""

    def __init__(self, bot_user: dict[str, Any] | None = None) -> None:
        self.bot_user = dict(bot_user or BOT_USER)
        self.calls: list[Call] = []
        self.commands: dict[str, list[dict[str, Any]]] = {}
        self.retry_after = 1  # seconds announced in injected 429s
        self.slow_seconds = 1.0  # delay of an injected "slow" answer
        self.max_long_poll = MAX_LONG_POLL
        self.blocked_chats: set[int] = set()
        # Per user id: what Telegram says of the sender (default "Tester", "en").
        self.first_names: dict[int, str] = {}
        self.language_codes: dict[int, str] = {}
        self.limits: SendLimits | None = None  # Telegram's flood control; off by default
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._last_bot_message: dict[int, int] = {}
        self._faults: list[_Fault] = []
        self._confirmed = 0  # highest update_id the bot confirmed via offset

    # ---- what the test feeds in -------------------------------------------------------

    def push_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Queue a raw update (an ``update_id`` is added when missing)."""
        update = dict(update)
        update.setdefault("update_id", next(self._update_ids))
        self._updates.append(update)
        return update

    def _user(self, user_id: int) -> dict[str, Any]:
        return {
            "id": user_id,
            "is_bot": False,
            "first_name": self.first_names.get(user_id, "Tester"),
            "language_code": self.language_codes.get(user_id, "en"),
        }

    def _chat(self, chat_id: int) -> dict[str, Any]:
        if chat_id < 0:
            return {"id": chat_id, "type": "group", "title": "Test group"}
        return {"id": chat_id, "type": "private", "first_name": "Tester"}

    def _next_message_id(self, chat_id: int) -> int:
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def _user_message(self, chat_id: int, user_id: int | None, **content: Any) -> dict[str, Any]:
        message = {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": self._user(user_id if user_id is not None else abs(chat_id)),
            **content,
        }
        self._messages[(chat_id, message["message_id"])] = message
        return message

    def push_text(self, chat_id: int, text: str, user_id: int | None = None) -> dict[str, Any]:
        """Queue a text message; a leading ``/command`` gets its bot_command entity."""
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [
                {
                    "type": "bot_command",
                    "offset": 0,
                    "length": len(command.encode("utf-16-le")) // 2,
                }
            ]
        return self.push_update({"message": self._user_message(chat_id, user_id, **content)})

    def push_edited_text(
        self, chat_id: int, message_id: int, text: str, user_id: int | None = None
    ) -> dict[str, Any]:
        """Queue an ``edited_message`` update for an earlier user message."""
        message = {
            "message_id": message_id,
            "date": int(time.time()) - 5,
            "edit_date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": self._user(user_id if user_id is not None else abs(chat_id)),
            "text": text,
        }
        return self.push_update({"edited_message": message})

    def push_sticker(self, chat_id: int, user_id: int | None = None) -> dict[str, Any]:
        """Queue a sticker message."""
        sticker = {
            "file_id": "sticker-file-1",
            "file_unique_id": "sticker-unique-1",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        return self.push_update({"message": self._user_message(chat_id, user_id, sticker=sticker)})

    def push_photo(
        self, chat_id: int, caption: str | None = None, user_id: int | None = None
    ) -> dict[str, Any]:
        """Queue a photo message (optionally captioned)."""
        photo = [
            {"file_id": "user-photo-s", "file_unique_id": "up-s", "width": 90, "height": 90},
            {"file_id": "user-photo-m", "file_unique_id": "up-m", "width": 800, "height": 800},
        ]
        content: dict[str, Any] = {"photo": photo}
        if caption is not None:
            content["caption"] = caption
        return self.push_update({"message": self._user_message(chat_id, user_id, **content)})

    def push_voice(self, chat_id: int, user_id: int | None = None) -> dict[str, Any]:
        """Queue a voice message."""
        voice = {"file_id": "voice-1", "file_unique_id": "voice-u1", "duration": 3}
        return self.push_update({"message": self._user_message(chat_id, user_id, voice=voice)})

    def push_location(
        self,
        chat_id: int,
        user_id: int | None = None,
        latitude: float = 51.5,
        longitude: float = -0.12,
    ) -> dict[str, Any]:
        """Queue a location message (default: London)."""
        location = {"latitude": latitude, "longitude": longitude}
        return self.push_update(
            {"message": self._user_message(chat_id, user_id, location=location)}
        )

    def push_document(self, chat_id: int, user_id: int | None = None) -> dict[str, Any]:
        """Queue a document message."""
        document = {"file_id": "doc-1", "file_unique_id": "doc-u1", "file_name": "notes.pdf"}
        return self.push_update(
            {"message": self._user_message(chat_id, user_id, document=document)}
        )

    def push_callback(
        self,
        chat_id: int,
        data: str,
        message_id: int | None = None,
        user_id: int | None = None,
    ) -> dict[str, Any]:
        """Queue a button press on a bot message (default: the bot's latest in that chat)."""
        if message_id is None:
            message_id = self._last_bot_message.get(chat_id)
        message = self._messages.get((chat_id, message_id)) if message_id is not None else None
        if message is None:
            message = {
                "message_id": message_id or 1,
                "date": int(time.time()),
                "chat": self._chat(chat_id),
                "from": dict(self.bot_user),
                "text": "(an earlier message)",
            }
        query = {
            "id": str(next(self._callback_ids)),
            "from": self._user(user_id if user_id is not None else abs(chat_id)),
            "message": message,
            "chat_instance": f"instance-{chat_id}",
            "data": data,
        }
        return self.push_update({"callback_query": query})

    def push_inline_query(self, user_id: int, query: str) -> dict[str, Any]:
        """Queue an inline query (``@bot <query>`` typed in any chat)."""
        inline = {
            "id": f"inline-{next(self._callback_ids)}",
            "from": self._user(user_id),
            "query": query,
            "offset": "",
            "chat_type": "private",
        }
        return self.push_update({"inline_query": inline})

    def block_chat(self, chat_id: int) -> None:
        """From now on every call aimed at this chat answers 403 (the user blocked the bot)."""
        self.blocked_chats.add(chat_id)

    def fail_next(self, method: str, kind: str, count: int = 1, chat_id: int | None = None) -> None:
        """Make the next ``count`` calls of ``method`` (optionally to one chat) fail."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; use one of {sorted(FAULT_KINDS)}")
        if count < 1:
            raise ValueError("count must be at least 1")
        self._faults.append(_Fault(method, kind, count, chat_id))

    # ---- what the test reads back ------------------------------------------------------

    def sent(self, method: str = "sendMessage", chat_id: int | None = None) -> list[dict[str, Any]]:
        """Params of every successful call of ``method`` (optionally to one chat), in order."""
        return [
            call.params
            for call in self.calls
            if call.method == method
            and call.fault is None
            and (chat_id is None or _as_int(call.params.get("chat_id")) == chat_id)
        ]

    def texts(self, chat_id: int | None = None) -> list[str]:
        """Texts of the messages sent (and captions of photos), in order."""
        out = []
        for call in self.calls:
            if call.fault is not None or call.method not in {"sendMessage", "sendPhoto"}:
                continue
            if chat_id is not None and _as_int(call.params.get("chat_id")) != chat_id:
                continue
            out.append(str(call.params.get("text", call.params.get("caption", ""))))
        return out

    def methods(self) -> list[str]:
        """Names of every method called (getUpdates excluded), in order."""
        return [call.method for call in self.calls if call.method != "getUpdates"]

    @property
    def pending_updates(self) -> int:
        """Updates queued but not yet confirmed by the bot."""
        return sum(1 for update in self._updates if update["update_id"] > self._confirmed)

    async def wait_for(self, predicate: Callable[[list[Call]], Any], timeout: float = 5.0) -> Any:
        """Wait until ``predicate(calls)`` is truthy and return its value (bounded)."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate(self.calls)
            if value:
                return value
            if time.monotonic() >= deadline:
                summary = "\n".join(
                    f"  {call.method}{' [' + call.fault + ']' if call.fault else ''}:"
                    f" {_short(call.params)}"
                    for call in self.calls
                    if call.method != "getUpdates"
                )
                raise AssertionError(
                    f"condition not met within {timeout}s; calls so far:\n{summary or '  (none)'}"
                )
            await asyncio.sleep(0.01)

    async def wait_for_sent(
        self,
        method: str = "sendMessage",
        count: int = 1,
        chat_id: int | None = None,
        timeout: float = 5.0,
    ) -> list[dict[str, Any]]:
        """Wait until at least ``count`` successful ``method`` calls were made; return them."""
        await self.wait_for(lambda _calls: len(self.sent(method, chat_id)) >= count, timeout)
        return self.sent(method, chat_id)

    async def wait_until_idle(self, timeout: float = 5.0, quiet: float = 0.15) -> None:
        """Wait until every update was fetched and no call came for ``quiet`` seconds."""

        def settled(_calls: list[Call]) -> bool:
            if self.pending_updates:
                return False
            last = max((c.at for c in self.calls if c.method != "getUpdates"), default=0.0)
            return time.monotonic() - last >= quiet

        await self.wait_for(settled, timeout)

    # ---- answering ---------------------------------------------------------------------

    def _take_fault(self, method: str, params: dict[str, Any]) -> str | None:
        chat_id = _as_int(params.get("chat_id"))
        for fault in self._faults:
            if fault.method != method or fault.remaining <= 0:
                continue
            if fault.chat_id is not None and fault.chat_id != chat_id:
                continue
            fault.remaining -= 1
            if fault.remaining == 0:
                self._faults.remove(fault)
            return fault.kind
        return None

    async def handle(
        self, method: str, params: dict[str, Any], files: dict[str, Upload] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """Answer one call: ``(http_status, body)``; raises ``Drop`` for a dropped connection."""
        files = files or {}
        for name, upload in files.items():
            if name in _FILE_FIELDS and name not in params:
                params[name] = upload
        fault = self._take_fault(method, params)
        if fault is None and _as_int(params.get("chat_id")) in self.blocked_chats:
            fault = "blocked"  # recorded as failed, so ``sent()`` lists only what arrived
        flood_wait = None
        if fault is None and self.limits is not None and method in _SEND_METHODS:
            flood_wait = self.limits.take(_as_int(params.get("chat_id")))
            if flood_wait is not None:
                fault = "flood"
        call = Call(method, params, fault, files)
        self.calls.append(call)
        if files and method == "editMessageMedia":
            params = {**params, "_files": files}  # attach:// names refer to these
        if flood_wait is not None:
            return _error(
                429, f"Too Many Requests: retry after {flood_wait:g}", retry_after=flood_wait
            )
        if fault == "429":
            return _error(
                429,
                f"Too Many Requests: retry after {self.retry_after}",
                retry_after=self.retry_after,
            )
        if fault in {"403", "blocked"}:
            return _error(403, "Forbidden: bot was blocked by the user")
        if fault == "500":
            return _error(500, "Internal Server Error")
        if fault == "drop":
            raise Drop(method)
        if fault == "slow":
            await asyncio.sleep(self.slow_seconds)
        try:
            return await self._answer(method, params)
        except _BadRequest as exc:
            call.fault = "400"
            return _error(400, f"Bad Request: {exc}")

    async def _answer(self, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        chat_id = _as_int(params.get("chat_id"))
        if method == "getMe":
            return _ok(dict(self.bot_user))
        if method == "getUpdates":
            return _ok(await self._get_updates(params))
        if method == "getMyCommands":
            return _ok(self.commands.get(_scope_key(params), []))
        if method == "setMyCommands":
            commands = params.get("commands") or []
            if len(commands) > 100:
                raise _BadRequest("too many commands")
            for command in commands:
                name = str(command.get("command", ""))
                if not (1 <= len(name) <= 32) or not name.replace("_", "").isalnum():
                    raise _BadRequest("BOT_COMMAND_INVALID")
                if not command.get("description"):
                    raise _BadRequest("command description is empty")
            self.commands[_scope_key(params)] = list(commands)
            return _ok(True)
        if method == "deleteMyCommands":
            self.commands.pop(_scope_key(params), None)
            return _ok(True)
        if method == "getWebhookInfo":
            return _ok({"url": "", "has_custom_certificate": False, "pending_update_count": 0})
        if method == "answerCallbackQuery":
            text = params.get("text")
            if text is not None and len(str(text)) > 200:
                raise _BadRequest("MESSAGE_TOO_LONG")
            return _ok(True)
        if method in _TRUE_METHODS:
            return _ok(True)
        if method in {
            "editMessageText",
            "editMessageReplyMarkup",
            "editMessageCaption",
            "editMessageMedia",
        }:
            return _ok(self._edit(method, params))
        if method == "answerInlineQuery":
            results = params.get("results")
            if isinstance(results, str):
                results = json.loads(results)
            if not isinstance(results, list) or len(results) > 50:
                raise _BadRequest("RESULTS_TOO_MUCH")
            if len({r.get("id") for r in results}) != len(results):
                raise _BadRequest("RESULT_ID_DUPLICATE")
            return _ok(True)
        if method == "getChat":
            if chat_id is None:
                raise _BadRequest("chat not found")
            return _ok(self._chat(chat_id))
        if method == "getFile":
            file_id = str(params.get("file_id"))
            return _ok({"file_id": file_id, "file_unique_id": f"u-{file_id}", "file_size": 1})
        if method in _SEND_METHODS:
            if chat_id is None:
                raise _BadRequest("chat not found")
            return _ok(self._send(method, chat_id, params))
        return _error(404, "Not Found")

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = _as_int(params.get("offset")) or 0
        limit = _as_int(params.get("limit")) or 100
        timeout = float(params.get("timeout") or 0)
        if offset:
            self._confirmed = max(self._confirmed, offset - 1)
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        allowed = params.get("allowed_updates")
        deadline = time.monotonic() + min(max(timeout, 0.0), self.max_long_poll)
        while True:
            ready = [
                u
                for u in self._updates
                if u["update_id"] >= offset and (not allowed or _kind(u) in allowed)
            ]
            if ready or time.monotonic() >= deadline:
                return ready[: max(1, min(limit, 100))]
            await asyncio.sleep(0.01)

    def _check_markup(self, markup: Any) -> None:
        if not markup:
            return
        if isinstance(markup, str):
            markup = json.loads(markup)
        for row in markup.get("inline_keyboard", []):
            for button in row:
                if not button.get("text"):
                    raise _BadRequest("text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not (1 <= len(str(data).encode()) <= MAX_CALLBACK_DATA):
                    raise _BadRequest("BUTTON_DATA_INVALID")

    def _send(self, method: str, chat_id: int, params: dict[str, Any]) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": self._chat(chat_id),
            "from": dict(self.bot_user),
        }
        if method == "sendMessage":
            text = str(params.get("text") or "")
            if not text.strip():
                raise _BadRequest("message text is empty")
            if len(text) > MAX_TEXT:
                raise _BadRequest("message is too long")
            _check_formatted(params, text)
            message["text"] = text
        elif method == "sendPhoto":
            photo = params.get("photo")
            if photo is None:
                raise _BadRequest("there is no photo in the request")
            if isinstance(photo, Upload):
                if not photo.content:
                    raise _BadRequest("IMAGE_PROCESS_FAILED")
                file_id = f"photo-file-{next(self._file_ids)}"
            else:
                file_id = str(photo)
            message["photo"] = [
                {
                    "file_id": file_id,
                    "file_unique_id": f"u-{file_id}",
                    "width": 800,
                    "height": 800,
                    "file_size": len(photo.content) if isinstance(photo, Upload) else 1,
                }
            ]
        elif method in {"sendDocument", "sendSticker", "sendVoice", "sendAudio", "sendVideo"}:
            kind = method.removeprefix("send").lower()
            value = params.get(kind)
            file_id = (
                f"{kind}-file-{next(self._file_ids)}" if isinstance(value, Upload) else str(value)
            )
            message[kind] = {"file_id": file_id, "file_unique_id": f"u-{file_id}"}
        caption = params.get("caption")
        if caption is not None:
            if len(str(caption)) > MAX_CAPTION:
                raise _BadRequest("message caption is too long")
            _check_formatted(params, str(caption))
            message["caption"] = str(caption)
        markup = params.get("reply_markup")
        if markup:
            if isinstance(markup, str):
                markup = json.loads(markup)
            self._check_markup(markup)
            if "inline_keyboard" in markup:
                message["reply_markup"] = markup
        self._messages[(chat_id, message["message_id"])] = message
        self._last_bot_message[chat_id] = message["message_id"]
        return message

    def _edit(self, method: str, params: dict[str, Any]) -> dict[str, Any] | bool:
        if params.get("inline_message_id"):
            return True
        chat_id = _as_int(params.get("chat_id"))
        message_id = _as_int(params.get("message_id"))
        message = self._messages.get((chat_id, message_id)) if chat_id is not None else None
        if message is None or chat_id is None or message_id is None:
            raise _BadRequest("message to edit not found")
        edited = dict(message)
        edited["edit_date"] = int(time.time())
        if method == "editMessageText":
            text = str(params.get("text") or "")
            if not text.strip():
                raise _BadRequest("message text is empty")
            if len(text) > MAX_TEXT:
                raise _BadRequest("MESSAGE_TOO_LONG")
            _check_formatted(params, text)
            edited["text"] = text
        if method == "editMessageCaption":
            if "photo" not in message:
                raise _BadRequest("there is no caption in the message to edit")
            caption = str(params.get("caption") or "")
            if len(caption) > MAX_CAPTION:
                raise _BadRequest("message caption is too long")
            _check_formatted(params, caption)
            edited["caption"] = caption
        if method == "editMessageMedia":
            # Telegram cannot turn a text message into a photo: only media is replaced.
            if "photo" not in message:
                raise _BadRequest("there is no media in the message to edit")
            media = params.get("media")
            if isinstance(media, str):
                media = json.loads(media)
            if not isinstance(media, dict) or media.get("type") != "photo":
                raise _BadRequest("MEDIA_INVALID")
            source = str(media.get("media") or "")
            if source.startswith("attach://"):
                upload = params.get("_files", {}).get(source.removeprefix("attach://"))
                if upload is None or not upload.content:
                    raise _BadRequest("IMAGE_PROCESS_FAILED")
                file_id = f"photo-file-{next(self._file_ids)}"
            else:
                file_id = source
            edited["photo"] = [
                {"file_id": file_id, "file_unique_id": f"u-{file_id}", "width": 800, "height": 800}
            ]
            caption = str(media.get("caption") or "")
            if len(caption) > MAX_CAPTION:
                raise _BadRequest("message caption is too long")
            edited["caption"] = caption
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        self._check_markup(markup)
        # As Telegram does: an edit without reply_markup removes the inline keyboard.
        if markup and "inline_keyboard" in markup:
            edited["reply_markup"] = markup
        else:
            edited.pop("reply_markup", None)
        if edited == {**message, "edit_date": edited["edit_date"]}:
            raise _BadRequest(
                "message is not modified: specified new message content and reply markup are"
                " exactly the same as a current content and reply markup of the message"
            )
        self._messages[(chat_id, message_id)] = edited
        return edited


class _BadRequest(Exception):
    pass


_HTML_TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
     "tg-spoiler", "span", "blockquote", "tg-emoji"}
)  # fmt: skip
_HTML_TOKEN = re.compile(r"<(/?)([a-zA-Z-]+)(?:\s[^<>]*)?>|[<>]|&(?:[a-z]+|#\d+|#x[0-9a-f]+);|&")


def _check_html(text: str) -> None:
    """Refuse what Telegram's HTML parse mode refuses: stray ``<``, ``>``, ``&``, bad tags."""
    open_tags: list[str] = []
    for token in _HTML_TOKEN.finditer(text):
        whole, closing, name = token.group(0), token.group(1), (token.group(2) or "").lower()
        if whole in {"<", ">", "&"}:
            raise _BadRequest(f"can't parse entities: unexpected {whole!r} at {token.start()}")
        if whole.startswith("&"):
            if whole[1:-1] not in {"lt", "gt", "amp", "quot"} and not whole.startswith("&#"):
                raise _BadRequest(f"can't parse entities: unknown entity {whole}")
            continue
        if name not in _HTML_TAGS:
            raise _BadRequest(f"can't parse entities: unsupported start tag {name!r}")
        if closing:
            if not open_tags or open_tags.pop() != name:
                raise _BadRequest(f"can't parse entities: unmatched end tag {name!r}")
        else:
            open_tags.append(name)
    if open_tags:
        raise _BadRequest(f"can't parse entities: unclosed tag {open_tags[-1]!r}")


def _check_formatted(params: dict[str, Any], text: str) -> None:
    if str(params.get("parse_mode") or "").upper() == "HTML":
        _check_html(text)


def _scope_key(params: dict[str, Any]) -> str:
    scope = params.get("scope")
    if isinstance(scope, str):
        scope = json.loads(scope)
    return json.dumps([scope, params.get("language_code", "")], sort_keys=True)


def _kind(update: dict[str, Any]) -> str:
    return next((key for key in update if key != "update_id"), "")


def _short(params: dict[str, Any], width: int = 160) -> str:
    text = repr({k: v for k, v in params.items() if k != "reply_markup"})
    if "reply_markup" in params:
        text += " +markup"
    return text if len(text) <= width else text[: width - 3] + "..."


class RecordingRequest(BaseRequest):
    """A ``BaseRequest`` answering from a ``FakeBotApi``: PTB with no network.

    Share one instance between ``request`` and ``get_updates_request`` (or two instances over
    the same ``api``). Every ``FakeBotApi`` attribute is reachable through this object too.
    """

    def __init__(self, api: FakeBotApi | None = None, read_timeout: float = 5.0) -> None:
        self.api = api if api is not None else FakeBotApi()
        self._read_timeout = read_timeout

    def __getattr__(self, name: str) -> Any:
        # Only called for attributes not found normally: delegate the shared API.
        if name == "api":
            raise AttributeError(name)
        return getattr(self.api, name)

    def __setattr__(self, name: str, value: Any) -> None:
        # ``request.retry_after = 3`` must reach the shared state, not shadow it.
        if name not in {"api", "_read_timeout"} and hasattr(self.api, name):
            setattr(self.api, name, value)
        else:
            object.__setattr__(self, name, value)

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        """Answer a Bot API call from the fake state, as Telegram would over HTTP."""
        api_method = url.rstrip("/").rsplit("/", 1)[-1]
        params = dict(request_data.parameters) if request_data else {}
        files: dict[str, Upload] = {}
        if request_data is not None and request_data.contains_files:
            for name, value in request_data.multipart_data.items():
                filename, content = value[0], value[1]
                if hasattr(content, "read"):
                    content = content.read()
                files[name] = Upload(str(filename or name), bytes(content))
        try:
            status, body = await self.api.handle(api_method, params, files)
        except Drop as exc:
            raise ConnectionResetError("connection dropped by the fake Bot API") from exc
        return status, json.dumps(body).encode()


# Shutdown of a healthy Application takes well under a second; this only stops a hang.
LIFECYCLE_TIMEOUT = 10.0


@contextlib.asynccontextmanager
async def running_application(
    application: Application, poll_timeout: int = 1
) -> AsyncIterator[Application]:
    """Run ``application`` as ``run_polling`` would (with its post_* hooks), bounded in time."""
    await asyncio.wait_for(application.initialize(), LIFECYCLE_TIMEOUT)
    started = False
    try:
        if application.post_init is not None:
            await asyncio.wait_for(application.post_init(application), LIFECYCLE_TIMEOUT)
        await application.start()
        started = True
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0.0, timeout=poll_timeout)
        yield application
    finally:
        await asyncio.wait_for(_stop(application, started), LIFECYCLE_TIMEOUT)


async def _stop(application: Application, started: bool) -> None:
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if started and application.running:
        await application.stop()
        if application.post_stop is not None:
            await application.post_stop(application)
    await application.shutdown()
    if application.post_shutdown is not None:
        await application.post_shutdown(application)
