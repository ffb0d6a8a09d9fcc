"""The foot map: every area drawn where the charts put it, highlights that stay inside
their area, each area reachable by asking, the render cache, and the data file's checks.

Every variant is also written to tests/output/foot_maps/ (git-ignored), full size and
scaled to a 400 px phone preview, so a person can look at them after a test run.
"""

from __future__ import annotations

import io
import shutil
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageOps

from bot.core.companion import Companion
from bot.core.foot_zones import (
    AREA_IDS,
    FOOT_ZONES,
    WHOLE_FOOT,
    default_foot_map,
    map_picture,
    zone_areas,
)
from bot.core.knowledge import DEFAULT_DIR, KnowledgeError, load_knowledge
from bot.pictures.foot_map import (
    ACCENT,
    ACCENT_DARK,
    AREA_COLOURS,
    HEIGHT,
    LINE_BOX,
    SHAPES,
    WIDTH,
    FootMapCache,
    halo_boxes,
    label_region,
    render_all,
    render_foot_map,
    text_layer_mask,
    zone_ids,
    zone_mask,
    zone_region,
)
from tests.support.recording_request import Upload

OUTPUT = Path(__file__).parent / "output" / "foot_maps"
FOOT_MAP = default_foot_map()
AREAS = list(FOOT_MAP.area_ids)
REGIONS = [region.id for region in FOOT_MAP.regions]
ZONES = [*AREAS, *REGIONS]
MAX_PNG_BYTES = 250_000
PREVIEW_WIDTH = 400


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
    return mask.histogram()[255]


def _both(a: Image.Image, b: Image.Image) -> Image.Image:
    return ImageChops.multiply(a, b)


def _erode(mask: Image.Image, pixels: int) -> Image.Image:
    return mask.filter(ImageFilter.MinFilter(2 * pixels + 1))


def _dilate(mask: Image.Image, pixels: int) -> Image.Image:
    return mask.filter(ImageFilter.MaxFilter(2 * pixels + 1))


def _equal_to(image: Image.Image, colour: tuple[int, int, int]) -> Image.Image:
    return ImageOps.invert(_changed(image, Image.new("RGB", image.size, colour)))


def _accent_family(image: Image.Image) -> Image.Image:
    """Mode "L": 255 where each channel lies between ACCENT_DARK and ACCENT."""
    result = Image.new("L", image.size, 255)
    for band, a, b in zip(image.split(), ACCENT, ACCENT_DARK, strict=True):
        lo, hi = min(a, b), max(a, b)
        result = _both(result, band.point([255 if lo <= v <= hi else 0 for v in range(256)]))
    return result


def _boxes(mask: Image.Image, boxes: list[tuple[int, int, int, int]]) -> Image.Image:
    mask = mask.copy()
    draw = ImageDraw.Draw(mask)
    for x0, y0, x1, y1 in boxes:
        draw.rectangle([x0, y0, x1, y1], fill=255)
    return mask


def _text_and_halo(zone: str) -> list[tuple[int, int, int, int]]:
    """What a highlight may change besides the area: its labels, leaders, halos, the line."""
    halos = [b for area in zone_areas(FOOT_MAP, zone) for b in halo_boxes(area)]
    return [*label_region(zone), *halos, LINE_BOX]


@pytest.fixture(scope="module")
def rendered() -> dict[str | None, bytes]:
    started = time.perf_counter()
    pictures = {zone: render_foot_map(zone) for zone in (None, *ZONES)}
    elapsed = time.perf_counter() - started
    # generous for a shared machine: about 0.1 s a variant plus the geometry once
    assert elapsed < 20, elapsed
    return pictures


@pytest.fixture(scope="module")
def plain(rendered: dict[str | None, bytes]) -> Image.Image:
    return _open(rendered[None])


@pytest.fixture(scope="module")
def highlighted(rendered: dict[str | None, bytes]) -> dict[str, Image.Image]:
    return {zone: _open(rendered[zone]) for zone in ZONES}


# --- the data and the drawing agree ---------------------------------------------------


def test_the_chart_has_at_least_25_areas_each_with_a_shape_and_a_colour(knowledge) -> None:
    assert len(AREAS) >= 25
    assert set(SHAPES) == set(AREAS) == set(AREA_COLOURS)
    assert zone_ids() == (*AREAS, *REGIONS)
    # routine steps may name any area or region, or the whole foot
    assert set(AREA_IDS) == {*ZONES, WHOLE_FOOT}
    assert set(FOOT_ZONES) == set(ZONES)
    assert FOOT_ZONES["solar-plexus"] == "Solar plexus point"
    for routine in knowledge.routines.values():
        for step in routine.steps:
            assert step.area in AREA_IDS


def test_the_common_chart_areas_are_there() -> None:
    wanted = {
        "head-brain", "sinuses", "eyes", "ears", "neck", "thyroid", "shoulder",
        "chest-lungs", "heart", "liver", "gallbladder", "stomach", "pancreas", "kidneys",
        "bladder", "small-intestine", "large-intestine", "spine", "lower-back", "sciatic",
        "hip", "knee", "reproductive", "solar-plexus",
    }  # fmt: skip
    assert wanted <= set(AREAS)


# --- valid pictures -----------------------------------------------------------------------


@pytest.mark.parametrize("zone", [None, *ZONES])
def test_every_variant_is_a_small_png_of_the_chart_size(
    zone: str | None, rendered: dict[str | None, bytes]
) -> None:
    png = rendered[zone]
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) < MAX_PNG_BYTES
    Image.open(io.BytesIO(png)).verify()
    assert _open(png).size == (WIDTH, HEIGHT)


def test_whole_foot_and_none_give_the_same_plain_chart(rendered: dict[str | None, bytes]) -> None:
    assert render_foot_map(WHOLE_FOOT) == rendered[None] == render_foot_map()


@pytest.mark.parametrize("bad", ["elbow", "", "Kidneys", "whole_foot", "map-kidneys"])
def test_unknown_zone_raises(bad: str) -> None:
    with pytest.raises(ValueError, match="unknown foot zone"):
        render_foot_map(bad)
    with pytest.raises(ValueError):
        zone_mask(bad)
    with pytest.raises(ValueError):
        FootMapCache().get_png(bad)


# --- the drawing follows the charts -------------------------------------------------------


@pytest.mark.parametrize("area", AREAS)
def test_every_area_shows_on_the_feet_the_charts_put_it(area: str) -> None:
    boxes = zone_region(area)
    assert _count(zone_mask(area)) > 60  # visible, not painted over by a neighbour
    side_top = 772
    if SHAPES[area].clip == "side":
        assert len(boxes) == 1 and boxes[0][1] >= side_top
        return
    on_left = [b for b in boxes if b[2] <= WIDTH // 2 and b[3] < side_top]
    on_right = [b for b in boxes if b[0] >= WIDTH // 2 and b[3] < side_top]
    assert len(boxes) == len(on_left) + len(on_right)
    feet = next(a.feet for a in FOOT_MAP.areas if a.id == area)  # from foot_map.yaml
    assert bool(on_left) == (feet in ("both", "left")), area
    assert bool(on_right) == (feet in ("both", "right")), area
    # an area on both feet is mirrored, up to edge pixels; the colon is drawn differently
    # on each foot and the heart sits on the left foot's chest area, as on the charts
    if feet == "both" and area not in ("large-intestine", "chest-lungs"):
        mask = zone_mask(area).crop((0, 0, WIDTH, side_top))
        mismatched = _count(_changed(mask.convert("RGB"), ImageOps.mirror(mask).convert("RGB")))
        assert mismatched < 0.08 * _count(mask), area


def test_the_feet_differ_where_the_charts_do() -> None:
    one_foot = {a.id: a.feet for a in FOOT_MAP.areas if a.feet != "both"}
    assert one_foot == {
        "heart": "left",
        "stomach": "left",
        "pancreas": "left",
        "spleen": "left",
        "liver": "right",
        "gallbladder": "right",
    }


def test_areas_run_from_toes_to_heel_and_the_feet_differ() -> None:
    def middle_y(zone: str) -> float:
        _, y0, _, y1 = zone_region(zone)[0]
        return (y0 + y1) / 2

    order = [
        "head-brain", "thyroid", "chest-lungs", "diaphragm", "stomach", "kidneys",
        "small-intestine", "sciatic", "lower-back",
    ]  # fmt: skip
    heights = [middle_y(zone) for zone in order]
    assert heights == sorted(heights)
    # the spine runs along the inner edge, the knee and hip along the outer one
    left_foot = zone_region(WHOLE_FOOT)[0]
    assert zone_region("spine")[0][2] >= left_foot[2] - 3
    feet = zone_mask(WHOLE_FOOT)
    for area in ("knee", "hip", "arm-elbow"):
        x0, y0, _, y1 = zone_region(area)[0]
        row = feet.crop((0, (y0 + y1) // 2, WIDTH // 2, (y0 + y1) // 2 + 1)).getbbox()
        assert row is not None and x0 <= row[0] + 3, area
    # the two soles are not mirror images: liver right, heart and stomach left
    soles = zone_mask(WHOLE_FOOT).crop((0, 0, WIDTH, 760))
    plain = _open(render_foot_map()).crop((0, 0, WIDTH, 760))
    mirrored = ImageOps.mirror(plain)
    differs = _both(_changed(plain, mirrored), _erode(_both(soles, ImageOps.mirror(soles)), 3))
    liver = zone_mask("liver").crop((0, 0, WIDTH, 760))
    assert _count(_both(differs, _erode(liver, 2))) > 0.9 * _count(_erode(liver, 2))


# --- highlighting -------------------------------------------------------------------------


def _crop_box(zone: str, pad: int = 16) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = zone_mask(zone).getbbox() or (0, 0, WIDTH, HEIGHT)
    return (max(0, x0 - pad), max(0, y0 - pad), min(WIDTH, x1 + pad), min(HEIGHT, y1 + pad))


def _shifted(boxes: list[tuple[int, int, int, int]], box: tuple[int, int, int, int]):
    return [(a - box[0], b - box[1], c - box[0], d - box[1]) for a, b, c, d in boxes]


@pytest.fixture(scope="module")
def no_text() -> Image.Image:
    """Everywhere but the plain chart's labels and leader lines (grown by 1 px)."""
    return ImageOps.invert(_dilate(text_layer_mask(), 1))


@pytest.fixture(scope="module")
def near_the_feet() -> Image.Image:
    """Both feet and the side view grown by 3 px: what muting the others may touch."""
    return _dilate(zone_mask(WHOLE_FOOT), 3)


@pytest.mark.parametrize("zone", ZONES)
def test_the_highlight_stays_inside_its_outline(
    zone: str, plain: Image.Image, highlighted: dict[str, Image.Image], no_text: Image.Image
) -> None:
    image = highlighted[zone]
    box = _crop_box(zone)
    crop, plain_crop, text_free = image.crop(box), plain.crop(box), no_text.crop(box)
    members = [zone_mask(area).crop(box) for area in zone_areas(FOOT_MAP, zone)]

    def union(masks: list[Image.Image]) -> Image.Image:
        result = masks[0]
        for mask in masks[1:]:
            result = ImageChops.lighter(result, mask)
        return result

    # Inside: every pixel of the area changes, to the accent or its darker outline
    # (but where the leader of another label crosses it).
    inside = _both(union([_erode(m, 1) for m in members]), text_free)
    assert _count(_both(inside, _changed(plain_crop, crop))) == _count(inside)
    assert _count(_both(inside, _accent_family(crop))) > 0.97 * _count(inside)
    # Away from its edge and its label's leader, the area is exactly the accent.
    core = _both(union([_erode(m, 4) for m in members]), text_free)
    for x0, y0, x1, y1 in _shifted(label_region(zone), box):
        ImageDraw.Draw(core).rectangle([x0, y0, x1, y1], fill=0)
    if _count(core) > 30:
        assert _count(_both(core, _equal_to(crop, ACCENT))) > 0.98 * _count(core)
    # Outside: no accent anywhere but the area (grown by 2 px for anti-aliasing), its
    # label, leader and halo, and the one-line box.
    allowed = Image.new("L", (WIDTH, HEIGHT), 0)
    allowed.paste(_dilate(union(members), 2), box[:2])
    allowed = _boxes(allowed, _text_and_halo(zone))
    strong = _both(_accent_family(image), _changed(plain, image))
    assert _count(_both(strong, ImageOps.invert(allowed))) == 0


@pytest.mark.parametrize("zone", ZONES)
def test_a_highlight_changes_nothing_away_from_the_feet_but_its_label_and_line(
    zone: str,
    plain: Image.Image,
    highlighted: dict[str, Image.Image],
    near_the_feet: Image.Image,
) -> None:
    # The feet may change (the others are muted), and this zone's labels, leaders,
    # halos and the one-line box; title, other labels, foot names, caption may not.
    allowed = _boxes(near_the_feet, _text_and_halo(zone))
    outside = ImageOps.invert(allowed)
    assert _count(outside) > 0.5 * WIDTH * HEIGHT
    assert _count(_both(_changed(plain, highlighted[zone]), outside)) == 0
    x0, y0, x1, y1 = label_region(zone)[0]
    label_box = (x0, y0, x1, y1)
    assert _changed(plain.crop(label_box), highlighted[zone].crop(label_box)).getbbox()


def test_other_areas_are_muted(plain: Image.Image, highlighted: dict[str, Image.Image]) -> None:
    before_s = plain.convert("HSV").getchannel("S")
    for zone in ("kidneys", "heart", "digestion"):
        after_s = highlighted[zone].convert("HSV").getchannel("S")
        for other in AREAS:
            if other in zone_areas(FOOT_MAP, zone):
                continue
            box = _crop_box(other, 4)
            inside = _erode(zone_mask(other).crop(box), 3)
            if _count(inside) < 50:
                continue
            before = _mean(before_s.crop(box), inside)
            after = _mean(after_s.crop(box), inside)
            assert after < 0.7 * before, (zone, other, before, after)


def _mean(channel: Image.Image, mask: Image.Image) -> float:
    histogram = channel.histogram(mask=mask)
    return sum(value * n for value, n in enumerate(histogram)) / max(1, sum(histogram))


def test_a_region_highlights_all_its_areas(highlighted: dict[str, Image.Image]) -> None:
    region = FOOT_MAP.region("digestion")
    assert region is not None and "liver" in region.areas and "stomach" in region.areas
    image = highlighted["digestion"]
    for area in region.areas:
        inside = _erode(zone_mask(area), 2)
        assert _count(_both(inside, _accent_family(image))) > 0.9 * _count(inside), area


# --- each area reachable by asking ------------------------------------------------------------


def test_every_area_has_a_foot_map_entry_that_brings_its_picture(knowledge) -> None:
    entries = [e for e in knowledge.entries["foot-map"] if e.area]
    assert {e.area for e in entries} == set(AREAS)
    for entry in entries:
        picture = map_picture(entry.id, knowledge)
        area = FOOT_MAP.area(entry.area)
        assert area is not None
        assert picture.zone == entry.area and picture.line == area.says
        assert map_picture(entry.area, knowledge) == picture  # the area id works too
    assert map_picture("map-overview", knowledge).zone is None
    assert map_picture(None).zone is None and map_picture(WHOLE_FOOT).zone is None
    assert map_picture("digestion").zone == "digestion"


@pytest.mark.parametrize(
    ("question", "area"),
    [
        ("where is the point for my kidneys", "kidneys"),
        ("where is the point for the back?", "lower-back"),
        ("where is the thyroid on the foot", "thyroid"),
        ("which foot has the heart", "heart"),
        ("where are the sinuses", "sinuses"),
        ("where is the liver point on the foot", "liver"),
    ],
)
def test_asking_for_an_area_answers_with_its_entry_and_picture(
    question: str, area: str, companion: Companion
) -> None:
    knowledge = companion.knowledge
    reply = companion.respond(question)
    assert reply.topic == "foot-map"
    assert map_picture(reply.entry, knowledge).zone == area


async def test_on_telegram_asking_for_kidneys_sends_the_kidneys_picture(app, api) -> None:
    chat = 4242
    api.push_text(chat, "where is the point for my kidneys?")
    [photo] = await api.wait_for_sent("sendPhoto", chat_id=chat)
    assert isinstance(photo["photo"], Upload)
    assert photo["photo"].content == render_foot_map("kidneys")
    kidneys = FOOT_MAP.area("kidneys")
    assert kidneys is not None and str(photo["caption"]).startswith(kidneys.says)
    assert "not anatomy" in str(photo["caption"])
    # the overview question still gets the plain chart
    api.push_text(chat, "show me a foot map")
    photos = await api.wait_for_sent("sendPhoto", count=2, chat_id=chat)
    assert isinstance(photos[1]["photo"], Upload)
    assert photos[1]["photo"].content == render_foot_map()


# --- readable on a phone -------------------------------------------------------------------


def test_render_all_writes_every_variant_and_its_phone_preview(
    rendered: dict[str | None, bytes],
) -> None:
    paths = render_all(OUTPUT, rendered.__getitem__)
    expected = {"foot_map.png", *(f"foot_map_{zone}.png" for zone in ZONES)}
    assert {path.name for path in paths} == expected
    previews = OUTPUT / f"preview_{PREVIEW_WIDTH}px"
    previews.mkdir(exist_ok=True)
    for path in paths:
        assert path.parent == OUTPUT and 0 < path.stat().st_size < MAX_PNG_BYTES
        with Image.open(path) as image:
            assert image.size == (WIDTH, HEIGHT)
            small = image.resize(
                (PREVIEW_WIDTH, round(PREVIEW_WIDTH * HEIGHT / WIDTH)),
                Image.LANCZOS,
                reducing_gap=2.0,
            )
            small.save(previews / path.name)
    assert (OUTPUT / "foot_map.png").read_bytes() == rendered[None]
    assert (OUTPUT / "foot_map_kidneys.png").read_bytes() == render_foot_map("kidneys")


def test_the_caption_says_it_is_a_traditional_map_not_anatomy() -> None:
    assert any("not anatomy" in line and "traditional" in line for line in FOOT_MAP.caption)


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
    assert cache.get_png("kidneys") == b"png:kidneys"
    assert cache.get_png("kidneys") == b"png:kidneys"
    assert cache.get_png(None) == b"png:None"
    assert cache.get_png(WHOLE_FOOT) == b"png:None"
    assert renderer.calls == ["kidneys", None]
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


def test_cache_remembers_file_ids_per_variant() -> None:
    cache = FootMapCache(renderer=CountingRenderer())
    assert cache.get_file_id("heart") is None
    cache.remember_file_id("heart", "AgAD-heart")
    cache.remember_file_id(None, "AgAD-plain")
    assert cache.get_file_id("heart") == "AgAD-heart"
    assert cache.get_file_id(WHOLE_FOOT) == "AgAD-plain"
    assert cache.get_file_id("liver") is None
    cache.forget_file_id("heart")
    assert cache.get_file_id("heart") is None


# --- kb check reports a broken foot map with file, line and field ---------------------------


def test_kb_check_reports_foot_map_mistakes_with_line_and_field(tmp_path: Path) -> None:
    target = tmp_path / "knowledge"
    shutil.copytree(DEFAULT_DIR, target)
    path = target / "foot_map.yaml"
    text = path.read_text(encoding="utf-8")
    text = text.replace("    feet: left\n", "    feet: middle\n", 1)
    text = text.replace("label: Small intestine", "label: Small intestine and more words")
    text = text.replace("areas: [head-brain, pituitary,", "areas: [head-brian, pituitary,")
    text = text.replace("  - id: sinuses\n", "  - id: pituitary\n", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(KnowledgeError) as caught:
        load_knowledge(target)
    problems = [p for p in caught.value.problems if p.path == path]
    lines = text.splitlines()
    found = {p.field: p for p in problems}
    assert "must be one of both, left, right" in found["areas[9].feet"].message
    assert "feet: middle" in lines[found["areas[9].feet"].line - 1]
    assert "at most 18" in found["areas[21].label"].message
    assert "unknown area 'head-brian'" in found["regions[0].areas[0]"].message
    assert "duplicate id 'pituitary'" in found["areas[2].id"].message
    # the entry that points at the lost 'sinuses' area is reported in its own file
    entry_problems = [p for p in caught.value.problems if p.path.name == "foot-map.yaml"]
    assert any("unknown foot-map area 'sinuses'" in p.message for p in entry_problems)
