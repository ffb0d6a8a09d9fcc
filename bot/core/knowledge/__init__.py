"""Loading and validating the knowledge base (``knowledge/*.yaml``).

``load_knowledge`` reads every file, validates it, and either returns a
``Knowledge`` or raises ``KnowledgeError`` listing every problem with its file,
line and field. ``python -m bot kb check`` is a thin wrapper around it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from bot.core.knowledge.entries import EntriesFile, Entry, check_references, load_entries
from bot.core.knowledge.followups import FollowUpsFile, load_followups
from bot.core.knowledge.red_flags import RedFlag, RedFlagsFile, load_red_flags
from bot.core.knowledge.routines import Routine, RoutinesFile, Step, load_routines
from bot.core.knowledge.source import KnowledgeError, Problem, Problems
from bot.core.knowledge.tips import Tip, load_tips
from bot.core.knowledge.topics import (
    TOPIC_IDS,
    URGENT,
    OutOfScope,
    Topic,
    TopicsFile,
    load_topics,
    load_topics_folder,
)


def _default_dir() -> Path:
    """The knowledge base: inside the installed package, else the repository's folder.

    A built wheel carries it as ``bot/knowledge``; a source checkout or an editable
    install keeps the editor's copy at the top of the repository, which is then the
    one to read (so edits take effect without reinstalling).
    """
    packaged = resources.files("bot") / "knowledge"
    if packaged.is_dir():
        return Path(str(packaged))
    return Path(__file__).resolve().parents[3] / "knowledge"


DEFAULT_DIR = _default_dir()
FILES = ("common.yaml", "red_flags.yaml", "routines.yaml", "tips.yaml", "followups.yaml")


@dataclass(frozen=True)
class Knowledge:
    """Everything the core knows, validated."""

    directory: Path
    topics_file: TopicsFile
    red_flags: RedFlagsFile
    routines_file: RoutinesFile
    tips: tuple[Tip, ...]
    # Specific entries inside topics (knowledge/entries/) and follow-up phrasings.
    entries_file: EntriesFile | None = None
    followups: FollowUpsFile = field(default_factory=FollowUpsFile)

    @property
    def entries(self) -> dict[str, tuple[Entry, ...]]:
        """Entries by topic id, the overview first (empty for a topic without entries)."""
        return self.entries_file.by_topic if self.entries_file else {}

    def topic_answer(self, topic_id: str) -> str:
        """The topic's answer: its overview entry's, else the one in topics.yaml."""
        entries = self.entries.get(topic_id)
        return entries[0].answer if entries else self.topics[topic_id].answer

    @property
    def entry_by_id(self) -> dict[str, Entry]:
        return self.entries_file.by_id if self.entries_file else {}

    @property
    def topics(self) -> dict[str, Topic]:
        return self.topics_file.topics

    @property
    def caveat(self) -> str:
        return self.topics_file.caveat

    @property
    def routines(self) -> dict[str, Routine]:
        return self.routines_file.routines


def load_knowledge(directory: Path | None = None) -> Knowledge:
    """Load and validate every knowledge file; raise ``KnowledgeError`` on any problem."""
    directory = Path(directory) if directory is not None else DEFAULT_DIR
    found: list[Problem] = []

    def problems_for(name: str) -> Problems:
        return Problems(directory / name)

    # One file per topic (the shipped layout), or a single topics.yaml (older copies).
    single = directory / "topics.yaml"
    flags_problems = problems_for("red_flags.yaml")
    routines_problems = problems_for("routines.yaml")
    tips_problems = problems_for("tips.yaml")
    if single.exists():
        topics_problem_list = [problems_for("topics.yaml")]
        topics_file = load_topics(single, topics_problem_list[0])
    else:
        topics_file, topics_problem_list = load_topics_folder(directory)
    red_flags = load_red_flags(directory / "red_flags.yaml", flags_problems)
    routines_file = load_routines(directory / "routines.yaml", routines_problems)
    tips = load_tips(directory / "tips.yaml", tips_problems)
    entries_file, entry_problems = load_entries(directory / "entries", TOPIC_IDS)
    followups_problems = problems_for("followups.yaml")
    followups = load_followups(directory / "followups.yaml", followups_problems)
    check_references(entries_file, set(topics_file.topics), set(routines_file.routines))
    # A target is checked once its topic has entries (ids are topic-prefixed), so a
    # topic's file can be added after the follow-ups that will point into it.
    prefixes = {f"{t}-": t for t in TOPIC_IDS} | {"greet-": "greeting"}
    for line, field_name, ref in followups.entry_refs:
        topic = next((t for p, t in prefixes.items() if ref.startswith(p)), None)
        checkable = topic is None or topic in entries_file.by_topic
        if checkable and ref not in entries_file.by_id:
            followups_problems.add(line, field_name, f"unknown entry {ref!r}")
    for problems in (
        *topics_problem_list,
        flags_problems,
        routines_problems,
        tips_problems,
        *entry_problems,
        followups_problems,
    ):
        found.extend(problems.items)
    if found:
        raise KnowledgeError(found)
    return Knowledge(
        directory, topics_file, red_flags, routines_file, tips, entries_file, followups
    )


__all__ = [
    "DEFAULT_DIR",
    "FILES",
    "TOPIC_IDS",
    "URGENT",
    "Entry",
    "FollowUpsFile",
    "Knowledge",
    "KnowledgeError",
    "OutOfScope",
    "Problem",
    "RedFlag",
    "Routine",
    "Step",
    "Tip",
    "Topic",
    "load_knowledge",
]
