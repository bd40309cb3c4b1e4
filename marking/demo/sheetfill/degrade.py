"""A page through a scanner: turned, askew, scaled, blurred, noisy, compressed, tinted or
thresholded, each drawn at random within the Degrade knobs and recorded in a Scan.

The parameters are drawn apart from the pixels (``plan_scan``) so a corpus knows every
page's Scan, and where each layout point landed, before drawing a single page. The scan
bed is white and as large as the turned page's bounding box plus a small margin, as a
sheet-fed scanner that crops to the paper delivers it: no corner mark leaves the picture.
"""

from __future__ import annotations

import io
import math
import random
from dataclasses import dataclass

import cv2
import numpy as np
import numpy.typing as npt
from PIL import Image

from marking.demo.sheetfill.blank import WHITE, Grey, px_per_mm
from marking.demo.sheetfill.truth import BLACK_AND_WHITE, COLOUR, GREY, Degrade, Scan

Pixels = npt.NDArray[np.uint8]  # grey H×W or BGR H×W×3
Matrix = npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ScanPlan:
    """One page's drawn degradation; ``noise_seed`` seeds its sensor noise."""

    dpi: int
    upside_down: bool
    skew: float
    scale: float
    margin: float  # mm of scan bed around the page's bounding box
    noise: float
    blur: float
    jpeg_quality: int | None
    mode: str
    tint: tuple[int, int, int]  # the paper's BGR on a colour scan
    threshold: int  # grey level below which a black-and-white scan is black
    noise_seed: int


def plan_scan(rng: random.Random, knobs: Degrade) -> ScanPlan:
    """Draw one page's degradation within ``knobs``."""
    draw = rng.random()
    mode = (
        BLACK_AND_WHITE
        if draw < knobs.black_and_white
        else COLOUR
        if draw < knobs.black_and_white + knobs.colour
        else GREY
    )
    jpeg = mode != BLACK_AND_WHITE and rng.random() < knobs.jpeg
    skew = rng.uniform(-knobs.skew, knobs.skew)
    scale = 1.0 + rng.uniform(-knobs.scale, knobs.scale)
    return ScanPlan(
        dpi=rng.choice(knobs.dpis),
        upside_down=rng.random() < knobs.upside_down,
        skew=skew,
        scale=scale,
        margin=rng.uniform(0.5, 3.0) if (skew or scale != 1.0) else 0.0,
        noise=rng.uniform(0, knobs.noise),
        blur=rng.uniform(0, knobs.blur),
        jpeg_quality=knobs.jpeg_quality if jpeg else None,
        mode=mode,
        tint=(rng.randint(200, 235), rng.randint(220, 245), rng.randint(235, 255)),
        threshold=knobs.threshold,
        noise_seed=rng.getrandbits(63),
    )


def geometry(plan: ScanPlan, shape: tuple[int, int]) -> tuple[Matrix, tuple[int, int]]:
    """The 3×3 map from the rendered page's pixels to the scan's, and the scan's size
    (width, height), for a page rendered ``shape`` (height, width)."""
    height, width = shape
    centre = ((width - 1) / 2, (height - 1) / 2)
    turn = cv2.getRotationMatrix2D(centre, plan.skew, plan.scale)
    matrix = np.vstack([turn, [0.0, 0.0, 1.0]])
    corners = np.array(
        [
            [-0.5, -0.5, 1],
            [width - 0.5, -0.5, 1],
            [-0.5, height - 0.5, 1],
            [width - 0.5, height - 0.5, 1],
        ]
    ).T
    moved = matrix @ corners
    pad = plan.margin * px_per_mm(plan.dpi)
    left, top = moved[0].min() - pad, moved[1].min() - pad
    size = (math.ceil(moved[0].max() + pad - left), math.ceil(moved[1].max() + pad - top))
    if not plan.margin:
        left, top, size = -0.5, -0.5, (width, height)
    shift = np.array([[1.0, 0, -0.5 - left], [0, 1.0, -0.5 - top], [0, 0, 1.0]])
    matrix = shift @ matrix
    if plan.upside_down:
        flip = np.array([[-1.0, 0, size[0] - 1], [0, -1.0, size[1] - 1], [0, 0, 1.0]])
        matrix = flip @ matrix
    return matrix, size


def scan_truth(plan: ScanPlan, shape: tuple[int, int]) -> Scan:
    """The Scan a page gets: its plan and where the layout's mm land in its pixels."""
    matrix, _size = geometry(plan, shape)
    scale = px_per_mm(plan.dpi)
    to_render = np.array([[scale, 0, -0.5], [0, scale, -0.5], [0, 0, 1.0]])
    total = matrix @ to_render
    return Scan(
        dpi=plan.dpi,
        upside_down=plan.upside_down,
        skew=plan.skew,
        scale=plan.scale,
        noise=plan.noise,
        blur=plan.blur,
        jpeg_quality=plan.jpeg_quality,
        mode=plan.mode,
        transform=tuple((float(a), float(b), float(c)) for a, b, c in total),
    )


def degrade(page: Grey, plan: ScanPlan) -> tuple[Pixels, bytes | None]:
    """The scan of a drawn page: its pixels and, when compressed, the JPEG they decode from."""
    matrix, size = geometry(plan, (page.shape[0], page.shape[1]))
    pixels: Pixels = page
    if plan.margin or plan.upside_down:
        if plan.margin:
            pixels = np.asarray(
                cv2.warpAffine(page, matrix[:2], size, flags=cv2.INTER_LINEAR, borderValue=WHITE),
                np.uint8,
            )
        else:
            pixels = np.asarray(cv2.rotate(page, cv2.ROTATE_180), np.uint8)
    sigma = plan.blur * px_per_mm(plan.dpi)
    if sigma > 0.3:
        pixels = np.asarray(cv2.GaussianBlur(pixels, (0, 0), sigma), np.uint8)
    if plan.mode == COLOUR:
        pixels = _tinted(pixels, plan.tint)
    if plan.noise > 0.5:
        pixels = _noisy(pixels, plan.noise, plan.noise_seed)
    if plan.mode == BLACK_AND_WHITE:
        return np.where(pixels < plan.threshold, 0, WHITE).astype(np.uint8), None
    if plan.jpeg_quality is None:
        return pixels, None
    data = jpeg_bytes(pixels, plan.jpeg_quality, plan.dpi)
    decoded = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    return np.asarray(decoded, np.uint8), data


NOISE_TILE = 512  # px: the sensor noise's period


def _noisy(pixels: Pixels, sigma: float, seed: int) -> Pixels:
    """Gaussian sensor noise of ``sigma`` grey levels. Drawn as one tile, repeated across
    the page from a random offset: a tenth of the cost of a full page of normal draws (it
    was most of a page's time), and no reader can tell a 6 cm period in pixel noise."""
    rng = np.random.default_rng(seed)
    shape = (NOISE_TILE, NOISE_TILE, *pixels.shape[2:])
    tile = np.rint(rng.standard_normal(shape, np.float32) * sigma).astype(np.int16)
    dy, dx = (int(v) for v in rng.integers(0, NOISE_TILE, 2))
    height, width = pixels.shape[:2]
    reps = (-(-(height + dy) // NOISE_TILE), -(-(width + dx) // NOISE_TILE))
    field = cv2.repeat(tile, reps[0], reps[1])[dy : dy + height, dx : dx + width]
    return np.asarray(cv2.add(pixels, field, dtype=cv2.CV_8U), np.uint8)


def _tinted(grey: Grey, tint: tuple[int, int, int]) -> Pixels:
    """Grey pixels as BGR on paper of colour ``tint`` (white becomes the tint, black stays)."""
    levels = np.arange(256, dtype=np.float32)
    channels = [np.asarray(cv2.LUT(grey, (levels * c / 255).astype(np.uint8))) for c in tint]
    return np.asarray(cv2.merge(channels), np.uint8)


def jpeg_bytes(pixels: Pixels, quality: int, dpi: int) -> bytes:
    """A JPEG of grey or BGR pixels (Pillow, so the file says its dpi)."""
    image = Image.fromarray(pixels if pixels.ndim == 2 else cv2.cvtColor(pixels, cv2.COLOR_BGR2RGB))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality, dpi=(dpi, dpi))
    return out.getvalue()
