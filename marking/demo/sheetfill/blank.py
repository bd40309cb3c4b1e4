"""Blank answer-sheet pages as pixels, for any serial, fast.

Printing a set through WeasyPrint takes about half a second, and the pages of every set
are the same but for the QR code and the serial under it. So each source prints ONE set
(a template serial), renders each page once per resolution with pdfium, whites out the
code and serial, and a page of any serial is a copy of that with its own QR code drawn
module by module (segno, the same symbol the printer draws: same text, same error level,
same box) and its serial written under it. The pages are then exactly the printed sheets'
geometry, which is what the reader must align on.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np
import numpy.typing as npt
import pypdfium2 as pdfium
import segno

from marking.domain.definition import ComponentDef, SessionDef
from marking.paper.codes import PagePayload, encode_payload
from marking.paper.issue import session_definition
from marking.paper.layout import layout_digest, sheet_layout
from marking.paper.printing import find_component, print_layout
from marking.store.models import ExamSession
from reports.sheetdata import Box, SheetLayout

Grey = npt.NDArray[np.uint8]

MM_PER_INCH = 25.4
TEMPLATE_SERIAL = "2222222222"  # any valid serial: its code and number are painted over
QUIET_ZONE = 4  # modules, as reports.sheets draws them
SERIAL_TEXT_TOP = 0.3  # mm under the QR box, 3.5 mm tall (reports.sheets)
SERIAL_TEXT_HEIGHT = 3.5
SERIAL_CAP_MM = 1.6  # the printed serial's capital height, about (6 pt mono)
WHITE = 255


def px_per_mm(dpi: float) -> float:
    return dpi / MM_PER_INCH


def to_px(value: float, dpi: float) -> float:
    """A layout coordinate (mm) in the rendered page's pixels: pixel i covers
    [i, i + 1) / px_per_mm mm, and OpenCV puts its centre at i."""
    return value * px_per_mm(dpi) - 0.5


@dataclass(frozen=True)
class SheetSource:
    """A component's sheets as a session prints them: the definition (for the words on the
    page), the layout, the layout's digest and the key of the page codes' check values.
    Holds the rendered blank pages of each resolution once made (per process)."""

    session: SessionDef
    component: ComponentDef
    layout: SheetLayout
    digest: str
    key: bytes | None
    _renders: dict[int, tuple[Grey, ...]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def code(self, serial: str, page: int) -> str:
        """The QR text of page ``page`` of the set ``serial``."""
        payload = PagePayload(self.session.code, self.layout.component, self.digest, serial, page)
        return encode_payload(payload, key=self.key)

    def blank(self, page: int, dpi: int) -> Grey:
        """Page ``page`` (from 1) rendered at ``dpi`` without its code and serial (shared:
        copy before drawing on it)."""
        pages = self._renders.get(dpi)
        if pages is None:
            pages = _render_template(self, dpi)
            self._renders[dpi] = pages
        return pages[page - 1]


def source_from_definition(
    session: SessionDef, component: str, *, key: bytes | None = None
) -> SheetSource:
    """The sheets of ``component`` as ``session``'s definition lays them out (its ``lines``,
    ``options`` and ``[paper] exam_number_digits`` hints, as marking.paper.issue applies
    them), with page codes checked under ``key``: no database needed."""
    found = find_component(session, component)
    layout = sheet_layout(
        found,
        exam_number_digits=session.exam_number_digits,
        lines={q.number: q.lines for q in found.questions if q.lines is not None},
        options={q.number: q.options for q in found.questions if q.options is not None},
    )
    return SheetSource(session, found, layout, layout_digest(layout), key)


def source_from_exam(exam: ExamSession, component: str) -> SheetSource:
    """The sheets of a stored session's component: its definition as created and its own
    ``sheet_key``, so the engine takes the pages (give it the serials issue_sheets issued)."""
    return source_from_definition(session_definition(exam), component, key=exam.sheet_key)


def _render_template(source: SheetSource, dpi: int) -> tuple[Grey, ...]:
    printed = print_layout(source.session, source.layout, [TEMPLATE_SERIAL], key=source.key)
    document = pdfium.PdfDocument(printed.pdf)
    pages: list[Grey] = []
    try:
        for index in range(len(document)):
            page = document[index]
            bitmap = page.render(scale=dpi / 72, grayscale=True)
            pixels = np.array(bitmap.to_numpy(), dtype=np.uint8)  # a copy: the bitmap goes
            bitmap.close()
            page.close()
            for box in _code_boxes(source.layout.pages[index].qr):
                x0, y0, x1, y1 = _px_bounds(box, dpi)
                pixels[y0:y1, x0:x1] = WHITE
            pixels.setflags(write=False)
            pages.append(pixels)
    finally:
        document.close()
    return tuple(pages)


def _code_boxes(qr: Box) -> tuple[Box, Box]:
    """The QR code's box and the strip of the serial printed under it."""
    return qr, Box(qr.x, qr.bottom + SERIAL_TEXT_TOP, qr.w, SERIAL_TEXT_HEIGHT)


def _px_bounds(box: Box, dpi: float) -> tuple[int, int, int, int]:
    """The pixels (x0, y0, x1, y1; ends excluded) that cover ``box``."""
    scale = px_per_mm(dpi)
    return (
        math.floor(box.x * scale),
        math.floor(box.y * scale),
        math.ceil(box.right * scale),
        math.ceil(box.bottom * scale),
    )


def sheet_page(source: SheetSource, serial: str, page: int, dpi: int) -> Grey:
    """Page ``page`` of the set ``serial``, printed and rendered at ``dpi``: a fresh copy."""
    pixels = source.blank(page, dpi).copy()
    qr = source.layout.pages[page - 1].qr
    draw_qr(pixels, source.code(serial, page), qr, dpi)
    _write_serial(pixels, serial, _code_boxes(qr)[1], dpi)
    return pixels


def draw_qr(pixels: Grey, text: str, box: Box, dpi: float) -> None:
    """The QR code of ``text`` filling ``box`` (quiet zone included) as reports.sheets
    prints it, each pixel taking its module's colour (no grey edges: a crisp print)."""
    code = segno.make(text, error="m", micro=False, boost_error=False)
    matrix = np.array([list(row) for row in code.matrix], dtype=np.uint8)
    modules = np.pad(matrix, QUIET_ZONE)
    image = np.where(modules > 0, 0, WHITE).astype(np.uint8)
    module_mm = box.w / modules.shape[1]
    x0, y0, x1, y1 = _px_bounds(box, dpi)
    scale = px_per_mm(dpi)
    # output pixel (i, j) of the cut-out is at mm ((x0 + i + .5) / scale, ...); module k
    # covers [k, k + 1) modules, and nearest sampling puts sample k's centre at k
    inverse = np.array(
        [
            [1 / (scale * module_mm), 0.0, ((x0 + 0.5) / scale - box.x) / module_mm - 0.5],
            [0.0, 1 / (scale * module_mm), ((y0 + 0.5) / scale - box.y) / module_mm - 0.5],
        ]
    )
    patch = cv2.warpAffine(
        image,
        inverse,
        (x1 - x0, y1 - y0),
        flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=WHITE,
    )
    np.minimum(pixels[y0:y1, x0:x1], patch, out=pixels[y0:y1, x0:x1])


def _write_serial(pixels: Grey, serial: str, strip: Box, dpi: float) -> None:
    text = f"No. {serial}"
    font = cv2.FONT_HERSHEY_SIMPLEX
    (width, height), _base = cv2.getTextSize(text, font, 1.0, 1)
    size = SERIAL_CAP_MM * px_per_mm(dpi) / height
    scale = px_per_mm(dpi)
    left = (strip.x + strip.w / 2) * scale - width * size / 2
    baseline = (strip.y + strip.h / 2) * scale + height * size / 2
    thickness = max(1, round(0.15 * scale))
    cv2.putText(pixels, text, (round(left), round(baseline)), font, size, 0, thickness, cv2.LINE_AA)
