"""``knowledge/routines.yaml``: guided self-massage routines.

File shape::

    safety: <the short safety line shown before any routine starts>
    routines:
      - id: quick-calm
        title: Quick calm
        purpose: <one sentence>
        minutes: 3                 # total length, must match the steps' sum
        steps:
          - text: <an instruction in plain words>
            seconds: 30
            area: solar-plexus     # a foot-map area or region id (foot_map.yaml), or whole-foot
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from bot.core.knowledge.source import (
    LocatedDict,
    LocatedList,
    Problems,
    check_fields,
    first_use_of_id,
    number_field,
    read_yaml,
    text_field,
    top_level_list,
)

_ROUTINE_REQUIRED = {"id", "title", "purpose", "minutes", "steps"}
_STEP_REQUIRED = {"text", "seconds", "area"}
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,30}$")  # short enough for callback data
# The steps' total may differ from the announced length by this share.
LENGTH_TOLERANCE = 0.25


@dataclass(frozen=True)
class Step:
    text: str
    seconds: float
    area: str


@dataclass(frozen=True)
class Routine:
    id: str
    title: str
    purpose: str
    minutes: float
    steps: tuple[Step, ...]

    @property
    def total_seconds(self) -> float:
        return sum(step.seconds for step in self.steps)


@dataclass(frozen=True)
class RoutinesFile:
    safety: str
    routines: dict[str, Routine]


def parse_routines(
    data: object, problems: Problems, areas: Collection[str] | None = None
) -> RoutinesFile:
    """Validate the parsed routines file; ``areas``: the step areas allowed (foot map ids)."""
    if areas is None:
        from bot.core.foot_zones import AREA_IDS  # the packaged foot map

        areas = AREA_IDS
    entries = top_level_list(data, "routines", problems, {"safety"})
    safety = ""
    if isinstance(data, LocatedDict):
        if "safety" not in data:
            problems.add(data.line, "safety", "missing field")
        safety = text_field(data, "safety", problems, "")
    routines: dict[str, Routine] = {}
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        where = f"routines[{index}]"
        if not check_fields(entry, problems, where, _ROUTINE_REQUIRED):
            continue
        routine_id = text_field(entry, "id", problems, where)
        if routine_id and not _ID_RE.match(routine_id):
            problems.add(
                entry.line_of("id"), f"{where}.id", "use lower-case letters, digits, dashes"
            )
        if not first_use_of_id(entry, routine_id, seen, problems, where):
            continue
        minutes = number_field(entry, "minutes", problems, where, 0.5, 60)
        steps: list[Step] = []
        raw_steps = entry.get("steps")
        if not isinstance(raw_steps, LocatedList) or not raw_steps:
            problems.add(entry.line_of("steps"), f"{where}.steps", "must be a non-empty list")
            raw_steps = LocatedList()
        for step_index, step in enumerate(raw_steps):
            step_where = f"{where}.steps[{step_index}]"
            if not check_fields(step, problems, step_where, _STEP_REQUIRED):
                continue
            area = text_field(step, "area", problems, step_where)
            if area and area not in areas:
                problems.add(
                    step.line_of("area"),
                    f"{step_where}.area",
                    f"unknown area {area!r} (known: {', '.join(areas)})",
                )
            steps.append(
                Step(
                    text=text_field(step, "text", problems, step_where),
                    seconds=number_field(step, "seconds", problems, step_where, 1, 600),
                    area=area,
                )
            )
        routine = Routine(
            id=routine_id,
            title=text_field(entry, "title", problems, where),
            purpose=text_field(entry, "purpose", problems, where),
            minutes=minutes,
            steps=tuple(steps),
        )
        if (
            steps
            and minutes
            and abs(routine.total_seconds - minutes * 60) > (LENGTH_TOLERANCE * minutes * 60)
        ):
            problems.add(
                entry.line_of("minutes"),
                f"{where}.minutes",
                f"says {minutes} min but the steps add up to {routine.total_seconds:.0f} s",
            )
        if routine_id:
            routines[routine_id] = routine
    if isinstance(data, LocatedDict) and not routines and not problems:
        problems.add(data.line, "routines", "at least one routine is needed")
    return RoutinesFile(safety=safety, routines=routines)


def load_routines(
    path: Path, problems: Problems, areas: Collection[str] | None = None
) -> RoutinesFile:
    """Read and validate ``path``."""
    return parse_routines(read_yaml(path, problems), problems, areas)
