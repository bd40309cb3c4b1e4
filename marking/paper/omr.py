"""Reading an aligned answer-sheet page: bubbles, the exam number, 缺考/违纪, answer boxes.

Pure: a ``PageReading`` (``reading.read_page``: the page found, upright, mapped mm → px) and
the ``SheetPage`` it was printed from in, a ``PageRead`` out; no database, no guessing.

**Bubbles.** A bubble's fill is how much of its inner disc (the printed ring and a margin
for alignment left out) is inked, measured on the page warped upright so every bubble is
seen at the same resolution. A pixel's ink is scaled between the paper's white around that
bubble (a scan's white drifts across a page) and the black of the page's own corner marks
(a scanner's black is rarely 0), and counts in full from ``SOLID`` on, since a pencil fill
is grey. Ink counts in full only where it survives a morphological opening by a disc
``STROKE`` wide: a tick, a cross or a ring drawn round a letter is made of strokes, and
strokes alone can make a bubble at most ``STROKE_CAP`` filled, in the band of doubt, never
taken. The printed letter in an empty bubble comes to about 0.1; a pencil fill to 1.

As AMC and OMRChecker do, two thresholds leave a band of doubt between them: below
``EMPTY`` a bubble is empty, from ``FILLED`` it is filled, and anything between (a light
fill, a tick, a cross, a half-erased mark) makes its row ``doubtful``: it goes to a person,
never to a score by guess. A row is doubtful too when a bubble left out is nearly as dark
as one taken (within ``CLOSE``), as when a mark was erased and another made: the two
thresholds alone would read the darker one. And a row is doubtful when a bubble is crossed
out: the strokes of an X reach past its ring along the diagonals, where neither a fill nor
the print puts ink (``STRUCK``); a crossed-out fill is as dark as a chosen one, and only a
person can tell which mark stands. A row may have several bubbles taken
(multiple-choice; a double-filled single-choice is read as written and scored so).

**Exam number.** One row a column (digits 0-9); the number is read only when every column
has exactly one bubble taken and none is doubtful; otherwise ``problem`` names the first
column at fault and why, from the short templates below (the web translates them).

**Answer boxes.** Each is cut whole, with ``BOX_MARGIN`` mm of paper around it but never a
pixel of the header, upright at ``BOX_PX_PER_MM`` (about 200 dpi), as grey PNG. It is
``blank`` when no ink is left once what the sheet prints there is set aside: the border,
the ruled writing lines (at the layout's positions, with a slack for alignment) and the
caption. Ink counts only in blobs of some size (``MIN_BLOB``), so JPEG noise, dust and a
rule line broken by a black-and-white scan do not make a box written; ``MIN_INK`` is well
under a short pen stroke, so a box with one stroke is never called blank. A box called
blank keeps its image: examiners see it with the label.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, replace

import cv2
import numpy as np

from marking.paper.codes import PagePayload, decode_payload
from marking.paper.layout import CAPTION, ROW_LABEL
from marking.paper.reading import Grey, PageReading, PageUnreadable, read_page
from marking.paper.sources import ScanPage
from reports.sheetdata import (
    FILL_BLANK,
    LINE_PITCH,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    AnswerBox,
    Box,
    Circle,
    Header,
    OptionBubble,
    SheetPage,
)

# Fill thresholds (0 paper .. 1 covered; see the module's docstring), measured on printed
# sheets rendered at 150, 200 and 300 dpi, grey, black-and-white, JPEG q50 and noisy: an
# empty bubble with its printed letter reads 0.08-0.21, a pencil fill 1.0 (a light one,
# grey 150 of 255, 0.8-0.85), ticks, crosses and half fills 0.45-0.65, an eraser's smudge
# 0.3-0.36. The band of doubt holds the middle ones; 0.09 of margin on either side.
EMPTY = 0.3
FILLED = 0.75
CLOSE = 0.5  # a bubble left out this near a taken one's fill makes the row doubtful
SOLID = 0.5  # a pixel this dark (0 white .. 1 the page's black) is ink in full: pencil is grey
STROKE = 1.0  # mm: pen and pencil lines thinner than this are strokes, not a fill
STROKE_CAP = (EMPTY + FILLED) / 2  # the most a bubble of strokes alone can be filled

BUBBLE_PX_PER_MM = 10.0  # bubbles are measured at this resolution, whatever the scan's
INNER = 0.5  # mm inside a bubble's radius: its printed ring and alignment slack left out
SURROUND = 1.2  # mm of paper around a bubble where its white is taken
WHITE_PERCENTILE = 90
SPARSE = 3  # bubbles are read from one warp of their area unless it is this much larger
CHECKBOX_INSET = 0.6  # mm inside 缺考/违纪's printed rectangle
# A bubble crossed out: the strokes of an X reach past its ring, along its diagonals, where a
# fill (inside the ring) and the print (rows, columns, the number's written cells above the
# grid: horizontal and vertical) leave the paper clean. Measured as the share of that paper,
# AROUND mm beyond the radius and within DIAGONAL degrees of a diagonal, that is solid ink:
# crossed-out fills 0.20-0.43, ticks reaching out 0-0.07, the number grid's printed cell
# edges in a black-and-white scan 0.08, anything else 0.
AROUND = (0.45, 1.1)
DIAGONAL = 25.0
STRUCK = 0.14

BOX_PX_PER_MM = 8.0
BOX_MARGIN = 1.0  # mm of paper cut around an answer box
ROW_PX_PER_MM = 12.0  # a row crop is looked at by a person, larger
ROW_MARGIN = 1.0  # mm around a row's bubbles and label: less than half the gap to the next row

INK = 0.4  # darkness from which a pixel of an answer box counts as ink
BORDER_SLACK = 0.8  # mm inside an answer box's border left out (its line, alignment slack)
RULE_SLACK = 0.6  # mm each side of a ruled writing line left out
CAPTION_TEXT = 60.0  # mm: the caption 第N题（本题满分 N 分） is set left in the caption strip
FILL_LABEL = 16.0  # mm: a fill-in box's 第N题 label, left of its line
MIN_BLOB = 0.25  # mm²: smaller specks of ink are noise or dust (noisy JPEG q50: none left)
MIN_INK = 0.3  # mm²: less ink than this, and the box is blank; a 4 mm pen stroke is ~1

NO_FILL = "column {column}: no bubble filled"
MANY_FILLS = "column {column}: {count} bubbles filled"
DOUBTFUL = "column {column}: a bubble neither clearly filled nor clearly empty"


@dataclass(frozen=True)
class RowRead:
    """One objective question, or one exam-number column: ``fills`` the darkness of each
    bubble in layout order, ``chosen`` the options (digits) read as filled."""

    fills: tuple[float, ...]
    chosen: tuple[str, ...]
    doubtful: bool


@dataclass(frozen=True)
class ExamNumberRead:
    digits: str | None  # None unless every column has exactly one fill, none doubtful
    problem: str | None  # the first column at fault, from NO_FILL, MANY_FILLS, DOUBTFUL
    columns: tuple[RowRead, ...]


@dataclass(frozen=True)
class BoxCut:
    question: str
    kind: str  # ANSWER or FILL_BLANK
    png: bytes  # the whole answer box and a margin, upright, BOX_PX_PER_MM, grey PNG
    blank: bool  # no ink beyond the printed border, rules and caption


@dataclass(frozen=True)
class PageRead:
    payload: PagePayload
    upside_down: bool
    exam_number: ExamNumberRead | None  # the page carrying the header only
    absent: bool | None  # 缺考: None when doubtful
    violation: bool | None  # 违纪: None when doubtful
    rows: dict[str, RowRead]  # objective question number -> its row
    boxes: tuple[BoxCut, ...]
    header_png: bytes | None  # the header box (identity: sealed by the caller)


def identify(scan: ScanPage, *, key: bytes | None) -> tuple[PageReading, PagePayload]:
    """The page found and aligned, and which sheet and page its QR code says it is.

    A resolution the file states is tried first; if the corner marks are not found at that
    size the page is tried again with its scale taken from the QR code (a scanner's "fit to
    page" shrinks what its dpi claims). Raises PageUnreadable (no QR code, no four marks) or
    codes.PayloadError (not our code, another layout format, a check value that fails).
    """
    try:
        reading = read_page(scan.image, dpi_hint=scan.dpi)
    except PageUnreadable:
        if scan.dpi is None:
            raise
        reading = read_page(scan.image)
    return reading, decode_payload(reading.text, key=key)


def read_sheet_page(reading: PageReading, page: SheetPage, *, key: bytes | None = None) -> PageRead:
    """Everything on an aligned page, read against the layout page it was printed from.

    ``key`` is the session's page-code key (``identify`` has checked the code already; it
    is read again here so that a PageRead always carries its own payload). Raises
    codes.PayloadError for a code that does not decode, ValueError when the code names
    another page than ``page``.
    """
    payload = decode_payload(reading.text, key=key)
    if payload.page != page.number:
        raise ValueError(f"the page's code says page {payload.page}, not {page.number}")
    black = _page_black(reading, page)
    rows: dict[str, list[tuple[OptionBubble, tuple[float, float]]]] = {}
    measured = _fills(reading, page.bubbles, black) if page.bubbles else []
    for bubble, fill in zip(page.bubbles, measured, strict=True):
        rows.setdefault(bubble.question, []).append((bubble, fill))
    read_rows = {
        question: _read_row([f for _, f in row], [b.option for b, _ in row])
        for question, row in rows.items()
    }
    header = page.header
    boxes = tuple(_cut_box(reading, answer, header, black) for answer in page.answers)
    if header is None:
        return PageRead(payload, reading.upside_down, None, None, None, read_rows, boxes, None)
    return PageRead(
        payload=payload,
        upside_down=reading.upside_down,
        exam_number=_exam_number(reading, header, black),
        absent=_checkbox(reading, header.absent, black),
        violation=_checkbox(reading, header.violation, black),
        rows=read_rows,
        boxes=boxes,
        header_png=_png(reading.cut(header.box, BOX_PX_PER_MM)),
    )


def row_crop(reading: PageReading, page: SheetPage, question: str) -> bytes:
    """A PNG of one objective question's row only (its number and bubbles), for a person to
    verify without seeing anything else of the sheet. Raises KeyError when the question has
    no row on ``page``."""
    bubbles = [b for b in page.bubbles if b.question == question]
    if not bubbles:
        raise KeyError(f"question {question} has no bubbles on page {page.number}")
    left = min(b.x - b.r for b in bubbles) - ROW_LABEL - ROW_MARGIN / 2
    right = max(b.x + b.r for b in bubbles) + ROW_MARGIN
    top = min(b.y - b.r for b in bubbles) - ROW_MARGIN
    bottom = max(b.y + b.r for b in bubbles) + ROW_MARGIN
    return _png(reading.cut(Box(left, top, right - left, bottom - top), ROW_PX_PER_MM))


# --- bubbles -------------------------------------------------------------------------------------


def _page_black(reading: PageReading, page: SheetPage) -> float:
    """The grey of solid ink on this scan: the corner marks' median, their edges left out."""
    inside = [replace(m, x=m.x + 1, y=m.y + 1, w=m.w - 2, h=m.h - 2) for m in page.marks]
    values = np.concatenate([reading.cut(m, 4.0).ravel() for m in inside])
    return float(np.median(values))


def _ink(patch: Grey, black: float) -> np.ndarray:
    """Each pixel's ink, 0 the patch's paper white .. 1 from SOLID of the page's black on."""
    white = float(np.percentile(patch, WHITE_PERCENTILE))
    span = max(white - black, 1.0) * SOLID
    return np.asarray(np.clip((white - patch.astype(np.float32)) / span, 0.0, 1.0))


def _fill(ink: np.ndarray, mask: np.ndarray) -> float:
    """How filled ``mask`` is, 0..1 (see the module's docstring): in full where the ink
    survives an opening by a STROKE-wide disc, at most STROKE_CAP for thinner strokes."""
    solid = cv2.morphologyEx(ink, cv2.MORPH_OPEN, _stroke_disc())
    return max(float(solid[mask].mean()), min(float(ink[mask].mean()), STROKE_CAP))


@functools.lru_cache(maxsize=1)
def _stroke_disc() -> np.ndarray:
    """The STROKE-wide disc that strokes do not survive an opening by."""
    size = max(3, round(STROKE * BUBBLE_PX_PER_MM) | 1)
    return _frozen(cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size)))


@functools.lru_cache(maxsize=8)
def _disc_mask(size: int, radius_px: float) -> np.ndarray:
    centre = (size - 1) / 2
    ys, xs = np.mgrid[0:size, 0:size]
    return _frozen((xs - centre) ** 2 + (ys - centre) ** 2 <= radius_px**2)


@functools.lru_cache(maxsize=8)
def _diagonals(size: int, radius_px: float) -> np.ndarray:
    """The paper just outside a bubble's ring along its diagonals (see STRUCK)."""
    centre = (size - 1) / 2
    ys, xs = np.mgrid[0:size, 0:size] - centre
    distance = np.hypot(xs, ys)
    near, far = (radius_px + d * BUBBLE_PX_PER_MM for d in AROUND)
    angle = np.degrees(np.arctan2(np.abs(ys), np.abs(xs)))
    return _frozen((distance > near) & (distance <= far) & (np.abs(angle - 45) <= DIAGONAL))


def _frozen(mask: np.ndarray) -> np.ndarray:
    """A mask shared through the cache: read-only, so no caller can spoil it."""
    mask = np.asarray(mask)
    mask.setflags(write=False)
    return mask


def _bubble_fill(reading: PageReading, bubble: Circle, black: float) -> tuple[float, float]:
    """The bubble's fill, and the share of the clean paper just around it that is inked
    (a stroke crossing the bubble out reaches there; a fill stays inside the ring)."""
    half = bubble.r + SURROUND
    patch = reading.cut(Box(bubble.x - half, bubble.y - half, 2 * half, 2 * half), BUBBLE_PX_PER_MM)
    size = patch.shape[0]
    mask = _disc_mask(size, (bubble.r - INNER) * BUBBLE_PX_PER_MM)
    around = _diagonals(size, bubble.r * BUBBLE_PX_PER_MM)
    ink = _ink(patch, black)
    return _fill(ink, mask), float((ink[around] >= 1.0).mean())


def _fills(
    reading: PageReading, bubbles: Sequence[Circle], black: float
) -> list[tuple[float, float]]:
    """``_bubble_fill`` of each bubble, from one warp of the area they lie in and one
    morphological pass over it, rather than one of each a bubble (a page's objective rows
    and its exam-number grid are each one such area; bubbles spread thinly over a larger
    one are taken a row at a time, ``rows``).

    Equal to ``_bubble_fill``'s, value for value: each bubble's patch is the area's pixels
    at the same layout points (the bubbles lie a whole number of pixels apart at
    BUBBLE_PX_PER_MM; when they do not, each is cut alone), and the opening of a patch's
    ink is its grey's closing passed through the same decreasing map from grey to ink
    (min and max commute with it), which inside the disc measured depends on pixels of the
    patch alone, whatever lies around it."""
    ppm = BUBBLE_PX_PER_MM
    radius = bubbles[0].r
    half = radius + SURROUND
    size = round(2 * half * ppm)
    x0, y0 = min(b.x for b in bubbles) - half, min(b.y for b in bubbles) - half
    at = [((b.x - half - x0) * ppm, (b.y - half - y0) * ppm) for b in bubbles]
    steps = [(round(u), round(v)) for u, v in at]
    if any(b.r != radius for b in bubbles) or any(
        abs(u - i) > 1e-6 or abs(v - j) > 1e-6 for (u, v), (i, j) in zip(at, steps, strict=True)
    ):
        return [_bubble_fill(reading, b, black) for b in bubbles]
    width = max(i for i, _ in steps) + size
    height = max(j for _, j in steps) + size
    if width * height > SPARSE * len(bubbles) * size * size:
        rows: dict[float, list[int]] = {}
        for index, bubble in enumerate(bubbles):
            rows.setdefault(bubble.y, []).append(index)
        if len(rows) > 1:
            found: dict[int, tuple[float, float]] = {}
            for row in rows.values():
                found.update(
                    zip(row, _fills(reading, [bubbles[i] for i in row], black), strict=True)
                )
            return [found[i] for i in range(len(bubbles))]
    strip = reading.cut(Box(x0, y0, width / ppm, height / ppm), ppm)
    if strip.shape != (height, width):  # pragma: no cover - the sizes are whole pixels
        return [_bubble_fill(reading, b, black) for b in bubbles]
    closed = cv2.morphologyEx(strip, cv2.MORPH_CLOSE, _stroke_disc())
    grey = np.stack([strip[j : j + size, i : i + size] for i, j in steps])
    grey_closed = np.stack([closed[j : j + size, i : i + size] for i, j in steps])
    white = np.percentile(grey.reshape(len(bubbles), -1), WHITE_PERCENTILE, axis=1)
    span = np.maximum(white - black, 1.0) * SOLID
    # as _ink: float32 pixels against the patch's white and span (float32 like a scalar's)
    white32 = white.astype(np.float32)[:, None]
    span32 = span.astype(np.float32)[:, None]
    mask = _disc_mask(size, (radius - INNER) * ppm)
    around = _diagonals(size, radius * ppm)

    def ink(pixels: np.ndarray, where: np.ndarray) -> np.ndarray:
        values = pixels[:, where].astype(np.float32)
        return np.asarray(np.clip((white32 - values) / span32, 0.0, 1.0))

    solid = ink(grey_closed, mask).mean(axis=1)
    inked = ink(grey, mask).mean(axis=1)
    crossed = (ink(grey, around) >= 1.0).mean(axis=1)
    return [
        (max(float(a), min(float(b), STROKE_CAP)), float(c))
        for a, b, c in zip(solid, inked, crossed, strict=True)
    ]


def _read_row(measured: Sequence[tuple[float, float]], names: list[str]) -> RowRead:
    """A row from its bubbles' ``_fills``."""
    fills = tuple(round(fill, 3) for fill, _outside in measured)
    row = judge_row(fills, names)
    if any(outside >= STRUCK for _fill, outside in measured):
        return replace(row, doubtful=True)  # a mark crossed out: a person decides what stands
    return row


def judge_row(fills: tuple[float, ...], names: list[str]) -> RowRead:
    """The options taken from a row's darkness, and whether a person must look (see the
    module's docstring): pure, so the rule is tested apart from any pixels."""
    chosen = tuple(n for n, f in zip(names, fills, strict=True) if f >= FILLED)
    doubtful = any(EMPTY <= f < FILLED for f in fills)
    if chosen:
        lightest_taken = min(f for f in fills if f >= FILLED)
        darkest_left = max((f for f in fills if f < FILLED), default=0.0)
        doubtful = doubtful or darkest_left >= lightest_taken - CLOSE
    return RowRead(fills, chosen, doubtful)


def _exam_number(reading: PageReading, header: Header, black: float) -> ExamNumberRead:
    columns: list[RowRead] = []
    problem: str | None = None
    measured = dict(
        zip(header.exam_number, _fills(reading, header.exam_number, black), strict=True)
    )
    for column in range(len(header.exam_number_cells)):
        bubbles = sorted(
            (b for b in header.exam_number if b.column == column), key=lambda b: b.digit
        )
        row = _read_row([measured[b] for b in bubbles], [str(b.digit) for b in bubbles])
        columns.append(row)
        if problem is None:
            problem = _column_problem(column + 1, row)
    digits = None if problem else "".join(row.chosen[0] for row in columns)
    return ExamNumberRead(digits, problem, tuple(columns))


def _column_problem(column: int, row: RowRead) -> str | None:
    if row.doubtful:
        return DOUBTFUL.format(column=column)
    if not row.chosen:
        return NO_FILL.format(column=column)
    if len(row.chosen) > 1:
        return MANY_FILLS.format(column=column, count=len(row.chosen))
    return None


def _checkbox(reading: PageReading, box: Box, black: float) -> bool | None:
    """缺考 or 违纪: True filled, False empty, None between (a tick, a light or erased mark)."""
    around = Box(box.x - SURROUND, box.y - SURROUND, box.w + 2 * SURROUND, box.h + 2 * SURROUND)
    patch = reading.cut(around, BUBBLE_PX_PER_MM)
    mask = np.zeros(patch.shape, bool)
    edge = round((SURROUND + CHECKBOX_INSET) * BUBBLE_PX_PER_MM)
    mask[edge:-edge, edge:-edge] = True
    fill = _fill(_ink(patch, black), mask)
    if fill >= FILLED:
        return True
    return False if fill < EMPTY else None


# --- answer boxes --------------------------------------------------------------------------------


def box_cut_area(answer: AnswerBox, header: Header | None) -> Box:
    """What is cut for an answer box: the box and BOX_MARGIN around it, inside the page and
    clear of the header (whose crop is sealed: not a pixel of it may reach an examiner)."""
    box = answer.box
    left, top = max(box.x - BOX_MARGIN, 0.0), max(box.y - BOX_MARGIN, 0.0)
    right = min(box.right + BOX_MARGIN, PAGE_WIDTH)
    bottom = min(box.bottom + BOX_MARGIN, PAGE_HEIGHT)
    if header is not None and box.y >= header.box.bottom:
        top = max(top, (header.box.bottom + box.y) / 2)
    area = Box(left, top, right - left, bottom - top)
    if header is not None and area.overlaps(header.box):
        raise ValueError(f"answer box {answer.question} reaches into the header")
    return area


def _cut_box(
    reading: PageReading, answer: AnswerBox, header: Header | None, black: float
) -> BoxCut:
    area = box_cut_area(answer, header)
    pixels = reading.cut(area, BOX_PX_PER_MM)
    blank = _ink_area(pixels, _printed(answer, area, pixels.shape), black) < MIN_INK
    return BoxCut(answer.question, answer.kind, _png(pixels), blank)


def _printed(answer: AnswerBox, area: Box, shape: tuple[int, ...]) -> np.ndarray:
    """Where the cut may hold ink the sheet printed: True there, so it is not counted."""
    ppm = BOX_PX_PER_MM
    printed = np.ones(shape[:2], bool)
    box = answer.box

    def span(a: float, b: float, origin: float) -> slice:
        return slice(max(round((a - origin) * ppm), 0), max(round((b - origin) * ppm), 0))

    inner_x = span(box.x + BORDER_SLACK, box.right - BORDER_SLACK, area.x)
    inner_y = span(box.y + BORDER_SLACK, box.bottom - BORDER_SLACK, area.y)
    printed[inner_y, inner_x] = False
    if answer.kind == FILL_BLANK:
        printed[:, span(area.x, box.x + FILL_LABEL, area.x)] = True
        rules = [box.bottom - 3.0]
    else:
        caption = span(area.y, box.y + CAPTION, area.y)
        printed[caption, span(area.x, box.x + CAPTION_TEXT, area.x)] = True
        rules = [box.bottom - k * LINE_PITCH for k in range(1, answer.lines + 1)]
    for y in rules:
        printed[span(y - RULE_SLACK, y + RULE_SLACK, area.y), :] = True
    return printed


def _ink_area(pixels: Grey, printed: np.ndarray, black: float) -> float:
    """mm² of ink in blobs of at least MIN_BLOB outside what is ``printed``."""
    white = float(np.percentile(pixels, WHITE_PERCENTILE))
    cut_off = white - INK * max(white - black, 1.0)
    ink = ((pixels < cut_off) & ~printed).astype(np.uint8)
    count, _labels, stats, _centres = cv2.connectedComponentsWithStats(ink, connectivity=8)
    areas = stats[1:count, cv2.CC_STAT_AREA] / BOX_PX_PER_MM**2
    return float(areas[areas >= MIN_BLOB].sum())


def _png(pixels: Grey) -> bytes:
    ok, encoded = cv2.imencode(".png", pixels)
    if not ok:  # pragma: no cover - OpenCV encodes any 8-bit grey array
        raise RuntimeError("OpenCV could not encode a PNG")
    return encoded.tobytes()
