"""The safety screen: red-flag symptoms are caught before any topic matching.

Patterns live in ``knowledge/red_flags.yaml`` and run on ``normalize.clean``
text, after the file's ``spellings`` have put common misspellings right
("chset" -> "chest"). Global ``guards`` (harmless look-alikes such as "the heart
point on the foot" or "had a clot years ago") are blanked out first, so the rest
of the message is still screened; a flag's own ``unless`` patterns silence that
flag.

Guards must never hide a present symptom. The file's ``map_guards`` (foot-map
wording such as "foot point for chest", which would otherwise blank the "chest" of
"chest pain") are applied like guards, except when one of its ``present_symptom``
patterns ("mine started 10 min ago", "right now", "it won't go away") matches the
message: then they step aside and the message is screened whole.

Speed: there are a few hundred patterns, and each regex search costs a
microsecond or more. Each pattern is therefore given, once, an *anchor*: the
literal word beginnings one of which must start a word of the message for the
pattern to match at all (read from the pattern's parse tree: a ``\\b`` followed
by literal text or a group of literal alternatives). A message only runs the
patterns whose anchor it contains. Patterns without a usable anchor always run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.knowledge.red_flags import RedFlag, RedFlagsFile
from bot.core.languages import Verdict
from bot.core.normalize import clean
from bot.core.safety_net import features

try:  # the standard library's regex parser (Python 3.11+ name, then the old one)
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_parse as _sre_parse  # type: ignore[no-redef]

# Messages are cut to this many characters before screening.
MAX_CHARS = 4096  # Telegram's message limit: screen every real message whole


_MIN_ANCHOR = 2  # anchors shorter than this filter nothing; the pattern always runs


@dataclass(frozen=True)
class Screen:
    """The result of screening one message that raised a red flag."""

    flag: RedFlag
    matched: str  # the text that matched, for logs and tests


_MAX_CLASS = 10  # a character class of up to this many literals is read as alternatives


def _leading(items: list) -> set[str] | None:  # type: ignore[type-arg]
    """The literal texts one of which every match of ``items`` starts with, or None."""
    text = ""
    count = 0
    for op, arg in items:
        if op is not _sre_parse.LITERAL:
            break
        text += chr(arg)
        count += 1
    rest = items[count:]
    more = _first(rest[0]) if rest else None
    if more is None:
        return {text} if text else None
    return {text + start for start in more}


def _chars(arg: list) -> set[str] | None:  # type: ignore[type-arg]
    """The characters of a small class of plain literals ("[89]"), or None."""
    if len(arg) > _MAX_CLASS or any(op is not _sre_parse.LITERAL for op, _ in arg):
        return None
    return {chr(code) for _, code in arg}


def _first(item: tuple) -> set[str] | None:  # type: ignore[type-arg]
    """The literal texts one of which every match of one parsed item starts with."""
    op, arg = item
    if op is _sre_parse.SUBPATTERN:
        return _leading(list(arg[-1]))
    if op is _sre_parse.IN:
        return _chars(list(arg))
    if op is _sre_parse.BRANCH:
        found: set[str] = set()
        for branch in arg[1]:
            if not branch:  # "temp(?:|erature)": the text before the group is a start
                found.add("")
                continue
            starts = _leading(list(branch))
            if starts is None:
                return None
            found |= starts
        return found
    if op in (_sre_parse.MAX_REPEAT, _sre_parse.MIN_REPEAT) and arg[0] >= 1:
        return _leading(list(arg[2]))
    return None


def anchor(pattern: re.Pattern[str]) -> frozenset[str] | None:
    """Word beginnings one of which a message needs for ``pattern`` to match.

    None when the pattern has no such anchor (it must always be tried).
    """
    try:
        items = list(_sre_parse.parse(pattern.pattern, pattern.flags))
    except Exception:  # pragma: no cover - compiled already, so it parses
        return None
    return _anchor(items)


def _anchor(items: list) -> frozenset[str] | None:  # type: ignore[type-arg]
    if len(items) == 1 and items[0][0] is _sre_parse.BRANCH:
        found: set[str] = set()
        for branch in items[0][1][1]:
            words = _anchor(list(branch))
            if words is None:
                return None
            found |= words
        return frozenset(found)
    best: frozenset[str] | None = None
    for index, (op, arg) in enumerate(items):
        if not (op is _sre_parse.AT and arg is _sre_parse.AT_BOUNDARY):
            continue
        starts = _leading(items[index + 1 :])
        if not starts:
            continue
        # only the first word counts: the message is indexed word by word
        words = frozenset(start.split(" ")[0].lower() for start in starts)
        if any(len(word) < _MIN_ANCHOR or not word.isalnum() for word in words):
            continue
        if best is None or (min(map(len, words)), -len(words)) > (
            min(map(len, best)),
            -len(best),
        ):
            best = words
    return best


class _Gated:
    """Patterns indexed by their anchors."""

    def __init__(self, patterns: list[re.Pattern[str]]) -> None:
        self.patterns = patterns
        self.always: list[int] = []
        self.by_start: dict[str, list[int]] = {}
        for index, pattern in enumerate(patterns):
            words = anchor(pattern)
            if words is None:
                self.always.append(index)
                continue
            for word in words:
                self.by_start.setdefault(word, []).append(index)

    def candidates(self, starts: set[str]) -> list[int]:
        """Indices, in order, of the patterns worth trying on a message."""
        found = set(self.always)
        for start in starts:
            hits = self.by_start.get(start)
            if hits:
                found.update(hits)
        return sorted(found)


def _starts(text: str) -> set[str]:
    """Every beginning of every word of ``text``."""
    return {word[:end] for word in set(text.split()) for end in range(1, len(word) + 1)}


NET_MIN_WORDS = 5  # English messages this short are judged by the patterns alone
# What a message raises when only the learned net fires: the common urgent reply.
NET_FLAG = RedFlag(id="safety-net", why="", patterns=())
# What the "soon" net raises: the soon band's general advice (no pattern named the cause).
SOON_NET_FLAG = RedFlag(
    id="soon-net",
    band="soon",
    patterns=(),
    reply=(
        "Please get this checked in the next day or so: a GP, practice nurse, pharmacist or "
        "urgent care (emergency services if it suddenly gets much worse)."
    ),
    why=(
        "Reflexology can wait: don't have it on that area until a professional has had a "
        "look and you know what it is."
    ),
)


class SafetyScreen:
    """Screens messages against the red-flag patterns, then the learned net.

    Urgent = an urgent pattern fires OR the net's probability reaches its threshold.
    A "see someone soon" flag only wins when nothing urgent does (heavy bleeding
    stays urgent even when "keeps bleeding" also matches the soon band).
    """

    def __init__(self, red_flags: RedFlagsFile) -> None:
        self.red_flags = red_flags
        self._spellings = red_flags.spellings
        self._now = list(red_flags.present_symptom)
        self._guards = _Gated([*red_flags.guards, *red_flags.map_guards])
        first_map_guard = len(red_flags.guards)
        self._yields = frozenset(range(first_map_guard, len(self._guards.patterns)))
        owners: list[RedFlag] = []
        patterns: list[re.Pattern[str]] = []
        for flag in red_flags.flags:
            for pattern in flag.patterns:
                owners.append(flag)
                patterns.append(pattern)
        self._owners = owners
        self._flags = _Gated(patterns)
        self.net = red_flags.net
        self.soon_net = red_flags.soon_net

    @property
    def reply(self) -> str:
        return self.red_flags.reply

    def prepare(self, text: str) -> str:
        """The text the patterns see: cleaned, misspellings put right."""
        cleaned = clean(text[:MAX_CHARS])
        if self._spellings:
            fix = self._spellings.get
            cleaned = " ".join([fix(word, word) for word in cleaned.split()])
        return cleaned

    def check(self, text: str) -> Screen | None:
        """The first urgent red flag raised by ``text``, else a "soon" flag, or None."""
        soon: Screen | None = None
        found = self._patterns(text)
        if found is not None and found.flag.band != "urgent":
            soon, found = found, None
        if found is None:
            found = self._patterns(text, skip_soon=True) if soon is not None else None
        if found is not None:
            return found
        # A "soon" pattern beats the net: the net learned that bleeding and injuries are
        # alarming, but "a cut that keeps bleeding" needs a nurse today, not an ambulance.
        if soon is not None:
            return soon
        text = text[:MAX_CHARS]
        if self._too_short_for_the_nets(text):
            return None
        counts = features(text) if self.net is not None or self.soon_net is not None else None
        if self.net is not None and self.net.urgent(text, counts):
            return Screen(flag=NET_FLAG, matched="")
        # last: the soon net can never swallow an urgent. It learned English only, and a
        # message in another language gets the honest "English only" reply instead.
        if self.soon_net is not None and self.soon_net.urgent(text, counts):
            languages = self.red_flags.languages
            if languages is None or languages.detect(text) is None:
                return Screen(flag=SOON_NET_FLAG, matched="")
        return None

    def _too_short_for_the_nets(self, text: str) -> bool:
        """A few plain English words ("i've only got 2 mins") are the patterns' alone.

        The nets weigh a handful of n-grams there, and a short follow-up can look
        alarming; in the labelled data no English emergency of NET_MIN_WORDS words or
        fewer is caught by a net and missed by every pattern. Other languages keep the
        nets: their short emergencies ("kan kusuyorum") often have no pattern.
        """
        languages = self.red_flags.languages
        if languages is None or len(clean(text).split()) > NET_MIN_WORDS:
            return False
        return languages.plain_english(text)

    def _patterns(self, text: str, skip_soon: bool = False) -> Screen | None:
        """The first pattern flag raised by ``text`` (urgent ones only with skip_soon)."""
        cleaned = self.prepare(text)
        if not cleaned:
            return None
        starts = _starts(cleaned)
        screened = cleaned
        guards = self._guards
        candidates = guards.candidates(starts)
        if (
            self._yields
            and any(index in self._yields for index in candidates)
            and any(pattern.search(cleaned) for pattern in self._now)
        ):
            candidates = [index for index in candidates if index not in self._yields]
        for index in candidates:
            screened = guards.patterns[index].sub(" ", screened)
        if screened is not cleaned:
            starts = _starts(screened)
        silenced: set[str] = set()
        flags = self._flags
        for index in flags.candidates(starts):
            flag = self._owners[index]
            if flag.id in silenced or (skip_soon and flag.band != "urgent"):
                continue
            found = flags.patterns[index].search(screened)
            if found is None:
                continue
            if any(pattern.search(cleaned) for pattern in flag.unless):
                silenced.add(flag.id)
                continue
            return Screen(flag=flag, matched=found.group(0))
        return None

    def language(self, text: str, urgent: bool = False) -> Verdict | None:
        """For a message not in English: its emergency or "English only" verdict.

        ``urgent``: the net fired, so a non-English message gets its language's
        emergency reply (the net's English reply would give it no number it can read).
        """
        languages = self.red_flags.languages
        if languages is None:
            return None
        return languages.judge(text[:MAX_CHARS], urgent=urgent)

    def screen(self, text: str) -> RedFlag | None:
        """The red flag raised by ``text``, or None."""
        result = self.check(text)
        return result.flag if result is not None else None

    def urgent_text(self, flag: RedFlag) -> str:
        """What the user reads: the calm common reply, then why this flag matters."""
        return f"{flag.reply or self.red_flags.reply}\n\n{flag.why}".strip()


def screen(red_flags: RedFlagsFile, text: str) -> RedFlag | None:
    """Functional form of ``SafetyScreen(red_flags).screen(text)``."""
    return SafetyScreen(red_flags).screen(text)


__all__ = ["MAX_CHARS", "NET_FLAG", "SOON_NET_FLAG", "SafetyScreen", "Screen", "anchor", "screen"]
