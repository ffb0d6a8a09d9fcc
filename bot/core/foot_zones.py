"""The traditional reflexology zones of the sole (a belief, not anatomy).

Routines name these ids in each step's ``area``; the foot map draws and highlights them.
"""

from __future__ import annotations

# id -> label shown on the chart and in routine steps
FOOT_ZONES: dict[str, str] = {
    "head": "Toes: head and sinuses",
    "neck": "Base of the toes: neck",
    "chest": "Ball of the foot: chest and lungs",
    "solar-plexus": "Solar plexus point",
    "digestion": "Middle of the sole: digestive organs",
    "lower-back": "Heel: lower back and pelvis",
    "spine": "Inner edge: spine",
}
WHOLE_FOOT = "whole-foot"  # a step that works on the whole foot: no highlight
AREA_IDS: tuple[str, ...] = (*FOOT_ZONES, WHOLE_FOOT)
