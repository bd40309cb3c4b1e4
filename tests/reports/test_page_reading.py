"""Reading a scanned page back: the QR code's text, upright or upside down, and the corner
marks' alignment, on a printed page rendered at 150 and 300 dpi and on copies degraded
deterministically (turned, skewed, shrunk, greyscale or BGR, black-and-white)."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest

from marking.demo.synthetic import session_toml
from marking.domain.definition import parse_session_definition
from marking.paper.codes import decode_payload
from marking.paper.layout import corner_marks
from marking.paper.printing import PrintedSheets, print_sheets
from marking.paper.reading import PageReading, PageUnreadable, read_page
from reports.sheetdata import Box, SheetPage

SESSION = parse_session_definition(session_toml("2026-GD-0412", questions_per_component=4))
MM = 25.4  # per inch
TOLERANCE = 1.5  # mm
WHITE = 255
Affine = np.ndarray  # 2×3, pixels of the render to pixels of the degraded copy


@pytest.fixture(scope="module")
def printed() -> PrintedSheets:
    return print_sheets(SESSION, "theory", 1, workers=1)


@pytest.fixture(scope="module", params=[150, 300])
def render(request: pytest.FixtureRequest, printed: PrintedSheets) -> tuple[int, np.ndarray]:
    """Page 1 of the set as grey pixels at the given dpi."""
    dpi: int = request.param
    document = pdfium.PdfDocument(printed.pdf)
    try:
        page = document[0]
        bitmap = page.render(scale=dpi / 72, grayscale=True)
        pixels = bitmap.to_numpy().copy()
        bitmap.close()
        page.close()
    finally:
        document.close()
    return dpi, pixels


def identity(pixels: np.ndarray) -> tuple[np.ndarray, Affine]:
    return pixels, np.array([[1.0, 0, 0], [0, 1.0, 0]])


def as_bgr(pixels: np.ndarray) -> tuple[np.ndarray, Affine]:
    return cv2.cvtColor(pixels, cv2.COLOR_GRAY2BGR), identity(pixels)[1]


def black_and_white(pixels: np.ndarray) -> tuple[np.ndarray, Affine]:
    return np.where(pixels < 128, 0, WHITE).astype(np.uint8), identity(pixels)[1]


def upside_down(pixels: np.ndarray) -> tuple[np.ndarray, Affine]:
    height, width = pixels.shape
    return cv2.rotate(pixels, cv2.ROTATE_180), np.array(
        [[-1.0, 0, width - 1], [0, -1.0, height - 1]]
    )


def rotated(degrees: float) -> Callable[[np.ndarray], tuple[np.ndarray, Affine]]:
    """Turned about the page's centre on a scan bed a tenth larger each side (white fill),
    as a page laid askew on a scanner: no mark leaves the picture."""

    def turn(pixels: np.ndarray) -> tuple[np.ndarray, Affine]:
        height, width = pixels.shape
        pad_y, pad_x = height // 10, width // 10
        bed = cv2.copyMakeBorder(
            pixels, pad_y, pad_y, pad_x, pad_x, cv2.BORDER_CONSTANT, value=WHITE
        )
        centre = ((bed.shape[1] - 1) / 2, (bed.shape[0] - 1) / 2)
        matrix = cv2.getRotationMatrix2D(centre, degrees, 1.0)
        out = cv2.warpAffine(
            bed, matrix, (bed.shape[1], bed.shape[0]), flags=cv2.INTER_LINEAR, borderValue=WHITE
        )
        shift = np.array([[1.0, 0, pad_x], [0, 1.0, pad_y], [0, 0, 1.0]])
        return out, matrix @ shift

    return turn


def scaled(factor: float) -> Callable[[np.ndarray], tuple[np.ndarray, Affine]]:
    """Shrunk about the centre on the same canvas (white fill), as a scanner's "fit to page"."""

    def shrink(pixels: np.ndarray) -> tuple[np.ndarray, Affine]:
        height, width = pixels.shape
        matrix = cv2.getRotationMatrix2D(((width - 1) / 2, (height - 1) / 2), 0.0, factor)
        out = cv2.warpAffine(
            pixels, matrix, (width, height), flags=cv2.INTER_AREA, borderValue=WHITE
        )
        return out, matrix

    return shrink


DEGRADED = {
    "grey": (identity, False),
    "bgr": (as_bgr, False),
    "black-and-white": (black_and_white, False),
    "upside-down": (upside_down, True),
    "turned +7°": (rotated(7.0), False),
    "turned -10°": (rotated(-10.0), False),
    "turned +7° upside down": (lambda p: compose(p, rotated(7.0), upside_down), True),
    "scaled 0.95": (scaled(0.95), False),
}


def compose(
    pixels: np.ndarray, *steps: Callable[[np.ndarray], tuple[np.ndarray, Affine]]
) -> tuple[np.ndarray, Affine]:
    total = np.eye(3)
    for step in steps:
        pixels, matrix = step(pixels)
        total = np.vstack([matrix, [0, 0, 1.0]]) @ total
    return pixels, total[:2]


def landmarks(page: SheetPage) -> list[tuple[float, float]]:
    """The corner marks' centres and the QR box's corners, in mm."""
    qr = page.qr
    return [(b.x + b.w / 2, b.y + b.h / 2) for b in corner_marks()] + [
        (qr.x, qr.y),
        (qr.right, qr.y),
        (qr.right, qr.bottom),
        (qr.x, qr.bottom),
    ]


def in_scan(reading: PageReading, shape: tuple[int, ...], x: float, y: float) -> np.ndarray:
    """Where the reading puts the layout's point in the scan as given (before any turning)."""
    u, v = reading.locate(x, y)
    if reading.upside_down:
        height, width = shape[:2]
        u, v = width - 1 - u, height - 1 - v
    return np.array([u, v])


@pytest.mark.parametrize("name", list(DEGRADED))
def test_a_page_is_read_and_aligned(
    name: str, render: tuple[int, np.ndarray], printed: PrintedSheets
) -> None:
    dpi, pixels = render
    degrade, turned = DEGRADED[name]
    scan, affine = degrade(pixels)
    reading = read_page(scan, dpi_hint=dpi if name != "scaled 0.95" else None)

    payload = decode_payload(reading.text)
    assert (payload.serial, payload.page) == (printed.serials[0], 1)
    assert payload.session == SESSION.code and payload.component == "theory"
    assert reading.upside_down is turned

    per_mm = dpi / MM
    worst = 0.0
    for x, y in landmarks(printed.layout.pages[0]):
        rendered = np.array([x * per_mm - 0.5, y * per_mm - 0.5, 1.0])  # pixel centres at .0
        expected = affine @ rendered
        error = float(np.hypot(*(in_scan(reading, scan.shape, x, y) - expected))) / per_mm
        worst = max(worst, error)
    assert worst <= TOLERANCE, f"{name} at {dpi} dpi: {worst:.2f} mm off"


def test_an_answer_box_is_cut_upright_and_apart_from_the_header(
    render: tuple[int, np.ndarray], printed: PrintedSheets
) -> None:
    dpi, pixels = render
    page = printed.layout.pages[0]
    assert page.header is not None and page.answers
    scan, _ = compose(pixels, rotated(7.0), upside_down)
    reading = read_page(scan, dpi_hint=dpi)
    box = page.answers[0].box
    cut = reading.cut(box, px_per_mm=8.0)
    assert cut.shape == (round(box.h * 8.0), round(box.w * 8.0))
    assert cut.dtype == np.uint8 and cut.min() < 128  # the box's border and caption are in it

    header = page.header.box
    assert not header.overlaps(box)
    answer_px = quad(reading, box)
    header_px = quad(reading, header)
    # the header's pixels and the box's pixels are two separate regions of the page: the box
    # wholly below the header (the page is upright again), side edges near parallel
    assert answer_px[:, 1].min() > header_px[:, 1].max()
    header_cut = reading.cut(header, px_per_mm=8.0)
    assert header_cut.shape == (round(header.h * 8.0), round(header.w * 8.0))


def quad(reading: PageReading, box: Box) -> np.ndarray:
    """The box's corners in the upright page's pixels."""
    corners = [(box.x, box.y), (box.right, box.y), (box.right, box.bottom), (box.x, box.bottom)]
    return np.array([reading.locate(x, y) for x, y in corners])


def test_a_blank_page_is_unreadable() -> None:
    blank = np.full((1754, 1241), WHITE, np.uint8)
    with pytest.raises(PageUnreadable, match="no QR code"):
        read_page(blank)


def test_a_page_without_its_corner_marks_is_unreadable(render: tuple[int, np.ndarray]) -> None:
    dpi, pixels = render
    per_mm = dpi / MM
    bare = pixels.copy()
    mark = corner_marks()[2]  # bottom-left
    top, left = round((mark.y - 2) * per_mm), round((mark.x - 2) * per_mm)
    bottom, right = round((mark.bottom + 2) * per_mm), round((mark.right + 2) * per_mm)
    bare[top:bottom, left:right] = WHITE
    with pytest.raises(PageUnreadable, match="not four corner marks"):
        read_page(bare, dpi_hint=dpi)


def test_a_page_turned_a_quarter_is_unreadable(render: tuple[int, np.ndarray]) -> None:
    dpi, pixels = render
    with pytest.raises(PageUnreadable, match="turned"):
        read_page(cv2.rotate(pixels, cv2.ROTATE_90_CLOCKWISE), dpi_hint=dpi)
