"""Loading and validating the knowledge base (``knowledge/*.yaml``).

``load_knowledge`` reads every file, validates it, and either returns a
``Knowledge`` or raises ``KnowledgeError`` listing every problem with its file,
line and field. ``python -m bot kb check`` is a thin wrapper around it.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from bot.core.knowledge.red_flags import RedFlag, RedFlagsFile, load_red_flags
from bot.core.knowledge.routines import Routine, RoutinesFile, Step, load_routines
from bot.core.knowledge.source import KnowledgeError, Problem, Problems
from bot.core.knowledge.tips import Tip, load_tips
from bot.core.knowledge.topics import TOPIC_IDS, URGENT, OutOfScope, Topic, TopicsFile, load_topics


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
FILES = ("topics.yaml", "red_flags.yaml", "routines.yaml", "tips.yaml")


@dataclass(frozen=True)
class Knowledge:
    """Everything the core knows, validated."""

    directory: Path
    topics_file: TopicsFile
    red_flags: RedFlagsFile
    routines_file: RoutinesFile
    tips: tuple[Tip, ...]

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

    topics_problems = problems_for("topics.yaml")
    flags_problems = problems_for("red_flags.yaml")
    routines_problems = problems_for("routines.yaml")
    tips_problems = problems_for("tips.yaml")
    topics_file = load_topics(directory / "topics.yaml", topics_problems)
    red_flags = load_red_flags(directory / "red_flags.yaml", flags_problems)
    routines_file = load_routines(directory / "routines.yaml", routines_problems)
    tips = load_tips(directory / "tips.yaml", tips_problems)
    for problems in (topics_problems, flags_problems, routines_problems, tips_problems):
        found.extend(problems.items)
    if found:
        raise KnowledgeError(found)
    return Knowledge(directory, topics_file, red_flags, routines_file, tips)


__all__ = [
    "DEFAULT_DIR",
    "FILES",
    "TOPIC_IDS",
    "URGENT",
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
