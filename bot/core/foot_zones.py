"""The traditional reflexology areas of the foot (a belief, not anatomy).

The areas, their words and the coarse regions that routine steps name live in
``knowledge/foot_map.yaml`` (validated by ``kb check``). This module reads the packaged
file lazily, so importing it never fails and ``kb check`` can report a broken file
with its lines, and answers the question the adapters ask: which picture goes with
this area, region or foot-map entry (:func:`map_picture`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, overload

from bot.core.knowledge.foot_map import WHOLE_FOOT, FootMapFile

if TYPE_CHECKING:
    from bot.core.knowledge import Knowledge


@cache
def default_foot_map() -> FootMapFile:
    """The packaged ``foot_map.yaml``, validated; KnowledgeError when it is broken."""
    from bot.core.knowledge import DEFAULT_DIR, KnowledgeError
    from bot.core.knowledge.foot_map import load_foot_map
    from bot.core.knowledge.source import Problems

    path = DEFAULT_DIR / "foot_map.yaml"
    problems = Problems(path)
    foot_map = load_foot_map(path, problems)
    if problems:
        raise KnowledgeError(problems.items)
    return foot_map


def zone_labels(foot_map: FootMapFile) -> dict[str, str]:
    """Zone id -> how a routine step names it: every area, then every region."""
    labels = {area.id: area.step_label or area.label for area in foot_map.areas}
    labels.update({region.id: region.label for region in foot_map.regions})
    return labels


class _Zones(Mapping[str, str]):
    """:func:`zone_labels` of the packaged map, read on first use."""

    def _labels(self) -> dict[str, str]:
        return zone_labels(default_foot_map())

    def __getitem__(self, key: str) -> str:
        return self._labels()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._labels())

    def __len__(self) -> int:
        return len(self._labels())


class _AreaIds(Sequence[str]):
    """Every zone id plus ``whole-foot``: what a routine step may name."""

    def _ids(self) -> tuple[str, ...]:
        return (*default_foot_map().zone_ids, WHOLE_FOOT)

    @overload
    def __getitem__(self, index: int) -> str: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[str]: ...
    def __getitem__(self, index: int | slice) -> str | Sequence[str]:
        return self._ids()[index]

    def __len__(self) -> int:
        return len(self._ids())


# id -> label, for every area and region of the packaged map (routines use them).
FOOT_ZONES: Mapping[str, str] = _Zones()
AREA_IDS: Sequence[str] = _AreaIds()


def zone_areas(foot_map: FootMapFile, zone: str) -> tuple[str, ...]:
    """The area ids a zone covers: itself for an area, its members for a region."""
    if foot_map.area(zone) is not None:
        return (zone,)
    region = foot_map.region(zone)
    if region is not None:
        return region.areas
    known = ", ".join([*foot_map.zone_ids, WHOLE_FOOT])
    raise ValueError(f"unknown foot zone {zone!r}; known: {known}")


@dataclass(frozen=True)
class MapPicture:
    """Which chart to send and the one line that goes with it."""

    zone: str | None  # an area or region id to highlight; None: the plain chart
    line: str  # the area's "says" line, a region's label, or the plain chart's line


def map_picture(ref: str | None, knowledge: Knowledge | None = None) -> MapPicture:
    """The picture for an area id, a region id, ``whole-foot`` or a foot-map entry id.

    An entry id gives the picture of its ``area``; an entry without one (the map
    overview), ``None``, ``whole-foot`` or an unknown id give the plain chart.
    ``knowledge`` supplies the entries and the map (default: the packaged map, and
    then entry ids are not known).
    """
    foot_map = knowledge.foot_map if knowledge is not None else default_foot_map()
    plain = MapPicture(None, foot_map.plain_line)
    if not ref or ref == WHOLE_FOOT:
        return plain
    if knowledge is not None and ref in knowledge.entry_by_id:
        ref = knowledge.entry_by_id[ref].area
        if not ref:
            return plain
    area = foot_map.area(ref)
    if area is not None:
        return MapPicture(area.id, area.says)
    region = foot_map.region(ref)
    if region is not None:
        return MapPicture(region.id, region.label)
    return plain


__all__ = [
    "AREA_IDS",
    "FOOT_ZONES",
    "WHOLE_FOOT",
    "MapPicture",
    "default_foot_map",
    "map_picture",
    "zone_areas",
    "zone_labels",
]
