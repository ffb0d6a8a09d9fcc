"""Webhook mode end to end: ``python -m bot run`` with ``BOT_WEBHOOK_URL`` and
``BOT_WEBHOOK_SECRET`` serves updates on 127.0.0.1, sets the webhook with the secret on
the Bot API server (also on 127.0.0.1), refuses requests without the right secret, answers
its health check, stops on SIGTERM, and never logs the secret."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path

import aiohttp
import pytest

from bot.telegram.runner import ALLOWED_UPDATES
from bot.telegram.webhook import HEALTH_PATH, SECRET_HEADER
from tests.support.bot_api_server import BotApiServer
from tests.support.bot_process import BotProcess

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM to a child process")

SECRET = "webhook-SECRET-0123456789_abc"
PUBLIC_URL = "https://bot.example.invalid/telegram-hook"  # never contacted: Telegram's side


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def update(update_id: int, chat_id: int, text: str) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": update_id,
            "date": 1_780_000_000,
            "chat": {"id": chat_id, "type": "private", "first_name": "T"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "T"},
            "text": text,
            **(
                {"entities": [{"type": "bot_command", "offset": 0, "length": len(text)}]}
                if text.startswith("/")
                else {}
            ),
        },
    }


async def test_webhook_serves_verified_updates_only(tmp_path: Path, knowledge) -> None:
    port = free_port()
    log = tmp_path / "bot.log"
    async with BotApiServer() as server:
        bot = BotProcess(
            server,
            tmp_path / "data",
            log,
            BOT_WEBHOOK_URL=PUBLIC_URL,
            BOT_WEBHOOK_SECRET=SECRET,
            BOT_WEBHOOK_LISTEN=f"127.0.0.1:{port}",
            BOT_LOG_LEVEL="DEBUG",  # the most talkative level must still hide the secret
        )
        base = f"http://127.0.0.1:{port}"
        try:
            await bot.start_webhook()
            [hook] = server.sent("setWebhook")
            assert hook["url"] == PUBLIC_URL
            assert hook["secret_token"] == SECRET
            assert hook["allowed_updates"] == ALLOWED_UPDATES
            assert not server.sent("getUpdates")  # no long polling in webhook mode

            async with aiohttp.ClientSession() as http:
                async with http.get(base + HEALTH_PATH) as health:
                    assert (health.status, await health.text()) == (200, "ok")
                body = json.dumps(update(1, 61, "/start"))
                headers = {"Content-Type": "application/json"}
                for wrong in ({}, {SECRET_HEADER: "guess"}, {SECRET_HEADER: SECRET + "x"}):
                    async with http.post(
                        base + "/telegram-hook", data=body, headers={**headers, **wrong}
                    ) as refused:
                        assert refused.status == 403
                async with http.post(
                    base + "/telegram-hook", data="{not json", headers={SECRET_HEADER: SECRET}
                ) as bad:
                    assert bad.status == 400
                async with http.post(
                    base + "/telegram-hook", data=body, headers={**headers, SECRET_HEADER: SECRET}
                ) as accepted:
                    assert accepted.status == 200
                [welcome] = await server.wait_for_sent("sendMessage", chat_id=61, timeout=10)
                assert knowledge.caveat.strip() in welcome["text"]
                question = json.dumps(update(2, 62, "does reflexology really work?"))
                async with http.post(
                    base + "/telegram-hook",
                    data=question,
                    headers={**headers, SECRET_HEADER: SECRET},
                ) as accepted:
                    assert accepted.status == 200
                await server.wait_for_sent("sendMessage", chat_id=62, timeout=10)
            status, seconds = await bot.terminate()
        finally:
            await bot.kill()
    text = log.read_text()
    assert status == 0, text[-3000:]
    assert seconds < 5
    # Refused updates never reached a handler: chat 61 got exactly one welcome.
    assert len(server.sent("sendMessage", 61)) == 1
    assert "calling bot api endpoint `setwebhook`" in text.lower()  # DEBUG was really on
    assert SECRET not in text
    assert "refused a request without the right secret" in text
