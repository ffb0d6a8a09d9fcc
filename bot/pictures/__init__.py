"""Pictures the bot draws itself with Pillow (no downloaded images or fonts).

``bot.pictures.foot_map`` draws the traditional reflexology chart of both soles. Nothing
here imports Telegram: the adapter uploads the PNG bytes and hands back the file_id.
"""

from bot.pictures.foot_map import (
    FootMapCache,
    label_region,
    render_all,
    render_foot_map,
    zone_mask,
    zone_region,
)

__all__ = [
    "FootMapCache",
    "label_region",
    "render_all",
    "render_foot_map",
    "zone_mask",
    "zone_region",
]
