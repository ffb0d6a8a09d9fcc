"""Inline keyboards of topic buttons (callback data packed by bot/telegram/callbacks.py).

Pressing a topic button goes through the same reply path as typing the question.
"""

from __future__ import annotations

from collections.abc import Iterable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.knowledge import Knowledge
from bot.telegram import callbacks
from bot.telegram.callbacks import NoneOfThese, TopicPick

NONE_OF_THESE = callbacks.pack(NoneOfThese())  # the "none of these" answer to "did you mean"
MAX_CALLBACK_BYTES = callbacks.MAX_BYTES  # Telegram's limit (telegram.constants)
# Topics not worth a button in the full list: greetings are typed, not picked.
NOT_LISTED = frozenset({"greeting"})


def topic_data(topic_id: str) -> str:
    """The callback data of a topic's button."""
    return callbacks.pack(TopicPick(topic_id))


def topic_button(knowledge: Knowledge, topic_id: str) -> InlineKeyboardButton | None:
    """A button for a topic, or ``None`` when the knowledge base has no such topic."""
    topic = knowledge.topics.get(topic_id)
    if topic is None:
        return None
    return InlineKeyboardButton(topic.button or topic.title, callback_data=topic_data(topic_id))


def _rows(buttons: list[InlineKeyboardButton], columns: int) -> list[list[InlineKeyboardButton]]:
    return [buttons[i : i + columns] for i in range(0, len(buttons), columns)]


def topics_keyboard(
    knowledge: Knowledge, topic_ids: Iterable[str] | None = None, columns: int = 2
) -> InlineKeyboardMarkup:
    """Buttons for the given topics (default: every listed topic), ``columns`` per row."""
    ids = (
        [topic_id for topic_id in knowledge.topics if topic_id not in NOT_LISTED]
        if topic_ids is None
        else list(topic_ids)
    )
    buttons = [b for b in (topic_button(knowledge, topic_id) for topic_id in ids) if b]
    return InlineKeyboardMarkup(_rows(buttons, columns))


def suggestions_keyboard(
    knowledge: Knowledge, topic_ids: Iterable[str], *, none_of_these: bool = False
) -> InlineKeyboardMarkup | None:
    """Follow-up buttons (one per row), plus "None of these" for a clarifying question."""
    buttons = [b for b in (topic_button(knowledge, topic_id) for topic_id in topic_ids) if b]
    rows = _rows(buttons, 1 if none_of_these else 2)
    if none_of_these:
        rows.append([InlineKeyboardButton("None of these", callback_data=NONE_OF_THESE)])
    return InlineKeyboardMarkup(rows) if rows else None


__all__ = [
    "MAX_CALLBACK_BYTES",
    "NONE_OF_THESE",
    "suggestions_keyboard",
    "topic_button",
    "topic_data",
    "topics_keyboard",
]
