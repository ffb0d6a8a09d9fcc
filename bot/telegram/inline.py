"""Inline mode: typing ``@bot sleep`` in any chat offers answer cards to share.

Each card is one answer of the knowledge base, found by the same companion as a typed
question (with no conversation context: an inline query belongs to no chat): the
title, the answer's first sentence as the description, and a message that carries the
whole answer with its caveat. A red flag gives one card only, the seek-care reply.
Inline mode must be switched on for the bot with @BotFather (/setinline).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from telegram import InlineQueryResultArticle, InputTextMessageContent, Update
from telegram.constants import InlineQueryLimit
from telegram.error import TelegramError
from telegram.ext import BaseHandler, InlineQueryHandler

from bot.core.reply import Reply, ReplyKind
from bot.telegram.context import BotContext
from bot.telegram.feature import Feature
from bot.telegram.formatting import PARSE_MODE, reply_html

log = logging.getLogger(__name__)

MAX_CARDS = 5  # a short list to pick from (Telegram allows InlineQueryLimit.RESULTS)
CACHE_SECONDS = 300  # the same query from anyone gets the same cards: let Telegram cache
EMPTY_QUERY_TOPICS = ("what-is-reflexology", "evidence", "safety", "sleep", "foot-map")
URGENT_TITLE = "Please get medical help now"
DESCRIPTION_CHARS = 120
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def _first_sentence(text: str) -> str:
    sentence = _SENTENCE_END.split(text.strip(), maxsplit=1)[0]
    if len(sentence) <= DESCRIPTION_CHARS:
        return sentence
    return sentence[: DESCRIPTION_CHARS - 1].rstrip() + "…"


def _card(
    context: BotContext, reply: Reply, title: str, result_id: str
) -> InlineQueryResultArticle:
    knowledge = context.services.knowledge
    entry = knowledge.entry_by_id.get(reply.entry) if reply.entry else None
    html_text = reply_html(reply.text, [knowledge.caveat, entry.caveat if entry else ""])
    return InlineQueryResultArticle(
        id=result_id,
        title=title,
        description=_first_sentence(reply.text),
        input_message_content=InputTextMessageContent(html_text, parse_mode=PARSE_MODE),
    )


def answer_cards(context: BotContext, query: str) -> list[InlineQueryResultArticle]:
    """The cards for an inline query, best first (at most ``MAX_CARDS``)."""
    services = context.services
    companion = services.companion
    knowledge = services.knowledge
    if not query.strip():
        replies = [companion.topic_reply(t) for t in EMPTY_QUERY_TOPICS if t in knowledge.topics]
    else:
        first = companion.respond(query)
        if first.kind is ReplyKind.URGENT or first.urgent:
            return [_card(context, first, URGENT_TITLE, "urgent")]
        replies = [first] if first.kind is ReplyKind.ANSWER else []
        replies += [companion.topic_reply(t) for t in first.suggestions if t in knowledge.topics]
    cards: list[InlineQueryResultArticle] = []
    seen: set[str] = set()
    for reply in replies:
        if reply.kind is not ReplyKind.ANSWER or reply.topic is None:
            continue
        key = reply.entry or reply.topic
        if key in seen:
            continue
        seen.add(key)
        cards.append(_card(context, reply, knowledge.topics[reply.topic].title, key))
    return cards[: min(MAX_CARDS, int(InlineQueryLimit.RESULTS))]


async def inline_query(update: Update, context: BotContext) -> None:
    """Answer ``@bot <words>`` with answer cards."""
    query = update.inline_query
    if query is None:
        return
    cards = answer_cards(context, query.query)
    try:
        await query.answer(cards, cache_time=CACHE_SECONDS, is_personal=False)
    except TelegramError as exc:  # the person typed on: a newer query replaces this one
        log.info("inline answer not delivered: %s", exc)


class InlineFeature(Feature):
    """Answer cards for ``@bot <question>`` in any chat."""

    name = "inline"

    def handlers(self) -> list[BaseHandler[Any, Any, Any]]:
        """The inline-query handler."""
        return [InlineQueryHandler(inline_query)]


__all__ = ["InlineFeature", "answer_cards"]
