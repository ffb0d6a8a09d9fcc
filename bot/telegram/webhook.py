"""Webhook mode (``BOT_WEBHOOK_URL`` + ``BOT_WEBHOOK_SECRET``): an aiohttp server that
Telegram (or the reverse proxy in front of it) posts updates to.

Why not python-telegram-bot's own ``run_webhook``: it needs tornado and serves nothing
but the update path, and a load balancer needs a health check. This server:

- ``POST <path of BOT_WEBHOOK_URL>``: the update, accepted only with the right
  ``X-Telegram-Bot-Api-Secret-Token`` (compared in constant time); without it, or with
  a wrong one, 403 and the update is dropped. A body that is not an update: 400.
- ``GET /healthz``: 200 ``ok`` while the Application runs (503 while stopping).

At start-up it calls ``setWebhook`` with the URL, the secret and the update types the
handlers use. On stop it leaves the webhook set, so another worker behind the same URL
keeps receiving updates during a rolling deploy. Neither the secret nor any request body
is ever logged (the access log is off; a refused request is logged by its source only).
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from collections.abc import Sequence
from urllib.parse import urlsplit

from aiohttp import web
from telegram import Update
from telegram.ext import Application

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/healthz"
MAX_BODY = 1024 * 1024  # an update is a few KiB; refuse anything absurd


def webhook_path(url: str) -> str:
    """The path the server listens on: the path of the public URL ("/" if it has none)."""
    return urlsplit(url).path or "/"


class WebhookServer:
    """Feeds verified updates into ``application.update_queue``."""

    def __init__(
        self, application: Application, url: str, secret: str, listen: tuple[str, int]
    ) -> None:
        self.application = application
        self.url = url
        self.path = webhook_path(url)
        self._secret = secret.encode()
        self.listen = listen
        self.port = listen[1]
        self.refused = 0
        self._runner: web.AppRunner | None = None

    async def _update(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            self.refused += 1
            log.warning(
                "webhook: refused a request without the right secret from %s", request.remote
            )
            return web.Response(status=403, text="forbidden")
        try:
            data = json.loads(await request.read())
            update = Update.de_json(data, self.application.bot)
        except (ValueError, TypeError, KeyError):
            return web.Response(status=400, text="not an update")
        if update is None:
            return web.Response(status=400, text="not an update")
        await self.application.update_queue.put(update)
        return web.Response(text="ok")

    async def _health(self, _request: web.Request) -> web.Response:
        if self.application.running:
            return web.Response(text="ok")
        return web.Response(status=503, text="stopping")

    async def start(self, allowed_updates: Sequence[str]) -> None:
        """Listen, then tell Telegram where to post (with the secret)."""
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post(self.path, self._update)
        app.router.add_get(HEALTH_PATH, self._health)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.listen[0], self.listen[1])
        await site.start()
        sockets = getattr(site._server, "sockets", None)  # the real port when 0 was asked
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        await self.application.bot.set_webhook(
            url=self.url,
            secret_token=self._secret.decode(),
            allowed_updates=list(allowed_updates),
        )
        log.info(
            "webhook: listening on %s:%d%s (health %s)",
            self.listen[0],
            self.port,
            self.path,
            HEALTH_PATH,
        )

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


async def run_webhook(
    application: Application,
    url: str,
    secret: str,
    listen: tuple[str, int],
    allowed_updates: Sequence[str],
    stop: asyncio.Event,
) -> None:
    """The Application's whole life in webhook mode, until ``stop`` is set."""
    server = WebhookServer(application, url, secret, listen)
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        try:
            await server.start(allowed_updates)
            await stop.wait()
        finally:
            await server.stop()  # no new updates, then finish those queued
            await application.stop()
            if application.post_stop is not None:
                await application.post_stop(application)
    finally:
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)


__all__ = ["HEALTH_PATH", "SECRET_HEADER", "WebhookServer", "run_webhook", "webhook_path"]
