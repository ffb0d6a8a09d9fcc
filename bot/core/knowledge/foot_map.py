"""``knowledge/foot_map.yaml``: the areas of the foot map and the words on the picture.

File shape::

    title: Foot reflexology map
    subtitle: Soles seen from below
    plain_line: <the line under the plain map>
    caption: [<line>, <line>]        # says it is a traditional map, not anatomy
    side_view: <heading of the small side view>
    areas:
      - id: kidneys                  # what entries' ``area`` and routine steps name
        label: Kidneys               # printed on the chart (short, plain letters)
        feet: both                   # both | left | right
        says: <one line shown when the area is highlighted>
        step_label: <optional: how a routine step names it>
    regions:                         # coarse groups routine steps name
      - id: digestion
        label: "Middle of the sole: digestive organs"
        areas: [liver, stomach, ...]

The shapes themselves are drawing details (``bot/pictures/foot_map.py``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.core.knowledge.source import (
    LocatedDict,
    LocatedList,
    Problems,
    check_fields,
    first_use_of_id,
    read_yaml,
    text_field,
    text_list_field,
)

FEET = ("both", "left", "right")
MAX_LABEL_CHARS = 18  # a label must fit the chart's margin at a readable size
MAX_SAYS_CHARS = 64  # one line under the picture
MAX_LINE_CHARS = 70  # title, caption lines
# The font the chart uses lacks some glyphs (an em dash draws as a box).
_PLAIN_TEXT = re.compile(r"^[A-Za-z0-9 .,:;'\"()?!/=+&-]*$")
_ID_RE = re.compile(r"^[a-z][a-z0-9-]{0,30}$")
_FILE_FIELDS = {"title", "subtitle", "plain_line", "caption", "side_view", "areas", "regions"}
_AREA_REQUIRED = {"id", "label", "feet", "says"}
_AREA_OPTIONAL = {"step_label"}
_REGION_REQUIRED = {"id", "label", "areas"}
WHOLE_FOOT = "whole-foot"  # a routine step on the whole foot: no highlight


@dataclass(frozen=True)
class MapArea:
    """One reflex area of the chart."""

    id: str
    label: str
    feet: str
    says: str
    step_label: str = ""


@dataclass(frozen=True)
class MapRegion:
    """A group of areas that a routine step names (highlighted together)."""

    id: str
    label: str
    areas: tuple[str, ...]


@dataclass(frozen=True)
class FootMapFile:
    title: str = ""
    subtitle: str = ""
    plain_line: str = ""
    caption: tuple[str, ...] = ()
    side_view: str = ""
    areas: tuple[MapArea, ...] = ()
    regions: tuple[MapRegion, ...] = ()

    @property
    def area_ids(self) -> tuple[str, ...]:
        return tuple(area.id for area in self.areas)

    @property
    def zone_ids(self) -> tuple[str, ...]:
        """Everything a picture can highlight: areas, then regions."""
        return (*self.area_ids, *(region.id for region in self.regions))

    def area(self, area_id: str) -> MapArea | None:
        return next((a for a in self.areas if a.id == area_id), None)

    def region(self, region_id: str) -> MapRegion | None:
        return next((r for r in self.regions if r.id == region_id), None)


def _plain(
    entry: LocatedDict, name: str, value: str, limit: int, problems: Problems, where: str
) -> None:
    field = f"{where}.{name}" if where else name
    if len(value) > limit:
        problems.add(entry.line_of(name), field, f"{len(value)} characters (at most {limit})")
    if value and not _PLAIN_TEXT.match(value):
        bad = sorted({c for c in value if not _PLAIN_TEXT.match(c)})
        problems.add(
            entry.line_of(name), field, f"use plain letters and ASCII punctuation (not {bad})"
        )


def parse_foot_map(data: object, problems: Problems) -> FootMapFile:
    """Validate the parsed foot-map file."""
    if not isinstance(data, LocatedDict):
        if data is not None:
            problems.add(getattr(data, "line", 1), "(file)", "expected a mapping at the top level")
        return FootMapFile()
    check_fields(data, problems, "", {"title", "caption", "areas"}, _FILE_FIELDS)
    texts: dict[str, str] = {}
    for name in ("title", "subtitle", "plain_line", "side_view"):
        texts[name] = text_field(data, name, problems, "")
        _plain(data, name, texts[name], MAX_LINE_CHARS, problems, "")
    caption = text_list_field(data, "caption", problems, "", 1)
    for index, (line_text, line) in enumerate(caption):
        if len(line_text) > MAX_LINE_CHARS:
            problems.add(line, f"caption[{index}]", f"at most {MAX_LINE_CHARS} characters")
    if caption and not any("not anatomy" in text for text, _ in caption):
        problems.add(data.line_of("caption"), "caption", 'must say the map is "not anatomy"')
    areas = _parse_areas(data.get("areas"), data.line_of("areas"), problems)
    known = {area.id for area in areas}
    regions = _parse_regions(data.get("regions"), data.line_of("regions"), known, problems)
    return FootMapFile(
        title=texts["title"],
        subtitle=texts["subtitle"],
        plain_line=texts["plain_line"],
        caption=tuple(text for text, _ in caption),
        side_view=texts["side_view"],
        areas=areas,
        regions=regions,
    )


def _parse_areas(raw: object, line: int, problems: Problems) -> tuple[MapArea, ...]:
    if not isinstance(raw, LocatedList) or not raw:
        problems.add(line, "areas", "must be a non-empty list")
        return ()
    seen: dict[str, int] = {}
    areas: list[MapArea] = []
    for index, entry in enumerate(raw):
        where = f"areas[{index}]"
        if not check_fields(entry, problems, where, _AREA_REQUIRED, _AREA_OPTIONAL):
            continue
        area_id = text_field(entry, "id", problems, where)
        if area_id and not _ID_RE.match(area_id):
            problems.add(
                entry.line_of("id"), f"{where}.id", "use lower-case letters, digits, dashes"
            )
        if area_id == WHOLE_FOOT:
            problems.add(entry.line_of("id"), f"{where}.id", f"{WHOLE_FOOT!r} is reserved")
        if not first_use_of_id(entry, area_id, seen, problems, where):
            continue
        label = text_field(entry, "label", problems, where)
        _plain(entry, "label", label, MAX_LABEL_CHARS, problems, where)
        says = text_field(entry, "says", problems, where)
        _plain(entry, "says", says, MAX_SAYS_CHARS, problems, where)
        feet = text_field(entry, "feet", problems, where)
        if feet and feet not in FEET:
            problems.add(
                entry.line_of("feet"), f"{where}.feet", f"must be one of {', '.join(FEET)}"
            )
        step_label = text_field(entry, "step_label", problems, where)
        if area_id and label and says and feet in FEET:
            areas.append(MapArea(area_id, label, feet, says, step_label))
    return tuple(areas)


def _parse_regions(
    raw: object, line: int, known: set[str], problems: Problems
) -> tuple[MapRegion, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, LocatedList):
        problems.add(line, "regions", "must be a list")
        return ()
    seen: dict[str, int] = {}
    regions: list[MapRegion] = []
    for index, entry in enumerate(raw):
        where = f"regions[{index}]"
        if not check_fields(entry, problems, where, _REGION_REQUIRED):
            continue
        region_id = text_field(entry, "id", problems, where)
        if region_id in known or region_id == WHOLE_FOOT:
            problems.add(entry.line_of("id"), f"{where}.id", f"{region_id!r} is already an area")
            continue
        if not first_use_of_id(entry, region_id, seen, problems, where):
            continue
        label = text_field(entry, "label", problems, where)
        members = text_list_field(entry, "areas", problems, where, 1)
        for member_index, (member, member_line) in enumerate(members):
            if member not in known:
                problems.add(
                    member_line, f"{where}.areas[{member_index}]", f"unknown area {member!r}"
                )
        if region_id and label:
            regions.append(MapRegion(region_id, label, tuple(m for m, _ in members if m in known)))
    return tuple(regions)


def load_foot_map(path: Path, problems: Problems) -> FootMapFile:
    """Read and validate ``path``."""
    return parse_foot_map(read_yaml(path, problems), problems)


__all__ = [
    "FEET",
    "WHOLE_FOOT",
    "FootMapFile",
    "MapArea",
    "MapRegion",
    "load_foot_map",
    "parse_foot_map",
]
