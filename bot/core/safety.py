"""The safety screen: red-flag symptoms are caught before any topic matching.

Patterns live in ``knowledge/red_flags.yaml`` and run on ``normalize.clean``
text. Global ``guards`` (harmless look-alikes such as "the heart point on the
foot" or "had a clot years ago") are blanked out first, so the rest of the
message is still screened; a flag's own ``unless`` patterns silence that flag.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.knowledge.red_flags import RedFlag, RedFlagsFile
from bot.core.normalize import clean

# Messages are cut to this many characters before screening (keeps it fast).
MAX_CHARS = 4096  # Telegram's message limit: screen every real message whole


@dataclass(frozen=True)
class Screen:
    """The result of screening one message that raised a red flag."""

    flag: RedFlag
    matched: str  # the text that matched, for logs and tests


class SafetyScreen:
    """Screens messages against the red-flag patterns."""

    def __init__(self, red_flags: RedFlagsFile) -> None:
        self.red_flags = red_flags

    @property
    def reply(self) -> str:
        return self.red_flags.reply

    def check(self, text: str) -> Screen | None:
        """The first red flag raised by ``text``, or None."""
        cleaned = clean(text[:MAX_CHARS])
        if not cleaned:
            return None
        screened = cleaned
        for guard in self.red_flags.guards:
            screened = guard.sub(" ", screened)
        for flag in self.red_flags.flags:
            if any(pattern.search(cleaned) for pattern in flag.unless):
                continue
            for pattern in flag.patterns:
                found = pattern.search(screened)
                if found is not None:
                    return Screen(flag=flag, matched=found.group(0))
        return None

    def screen(self, text: str) -> RedFlag | None:
        """The red flag raised by ``text``, or None."""
        result = self.check(text)
        return result.flag if result is not None else None

    def urgent_text(self, flag: RedFlag) -> str:
        """What the user reads: the calm common reply, then why this flag matters."""
        return f"{self.red_flags.reply}\n\n{flag.why}".strip()


def screen(red_flags: RedFlagsFile, text: str) -> RedFlag | None:
    """Functional form of ``SafetyScreen(red_flags).screen(text)``."""
    return SafetyScreen(red_flags).screen(text)


__all__ = ["MAX_CHARS", "SafetyScreen", "Screen", "screen"]
