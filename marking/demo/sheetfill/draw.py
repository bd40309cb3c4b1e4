"""Drawing planned ink on a rendered page with OpenCV: anti-aliased, sub-pixel placed.

The ink goes on a white layer that is then laid over the page keeping the darker of the
two (pencil over print never lightens the print), so a pale fill leaves a bubble's printed
outline visible as it does on paper.
"""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

from marking.demo.sheetfill.blank import WHITE, Grey, px_per_mm, to_px
from marking.demo.sheetfill.ink import Blot, Glyph, Ink, Patch, Stroke

SHIFT = 4  # fractional bits of OpenCV's drawing coordinates: 1/16 px
ONE = 1 << SHIFT
FONT = cv2.FONT_HERSHEY_SCRIPT_SIMPLEX  # a single-stroke hand
_CAP = cv2.getTextSize("0", FONT, 1.0, 1)[0][1]  # a digit's height in px at scale 1


def _fixed(x: float, y: float, dpi: float) -> tuple[int, int]:
    return round(to_px(x, dpi) * ONE), round(to_px(y, dpi) * ONE)


def draw_ink(pixels: Grey, ink: Iterable[Ink], dpi: float) -> None:
    """Draw ``ink`` (mm) on ``pixels`` rendered at ``dpi``, in place."""
    layer = np.full_like(pixels, WHITE)
    scale = px_per_mm(dpi)
    for mark in ink:
        if isinstance(mark, Blot):
            axes = (round(mark.rx * scale * ONE), round(mark.ry * scale * ONE))
            centre = _fixed(mark.x, mark.y, dpi)
            cv2.ellipse(layer, centre, axes, mark.angle, 0, 360, mark.shade, -1, cv2.LINE_AA, SHIFT)
        elif isinstance(mark, Stroke):
            points = np.array([_fixed(x, y, dpi) for x, y in mark.points], np.int32)
            thickness = max(1, round(mark.width * scale))
            cv2.polylines(layer, [points], False, mark.shade, thickness, cv2.LINE_AA, SHIFT)
        elif isinstance(mark, Glyph):
            size = mark.height * scale / _CAP
            thickness = max(1, round(mark.width * scale))
            origin = (round(to_px(mark.x, dpi)), round(to_px(mark.y, dpi)))
            cv2.putText(layer, mark.text, origin, FONT, size, mark.shade, thickness, cv2.LINE_AA)
        elif isinstance(mark, Patch):
            box = mark.box
            corners = [
                (box.x, box.y),
                (box.right, box.y),
                (box.right, box.bottom),
                (box.x, box.bottom),
            ]
            polygon = np.array([_fixed(x, y, dpi) for x, y in corners], np.int32)
            cv2.fillPoly(layer, [polygon], mark.shade, cv2.LINE_AA, SHIFT)
    np.minimum(pixels, layer, out=pixels)
