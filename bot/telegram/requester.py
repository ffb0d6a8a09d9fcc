"""Buttons that act for one person only, so that in a group nobody acts for someone else.

A private chat is its one person, so its buttons carry no requester. In a group or
channel the button's callback data carries the user id of whoever asked
(``requester_of``), and ``pressed_by_requester`` lets only that user's press through.
"""

from __future__ import annotations

import contextlib

from telegram import Update
from telegram.constants import ChatType
from telegram.error import TelegramError

NOT_YOURS = "Only the person who asked can use these buttons."
OUT_OF_DATE = "That button is out of date. Please send the command again."


def requester_of(update: Update) -> int | None:
    """The user id to put in a personal button: None in a private chat."""
    chat = update.effective_chat
    user = update.effective_user
    if chat is None or chat.type == ChatType.PRIVATE or user is None:
        return None
    return user.id


async def pressed_by_requester(update: Update, requester: int | None) -> bool:
    """True when the press may act; otherwise answers the press and returns False."""
    query = update.callback_query
    chat = update.effective_chat
    if query is None or chat is None:
        return False
    if chat.type == ChatType.PRIVATE and requester is None:
        return True
    if requester is not None and query.from_user.id == requester:
        return True
    # Someone else's button, or a group button from before requesters were recorded.
    with contextlib.suppress(TelegramError):  # the press is refused either way
        await query.answer(NOT_YOURS if requester is not None else OUT_OF_DATE, show_alert=True)
    return False


__all__ = ["NOT_YOURS", "OUT_OF_DATE", "pressed_by_requester", "requester_of"]
