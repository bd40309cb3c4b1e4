"""The first step of reading a scanned answer-sheet page: find it, turn it upright, align it.

Pure: pixels in, a ``PageReading`` out, no database. The QR code says which sheet and page
this is (its text, checked later by ``codes.decode_payload``) and, by its orientation, whether
the page went through the scanner upside down. The four filled corner marks (layout.py) give
the homography from the layout's millimetres to the upright scan's pixels, so any box of the
layout can be cut out upright at a chosen resolution. Anything it cannot find for certain
raises ``PageUnreadable`` naming what was missing: a page is never aligned by guess.

Pixel coordinates follow OpenCV: the centre of pixel (column i, row j) is at (i, j).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
import zxingcpp

from marking.errors import MarkingError
from marking.paper.layout import MARK_SIZE, QR_BOX, corner_marks
from reports.sheetdata import Box

Grey = npt.NDArray[np.uint8]
Matrix = npt.NDArray[np.float64]

MM_PER_INCH = 25.4
QR_SYMBOL_MM = 19.3  # the printed symbol's side inside QR_BOX's quiet zone (a rough scale)
SIZE_TOLERANCE = 0.35  # a mark's side may be this far (relative) from the expected
MIN_FILL = 0.85  # share of a mark's bounding square that is ink (QR finders are ~0.67)
MIN_SQUARENESS = 0.75  # shorter over longer side of a mark's rotated rectangle
MAX_SKEW = 30.0  # degrees a page may lie askew, upright or upside down (§12 asks for 10)
QR_SLACK = 4.0  # mm: how far the QR's centre may sit from where the marks put it
# Where the QR code is looked for first (its box is at the top right, 166-190 mm across and
# 20-44 mm down an A4 page; this much of the width and height leaves room for skew and scale)
QR_REGION = (0.5, 0.3)
# The corner marks are looked for first within this many mm of each corner of the scan
# (their centres are 13 mm in from the edges), the whole page only if that is not certain
MARK_WINDOW = 50.0
MARK_REACH = 14.0  # mm: beyond a mark-sized blob's centre, what of it a window may cut off


class PageUnreadable(MarkingError):
    """A page cannot be read for certain: no QR code, or not four corner marks."""


@dataclass(frozen=True, eq=False)
class PageReading:
    """A scanned page found and aligned.

    ``image`` is the page upright (turned 180° when ``upside_down``), grey; ``transform`` maps
    the layout's mm (from the page's top-left) to ``image``'s pixels; ``qr`` the QR code's
    corners and ``marks`` the corner marks' centres, both in ``image``'s pixels.
    """

    text: str
    upside_down: bool
    transform: Matrix
    image: Grey
    qr: tuple[tuple[float, float], ...]
    marks: tuple[tuple[float, float], ...]

    def locate(self, x: float, y: float) -> tuple[float, float]:
        """Where the layout's point (``x``, ``y``) mm is in ``image``'s pixels."""
        u, v, w = self.transform @ np.array([x, y, 1.0])
        return float(u / w), float(v / w)

    def cut(self, box: Box, px_per_mm: float = 10.0) -> Grey:
        """The layout ``box`` warped out of the page upright, ``px_per_mm`` pixels a mm."""
        width, height = round(box.w * px_per_mm), round(box.h * px_per_mm)
        if width < 1 or height < 1:
            raise ValueError(f"{box} is too small to cut at {px_per_mm} px/mm")
        # output pixel (i, j) is the layout point (box.x + (i + .5) / ppm, box.y + (j + .5) / ppm)
        to_mm = np.array(
            [
                [1 / px_per_mm, 0.0, box.x + 0.5 / px_per_mm],
                [0.0, 1 / px_per_mm, box.y + 0.5 / px_per_mm],
                [0.0, 0.0, 1.0],
            ]
        )
        matrix = self.transform @ to_mm
        cut = cv2.warpPerspective(
            self.image,
            matrix,
            (width, height),
            flags=cv2.INTER_AREA | cv2.WARP_INVERSE_MAP,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=255,
        )
        return np.asarray(cut, dtype=np.uint8)


def read_page(image: npt.NDArray[np.uint8], *, dpi_hint: float | None = None) -> PageReading:
    """Find the page's QR code and corner marks; see the module's docstring.

    ``image`` is grey (H×W) or BGR (H×W×3) uint8; ``dpi_hint`` the scan's resolution when
    known (otherwise the scale is taken from the QR code's size).
    """
    grey = _grey(image)
    text, corners = _qr(grey)
    top_left, top_right = corners[0], corners[1]
    turn = float(np.degrees(np.arctan2(top_right[1] - top_left[1], top_right[0] - top_left[0])))
    if MAX_SKEW < abs(turn) < 180 - MAX_SKEW:
        raise PageUnreadable(f"the page is turned {turn:.0f}°: only upright or upside down")
    upside_down = abs(turn) >= 180 - MAX_SKEW
    if upside_down:
        grey = np.ascontiguousarray(cv2.rotate(grey, cv2.ROTATE_180))
        height, width = grey.shape
        corners = [(width - 1 - x, height - 1 - y) for x, y in corners]
    side = float(np.hypot(top_right[0] - top_left[0], top_right[1] - top_left[1]))
    px_per_mm = dpi_hint / MM_PER_INCH if dpi_hint else side / QR_SYMBOL_MM
    marks = _corner_marks(grey, px_per_mm)
    source = np.array([[b.x + b.w / 2, b.y + b.h / 2] for b in corner_marks()], np.float32)
    transform = cv2.getPerspectiveTransform(source, np.array(marks, np.float32))
    reading = PageReading(
        text=text,
        upside_down=upside_down,
        transform=np.asarray(transform, dtype=np.float64),
        image=grey,
        qr=tuple(corners),
        marks=tuple(marks),
    )
    _check_qr_agrees(reading)
    return reading


def _grey(image: npt.NDArray[np.uint8]) -> Grey:
    if image.dtype != np.uint8:
        raise PageUnreadable(f"a page's pixels must be 8-bit, not {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 3:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    if image.ndim == 2:
        return np.ascontiguousarray(image)
    raise PageUnreadable(f"a page must be grey or BGR pixels, not of shape {image.shape}")


def _qr(grey: Grey) -> tuple[str, list[tuple[float, float]]]:
    """The one QR code's text and its corners (top-left, top-right, bottom-right,
    bottom-left in the symbol's own orientation), in pixels.

    The code is looked for first where it is printed (the top right of an upright page,
    the bottom left of one upside down): reading a quarter of the page costs a tenth of
    reading it all. A code found there is the page's (the corner marks must then put it in
    its box, ``_check_qr_agrees``); only when neither place holds one is the whole page
    read, where the code may be anywhere and more than one is refused."""
    height, width = grey.shape
    rows, cols = round(height * QR_REGION[1]), round(width * QR_REGION[0])
    for top, left in ((0, width - cols), (height - rows, 0)):
        region = np.ascontiguousarray(grey[top : top + rows, left : left + cols])
        found = _decode(region)
        if found is not None and len({text for text, _ in found}) == 1:
            text, points = found[0]
            return text, [(x + left, y + top) for x, y in points]
    found = _decode(grey)
    if found is None:
        raise PageUnreadable("no QR code found on the page")
    texts = {text for text, _ in found}
    if len(texts) > 1:
        raise PageUnreadable(f"{len(texts)} different QR codes found on the page, not one")
    return found[0]


def _decode(grey: Grey) -> list[tuple[str, list[tuple[float, float]]]] | None:
    """The valid QR codes zxing-cpp reads in ``grey``, with their corners; None if none."""
    qr_only = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    found = []
    for barcode in zxingcpp.read_barcodes(grey, formats=qr_only):
        if barcode.valid:
            p = barcode.position
            corners = (p.top_left, p.top_right, p.bottom_right, p.bottom_left)
            found.append((barcode.text, [(float(c.x), float(c.y)) for c in corners]))
    return found or None


def _candidates(
    grey: Grey, px_per_mm: float, ink: Grey | None = None
) -> list[tuple[float, float, float]]:
    """Filled squares of about a corner mark's size: (x, y, mean grey) of each. ``ink`` is
    ``grey`` thresholded (Otsu's threshold of the whole page, inverted) when given."""
    if ink is None:
        _, found_ink = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)
        ink = np.asarray(found_ink, dtype=np.uint8)
    contours, _ = cv2.findContours(ink, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    expected = MARK_SIZE * px_per_mm
    found: list[tuple[float, float, float]] = []
    for contour in contours:
        _centre, (w, h), _angle = cv2.minAreaRect(contour)
        if min(w, h) < 3 or min(w, h) / max(w, h) < MIN_SQUARENESS:
            continue
        if abs((w + h) / 2 - expected) > SIZE_TOLERANCE * expected:
            continue
        x, y, bw, bh = cv2.boundingRect(contour)
        mask = np.zeros((bh, bw), np.uint8)
        cv2.drawContours(mask, [contour - np.array([x, y])], -1, 255, cv2.FILLED)
        inside = mask > 0
        patch_ink = ink[y : y + bh, x : x + bw][inside]
        if patch_ink.size == 0 or float(np.mean(patch_ink > 0)) < MIN_FILL:
            continue
        moments = cv2.moments(np.where(inside, ink[y : y + bh, x : x + bw], 0).astype(np.uint8))
        if moments["m00"] <= 0:
            continue
        mx, my = x + moments["m10"] / moments["m00"], y + moments["m01"] / moments["m00"]
        darkness = float(np.mean(grey[y : y + bh, x : x + bw][inside]))
        found.append((float(mx), float(my), darkness))
    return found


_CORNERS = (
    ("top-left", 0, 0),
    ("top-right", 1, 0),
    ("bottom-left", 0, 1),
    ("bottom-right", 1, 1),
)


def _corner_marks(grey: Grey, px_per_mm: float) -> list[tuple[float, float]]:
    """The corner marks' centres: top-left, top-right, bottom-left, bottom-right."""
    return _corner_marks_near(grey, px_per_mm) or _corner_marks_anywhere(grey, px_per_mm)


def _best(
    candidates: list[tuple[float, float, float]], corner: tuple[float, float], px_per_mm: float
) -> tuple[float, float, float]:
    """Nearest the page's corner; of two about as near, the darker."""
    return min(
        candidates,
        key=lambda c: (round(np.hypot(c[0] - corner[0], c[1] - corner[1]) / px_per_mm), c[2]),
    )


def _corner_marks_near(grey: Grey, px_per_mm: float) -> list[tuple[float, float]] | None:
    """The marks as ``_corner_marks_anywhere`` finds them, looked for only in a window of
    MARK_WINDOW mm at each corner: the same threshold (the whole page's), the same blobs
    (a mark inside a window has the same contour there), and the same choice, taken only
    when it is certain: the mark chosen is nearer its corner than anything the window
    leaves out could be. None when it is not, for the whole page to be searched."""
    height, width = grey.shape
    side = MARK_WINDOW * px_per_mm
    cols, rows = min(round(side), width // 2), min(round(side), height // 2)
    # anything outside the window is at least this far from the corner (pixels)
    beyond = min(cols, rows) - 1 - MARK_REACH * px_per_mm
    level, _ = cv2.threshold(grey, 0, 255, cv2.THRESH_OTSU | cv2.THRESH_DRYRUN)
    chosen: list[tuple[float, float]] = []
    for _name, right, bottom in _CORNERS:
        top, left = bottom * (height - rows), right * (width - cols)
        window = grey[top : top + rows, left : left + cols]
        _, window_ink = cv2.threshold(window, level, 255, cv2.THRESH_BINARY_INV)
        ink = np.asarray(window_ink, dtype=np.uint8)
        corner = (right * (width - 1) - left, bottom * (height - 1) - top)
        candidates = _candidates(window, px_per_mm, ink)
        if not candidates:
            return None
        best = _best(candidates, corner, px_per_mm)
        if np.hypot(best[0] - corner[0], best[1] - corner[1]) >= beyond - px_per_mm:
            return None
        chosen.append((best[0] + left, best[1] + top))
    return chosen


def _corner_marks_anywhere(grey: Grey, px_per_mm: float) -> list[tuple[float, float]]:
    """The marks among the mark-like squares of the whole page: in each quarter, the one
    nearest the page's corner."""
    height, width = grey.shape
    candidates = _candidates(grey, px_per_mm)
    chosen: list[tuple[float, float]] = []
    missing: list[str] = []
    for name, right, bottom in _CORNERS:
        in_quarter = [
            c
            for c in candidates
            if (c[0] >= width / 2) == bool(right) and (c[1] >= height / 2) == bool(bottom)
        ]
        if not in_quarter:
            missing.append(name)
            continue
        corner = (right * (width - 1), bottom * (height - 1))
        best = _best(in_quarter, corner, px_per_mm)
        chosen.append((best[0], best[1]))
    if missing:
        raise PageUnreadable(
            f"not four corner marks: none found {', '.join(missing)} "
            f"({len(candidates)} mark-like squares on the page)"
        )
    return chosen


def _check_qr_agrees(reading: PageReading) -> None:
    """The QR code must sit where the marks say its box is, or the marks are not the page's."""
    inverse = np.linalg.inv(reading.transform)
    centre = np.mean(np.array(reading.qr), axis=0)
    u, v, w = inverse @ np.array([centre[0], centre[1], 1.0])
    x, y = u / w, v / w
    want_x, want_y = QR_BOX.x + QR_BOX.w / 2, QR_BOX.y + QR_BOX.h / 2
    if np.hypot(x - want_x, y - want_y) > QR_SLACK:
        raise PageUnreadable(
            f"the corner marks put the QR code at ({x:.1f}, {y:.1f}) mm, "
            f"not in its box at ({want_x:.1f}, {want_y:.1f}) mm"
        )
