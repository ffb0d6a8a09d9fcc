"""The traditional reflexology chart of both soles, drawn with Pillow.

Both soles are seen from below, the big toes on the inner side, so the two feet mirror
each other. Each zone id of :data:`bot.core.foot_zones.FOOT_ZONES` is a calm coloured
region; ``render_foot_map(zone)`` draws the same chart with that zone in a strong accent
colour and the other zones muted. The chart is a belief that varies between schools, not
anatomy, and its caption says so.

Everything is drawn at twice the final size and reduced, which smooths the edges. The
geometry (outlines, zone masks) is computed once per process; :class:`FootMapCache`
keeps the rendered bytes and the Telegram ``file_id`` of each variant.
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

from bot.core.foot_zones import FOOT_ZONES, WHOLE_FOOT

__all__ = [
    "ACCENT",
    "ACCENT_DARK",
    "HEIGHT",
    "WIDTH",
    "ZONE_COLOURS",
    "FootMapCache",
    "label_region",
    "render_all",
    "render_foot_map",
    "zone_mask",
    "zone_region",
]

Point = tuple[float, float]
Box = tuple[int, int, int, int]
RGB = tuple[int, int, int]

WIDTH, HEIGHT = 1100, 800  # final picture size in pixels
SCALE = 2  # drawn at SCALE x the final size, then reduced (anti-aliasing)

FOOT_LENGTH = 560.0  # big toe tip to heel, in final pixels
FOOT_TOP = 108.0  # y of the big toe tip
FOOT_CENTRES = {"left": 380.0, "right": 720.0}  # x of each foot's long axis
SIDE_SIGN = {"left": 1.0, "right": -1.0}  # local +x (inner side) -> image direction

# Calm palette; one accent for the highlighted zone.
BACKGROUND: RGB = (251, 248, 243)
INK: RGB = (52, 52, 58)
SOFT_INK: RGB = (104, 104, 112)
OUTLINE: RGB = (150, 122, 100)
SEPARATOR: RGB = (253, 251, 247)
LEADER: RGB = (112, 112, 120)
ACCENT: RGB = (222, 84, 45)
ACCENT_DARK: RGB = (142, 44, 16)
ACCENT_TINT: RGB = (252, 228, 218)
MUTE_TOWARDS: RGB = (236, 233, 228)
MUTE_AMOUNT = 0.62
ZONE_COLOURS: dict[str, RGB] = {
    "head": (200, 192, 230),  # lavender
    "neck": (166, 215, 208),  # sea green
    "chest": (178, 207, 236),  # sky blue
    "solar-plexus": (240, 196, 92),  # warm gold
    "digestion": (200, 226, 178),  # sage
    "lower-back": (242, 207, 168),  # sand
    "spine": (230, 176, 190),  # dusty rose
}
# Painting order: later zones are painted over earlier ones.
PAINT_ORDER: tuple[str, ...] = (
    "head",
    "neck",
    "chest",
    "digestion",
    "lower-back",
    "spine",
    "solar-plexus",
)

TITLE = "Foot reflexology map"
SUBTITLE = "Both soles seen from below, big toes on the inner side"
CAPTION = (
    "The traditional reflexology map: a belief that varies between schools, not anatomy.",
    "In this map the left foot stands for the left side of the body, the right foot for the right.",
)

# ---------------------------------------------------------------------------------------
# Geometry of one foot in local units: x across the foot in foot lengths, positive
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

# Zone boundaries across the sole (points left to right in local x, smoothed).
NECK_LINE: tuple[Point, ...] = ((0.30, 0.228), (0.12, 0.228), (-0.04, 0.252), (-0.30, 0.330))
DIAPHRAGM_LINE: tuple[Point, ...] = ((0.30, 0.385), (0.10, 0.400), (-0.10, 0.418), (-0.30, 0.452))
HEEL_LINE: tuple[Point, ...] = ((0.30, 0.705), (0.0, 0.690), (-0.30, 0.705))
SPINE_WIDTH = 0.040  # in foot lengths
SPINE_END_Y = 0.905
SOLAR_PLEXUS: Point = (0.005, 0.452)
SOLAR_PLEXUS_RADIUS = 0.026


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
    """A rounded toe: a round pad at the tip, sides narrowing a little towards the base.

    Only the part above the sole outline shows; the base is hidden under the sole.
    """
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
    angle = math.radians(toe.tilt_deg)
    cos_a, sin_a = math.cos(angle), math.sin(angle)
    # going down the toe moves towards the inner side (+x): the tip leans outwards
    return [
        (toe.tip_x + dx * cos_a + dy * sin_a, toe.tip_y - dx * sin_a + dy * cos_a)
        for dx, dy in local
    ]


def _toe_taper(depth: float) -> float:
    """Width factor of a toe ``depth`` below its rounded tip: the toe neck is slimmer."""
    return max(0.8, 1.0 - depth * 2.4)


def _spine_strip(body: Sequence[Point]) -> list[Point]:
    """A strip along the inner edge, from the toe crease down to the heel."""
    edge: list[Point] = []
    for point in body:  # the outline starts at the crease and runs down the inner edge
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


def _band(upper: Sequence[Point] | None, lower: Sequence[Point] | None) -> list[Point]:
    """The polygon between two boundary lines (None: far above / far below)."""
    top = _catmull_rom(upper, closed=False) if upper else [(0.4, -0.5), (-0.4, -0.5)]
    bottom = _catmull_rom(lower, closed=False) if lower else [(0.4, 1.5), (-0.4, 1.5)]
    # both run from inner (+x) to outer (-x); close the loop
    return [
        (0.45, top[0][1]),
        *top,
        (-0.45, top[-1][1]),
        (-0.45, bottom[-1][1]),
        *bottom[::-1],
        (0.45, bottom[0][1]),
    ]


def _to_image(side: str, points: Iterable[Point], scale: float = 1.0) -> list[Point]:
    """Local foot units -> image pixels (times ``scale``)."""
    cx, sign = FOOT_CENTRES[side], SIDE_SIGN[side]
    return [
        ((cx + sign * x * FOOT_LENGTH) * scale, (FOOT_TOP + y * FOOT_LENGTH) * scale)
        for x, y in points
    ]


def _local_to_px(side: str, point: Point) -> Point:
    return _to_image(side, [point])[0]


@dataclass(frozen=True)
class _Geometry:
    """Outlines and zone masks at the drawing scale, computed once."""

    base: Image.Image  # mode "P": the feet as palette indices (see _INDEX), drawing scale
    silhouette: Image.Image  # both feet with toes
    visible: dict[str, Image.Image]  # zone id -> where it is visible (drawing scale)
    spine_inner_edge: dict[str, list[Point]]  # local units, for the spine label leaders


# Palette indices of the base picture; a variant only changes the palette.
_INDEX: dict[str, int] = {
    "background": 0,
    **{zone: i for i, zone in enumerate(PAINT_ORDER, start=1)},
    "separator": len(PAINT_ORDER) + 1,
    "outline": len(PAINT_ORDER) + 2,
    "solar-plexus-rim": len(PAINT_ORDER) + 3,
}
SOLAR_PLEXUS_RIM: RGB = (176, 130, 40)


def _new_mask() -> Image.Image:
    return Image.new("L", (WIDTH * SCALE, HEIGHT * SCALE), 0)


@cache
def _geometry() -> _Geometry:
    body_local = _catmull_rom(BODY_POINTS, closed=True)
    toes_local = [_toe_outline(toe) for toe in TOES]
    strip_local = _spine_strip(body_local)
    bands = {
        "neck": _band(None, NECK_LINE),
        "chest": _band(NECK_LINE, DIAPHRAGM_LINE),
        "digestion": _band(DIAPHRAGM_LINE, HEEL_LINE),
        "lower-back": _band(HEEL_LINE, None),
    }
    body_mask, toes_mask = _new_mask(), _new_mask()
    raw = {zone: _new_mask() for zone in PAINT_ORDER}
    separators, spine_lines = _new_mask(), _new_mask()
    body_draw, toes_draw = ImageDraw.Draw(body_mask), ImageDraw.Draw(toes_mask)
    raw_draw = {zone: ImageDraw.Draw(mask) for zone, mask in raw.items()}
    sep_draw, spine_draw = ImageDraw.Draw(separators), ImageDraw.Draw(spine_lines)
    toe_ink = _new_mask()
    toe_ink_draw = ImageDraw.Draw(toe_ink)
    body_lines: list[list[Point]] = []
    rims: list[list[float]] = []
    for side in FOOT_CENTRES:
        body_px = _to_image(side, body_local, SCALE)
        body_lines.append(body_px)
        body_draw.polygon(body_px, fill=255)
        for toe in toes_local:
            toe_px = _to_image(side, toe, SCALE)
            toes_draw.polygon(toe_px, fill=255)
            toe_ink_draw.line([*toe_px, toe_px[0]], fill=255, width=2 * SCALE, joint="curve")
            raw_draw["head"].polygon(toe_px, fill=255)
        for zone, band in bands.items():
            raw_draw[zone].polygon(_to_image(side, band, SCALE), fill=255)
        raw_draw["spine"].polygon(_to_image(side, strip_local, SCALE), fill=255)
        cx, cy = _local_to_px(side, SOLAR_PLEXUS)
        r = SOLAR_PLEXUS_RADIUS * FOOT_LENGTH
        rims.append([(cx - r) * SCALE, (cy - r) * SCALE, (cx + r) * SCALE, (cy + r) * SCALE])
        raw_draw["solar-plexus"].ellipse(rims[-1], fill=255)
        width = int(2.5 * SCALE)
        for line in (NECK_LINE, DIAPHRAGM_LINE, HEEL_LINE):
            sep_draw.line(_to_image(side, _catmull_rom(line, False), SCALE), fill=255, width=width)
        inner_edge = strip_local[len(strip_local) // 2 :]
        spine_draw.line(_to_image(side, inner_edge, SCALE), fill=255, width=width, joint="curve")

    silhouette = ImageChops.lighter(body_mask, toes_mask)
    # Only the toe part outside the sole is "toes"; bands and strip stay inside the sole.
    raw["head"] = ImageChops.subtract(toes_mask, body_mask)
    for zone in ("neck", "chest", "digestion", "lower-back", "spine", "solar-plexus"):
        raw[zone] = ImageChops.multiply(raw[zone], body_mask)
    visible: dict[str, Image.Image] = {}
    covered = _new_mask()
    for zone in reversed(PAINT_ORDER):
        visible[zone] = ImageChops.subtract(raw[zone], covered)
        covered = ImageChops.lighter(covered, raw[zone])
    # band boundaries stop at the spine strip, which runs unbroken along the inner edge
    separators = ImageChops.lighter(ImageChops.subtract(separators, raw["spine"]), spine_lines)
    separators = ImageChops.multiply(separators, body_mask)
    spine_edge = {side: strip_local[len(strip_local) // 2 :][::-1] for side in FOOT_CENTRES}

    base = Image.new("P", body_mask.size, _INDEX["background"])
    for zone in PAINT_ORDER:
        base.paste(_INDEX[zone], mask=visible[zone])
    base.paste(_INDEX["separator"], mask=separators)
    # outlines: the toes only where they show, then the soles, then the solar plexus rim
    base.paste(_INDEX["outline"], mask=ImageChops.subtract(toe_ink, body_mask))
    base_draw = ImageDraw.Draw(base)
    for body_px in body_lines:
        base_draw.line(
            [*body_px, body_px[0]], fill=_INDEX["outline"], width=round(2.2 * SCALE), joint="curve"
        )
    for rim in rims:
        base_draw.ellipse(rim, outline=_INDEX["solar-plexus-rim"], width=round(1.5 * SCALE))
    return _Geometry(base=base, silhouette=silhouette, visible=visible, spine_inner_edge=spine_edge)


@cache
def _outline_ring(zone: str) -> tuple[tuple[int, int], Image.Image]:
    """A band just inside the border of a zone, for the highlight: (offset, mask).

    Cropped to the zone's bounding box (drawing scale), so that pasting it is cheap.
    """
    full = _geometry().visible[zone]
    x0, y0, x1, y1 = full.getbbox() or (0, 0, 1, 1)
    pad = 4 * SCALE
    box = (
        max(0, x0 - pad),
        max(0, y0 - pad),
        min(full.width, x1 + pad),
        min(full.height, y1 + pad),
    )
    mask = full.crop(box)
    blurred = mask.filter(ImageFilter.BoxBlur(3 * SCALE))
    eroded = blurred.point(lambda v: 255 if v >= 250 else 0)
    return (box[0], box[1]), ImageChops.subtract(mask, eroded)


# ---------------------------------------------------------------------------------------
# Labels


@dataclass(frozen=True)
class _Label:
    zone: str
    side: str  # "left" margin, "right" margin or "centre"
    y: float  # vertical centre of the label block (final pixels)
    foot: str  # which foot the leader points to ("both" for the centre label)
    target: Point  # local units on that foot
    end_dot: bool = True


LABELS: tuple[_Label, ...] = (
    _Label("head", "left", 200.0, "left", (-0.182, 0.205)),
    _Label("chest", "left", 292.0, "left", (-0.120, 0.330)),
    _Label("digestion", "left", 420.0, "left", (-0.060, 0.560)),
    _Label("neck", "right", 266.0, "right", (-0.115, 0.266)),
    _Label("solar-plexus", "right", 360.0, "right", SOLAR_PLEXUS, end_dot=False),
    _Label("lower-back", "right", 585.0, "right", (-0.050, 0.850)),
    _Label("spine", "centre", 470.0, "both", (0.0, 0.640)),
)
LEFT_TEXT_RIGHT = 222.0  # left-margin labels are right-aligned here
RIGHT_TEXT_LEFT = 880.0  # right-margin labels start here
SWATCH = 13.0
LINE_GAP = 3.0
PILL_PAD = 8.0


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size * SCALE)


def _label_lines(zone: str) -> tuple[str, ...]:
    """Split a zone label in two lines: "Toes: head and sinuses" -> ("Toes", "head and sinuses")."""
    text = FOOT_ZONES[zone]
    if ": " in text:
        first, rest = text.split(": ", 1)
        return first, rest
    return (text,)


@dataclass(frozen=True)
class _LabelLayout:
    lines: tuple[tuple[str, Point, int, bool], ...]  # text, top-left (final px), size, bold
    swatch: Point  # centre
    leaders: tuple[tuple[Point, Point], ...]  # start, end (final px)
    box: tuple[float, float, float, float]  # text and swatch, padded (the pill)


def _text_width(text: str, size: int) -> float:
    return _font(size).getlength(text) / SCALE


FIRST_SIZE, SECOND_SIZE = 19, 17


@cache
def _layout(zone: str) -> _LabelLayout:
    label = next(item for item in LABELS if item.zone == zone)
    lines = _label_lines(zone)
    sizes = [FIRST_SIZE] + [SECOND_SIZE] * (len(lines) - 1)
    heights = [size * 1.05 for size in sizes]
    block = sum(heights) + LINE_GAP * (len(lines) - 1)
    top = label.y - block / 2
    widths = [_text_width(text, size) for text, size in zip(lines, sizes, strict=True)]
    placed: list[tuple[str, Point, int, bool]] = []
    y = top
    if label.side == "centre":
        # swatch before the first line, leaders from both sides to both feet
        first_left = WIDTH / 2 - (widths[0] + SWATCH + 8) / 2
        swatch = (first_left + SWATCH / 2, top + heights[0] / 2 + 2)
        for i, (text, size, width, height) in enumerate(
            zip(lines, sizes, widths, heights, strict=True)
        ):
            x = first_left + SWATCH + 8 if i == 0 else WIDTH / 2 - width / 2
            placed.append((text, (x, y), size, size == FIRST_SIZE))
            y += height + LINE_GAP
        half = max(widths[0] + SWATCH + 8, *widths[1:]) / 2
        leaders = []
        for side, sign in (("left", -1.0), ("right", 1.0)):
            start = (WIDTH / 2 + sign * (half + 8), label.y)
            leaders.append((start, _spine_target(side, label.target[1])))
        box = (
            WIDTH / 2 - half - PILL_PAD,
            top - PILL_PAD,
            WIDTH / 2 + half + PILL_PAD,
            top + block + PILL_PAD,
        )
        return _LabelLayout(tuple(placed), swatch, tuple(leaders), box)
    if label.side == "left":
        swatch = (LEFT_TEXT_RIGHT + 10 + SWATCH / 2, label.y)
        for text, size, width, height in zip(lines, sizes, widths, heights, strict=True):
            placed.append((text, (LEFT_TEXT_RIGHT - width, y), size, size == FIRST_SIZE))
            y += height + LINE_GAP
        start = (swatch[0] + SWATCH / 2 + 4, label.y)
        box = (
            LEFT_TEXT_RIGHT - max(widths) - PILL_PAD,
            top - PILL_PAD,
            start[0] + 2,
            top + block + PILL_PAD,
        )
    else:
        swatch = (RIGHT_TEXT_LEFT - 10 - SWATCH / 2, label.y)
        for text, size, height in zip(lines, sizes, heights, strict=True):
            placed.append((text, (RIGHT_TEXT_LEFT, y), size, size == FIRST_SIZE))
            y += height + LINE_GAP
        start = (swatch[0] - SWATCH / 2 - 4, label.y)
        box = (
            start[0] - 2,
            top - PILL_PAD,
            RIGHT_TEXT_LEFT + max(widths) + PILL_PAD,
            top + block + PILL_PAD,
        )
    end = _local_to_px(label.foot, label.target)
    if not label.end_dot:  # stop at the rim of the solar plexus circle, not inside it
        cx, cy = end
        dx, dy = start[0] - cx, start[1] - cy
        rim = SOLAR_PLEXUS_RADIUS * FOOT_LENGTH + 2
        norm = math.hypot(dx, dy)
        end = (cx + dx / norm * rim, cy + dy / norm * rim)
    return _LabelLayout(tuple(placed), swatch, ((start, end),), box)


def _spine_target(side: str, y_local: float) -> Point:
    """The middle of the spine strip at height ``y_local`` on one foot (final px)."""
    edge = _geometry().spine_inner_edge[side]
    x_inner = min(edge, key=lambda p: abs(p[1] - y_local))[0]
    body = _catmull_rom(BODY_POINTS, closed=True)
    near = [x for x, y in body if abs(y - y_local) < 0.02 and x > 0]
    x_edge = max(near)
    return _local_to_px(side, ((x_inner + x_edge) / 2, y_local))


def _box_of_points(points: Iterable[Point], pad: float) -> Box:
    xs, ys = zip(*points, strict=True)
    return (
        max(0, math.floor(min(xs) - pad)),
        max(0, math.floor(min(ys) - pad)),
        min(WIDTH, math.ceil(max(xs) + pad)),
        min(HEIGHT, math.ceil(max(ys) + pad)),
    )


# ---------------------------------------------------------------------------------------
# Public helpers for tests and callers


def _check_zone(zone_id: str | None) -> str | None:
    """None for the plain chart, else the zone id; ValueError for an unknown id."""
    if zone_id is None or zone_id == WHOLE_FOOT:
        return None
    if zone_id not in FOOT_ZONES:
        known = ", ".join([*FOOT_ZONES, WHOLE_FOOT])
        raise ValueError(f"unknown foot zone {zone_id!r}; known: {known}")
    return zone_id


def zone_mask(zone_id: str) -> Image.Image:
    """Where ``zone_id`` is visible on the final picture: mode "L", 255 inside, 0 outside.

    ``"whole-foot"`` gives the silhouettes of both feet (toes included).
    """
    zone = _check_zone(zone_id)
    geometry = _geometry()
    mask = geometry.silhouette if zone is None else geometry.visible[zone]
    return mask.reduce(SCALE).point(lambda v: 255 if v >= 128 else 0)


def zone_region(zone_id: str) -> list[Box]:
    """Bounding boxes (x0, y0, x1, y1), final pixels, of the zone on each foot.

    Left foot first. ``"whole-foot"`` gives the box of each whole foot.
    """
    mask = zone_mask(zone_id)
    boxes: list[Box] = []
    for x0, x1 in ((0, WIDTH // 2), (WIDTH // 2, WIDTH)):
        box = mask.crop((x0, 0, x1, HEIGHT)).getbbox()
        if box is not None:
            boxes.append((box[0] + x0, box[1], box[2] + x0, box[3]))
    return boxes


def label_region(zone_id: str) -> list[Box]:
    """Boxes covering a zone's label and its leader line(s): what emphasis may change."""
    zone = _check_zone(zone_id)
    if zone is None:
        return []
    layout = _layout(zone)
    x0, y0, x1, y1 = layout.box
    boxes = [_box_of_points([(x0, y0), (x1, y1)], 3)]
    boxes.extend(_box_of_points(leader, 8) for leader in layout.leaders)
    return boxes


# ---------------------------------------------------------------------------------------
# Rendering


def _mute(colour: RGB) -> RGB:
    r, g, b = (round(c + (m - c) * MUTE_AMOUNT) for c, m in zip(colour, MUTE_TOWARDS, strict=True))
    return (r, g, b)


def _palette(zone: str | None) -> list[int]:
    """Colours of the base picture's indices for the variant of ``zone``."""
    colours: dict[str, RGB] = {
        "background": BACKGROUND,
        "separator": SEPARATOR,
        "outline": OUTLINE,
        "solar-plexus-rim": SOLAR_PLEXUS_RIM if zone is None else _mute(SOLAR_PLEXUS_RIM),
    }
    for zone_id, colour in ZONE_COLOURS.items():
        if zone is None:
            colours[zone_id] = colour
        else:
            colours[zone_id] = ACCENT if zone_id == zone else _mute(colour)
    if zone == "solar-plexus":
        colours["solar-plexus-rim"] = ACCENT_DARK
    flat = [0] * (3 * 256)
    for name, index in _INDEX.items():
        flat[3 * index : 3 * index + 3] = colours[name]
    return flat


def _s(value: float) -> float:
    return value * SCALE


def _draw_label(draw: ImageDraw.ImageDraw, zone: str, emphasised: bool) -> None:
    layout = _layout(zone)
    line_colour = ACCENT if emphasised else LEADER
    line_width = round(_s(2.5 if emphasised else 1.5))
    if emphasised:
        x0, y0, x1, y1 = layout.box
        draw.rounded_rectangle(
            [_s(x0), _s(y0), _s(x1), _s(y1)],
            radius=_s(10),
            fill=ACCENT_TINT,
            outline=ACCENT,
            width=round(_s(1.5)),
        )
    for start, end in layout.leaders:
        draw.line(
            [(_s(start[0]), _s(start[1])), (_s(end[0]), _s(end[1]))],
            fill=line_colour,
            width=line_width,
        )
        label = next(item for item in LABELS if item.zone == zone)
        if label.end_dot:
            r = _s(4.5 if emphasised else 3.5)
            ex, ey = _s(end[0]), _s(end[1])
            draw.ellipse(
                [ex - r, ey - r, ex + r, ey + r],
                fill=SEPARATOR if emphasised else line_colour,
                outline=ACCENT_DARK if emphasised else SEPARATOR,
                width=round(_s(1.5 if emphasised else 1)),
            )
    sx, sy = layout.swatch
    half = _s(SWATCH / 2)
    draw.rounded_rectangle(
        [_s(sx) - half, _s(sy) - half, _s(sx) + half, _s(sy) + half],
        radius=_s(3),
        fill=ACCENT if emphasised else ZONE_COLOURS[zone],
        outline=ACCENT_DARK if emphasised else OUTLINE,
        width=round(_s(1)),
    )
    for text, (x, y), size, bold in layout.lines:
        colour = (
            (ACCENT_DARK if emphasised else INK)
            if bold
            else (ACCENT_DARK if emphasised else SOFT_INK)
        )
        draw.text(
            (_s(x), _s(y)),
            text,
            font=_font(size),
            fill=colour,
            stroke_width=round(_s(0.5)) if bold else 0,
            stroke_fill=colour,
        )


def _draw_centred(
    draw: ImageDraw.ImageDraw, text: str, y: float, size: int, fill: RGB, bold: bool = False
) -> None:
    width = _text_width(text, size)
    draw.text(
        (_s(WIDTH / 2 - width / 2), _s(y)),
        text,
        font=_font(size),
        fill=fill,
        stroke_width=round(_s(0.6)) if bold else 0,
        stroke_fill=fill,
    )


def render_foot_map(highlight: str | None = None) -> bytes:
    """The chart of both soles as PNG bytes.

    ``highlight`` is a zone id of FOOT_ZONES: that zone is drawn in a strong accent colour
    with an outline and its label is emphasised, the other zones are muted. None or
    ``"whole-foot"`` gives the plain chart; an unknown id raises ValueError.
    """
    zone = _check_zone(highlight)
    image = _geometry().base.copy()
    image.putpalette(_palette(zone))
    image = image.convert("RGB")
    draw = ImageDraw.Draw(image)
    if zone is not None:
        offset, ring = _outline_ring(zone)
        image.paste(
            ACCENT_DARK, (*offset, offset[0] + ring.width, offset[1] + ring.height), mask=ring
        )
    if zone == "solar-plexus":  # a halo makes the small point easy to find
        for side in FOOT_CENTRES:
            cx, cy = _local_to_px(side, SOLAR_PLEXUS)
            halo = SOLAR_PLEXUS_RADIUS * FOOT_LENGTH + 7
            draw.ellipse(
                [_s(cx - halo), _s(cy - halo), _s(cx + halo), _s(cy + halo)],
                outline=ACCENT,
                width=round(_s(2)),
            )

    # title, labels, foot names, caption
    _draw_centred(draw, TITLE, 18, 32, INK, bold=True)
    _draw_centred(draw, SUBTITLE, 60, 17, SOFT_INK)
    for label in LABELS:
        _draw_label(draw, label.zone, emphasised=label.zone == zone)
    name_y = FOOT_TOP + FOOT_LENGTH * 0.982 + 14
    for side in FOOT_CENTRES:
        text = f"{side.upper()} FOOT"
        width = _text_width(text, 17)
        draw.text(
            (_s(FOOT_CENTRES[side] - width / 2), _s(name_y)),
            text,
            font=_font(17),
            fill=SOFT_INK,
            stroke_width=round(_s(0.4)),
            stroke_fill=SOFT_INK,
        )
    rule_y = _s(HEIGHT - 78)
    draw.line(
        [(_s(140), rule_y), (_s(WIDTH - 140), rule_y)], fill=(226, 220, 212), width=round(_s(1))
    )
    for i, line in enumerate(CAPTION):
        _draw_centred(
            draw, line, HEIGHT - 66 + i * 25, 16 if i == 0 else 15, INK if i == 0 else SOFT_INK
        )

    final = image.reduce(SCALE)
    buffer = io.BytesIO()
    final.save(buffer, format="PNG", compress_level=6)  # level 9: 4x slower, 3% smaller
    return buffer.getvalue()


def render_all(folder: Path) -> list[Path]:
    """Write foot_map.png (plain) and foot_map_<zone>.png for every zone into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths: list[Path] = []
    for zone in (None, *FOOT_ZONES):
        path = folder / ("foot_map.png" if zone is None else f"foot_map_{zone}.png")
        path.write_bytes(render_foot_map(zone))
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
        checked = _check_zone(zone)
        return WHOLE_FOOT if checked is None else checked

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
        for zone in (None, *FOOT_ZONES):
            self.get_png(zone)
