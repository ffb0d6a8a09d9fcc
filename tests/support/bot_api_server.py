"""A small Telegram Bot API server on 127.0.0.1 for end-to-end tests and demos.

It serves the same fake state as ``RecordingRequest`` (see ``recording_request``) over real
HTTP, so a bot started with ``TELEGRAM_BASE_URL=server.base_url`` talks to it exactly as to
Telegram: JSON, form and multipart requests, long-polled ``getUpdates``, errors in the Bot
API's shapes, and switchable faults (429 with ``retry_after``, 403, 500, a dropped
connection, a slow answer), and optionally Telegram's flood control (``limits=SendLimits()``)::

    async with BotApiServer() as server:
        ...  # start the bot with base_url=server.base_url
        server.push_text(42, "/start")
        await server.wait_for_sent("sendMessage", chat_id=42)

Standalone, for demos (type lines to send them as chat 1; the bot's messages are printed)::

    python -m tests.support.bot_api_server --port 8081
    TELEGRAM_BOT_TOKEN=123456:DEMO TELEGRAM_BASE_URL=http://127.0.0.1:8081/bot python -m bot run
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from types import TracebackType
from typing import Any

from aiohttp import web

from tests.support.recording_request import Drop, FakeBotApi, SendLimits, Upload

HOST = "127.0.0.1"  # never anything else: tests must not reach the outside world
# Parameters whose form values are plain strings, never JSON to decode.
_STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "inline_message_id",
        "url",
        "description",
        "short_description",
        "name",
        "language_code",
        "action",
        "emoji",
        "file_id",
        "photo",
        "document",
        "sticker",
        "voice",
        "audio",
        "video",
        "animation",
        "business_connection_id",
        "message_effect_id",
    }
)


def _decode(name: str, value: str) -> Any:
    if name in _STRING_FIELDS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


class BotApiServer(FakeBotApi):
    """The fake Bot API served over HTTP on 127.0.0.1 (port 0 picks a free one)."""

    def __init__(
        self,
        port: int = 0,
        bot_user: dict[str, Any] | None = None,
        limits: SendLimits | None = None,
    ) -> None:
        super().__init__(bot_user)
        self.limits = limits
        self.port = port
        self.tokens_seen: set[str] = set()
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        """The ``TELEGRAM_BASE_URL`` for a bot talking to this server."""
        return f"http://{HOST}:{self.port}/bot"

    async def start(self) -> None:
        """Listen on 127.0.0.1 (a free port unless one was given)."""
        app = web.Application(client_max_size=20 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._serve)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, HOST, self.port)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        """Stop listening and close every connection."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BotApiServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _read_params(self, request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
        params: dict[str, Any] = {k: _decode(k, v) for k, v in request.query.items()}
        files: dict[str, Upload] = {}
        if request.method != "POST" or not request.body_exists:
            return params, files
        if request.content_type == "application/json":
            body = await request.json()
            if isinstance(body, dict):
                params.update(body)
            return params, files
        form = await request.post()
        for name, value in form.items():
            if isinstance(value, web.FileField):
                files[name] = Upload(value.filename or name, value.file.read())
            else:
                params[name] = _decode(name, str(value))
        return params, files

    async def _serve(self, request: web.Request) -> web.StreamResponse:
        self.tokens_seen.add(request.match_info["token"])
        method = request.match_info["method"]
        try:
            params, files = await self._read_params(request)
        except (ValueError, UnicodeDecodeError):
            return web.json_response(
                {"ok": False, "error_code": 400, "description": "Bad Request: can't parse"},
                status=400,
            )
        try:
            status, body = await self.handle(method, params, files)
        except Drop:
            transport = request.transport
            if transport is not None:
                transport.abort()
            return web.Response(status=500)  # never reaches the bot: the socket is gone
        return web.json_response(body, status=status)


async def _demo(port: int) -> None:
    async with BotApiServer(port=port) as server:
        print(f"Bot API on {server.base_url}  (type a line to send it as chat 1; Ctrl-C stops)")
        shown = 0

        async def show_sends() -> None:
            nonlocal shown
            while True:
                for call in server.calls[shown:]:
                    if call.method.startswith(("send", "edit", "answerCallback")):
                        text = call.params.get("text") or call.params.get("caption") or ""
                        print(f"<- {call.method}: {text}")
                        markup = call.params.get("reply_markup") or {}
                        for row in markup.get("inline_keyboard", []):
                            print(
                                "   "
                                + " | ".join(f"[{b['text']}]={b.get('callback_data')}" for b in row)
                            )
                shown = len(server.calls)
                await asyncio.sleep(0.1)

        printer = asyncio.create_task(show_sends())
        try:
            while True:
                line = await asyncio.to_thread(sys.stdin.readline)
                if not line:
                    break
                line = line.strip()
                if line.startswith("!"):  # "!t:sleep" presses a button with that data
                    server.push_callback(1, line[1:])
                elif line:
                    server.push_text(1, line)
        finally:
            printer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await printer


def main(argv: list[str] | None = None) -> int:
    """Run the server standalone until Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8081)
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_demo(args.port))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
