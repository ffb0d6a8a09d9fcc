"""Long messages: the whole of a Telegram-sized message is screened for red flags."""

from __future__ import annotations

from bot.core.companion import Companion
from bot.core.knowledge import Knowledge


def test_a_red_flag_late_in_a_long_message_is_still_caught(knowledge: Knowledge) -> None:
    companion = Companion(knowledge)
    padding = "I have been reading about reflexology and foot maps for weeks. " * 60
    message = padding + "Also my dad has crushing chest pain right now."
    assert 3500 < len(message) <= 4096
    reply = companion.respond(message)
    assert reply.topic == "urgent"


def test_a_long_ordinary_message_is_answered_normally(knowledge: Knowledge) -> None:
    companion = Companion(knowledge)
    reply = companion.respond("does reflexology help me sleep? " * 120)
    assert reply.topic == "sleep"
