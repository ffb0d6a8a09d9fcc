"""Inline keyboards of topic buttons; a button's callback data is ``t:<topic-id>``.

Pressing a topic button goes through the same reply path as typing the question.
"""

from __future__ import annotations

from collections.abc import Iterable

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.knowledge import Knowledge

TOPIC_PREFIX = "t:"
NONE_OF_THESE = "t:none"  # the "none of these" answer to a "did you mean ...?"
MAX_CALLBACK_BYTES = 64  # Telegram's limit on callback data
# Topics not worth a button in the full list: greetings are typed, not picked.
NOT_LISTED = frozenset({"greeting"})


def topic_data(topic_id: str) -> str:
    """The callback data of a topic's button."""
    data = f"{TOPIC_PREFIX}{topic_id}"
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data for {topic_id!r} is over {MAX_CALLBACK_BYTES} bytes")
    return data


def parse_topic_data(data: str | None) -> str | None:
    """The topic id in a ``t:`` callback data, or ``None`` for anything else."""
    if not data or not data.startswith(TOPIC_PREFIX):
        return None
    return data[len(TOPIC_PREFIX) :] or None


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
    "TOPIC_PREFIX",
    "parse_topic_data",
    "suggestions_keyboard",
    "topic_button",
    "topic_data",
    "topics_keyboard",
]
