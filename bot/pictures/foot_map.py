"""The traditional reflexology chart of both soles, drawn with Pillow.

Both soles are seen from below, the big toes on the inner side; a small side view of
the inner ankle carries the areas that are not on the sole (lymph across the top of
the foot, the reproductive areas below the ankle bones). Every area of
``knowledge/foot_map.yaml`` has a shape here; the feet differ where the charts do
(heart, stomach, pancreas and spleen on the left foot, liver and gallbladder on the
right). ``render_foot_map(zone)`` draws the chart with that area (or region) in a
strong accent colour, the other areas muted, its label emphasised and its one-line
description under the feet. The chart is a belief that varies between schools, not
anatomy, and its caption says so.

Shapes are drawn at twice the final size into one palette image (an index per area),
which is computed once per process; a variant only swaps the palette, reduces, and
adds the text, so all variants together render in well under a second or two.
:class:`FootMapCache` keeps the rendered bytes and the Telegram ``file_id`` of each.
Every text is at least 26 px on a 1000 px wide picture, so it stays readable when a
phone shows the picture about 400 px wide.
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

from bot.core.foot_zones import WHOLE_FOOT, default_foot_map, zone_areas
from bot.core.knowledge.foot_map import FootMapFile

__all__ = [
    "ACCENT",
    "ACCENT_DARK",
    "AREA_COLOURS",
    "HEIGHT",
    "SHAPES",
    "WIDTH",
    "FootMapCache",
    "halo_boxes",
    "label_region",
    "render_all",
    "render_foot_map",
    "text_layer_mask",
    "zone_ids",
    "zone_mask",
    "zone_region",
]

Point = tuple[float, float]
Box = tuple[int, int, int, int]
RGB = tuple[int, int, int]

WIDTH, HEIGHT = 1000, 1190  # final picture size in pixels
SCALE = 2  # shapes are drawn at SCALE x the final size, then reduced (anti-aliasing)

FOOT_LENGTH = 590.0  # big toe tip to heel, in final pixels
FOOT_TOP = 128.0  # y of the big toe tips
FOOT_CENTRES = {"left": 372.0, "right": 628.0}  # x of each foot's long axis
SIDE_SIGN = {"left": 1.0, "right": -1.0}  # local +x (inner side) -> image direction
SIDE_VIEW_ORIGIN: Point = (352.0, 772.0)  # top-left of the side view (final px)

# Calm palette; one accent for the highlighted area.
BACKGROUND: RGB = (251, 248, 243)
SKIN: RGB = (244, 236, 226)  # sole parts no area claims
INK: RGB = (46, 46, 52)
SOFT_INK: RGB = (88, 88, 96)
OUTLINE: RGB = (150, 122, 100)
SEPARATOR: RGB = (253, 251, 247)
LEADER: RGB = (120, 120, 128)
ACCENT: RGB = (222, 84, 45)
ACCENT_DARK: RGB = (142, 44, 16)
ACCENT_TINT: RGB = (252, 228, 218)
MUTE_TOWARDS: RGB = (236, 233, 228)
MUTE_AMOUNT = 0.62

AREA_COLOURS: dict[str, RGB] = {
    "head-brain": (200, 192, 230),
    "pituitary": (150, 132, 206),
    "sinuses": (176, 204, 240),
    "teeth-jaw": (232, 196, 226),
    "neck": (150, 212, 202),
    "thyroid": (96, 186, 178),
    "eyes": (250, 220, 130),
    "ears": (246, 180, 130),
    "chest-lungs": (182, 210, 238),
    "heart": (236, 150, 164),
    "shoulder": (206, 186, 150),
    "diaphragm": (120, 156, 196),
    "solar-plexus": (240, 196, 80),
    "liver": (196, 138, 116),
    "gallbladder": (132, 192, 104),
    "stomach": (250, 202, 156),
    "pancreas": (232, 220, 136),
    "spleen": (196, 156, 204),
    "adrenals": (248, 160, 90),
    "kidneys": (226, 140, 132),
    "bladder": (160, 206, 240),
    "small-intestine": (204, 228, 180),
    "large-intestine": (104, 184, 158),
    "spine": (226, 168, 186),
    "lower-back": (242, 210, 170),
    "sciatic": (214, 172, 120),
    "arm-elbow": (200, 220, 140),
    "knee": (168, 196, 226),
    "hip": (214, 190, 164),
    "reproductive": (238, 172, 204),
    "lymph": (164, 218, 196),
}

# ---------------------------------------------------------------------------------------
# Geometry of one sole in local units: x across the foot in foot lengths, positive
# towards the inner side (big toe); y down from the big toe tip (0) to the heel (~1).

# Sole outline without the toes, clockwise for the left foot, starting at the inner end
# of the toe crease and going down the inner edge first (the spine strip relies on it).
BODY_POINTS: tuple[Point, ...] = (
    (0.168, 0.190),
    (0.193, 0.262),
    (0.186, 0.345),
    (0.158, 0.440),
    (0.116, 0.540),
    (0.103, 0.630),
    (0.113, 0.730),
    (0.121, 0.825),
    (0.106, 0.905),
    (0.066, 0.960),
    (0.000, 0.984),
    (-0.066, 0.963),
    (-0.110, 0.900),
    (-0.128, 0.780),
    (-0.133, 0.660),
    (-0.150, 0.545),
    (-0.172, 0.430),
    (-0.190, 0.345),
    (-0.188, 0.295),
    (-0.160, 0.262),
    (-0.110, 0.232),
    (-0.040, 0.203),
    (0.040, 0.183),
    (0.110, 0.176),
)


@dataclass(frozen=True)
class Toe:
    tip_x: float
    tip_y: float
    half_width: float
    tilt_deg: float  # positive: the tip leans towards the outer side
    length: float = 0.24  # tip to the (hidden) base, well under the sole outline


TOES: tuple[Toe, ...] = (
    Toe(0.127, 0.000, 0.064, 3.0),  # big toe
    Toe(0.030, 0.050, 0.036, 5.0),
    Toe(-0.045, 0.088, 0.034, 8.0),
    Toe(-0.111, 0.128, 0.032, 12.0),
    Toe(-0.166, 0.175, 0.029, 18.0),
)
DIAPHRAGM_LINE: tuple[Point, ...] = ((0.30, 0.385), (0.10, 0.400), (-0.10, 0.418), (-0.30, 0.452))
HEEL_LINE: tuple[Point, ...] = ((0.30, 0.780), (0.0, 0.770), (-0.30, 0.780))
SPINE_WIDTH = 0.040
SPINE_END_Y = 0.905
OUTER_WIDTH = 0.036

# The side view (inner side of the foot, toes to the left), in final px from its origin.
SIDE_OUTLINE: tuple[Point, ...] = (
    (196, 0),
    (262, 0),
    (262, 62),
    (270, 100),
    (284, 132),
    (282, 156),
    (262, 170),
    (150, 170),
    (60, 166),
    (20, 160),
    (6, 148),
    (14, 134),
    (60, 124),
    (118, 108),
    (168, 88),
    (192, 62),
)
ANKLE_BONE: tuple[float, float, float] = (232.0, 96.0, 15.0)  # centre x, y, radius


def _catmull_rom(points: Sequence[Point], closed: bool, samples: int = 14) -> list[Point]:
    """A smooth curve through ``points`` (uniform Catmull-Rom spline)."""
    n = len(points)
    out: list[Point] = []
    segments = n if closed else n - 1
    for i in range(segments):
        p0 = points[(i - 1) % n] if closed else points[max(i - 1, 0)]
        p1 = points[i]
        p2 = points[(i + 1) % n]
        p3 = points[(i + 2) % n] if closed else points[min(i + 2, n - 1)]
        for k in range(samples):
            t = k / samples
            out.append(
                (_spline(p0[0], p1[0], p2[0], p3[0], t), _spline(p0[1], p1[1], p2[1], p3[1], t))
            )
    if not closed:
        out.append(points[-1])
    return out


def _spline(a: float, b: float, c: float, d: float, t: float) -> float:
    """One coordinate of a Catmull-Rom segment from b (t=0) to c (t=1)."""
    return 0.5 * (
        2 * b + (c - a) * t + (2 * a - 5 * b + 4 * c - d) * t * t + (3 * b - a - 3 * c + d) * t**3
    )


def _toe_outline(toe: Toe, steps: int = 40) -> list[Point]:
    """A rounded toe: a round pad at the tip, sides narrowing a little towards the base."""
    hw = toe.half_width
    cap = hw * 1.15  # depth of the rounded tip
    local: list[Point] = []
    for k in range(steps + 1):  # the tip, from the inner side over the top to the outer
        t = math.pi * k / steps
        local.append((hw * math.cos(t), cap - cap * math.sin(t)))
    for y in (cap + 0.04, cap + 0.09, toe.length):  # outer side, down to the base
        local.append((-hw * _toe_taper(y - cap), y))
    for y in (toe.length, cap + 0.09, cap + 0.04):  # inner side, back up
        local.append((hw * _toe_taper(y - cap), y))
    return _tilted(toe, local)


def _tilted(toe: Toe, local: Iterable[Point]) -> list[Point]:
    """Toe-local offsets (from the tip) -> foot-local points, following the toe's tilt."""
    angle = math.radians(toe.tilt_deg)
    cos_a, sin_a = math.cos(angle), math.sin(angle)
    return [
        (toe.tip_x + dx * cos_a + dy * sin_a, toe.tip_y - dx * sin_a + dy * cos_a)
        for dx, dy in local
    ]


def _toe_taper(depth: float) -> float:
    """Width factor of a toe ``depth`` below its rounded tip: the toe neck is slimmer."""
    return max(0.8, 1.0 - depth * 2.4)


def _ellipse(cx: float, cy: float, rx: float, ry: float, tilt_deg: float = 0.0) -> list[Point]:
    angle = math.radians(tilt_deg)
    points = []
    for k in range(48):
        t = 2 * math.pi * k / 48
        x, y = rx * math.cos(t), ry * math.sin(t)
        points.append(
            (
                cx + x * math.cos(angle) - y * math.sin(angle),
                cy + x * math.sin(angle) + y * math.cos(angle),
            )
        )
    return points


def _rect(x0: float, y0: float, x1: float, y1: float) -> list[Point]:
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def _below(line: Sequence[Point] | None, above: Sequence[Point] | None = None) -> list[Point]:
    """The polygon between two boundary lines (None: far above / far below)."""
    top = _catmull_rom(above, closed=False) if above else [(0.45, -0.5), (-0.45, -0.5)]
    bottom = _catmull_rom(line, closed=False) if line else [(0.45, 1.5), (-0.45, 1.5)]
    return [
        (0.45, top[0][1]),
        *top,
        (-0.45, top[-1][1]),
        (-0.45, bottom[-1][1]),
        *bottom[::-1],
        (0.45, bottom[0][1]),
    ]


def _body() -> list[Point]:
    return _catmull_rom(BODY_POINTS, closed=True)


def _spine_strip() -> list[Point]:
    """A strip along the inner edge, from the toe crease down to the heel."""
    edge: list[Point] = []
    for point in _body():  # the outline starts at the crease and runs down the inner edge
        if point[1] > SPINE_END_Y or point[0] < 0.0:
            break
        edge.append(point)
    length = len(edge)
    inner: list[Point] = []
    outer: list[Point] = []
    for i, (x, y) in enumerate(edge):
        ax, ay = edge[max(i - 1, 0)]
        bx, by = edge[min(i + 1, length - 1)]
        tx, ty = bx - ax, by - ay
        norm = math.hypot(tx, ty) or 1.0
        nx, ny = -ty / norm, tx / norm  # inward normal for this clockwise outline
        t = i / (length - 1)
        width = SPINE_WIDTH
        if t > 0.85:  # round off the lower end
            width *= math.sqrt(max(0.0, 1.0 - ((t - 0.85) / 0.15) ** 2))
        outer.append((x - nx * 0.02, y - ny * 0.02))  # beyond the edge; clipped later
        inner.append((x + nx * width, y + ny * width))
    return outer + inner[::-1]


def _outer_strip(y0: float, y1: float) -> list[Point]:
    """A strip along the outer edge (little-toe side) between heights y0 and y1."""
    edge = sorted((p for p in _body() if p[0] < -0.05 and y0 <= p[1] <= y1), key=lambda p: p[1])
    if not edge:
        return []
    return [(x - 0.03, y) for x, y in edge] + [(x + OUTER_WIDTH, y) for x, y in edge[::-1]]


@dataclass(frozen=True)
class Shape:
    """Where one area is drawn.

    ``clip``: ``sole`` (inside the sole outline), ``toes`` (the toes outside it),
    ``big-toe`` or ``side`` (the side view, in its own px). ``lines`` are polylines
    drawn ``width`` foot lengths wide (px for the side view), ``right_lines`` the
    right foot's when the charts draw it differently. ``label`` is the foot
    whose margin carries the label (an area on one foot only is labelled beside that
    foot, see ``feet`` in the YAML); ``target`` the point its leader ends at.
    """

    polygons: tuple[tuple[Point, ...], ...]
    clip: str
    label: str
    target: Point
    lines: tuple[tuple[Point, ...], ...] = ()
    width: float = 0.0
    right_lines: tuple[tuple[Point, ...], ...] | None = None  # the right foot's, if different

    def lines_of(self, foot: str | None) -> tuple[tuple[Point, ...], ...]:
        if foot == "right" and self.right_lines is not None:
            return self.right_lines
        return self.lines


def _shape(
    polygons: Iterable[Sequence[Point]],
    clip: str,
    label: str,
    target: Point,
    *,
    lines: Iterable[Sequence[Point]] = (),
    width: float = 0.0,
) -> Shape:
    return Shape(
        tuple(tuple(p) for p in polygons),
        clip,
        label,
        target,
        lines=tuple(tuple(line) for line in lines),
        width=width,
    )


def _small_toe_tips() -> list[list[Point]]:
    tips = []
    for toe in TOES[1:]:
        hw = toe.half_width
        tips.append(_tilted(toe, _ellipse(0.0, hw * 1.05, hw * 1.1, hw * 1.1)))
    return tips


BIG = TOES[0]

# Paint order: later areas are painted over earlier ones.
SHAPES: dict[str, Shape] = {
    # toes
    "head-brain": _shape([_toe_outline(t) for t in TOES], "toes", "left", (-0.030, 0.140)),
    "sinuses": _shape(_small_toe_tips(), "toes", "right", (-0.111, 0.160)),
    "neck": _shape([_rect(0.07, 0.122, 0.25, 0.30)], "big-toe", "left", (0.127, 0.150)),
    "teeth-jaw": _shape(
        [
            _rect(BIG.tip_x - 0.08, 0.022, BIG.tip_x - 0.038, 0.108),
            _rect(BIG.tip_x + 0.038, 0.022, BIG.tip_x + 0.08, 0.108),
        ],
        "big-toe",
        "left",
        (BIG.tip_x + 0.050, 0.070),
    ),
    "pituitary": _shape(
        [_ellipse(BIG.tip_x, 0.060, 0.021, 0.021)], "big-toe", "right", (BIG.tip_x, 0.060)
    ),
    # ball of the foot
    "chest-lungs": _shape([_below(DIAPHRAGM_LINE)], "sole", "right", (-0.090, 0.340)),
    "eyes": _shape([_ellipse(-0.008, 0.222, 0.058, 0.024, -8)], "sole", "left", (-0.008, 0.222)),
    "ears": _shape([_ellipse(-0.126, 0.262, 0.050, 0.023, -28)], "sole", "right", (-0.126, 0.262)),
    "thyroid": _shape([_ellipse(0.112, 0.222, 0.056, 0.028)], "sole", "right", (0.112, 0.222)),
    "heart": _shape([_ellipse(0.058, 0.318, 0.060, 0.044)], "sole", "left", (0.058, 0.318)),
    "shoulder": _shape([_ellipse(-0.182, 0.338, 0.048, 0.046)], "sole", "right", (-0.160, 0.338)),
    # upper arch
    "liver": _shape(
        [[(-0.25, 0.43), (0.08, 0.43), (0.08, 0.47), (-0.02, 0.53), (-0.25, 0.575)]],
        "sole",
        "right",
        (-0.060, 0.470),
    ),
    "gallbladder": _shape(
        [_ellipse(-0.082, 0.532, 0.024, 0.024)], "sole", "right", (-0.082, 0.532)
    ),
    "stomach": _shape([_ellipse(0.022, 0.478, 0.066, 0.038)], "sole", "left", (0.022, 0.478)),
    "spleen": _shape([_ellipse(-0.124, 0.490, 0.046, 0.046)], "sole", "left", (-0.118, 0.490)),
    "pancreas": _shape([_ellipse(-0.012, 0.545, 0.072, 0.019)], "sole", "left", (-0.030, 0.545)),
    # lower arch
    "small-intestine": _shape(
        [_ellipse(-0.004, 0.697, 0.060, 0.036)], "sole", "right", (-0.030, 0.697)
    ),
    "large-intestine": Shape(
        (),
        "sole",
        "left",
        (-0.078, 0.700),
        lines=(
            (
                (0.25, 0.645),
                (-0.078, 0.645),
                (-0.078, 0.738),
                (-0.05, 0.760),
                (0.02, 0.762),
                (0.05, 0.748),
            ),
        ),
        width=0.026,
        # the right foot: the ascending colon up the outer side, then across
        right_lines=(((0.25, 0.645), (-0.078, 0.645), (-0.078, 0.770)),),
    ),
    "kidneys": _shape(
        [_ellipse(0.038, 0.598, 0.030, 0.042, 10)],
        "sole",
        "right",
        (0.038, 0.598),
        lines=[((0.046, 0.630), (0.060, 0.680), (0.070, 0.715))],
        width=0.010,
    ),
    "adrenals": _shape([_ellipse(0.060, 0.546, 0.018, 0.018)], "sole", "left", (0.060, 0.546)),
    "bladder": _shape([_ellipse(0.070, 0.735, 0.030, 0.022)], "sole", "left", (0.060, 0.735)),
    # heel
    "lower-back": _shape([_below(None, HEEL_LINE)], "sole", "right", (-0.060, 0.905)),
    "sciatic": Shape(
        (), "sole", "right", (-0.040, 0.858), lines=(((0.25, 0.858), (-0.25, 0.858)),), width=0.024
    ),
    "diaphragm": Shape(
        (), "sole", "left", (-0.090, 0.418), lines=(tuple(DIAPHRAGM_LINE),), width=0.018
    ),
    # edges
    "arm-elbow": _shape([_outer_strip(0.385, 0.615)], "sole", "right", (-0.150, 0.520)),
    "knee": _shape([_outer_strip(0.630, 0.735)], "sole", "left", (-0.118, 0.680)),
    "hip": _shape([_outer_strip(0.750, 0.840)], "sole", "right", (-0.115, 0.800)),
    "spine": _shape([_spine_strip()], "sole", "left", (0.098, 0.800)),
    "solar-plexus": _shape([_ellipse(0.004, 0.414, 0.027, 0.027)], "sole", "right", (0.004, 0.414)),
    # the side view (px)
    "lymph": _shape(
        [
            [
                (86, 120),
                (118, 108),
                (168, 88),
                (192, 62),
                (196, 36),
                (216, 36),
                (214, 84),
                (190, 108),
                (128, 128),
                (92, 140),
            ]
        ],
        "side",
        "left",
        (150, 108),
    ),
    "reproductive": _shape([_ellipse(254, 134, 17, 14)], "side", "right", (254, 134)),
}
SMALL_AREA_PX = 40  # areas narrower than this get a ring around them when highlighted


def _to_image(side: str, points: Iterable[Point], scale: float = 1.0) -> list[Point]:
    """Local foot units -> image pixels (times ``scale``)."""
    cx, sign = FOOT_CENTRES[side], SIDE_SIGN[side]
    return [
        ((cx + sign * x * FOOT_LENGTH) * scale, (FOOT_TOP + y * FOOT_LENGTH) * scale)
        for x, y in points
    ]


def _side_to_image(points: Iterable[Point], scale: float = 1.0) -> list[Point]:
    ox, oy = SIDE_VIEW_ORIGIN
    return [((ox + x) * scale, (oy + y) * scale) for x, y in points]


def _feet(area: str) -> str:
    """Which feet carry the area (``knowledge/foot_map.yaml``): both, left or right."""
    found = default_foot_map().area(area)
    return found.feet if found is not None else "both"


def _label_side(area: str) -> str:
    """The margin of the area's label: its own foot when only one foot has it."""
    feet = _feet(area)
    return SHAPES[area].label if feet == "both" else feet


def _target_px(area: str) -> Point:
    shape = SHAPES[area]
    if shape.clip == "side":
        return _side_to_image([shape.target])[0]
    return _to_image(_label_side(area), [shape.target])[0]


def zone_ids() -> tuple[str, ...]:
    """Every zone the chart can highlight: the map's areas, then its regions."""
    return default_foot_map().zone_ids


# ---------------------------------------------------------------------------------------
# The base picture: one palette index per area


@dataclass(frozen=True)
class _Geometry:
    base: Image.Image  # mode "L" of palette indices at the drawing scale; a variant
    # only gives it a palette (putpalette turns a copy into mode "P")
    silhouette: Image.Image  # both feet and the side view, final scale, mode "L"
    # area -> (box, where it shows inside the box), final scale, mode "L"
    visible: dict[str, tuple[Box, Image.Image]]
    index: dict[str, int]  # palette index of every area


_FIXED = {"background": 0, "skin": 1, "separator": 2, "outline": 3}


def _new_mask() -> Image.Image:
    return Image.new("L", (WIDTH * SCALE, HEIGHT * SCALE), 0)


@cache
def _geometry() -> _Geometry:
    areas = [area for area in SHAPES if area in default_foot_map().area_ids]
    index = {**_FIXED, **{area: len(_FIXED) + i for i, area in enumerate(areas)}}
    body, toes, big_toe, side = _new_mask(), _new_mask(), _new_mask(), _new_mask()
    body_draw, toes_draw, big_draw = (
        ImageDraw.Draw(body),
        ImageDraw.Draw(toes),
        ImageDraw.Draw(big_toe),
    )
    body_lines: list[list[Point]] = []
    toe_lines: list[list[Point]] = []
    for foot in FOOT_CENTRES:
        line = _to_image(foot, _body(), SCALE)
        body_lines.append(line)
        body_draw.polygon(line, fill=255)
        for number, toe in enumerate(TOES):
            toe_px = _to_image(foot, _toe_outline(toe), SCALE)
            toe_lines.append(toe_px)
            toes_draw.polygon(toe_px, fill=255)
            if number == 0:
                big_draw.polygon(toe_px, fill=255)
    side_line = _side_to_image(_catmull_rom(SIDE_OUTLINE, closed=True, samples=8), SCALE)
    ImageDraw.Draw(side).polygon(side_line, fill=255)
    toes_only = ImageChops.subtract(toes, body)
    clips = {
        "sole": body,
        "toes": toes_only,
        "big-toe": ImageChops.multiply(big_toe, toes_only),
        "side": side,
    }
    base = Image.new("L", body.size, _FIXED["background"])
    base.paste(_FIXED["skin"], mask=ImageChops.lighter(ImageChops.lighter(body, toes), side))
    clip_boxes = {name: mask.getbbox() or (0, 0, 1, 1) for name, mask in clips.items()}
    boxes: dict[str, Box] = {}
    for area in areas:
        # Each area is drawn in its own small box: full-canvas masks for 31 areas made
        # the first picture take over a second.
        shape = SHAPES[area]
        feet: list[str | None] = list(FOOT_CENTRES) if _feet(area) == "both" else [_feet(area)]
        strokes: list[tuple[list[Point], int]] = []
        for where in [None] if shape.clip == "side" else feet:
            strokes.extend((_px(where, polygon), 0) for polygon in shape.polygons)
            width = round(shape.width * (1 if where is None else FOOT_LENGTH) * SCALE)
            strokes.extend((_px(where, line), width) for line in shape.lines_of(where))
        box = _paint_box(strokes, clip_boxes[shape.clip])
        boxes[area] = box
        mask = Image.new("L", (box[2] - box[0], box[3] - box[1]), 0)
        draw = ImageDraw.Draw(mask)
        for points, width in strokes:
            shifted = [(x - box[0], y - box[1]) for x, y in points]
            if width:
                draw.line(shifted, fill=255, width=width, joint="curve")
            else:
                draw.polygon(shifted, fill=255)
        clip = clips[shape.clip].crop(box)
        base.paste(index[area], box, mask=ImageChops.multiply(mask, clip))
    # thin light lines wherever two areas meet make neighbours easy to tell apart
    edges = ImageChops.lighter(
        ImageChops.difference(base, ImageChops.offset(base, 1, 0)),
        ImageChops.difference(base, ImageChops.offset(base, 0, 1)),
    ).point(lambda v: 255 if v else 0)
    edges = ImageChops.lighter(edges, ImageChops.offset(edges, -1, -1))
    outline = _outline_mask(body, body_lines, toe_lines, side_line)
    inside = ImageChops.subtract(base.point(lambda v: 255 if v >= _FIXED["skin"] else 0), outline)
    base.paste(_FIXED["separator"], mask=ImageChops.multiply(edges, inside))
    base.paste(_FIXED["outline"], mask=outline)
    visible: dict[str, tuple[Box, Image.Image]] = {}
    for area in areas:
        x0, y0, x1, y1 = boxes[area]
        small = (
            base.crop(boxes[area])
            .point([255 if v == index[area] else 0 for v in range(256)])
            .reduce(SCALE)
            .point(lambda v: 255 if v >= 128 else 0)
        )
        visible[area] = ((x0 // SCALE, y0 // SCALE, x1 // SCALE, y1 // SCALE), small)
    silhouette = (
        base.point(lambda v: 255 if v > 0 else 0)
        .reduce(SCALE)
        .point(lambda v: 255 if v >= 128 else 0)
    )
    return _Geometry(base=base, silhouette=silhouette, visible=visible, index=index)


def _paint_box(strokes: list[tuple[list[Point], int]], clip: Box) -> Box:
    """The box (drawing scale, aligned to SCALE) around the strokes, inside ``clip``."""
    xs = [x for points, width in strokes for x, _ in points for x in (x - width, x + width)]
    ys = [y for points, width in strokes for _, y in points for y in (y - width, y + width)]
    x0, y0 = max(clip[0], math.floor(min(xs))), max(clip[1], math.floor(min(ys)))
    x1, y1 = min(clip[2], math.ceil(max(xs))), min(clip[3], math.ceil(max(ys)))
    x0, y0 = x0 - x0 % SCALE, y0 - y0 % SCALE
    x1, y1 = x1 + (-x1) % SCALE, y1 + (-y1) % SCALE
    return (x0, y0, max(x1, x0 + SCALE), max(y1, y0 + SCALE))


def _visible(area: str) -> Image.Image:
    """Where ``area`` shows, as a full-size final-scale mask."""
    box, small = _geometry().visible[area]
    full = Image.new("L", (WIDTH, HEIGHT), 0)
    full.paste(small, box[:2])
    return full


def _px(foot: str | None, points: Sequence[Point]) -> list[Point]:
    return _side_to_image(points, SCALE) if foot is None else _to_image(foot, points, SCALE)


def _outline_mask(
    body: Image.Image,
    body_lines: list[list[Point]],
    toe_lines: list[list[Point]],
    side_line: list[Point],
) -> Image.Image:
    """The ink of the outlines: soles, the toes where they show, the side view, the ankle."""
    toes_ink = _new_mask()
    draw = ImageDraw.Draw(toes_ink)
    for line in toe_lines:
        draw.line([*line, line[0]], fill=255, width=2 * SCALE, joint="curve")
    ink = ImageChops.subtract(toes_ink, body)
    draw = ImageDraw.Draw(ink)
    for line in [*body_lines, side_line]:
        draw.line([*line, line[0]], fill=255, width=round(2.2 * SCALE), joint="curve")
    x, y, r = ANKLE_BONE
    ((cx, cy),) = _side_to_image([(x, y)], SCALE)
    draw.ellipse(
        [cx - r * SCALE, cy - r * SCALE, cx + r * SCALE, cy + r * SCALE],
        outline=255,
        width=round(2 * SCALE),
    )
    return ink


@cache
def _outline_ring(areas: tuple[str, ...]) -> tuple[tuple[int, int], Image.Image]:
    """A band just inside the border of some areas together (final scale, cropped).

    Returns (offset, mask). For a region the separators between its areas count as
    inside, so the ring follows the region's outer border only.
    """
    geometry = _geometry()
    full = _visible(areas[0])
    for area in areas[1:]:
        full = ImageChops.lighter(full, _visible(area))
    if len(areas) > 1:  # close the one-pixel separators between the areas
        full = full.filter(ImageFilter.MaxFilter(3)).filter(ImageFilter.MinFilter(3))
        full = ImageChops.multiply(full, geometry.silhouette)
    x0, y0, x1, y1 = full.getbbox() or (0, 0, 1, 1)
    pad = 4
    box = (max(0, x0 - pad), max(0, y0 - pad), min(WIDTH, x1 + pad), min(HEIGHT, y1 + pad))
    mask = full.crop(box)
    eroded = mask.filter(ImageFilter.MinFilter(5))
    return (box[0], box[1]), ImageChops.subtract(mask, eroded)


# ---------------------------------------------------------------------------------------
# Labels in the margins, leaders to the feet

LABEL_SIZE = 28
TITLE_SIZE = 42
SUBTITLE_SIZE = 27
FOOT_NAME_SIZE = 26
LINE_SIZE = 30  # the one-line description
CAPTION_SIZE = 28
LEFT_TEXT_RIGHT = 236.0  # left-margin labels end here
RIGHT_TEXT_LEFT = 764.0  # right-margin labels start here
LABEL_PITCH = 40.0
LABEL_TOP, LABEL_BOTTOM = 128.0, 905.0
PILL_PAD = 6.0
LINE_BOX: Box = (40, 990, WIDTH - 40, 1062)
CAPTION_TOP = 1082.0


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _text_width(text: str, size: int) -> float:
    return _font(size).getlength(text)


@dataclass(frozen=True)
class _Label:
    area: str
    text: str
    side: str  # margin: "left" or "right"
    y: float  # vertical centre
    start: Point  # leader start, next to the text
    end: Point  # leader end, on the area
    box: tuple[float, float, float, float]  # text, padded


@cache
def _labels() -> tuple[_Label, ...]:
    foot_map = default_foot_map()
    placed: list[_Label] = []
    for side in ("left", "right"):
        mine = [a for a in SHAPES if _label_side(a) == side and foot_map.area(a) is not None]
        mine.sort(key=lambda a: _target_px(a)[1])
        ys = _spread([_target_px(a)[1] for a in mine])
        for area, y in zip(mine, ys, strict=True):
            text = foot_map.area(area).label  # type: ignore[union-attr]
            width = _text_width(text, LABEL_SIZE)
            half = LABEL_SIZE * 0.6
            if side == "left":
                x0, x1 = LEFT_TEXT_RIGHT - width, LEFT_TEXT_RIGHT
                start = (x1 + 8, y)
            else:
                x0, x1 = RIGHT_TEXT_LEFT, RIGHT_TEXT_LEFT + width
                start = (x0 - 8, y)
            box = (x0 - PILL_PAD, y - half - PILL_PAD, x1 + PILL_PAD, y + half + PILL_PAD)
            placed.append(_Label(area, text, side, y, start, _target_px(area), box))
    return tuple(placed)


def _spread(wanted: list[float]) -> list[float]:
    """Label heights near ``wanted`` (sorted), at least LABEL_PITCH apart, inside the column."""
    ys: list[float] = []
    for y in wanted:
        ys.append(max(y, LABEL_TOP, (ys[-1] + LABEL_PITCH) if ys else LABEL_TOP))
    for i in range(len(ys) - 1, -1, -1):  # push back up from the bottom if needed
        limit = LABEL_BOTTOM if i == len(ys) - 1 else ys[i + 1] - LABEL_PITCH
        ys[i] = min(ys[i], limit)
    return ys


def _label_of(area: str) -> _Label:
    return next(label for label in _labels() if label.area == area)


def _draw_label(draw: ImageDraw.ImageDraw, label: _Label, emphasised: bool) -> None:
    colour = ACCENT if emphasised else LEADER
    if emphasised:
        draw.rounded_rectangle(label.box, radius=8, fill=ACCENT_TINT, outline=ACCENT, width=2)
    draw.line([label.start, label.end], fill=colour, width=3 if emphasised else 2)
    r = 5.0 if emphasised else 4.0
    ex, ey = label.end
    draw.ellipse(
        [ex - r, ey - r, ex + r, ey + r],
        fill=SEPARATOR if emphasised else LEADER,
        outline=ACCENT_DARK if emphasised else SEPARATOR,
        width=2 if emphasised else 1,
    )
    ink = ACCENT_DARK if emphasised else INK
    x = label.box[0] + PILL_PAD
    draw.text(
        (x, label.y),
        label.text,
        font=_font(LABEL_SIZE),
        fill=ink,
        anchor="lm",
        stroke_width=1 if emphasised else 0,
        stroke_fill=ink,
    )


def _centred(
    draw: ImageDraw.ImageDraw, text: str, y: float, size: int, fill: RGB, bold: bool = False
) -> None:
    draw.text(
        (WIDTH / 2, y),
        text,
        font=_font(size),
        fill=fill,
        anchor="mt",
        stroke_width=1 if bold else 0,
        stroke_fill=fill,
    )


@cache
def _overlay() -> Image.Image:
    """Everything but the feet and the one-line box, as in the plain chart (RGBA)."""
    foot_map = default_foot_map()
    layer = Image.new("RGBA", (WIDTH, HEIGHT), (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    _centred(draw, foot_map.title, 20, TITLE_SIZE, INK, bold=True)
    if foot_map.subtitle:
        _centred(draw, foot_map.subtitle, 72, SUBTITLE_SIZE, SOFT_INK)
    for label in _labels():
        _draw_label(draw, label, emphasised=False)
    name_y = FOOT_TOP + FOOT_LENGTH * 0.984 + 10
    for foot, x in FOOT_CENTRES.items():
        draw.text(
            (x, name_y),
            f"{foot.upper()} FOOT",
            font=_font(FOOT_NAME_SIZE),
            fill=SOFT_INK,
            anchor="mt",
            stroke_width=1,
            stroke_fill=SOFT_INK,
        )
    if foot_map.side_view:
        ox, oy = SIDE_VIEW_ORIGIN
        draw.text(
            (ox + 145, oy + 182),
            foot_map.side_view,
            font=_font(FOOT_NAME_SIZE),
            fill=SOFT_INK,
            anchor="mt",
        )
    for i, line in enumerate(foot_map.caption):
        _centred(draw, line, CAPTION_TOP + i * 34, CAPTION_SIZE, INK if i == 0 else SOFT_INK)
    return layer


# ---------------------------------------------------------------------------------------
# Public helpers for tests and callers


def text_layer_mask() -> Image.Image:
    """Where the plain chart's text, labels and leader lines are drawn (mode "L")."""
    return _overlay().getchannel("A").point(lambda v: 255 if v else 0)


def _check_zone(zone_id: str | None) -> tuple[str, ...]:
    """The areas to highlight: () for the plain chart; ValueError for an unknown id."""
    if zone_id is None or zone_id == WHOLE_FOOT:
        return ()
    return zone_areas(default_foot_map(), zone_id)


def zone_mask(zone_id: str) -> Image.Image:
    """Where ``zone_id`` shows on the final picture: mode "L", 255 inside, 0 outside.

    A region gives all its areas; ``"whole-foot"`` the silhouettes (with the side view).
    """
    areas = _check_zone(zone_id)
    geometry = _geometry()
    if not areas:
        return geometry.silhouette.copy()
    mask = Image.new("L", (WIDTH, HEIGHT), 0)
    for area in areas:
        mask = ImageChops.lighter(mask, _visible(area))
    return mask


def zone_region(zone_id: str) -> list[Box]:
    """Bounding boxes (x0, y0, x1, y1), final pixels, of the zone on each foot.

    Left foot first, then the right foot, then the side view, each only when the zone
    shows there.
    """
    mask = zone_mask(zone_id)
    side_top = int(SIDE_VIEW_ORIGIN[1])
    parts = (
        (0, 0, WIDTH // 2, side_top),
        (WIDTH // 2, 0, WIDTH, side_top),
        (0, side_top, WIDTH, HEIGHT),
    )
    boxes: list[Box] = []
    for x0, y0, x1, y1 in parts:
        box = mask.crop((x0, y0, x1, y1)).getbbox()
        if box is not None:
            boxes.append((box[0] + x0, box[1] + y0, box[2] + x0, box[3] + y0))
    return boxes


def label_region(zone_id: str) -> list[Box]:
    """Boxes covering the zone's labels and leader lines: what emphasis may change."""
    boxes: list[Box] = []
    for area in _check_zone(zone_id):
        label = _label_of(area)
        boxes.append(_box_of_points([label.box[:2], label.box[2:]], 3))
        boxes.append(_box_of_points([label.start, label.end], 8))
    return boxes


def _box_of_points(points: Iterable[Point], pad: float) -> Box:
    xs, ys = zip(*points, strict=True)
    return (
        max(0, math.floor(min(xs) - pad)),
        max(0, math.floor(min(ys) - pad)),
        min(WIDTH, math.ceil(max(xs) + pad)),
        min(HEIGHT, math.ceil(max(ys) + pad)),
    )


def halo_boxes(area: str) -> list[Box]:
    """The rings drawn around a small area when highlighted (their bounding boxes)."""
    boxes = []
    for x0, y0, x1, y1 in zone_region(area):
        if max(x1 - x0, y1 - y0) < SMALL_AREA_PX:
            boxes.append((x0 - 12, y0 - 12, x1 + 12, y1 + 12))
    return boxes


# ---------------------------------------------------------------------------------------
# Rendering


def _mute(colour: RGB) -> RGB:
    r, g, b = (round(c + (m - c) * MUTE_AMOUNT) for c, m in zip(colour, MUTE_TOWARDS, strict=True))
    return (r, g, b)


def _palette(highlight: tuple[str, ...]) -> list[int]:
    geometry = _geometry()
    colours: dict[int, RGB] = {
        _FIXED["background"]: BACKGROUND,
        _FIXED["skin"]: SKIN if not highlight else _mute(SKIN),
        _FIXED["separator"]: SEPARATOR,
        _FIXED["outline"]: OUTLINE,
    }
    for area, index in geometry.index.items():
        if area in _FIXED:
            continue
        colour = AREA_COLOURS[area]
        colours[index] = (ACCENT if area in highlight else _mute(colour)) if highlight else colour
    flat = [0] * (3 * 256)
    for index, colour in colours.items():
        flat[3 * index : 3 * index + 3] = colour
    return flat


def render_foot_map(highlight: str | None = None, foot_map: FootMapFile | None = None) -> bytes:
    """The chart as PNG bytes, with ``highlight`` (an area or region id) emphasised.

    None or ``"whole-foot"`` gives the plain chart; an unknown id raises ValueError.
    ``foot_map`` only supplies the one-line text (default: the packaged map).
    """
    areas = _check_zone(highlight)
    foot_map = foot_map or default_foot_map()
    base = _geometry().base.copy()
    base.putpalette(_palette(areas))
    image = base.convert("RGB").reduce(SCALE)
    draw = ImageDraw.Draw(image)
    if areas:
        offset, ring = _outline_ring(areas)
        image.paste(
            ACCENT_DARK, (*offset, offset[0] + ring.width, offset[1] + ring.height), mask=ring
        )
    image.paste(_overlay(), mask=_overlay())
    for area in areas:
        for halo in halo_boxes(area) if len(areas) == 1 else ():
            draw.ellipse(halo, outline=ACCENT, width=3)
        _draw_label(draw, _label_of(area), emphasised=True)
    if areas:
        draw.rounded_rectangle(LINE_BOX, radius=14, fill=ACCENT_TINT, outline=ACCENT, width=2)
        line = _zone_line(foot_map, highlight or "")
        colour = ACCENT_DARK
    else:
        line, colour = foot_map.plain_line, INK
    _centred(
        draw,
        line,
        (LINE_BOX[1] + LINE_BOX[3]) / 2 - LINE_SIZE * 0.55,
        LINE_SIZE,
        colour,
        bold=bool(areas),
    )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


def _zone_line(foot_map: FootMapFile, zone: str) -> str:
    area = foot_map.area(zone)
    if area is not None:
        return area.says
    region = foot_map.region(zone)
    return region.label if region is not None else foot_map.plain_line


def render_all(folder: Path, render: Callable[[str | None], bytes] = render_foot_map) -> list[Path]:
    """Write foot_map.png (plain) and foot_map_<zone>.png for every zone into ``folder``.

    ``render`` gives a variant's PNG bytes (e.g. ``FootMapCache.get_png`` to reuse them).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for zone in (None, *zone_ids()):
        path = folder / ("foot_map.png" if zone is None else f"foot_map_{zone}.png")
        path.write_bytes(render(zone))
        paths.append(path)
    return paths


# ---------------------------------------------------------------------------------------
# Cache: render each variant once, upload once


class FootMapCache:
    """Renders each variant once (lazily) and remembers the Telegram file_id of each.

    Keys are zone ids; None and ``"whole-foot"`` share the plain chart. A lock makes the
    first render happen once even when called from worker threads
    (``asyncio.to_thread``); within one event loop thread it is never contended.
    """

    def __init__(self, renderer: Callable[[str | None], bytes] = render_foot_map) -> None:
        self._renderer = renderer
        self._png: dict[str, bytes] = {}
        self._file_ids: dict[str, str] = {}
        self._lock = threading.Lock()
        self.render_count = 0

    @staticmethod
    def _key(zone: str | None) -> str:
        return zone if zone is not None and _check_zone(zone) else WHOLE_FOOT

    def get_png(self, zone: str | None = None) -> bytes:
        """PNG bytes of the variant for ``zone``, rendered on first use."""
        key = self._key(zone)
        png = self._png.get(key)
        if png is not None:
            return png
        with self._lock:
            png = self._png.get(key)
            if png is None:
                png = self._renderer(None if key == WHOLE_FOOT else key)
                self.render_count += 1
                self._png[key] = png
        return png

    def get_file_id(self, zone: str | None = None) -> str | None:
        """The Telegram file_id remembered for ``zone``'s picture, if it was uploaded."""
        return self._file_ids.get(self._key(zone))

    def remember_file_id(self, zone: str | None, file_id: str) -> None:
        """Keep the file_id Telegram returned after uploading ``zone``'s picture."""
        self._file_ids[self._key(zone)] = file_id

    def forget_file_id(self, zone: str | None) -> None:
        """Drop a file_id Telegram no longer accepts; the next send uploads again."""
        self._file_ids.pop(self._key(zone), None)

    def warm(self) -> None:
        """Render every variant now (e.g. at start-up, off the event loop)."""
        for zone in (None, *zone_ids()):
            self.get_png(zone)
