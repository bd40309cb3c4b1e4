"""Small helpers for the paper tests: print a real sheet, render it to pixels, write on it
through the layout (mm → px) as candidates and invigilators do, and degrade the scan.

Deliberately plain and local to these tests (the seeded corpus generator is
``marking.demo.sheetfill``): each mark is drawn the way the reader must cope with it.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pypdfium2 as pdfium

from reports.sheetdata import Box, Circle

MM = 25.4  # per inch
WHITE = 255
PENCIL = 60  # a 2B pencil fill, scanned grey
LIGHT = 150  # a timid fill a person still sees as meant
SMUDGE = 215  # what an eraser leaves
PEN = 30

Pixels = np.ndarray


def render(pdf: bytes, index: int, dpi: float) -> Pixels:
    """Page ``index`` (from 0) of ``pdf`` as grey pixels at ``dpi``."""
    document = pdfium.PdfDocument(pdf)
    try:
        page = document[index]
        bitmap = page.render(scale=dpi / 72, grayscale=True)
        pixels = np.array(bitmap.to_numpy(), dtype=np.uint8)
        bitmap.close()
        page.close()
    finally:
        document.close()
    return pixels


def px(dpi: float, x: float, y: float) -> tuple[int, int]:
    """The pixel at the layout's point (x, y) mm of a page rendered at ``dpi``."""
    per_mm = dpi / MM
    return round(x * per_mm - 0.5), round(y * per_mm - 0.5)


def width(dpi: float, mm: float) -> int:
    return max(1, round(mm * dpi / MM))


def fill(image: Pixels, dpi: float, bubble: Circle, how: str) -> None:
    """Mark ``bubble`` on ``image`` in place: filled, light, tick, cross, erased or half."""
    centre = px(dpi, bubble.x, bubble.y)
    radius = width(dpi, bubble.r * 0.95)
    line = width(dpi, 0.4)
    r = bubble.r
    if how == "filled":
        cv2.circle(image, centre, radius, PENCIL, cv2.FILLED, cv2.LINE_AA)
    elif how == "light":
        cv2.circle(image, centre, radius, LIGHT, cv2.FILLED, cv2.LINE_AA)
    elif how.startswith("grey"):
        cv2.circle(image, centre, radius, int(how[4:]), cv2.FILLED, cv2.LINE_AA)
    elif how.startswith("light1"):
        cv2.circle(image, centre, radius, int(how[5:]), cv2.FILLED, cv2.LINE_AA)
    elif how == "erased":
        cv2.circle(image, centre, radius, SMUDGE, cv2.FILLED, cv2.LINE_AA)
    elif how == "half":  # a fill that stops halfway: the lower half of the bubble
        cv2.ellipse(image, centre, (radius, radius), 0, 0, 180, PENCIL, cv2.FILLED, cv2.LINE_AA)
    elif how == "tick":
        points = [(-0.8 * r, 0.0), (-0.2 * r, 0.7 * r), (0.9 * r, -0.8 * r)]
        pts = np.array([px(dpi, bubble.x + a, bubble.y + b) for a, b in points], np.int32)
        cv2.polylines(image, [pts], False, PEN, line, cv2.LINE_AA)
    elif how == "cross":
        for a, b in (((-0.8, -0.8), (0.8, 0.8)), ((-0.8, 0.8), (0.8, -0.8))):
            start = px(dpi, bubble.x + a[0] * r, bubble.y + a[1] * r)
            end = px(dpi, bubble.x + b[0] * r, bubble.y + b[1] * r)
            cv2.line(image, start, end, PEN, line, cv2.LINE_AA)
    else:
        raise ValueError(how)


def fill_box(image: Pixels, dpi: float, box: Box, grey: int = PENCIL) -> None:
    """Fill a small rectangle (缺考/违纪) as an invigilator does, a little inside its edges."""
    cv2.rectangle(
        image,
        px(dpi, box.x + 0.3, box.y + 0.3),
        px(dpi, box.right - 0.3, box.bottom - 0.3),
        grey,
        cv2.FILLED,
    )


def stroke(image: Pixels, dpi: float, points: list[tuple[float, float]], mm: float = 0.4) -> None:
    """A pen stroke through the layout points (mm)."""
    pts = np.array([px(dpi, x, y) for x, y in points], np.int32)
    cv2.polylines(image, [pts], False, PEN, width(dpi, mm), cv2.LINE_AA)


def handwriting(image: Pixels, dpi: float, box: Box, seed: int) -> None:
    """A few lines of scrawl across an answer box's writing area (below its caption)."""
    rng = np.random.default_rng(seed)
    for line in range(3):
        y = box.y + 12 + line * 8
        x = box.x + 6
        while x < box.x + min(box.w - 10, 120):
            glyph = [(x + rng.uniform(0, 3), y + rng.uniform(-3, 0.5)) for _ in range(4)]
            stroke(image, dpi, glyph)
            x += 4.5


def upside_down(pixels: Pixels) -> Pixels:
    return np.ascontiguousarray(cv2.rotate(pixels, cv2.ROTATE_180))


def skewed(degrees: float) -> Callable[[Pixels], Pixels]:
    """Turned about the centre on a scan bed a tenth larger each side, as a page laid askew."""

    def turn(pixels: Pixels) -> Pixels:
        height, width_ = pixels.shape
        bed = cv2.copyMakeBorder(
            pixels,
            height // 10,
            height // 10,
            width_ // 10,
            width_ // 10,
            cv2.BORDER_CONSTANT,
            value=WHITE,
        )
        centre = ((bed.shape[1] - 1) / 2, (bed.shape[0] - 1) / 2)
        matrix = cv2.getRotationMatrix2D(centre, degrees, 1.0)
        size = (bed.shape[1], bed.shape[0])
        return cv2.warpAffine(bed, matrix, size, flags=cv2.INTER_LINEAR, borderValue=WHITE)

    return turn


def black_and_white(pixels: Pixels) -> Pixels:
    """A scanner's black-and-white mode: one threshold, no grey."""
    return np.where(pixels < 128, 0, WHITE).astype(np.uint8)


def jpeg(quality: int) -> Callable[[Pixels], Pixels]:
    def squash(pixels: Pixels) -> Pixels:
        ok, data = cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, quality])
        assert ok
        return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)

    return squash


def noisy(seed: int, sigma: float = 8.0) -> Callable[[Pixels], Pixels]:
    """Sensor noise and a slightly grey paper, as a cheap scanner gives."""

    def add(pixels: Pixels) -> Pixels:
        rng = np.random.default_rng(seed)
        noise = rng.normal(-12.0, sigma, pixels.shape)
        return np.clip(pixels.astype(np.float64) + noise, 0, WHITE).astype(np.uint8)

    return add


def degrade(pixels: Pixels, *steps: Callable[[Pixels], Pixels]) -> Pixels:
    for step in steps:
        pixels = step(pixels)
    return pixels
