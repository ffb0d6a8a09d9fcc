"""Sending the foot map: upload each variant once, then reuse Telegram's file_id."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, InputFile, InputMediaPhoto, Message
from telegram.error import BadRequest

from bot.core.foot_zones import MapPicture
from bot.pictures.foot_map import FootMapCache
from bot.telegram.sending import call_with_retry

log = logging.getLogger(__name__)

FOOT_MAP_CAPTION = (
    "The traditional reflexology map of the soles. It is a belief, not anatomy, and maps "
    "differ between schools: the left foot is said to mirror the left side of the body."
)


async def send_foot_map(
    bot: Bot,
    chat_id: int,
    cache: FootMapCache,
    zone: str | None = None,
    *,
    caption: str | None = FOOT_MAP_CAPTION,
    reply_markup: InlineKeyboardMarkup | None = None,
) -> Message:
    """Send the chart (``zone`` highlighted); upload it the first time, reuse its file_id after.

    Flood waits and network errors are retried (``call_with_retry``); other errors are raised.
    """
    file_id = cache.get_file_id(zone)
    if file_id is not None:
        try:
            return await call_with_retry(
                lambda: bot.send_photo(
                    chat_id, photo=file_id, caption=caption, reply_markup=reply_markup
                ),
                what=f"sendPhoto (file_id) to chat {chat_id}",
            )
        except BadRequest as exc:
            # Telegram no longer knows the file: forget it and upload again below.
            log.warning("foot map file_id for %s refused (%s); uploading again", zone, exc)
            cache.forget_file_id(zone)
    # Rendering is CPU work: keep it off the event loop (done once per variant).
    png = await asyncio.to_thread(cache.get_png, zone)
    upload = InputFile(png, filename=f"foot-map-{zone or 'all'}.png")
    message: Message = await call_with_retry(
        lambda: bot.send_photo(chat_id, photo=upload, caption=caption, reply_markup=reply_markup),
        what=f"sendPhoto (upload) to chat {chat_id}",
    )
    if message.photo:
        cache.remember_file_id(zone, message.photo[-1].file_id)
    return message


async def send_map_picture(
    bot: Bot, chat_id: int, cache: FootMapCache, picture: MapPicture
) -> Message:
    """Send the chart for ``picture`` (``bot.core.foot_zones.map_picture``): the area
    highlighted, its one line first in the caption, then the usual caption."""
    caption = f"{picture.line}\n\n{FOOT_MAP_CAPTION}" if picture.zone else FOOT_MAP_CAPTION
    return await send_foot_map(bot, chat_id, cache, picture.zone, caption=caption)


async def edit_foot_map(
    bot: Bot,
    chat_id: int,
    message_id: int,
    cache: FootMapCache,
    zone: str | None = None,
    *,
    caption: str | None = None,
    reply_markup: InlineKeyboardMarkup | None = None,
    **kwargs: Any,
) -> Message | bool:
    """Replace the picture of a photo message by the chart (``zone`` highlighted).

    As ``send_foot_map``: Telegram's file_id when known, else one upload whose file_id
    is remembered. ``kwargs`` go to ``InputMediaPhoto`` (e.g. ``parse_mode``).
    """

    async def edit(photo: str | InputFile) -> Message | bool:
        media = InputMediaPhoto(photo, caption=caption, **kwargs)
        return await bot.edit_message_media(
            media, chat_id=chat_id, message_id=message_id, reply_markup=reply_markup
        )

    file_id = cache.get_file_id(zone)
    if file_id is not None:
        try:
            return await call_with_retry(
                lambda: edit(file_id),
                what=f"editMessageMedia (file_id) in chat {chat_id}",
            )
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                raise
            log.warning("foot map file_id for %s refused (%s); uploading again", zone, exc)
            cache.forget_file_id(zone)
    png = await asyncio.to_thread(cache.get_png, zone)
    upload = InputFile(png, filename=f"foot-map-{zone or 'all'}.png", attach=True)
    edited: Message | bool = await call_with_retry(
        lambda: edit(upload),
        what=f"editMessageMedia (upload) in chat {chat_id}",
    )
    if isinstance(edited, Message) and edited.photo:
        cache.remember_file_id(zone, edited.photo[-1].file_id)
    return edited


__all__ = ["FOOT_MAP_CAPTION", "edit_foot_map", "send_foot_map", "send_map_picture"]
