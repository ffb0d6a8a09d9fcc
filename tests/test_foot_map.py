"""The foot map: valid PNGs, highlights that stay inside their zone, the render cache.

The rendered pictures are also written to tests/output/foot_maps/ (git-ignored) so a
person can look at them after a test run.
"""

from __future__ import annotations

import io
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps

from bot.core.foot_zones import FOOT_ZONES, WHOLE_FOOT
from bot.pictures.foot_map import (
    ACCENT,
    ACCENT_DARK,
    HEIGHT,
    WIDTH,
    ZONE_COLOURS,
    FootMapCache,
    label_region,
    render_all,
    render_foot_map,
    zone_mask,
    zone_region,
)

OUTPUT = Path(__file__).parent / "output" / "foot_maps"
ZONES = list(FOOT_ZONES)
MAX_PNG_BYTES = 300_000


def _open(png: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG"
    image.load()
    return image.convert("RGB")


def _changed(a: Image.Image, b: Image.Image) -> Image.Image:
    """Mode "L": 255 where any channel differs at all, 0 where the pixels are equal."""
    red, green, blue = ImageChops.difference(a, b).split()
    largest = ImageChops.lighter(ImageChops.lighter(red, green), blue)
    return largest.point(lambda v: 255 if v else 0)


def _count(mask: Image.Image) -> int:
    """How many pixels of an "L" mask are 255."""
    return mask.histogram()[255]


def _both(a: Image.Image, b: Image.Image) -> Image.Image:
    return ImageChops.multiply(a, b)


def _erode(mask: Image.Image, pixels: int) -> Image.Image:
    return mask.filter(ImageFilter.MinFilter(2 * pixels + 1))


def _dilate(mask: Image.Image, pixels: int) -> Image.Image:
    return mask.filter(ImageFilter.MaxFilter(2 * pixels + 1))


@pytest.fixture(scope="module")
def plain() -> Image.Image:
    return _open(render_foot_map())


@pytest.fixture(scope="module")
def highlighted() -> dict[str, Image.Image]:
    return {zone: _open(render_foot_map(zone)) for zone in ZONES}


@pytest.fixture(scope="module")
def near_the_feet() -> Image.Image:
    """Both feet (toes included) grown by 3 px: what muting the other zones may touch."""
    return _dilate(zone_mask(WHOLE_FOOT), 3)


# --- valid pictures ----------------------------------------------------------------------


@pytest.mark.parametrize("zone", [None, WHOLE_FOOT, *ZONES])
def test_every_variant_is_a_small_png_of_the_chart_size(zone: str | None) -> None:
    png = render_foot_map(zone)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) < MAX_PNG_BYTES
    Image.open(io.BytesIO(png)).verify()
    image = _open(png)
    assert image.size == (WIDTH, HEIGHT)
    assert 900 <= WIDTH <= 1280 and 700 <= HEIGHT <= 960


def test_whole_foot_and_none_give_the_same_plain_chart() -> None:
    assert render_foot_map(WHOLE_FOOT) == render_foot_map(None) == render_foot_map()


@pytest.mark.parametrize("bad", ["knee", "", "Head", "whole_foot"])
def test_unknown_zone_raises(bad: str) -> None:
    with pytest.raises(ValueError, match="unknown foot zone"):
        render_foot_map(bad)
    with pytest.raises(ValueError):
        zone_mask(bad)
    with pytest.raises(ValueError):
        zone_region(bad)
    with pytest.raises(ValueError):
        FootMapCache().get_png(bad)
    with pytest.raises(ValueError):
        FootMapCache().remember_file_id(bad, "file-id")


# --- the drawing follows the traditional map ----------------------------------------------


@pytest.mark.parametrize("zone", ZONES)
def test_every_zone_shows_on_both_feet_and_the_feet_mirror_each_other(zone: str) -> None:
    mask = zone_mask(zone)
    assert mask.mode == "L" and mask.size == (WIDTH, HEIGHT)
    boxes = zone_region(zone)
    assert len(boxes) == 2  # left foot, right foot
    (lx0, ly0, lx1, ly1), (rx0, ry0, rx1, ry1) = boxes
    assert lx1 <= WIDTH // 2 <= rx0
    assert abs((lx0 + rx1) - WIDTH) <= 2 and abs((lx1 + rx0) - WIDTH) <= 2
    assert abs(ly0 - ry0) <= 1 and abs(ly1 - ry1) <= 1
    # the right foot is the mirror image of the left one, up to edge pixels
    area = _count(mask)
    assert area > 300
    mismatched = _count(_changed(mask.convert("RGB"), ImageOps.mirror(mask).convert("RGB")))
    assert mismatched < 0.05 * area


def test_zones_run_from_toes_to_heel_with_the_big_toes_inside() -> None:
    def middle_y(zone: str) -> float:
        _, y0, _, y1 = zone_region(zone)[0]
        return (y0 + y1) / 2

    order = ["head", "neck", "chest", "solar-plexus", "digestion", "lower-back"]
    heights = [middle_y(zone) for zone in order]
    assert heights == sorted(heights)

    left_foot, right_foot = zone_region(WHOLE_FOOT)
    # big toes on the inner side: the highest toe pixel of each foot is nearer the middle
    toes = zone_mask("head")
    for x0, y0, x1, _ in (left_foot, right_foot):
        top_row = toes.crop((x0, y0, x1, y0 + 1))
        tip_x0, _, tip_x1, _ = top_row.getbbox()
        tip = x0 + (tip_x0 + tip_x1) / 2
        middle = (x0 + x1) / 2
        assert abs(tip - WIDTH / 2) < abs(middle - WIDTH / 2)

    # the ball is wider than the heel; the spine runs along the inner edge
    feet = zone_mask(WHOLE_FOOT)

    def left_foot_width(y: float) -> int:
        x0, _, x1, _ = feet.crop((0, int(y), WIDTH // 2, int(y) + 1)).getbbox()
        return x1 - x0

    assert left_foot_width(middle_y("chest")) > 1.25 * left_foot_width(middle_y("lower-back"))
    spine_left, _ = zone_region("spine")
    assert spine_left[2] >= left_foot[2] - 3  # touches the inner (right) edge of the left foot
    assert spine_left[2] - spine_left[0] < 0.5 * (left_foot[2] - left_foot[0])

    # the solar plexus point: small, just below the ball, in the middle of the sole
    sp_x0, sp_y0, sp_x1, sp_y1 = zone_region("solar-plexus")[0]
    assert (sp_x1 - sp_x0) * (sp_y1 - sp_y0) < 0.02 * (left_foot[2] - left_foot[0]) * (
        left_foot[3] - left_foot[1]
    )
    chest = zone_region("chest")[0]
    assert chest[3] - 5 <= sp_y0 <= chest[3] + 30
    assert abs((sp_x0 + sp_x1) / 2 - (left_foot[0] + left_foot[2]) / 2) < 25


# --- highlighting -------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ZONES)
def test_highlight_paints_the_zone_in_the_accent(
    zone: str, plain: Image.Image, highlighted: dict[str, Image.Image]
) -> None:
    # The zone's fill: pixels inside its mask that the plain chart paints in exactly the
    # zone's colour (not its outline, edge anti-aliasing or a leader line crossing it).
    fill = _both(zone_mask(zone), _equal_to(plain, ZONE_COLOURS[zone]))
    assert _count(fill) > 0.6 * _count(zone_mask(zone))
    # Every one of them changes when the zone is highlighted...
    assert _count(_both(fill, _changed(plain, highlighted[zone]))) == _count(fill)
    # ...to the accent colour or, along the zone's edge, the darker accent of its outline
    # (or a blend of the two); away from the edge and the emphasised label's leader line
    # and end dot, nearly all of it is exactly the accent.
    core = _both(fill, _erode(zone_mask(zone), 4))
    for x0, y0, x1, y1 in label_region(zone):
        ImageDraw.Draw(core).rectangle([x0, y0, x1, y1], fill=0)
    assert _count(core) > 0.3 * _count(fill)
    assert _count(_both(fill, _accent_family(highlighted[zone]))) == _count(fill)
    accent = _equal_to(highlighted[zone], ACCENT)
    assert _count(_both(core, accent)) > 0.98 * _count(core)
    # Nowhere else is painted in the accent but the zone, its outline and its label (and
    # the halo ring 7 px around the small solar plexus point).
    allowed = _dilate(zone_mask(zone), 10 if zone == "solar-plexus" else 4)
    for x0, y0, x1, y1 in label_region(zone):
        ImageDraw.Draw(allowed).rectangle([x0, y0, x1, y1], fill=255)
    assert _count(_both(accent, ImageOps.invert(allowed))) == 0


def _accent_family(image: Image.Image) -> Image.Image:
    """Mode "L": 255 where each channel lies between ACCENT_DARK and ACCENT."""
    result = Image.new("L", image.size, 255)
    for band, a, b in zip(image.split(), ACCENT, ACCENT_DARK, strict=True):
        lo, hi = min(a, b), max(a, b)
        lut = [255 if lo <= v <= hi else 0 for v in range(256)]
        result = _both(result, band.point(lut))
    return result


def _equal_to(image: Image.Image, colour: tuple[int, int, int]) -> Image.Image:
    """Mode "L": 255 where ``image`` has exactly ``colour``."""
    return ImageOps.invert(_changed(image, Image.new("RGB", image.size, colour)))


@pytest.mark.parametrize("zone", ZONES)
def test_highlight_leaves_everything_away_from_the_feet_and_its_label_unchanged(
    zone: str,
    plain: Image.Image,
    highlighted: dict[str, Image.Image],
    near_the_feet: Image.Image,
) -> None:
    # Allowed to change: the feet (the zone itself plus the muted others) grown by 3 px,
    # and the boxes of this zone's label and leader line(s). Everything else - title,
    # subtitle, the other labels, foot names, caption, background - is byte-identical.
    allowed = near_the_feet.copy()
    draw = ImageDraw.Draw(allowed)
    for x0, y0, x1, y1 in label_region(zone):
        draw.rectangle([x0, y0, x1, y1], fill=255)
    outside = ImageOps.invert(allowed)
    assert _count(outside) > 0.6 * WIDTH * HEIGHT
    assert _count(_both(_changed(plain, highlighted[zone]), outside)) == 0
    # the label itself is emphasised
    x0, y0, x1, y1 = label_region(zone)[0]
    label_box = (x0, y0, x1, y1)
    assert _changed(plain.crop(label_box), highlighted[zone].crop(label_box)).getbbox()


@pytest.mark.parametrize("zone", ZONES)
def test_other_zones_are_muted(
    zone: str, plain: Image.Image, highlighted: dict[str, Image.Image]
) -> None:
    for other in ZONES:
        if other == zone:
            continue
        inside = _erode(zone_mask(other), 4)
        if _count(inside) < 50:
            continue
        before = _saturation(plain, inside)
        after = _saturation(highlighted[zone], inside)
        assert after < 0.7 * before, (other, before, after)


def _saturation(image: Image.Image, mask: Image.Image) -> float:
    saturation = image.convert("HSV").getchannel("S")
    histogram = saturation.histogram(mask=mask)
    return sum(value * n for value, n in enumerate(histogram)) / max(1, sum(histogram))


# --- the cache -----------------------------------------------------------------------------


class CountingRenderer:
    def __init__(self) -> None:
        self.calls: list[str | None] = []
        self._lock = threading.Lock()

    def __call__(self, zone: str | None) -> bytes:
        with self._lock:
            self.calls.append(zone)
        return f"png:{zone}".encode()


def test_cache_renders_each_variant_once() -> None:
    renderer = CountingRenderer()
    cache = FootMapCache(renderer=renderer)
    assert cache.get_png("chest") == b"png:chest"
    assert cache.get_png("chest") == b"png:chest"
    assert cache.get_png(None) == b"png:None"
    assert cache.get_png(WHOLE_FOOT) == b"png:None"  # the plain chart, shared
    assert cache.get_png() == b"png:None"
    assert renderer.calls == ["chest", None]
    assert cache.render_count == 2
    cache.warm()
    assert sorted(map(str, renderer.calls)) == sorted(map(str, [None, *ZONES]))
    assert cache.render_count == len(ZONES) + 1


def test_cache_renders_once_under_concurrent_first_use() -> None:
    renderer = CountingRenderer()
    cache = FootMapCache(renderer=renderer)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(cache.get_png, ["spine"] * 32))
    assert set(results) == {b"png:spine"}
    assert renderer.calls == ["spine"]


def test_cache_with_the_real_renderer_returns_the_chart() -> None:
    cache = FootMapCache()
    assert cache.get_png("digestion") == render_foot_map("digestion")
    assert cache.get_png("digestion") is cache.get_png("digestion")
    assert cache.render_count == 1


def test_cache_remembers_file_ids_per_variant() -> None:
    cache = FootMapCache(renderer=CountingRenderer())
    assert cache.get_file_id("head") is None
    assert cache.get_file_id(None) is None
    cache.remember_file_id("head", "AgAD-head")
    cache.remember_file_id(None, "AgAD-plain")
    assert cache.get_file_id("head") == "AgAD-head"
    assert cache.get_file_id(None) == "AgAD-plain"
    assert cache.get_file_id(WHOLE_FOOT) == "AgAD-plain"
    assert cache.get_file_id("neck") is None
    cache.remember_file_id("head", "AgAD-head-2")  # a re-upload replaces it
    assert cache.get_file_id("head") == "AgAD-head-2"
    cache.forget_file_id("head")
    assert cache.get_file_id("head") is None
    assert cache.get_file_id(WHOLE_FOOT) == "AgAD-plain"


# --- files for people to look at ---------------------------------------------------------------


def test_render_all_writes_every_variant_to_a_folder_people_can_open() -> None:
    paths = render_all(OUTPUT)
    expected = {"foot_map.png", *(f"foot_map_{zone}.png" for zone in ZONES)}
    assert {path.name for path in paths} == expected
    assert len(paths) == len(expected)
    for path in paths:
        assert path.parent == OUTPUT
        assert 0 < path.stat().st_size < MAX_PNG_BYTES
        with Image.open(path) as image:
            assert image.format == "PNG"
            assert image.size == (WIDTH, HEIGHT)
    assert (OUTPUT / "foot_map.png").read_bytes() == render_foot_map()
