"""Telegram HTML for the core's plain-text replies, with every piece of text escaped.

The core writes plain text (the console prints the same words). Here a reply becomes
Telegram HTML (``parse_mode=HTML``): its first sentence in bold, list lines (``- x``,
``* x``) as ``• x``, the caveat in italics. Everything that is not our own tag goes
through ``html.escape``, so a name or message like ``<b>`` or ``&`` shows as typed and
can never break the message.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from telegram.constants import ParseMode

PARSE_MODE = ParseMode.HTML
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_BULLET = re.compile(r"^\s*(?:[-*•])\s+")


def escape(text: str) -> str:
    """``text`` safe to put inside Telegram HTML (``<``, ``>`` and ``&`` escaped)."""
    return html.escape(text, quote=False)


def _lines(paragraph: str) -> str:
    return "\n".join(
        "• " + escape(_BULLET.sub("", line)) if _BULLET.match(line) else escape(line)
        for line in paragraph.split("\n")
    )


def reply_html(text: str, caveats: Iterable[str] = ()) -> str:
    """A core reply as Telegram HTML: bold first sentence, bullets, the caveat in italics."""
    paragraphs = [p for p in text.strip().split("\n\n") if p.strip()]
    if not paragraphs:
        return ""
    known_caveats = {c.strip() for c in caveats if c.strip()}
    out: list[str] = []
    for index, paragraph in enumerate(paragraphs):
        if index == len(paragraphs) - 1 and index > 0 and paragraph.strip() in known_caveats:
            out.append(f"<i>{escape(paragraph.strip())}</i>")
        elif index == 0 and not _BULLET.match(paragraph):
            first_line, _, other_lines = paragraph.partition("\n")
            sentence, *rest = _SENTENCE_END.split(first_line, maxsplit=1)
            bold = f"<b>{escape(sentence)}</b>"
            tail = f" {escape(rest[0])}" if rest else ""
            out.append(bold + tail + (f"\n{_lines(other_lines)}" if other_lines else ""))
        else:
            out.append(_lines(paragraph))
    return "\n\n".join(out)


__all__ = ["PARSE_MODE", "escape", "reply_html"]
