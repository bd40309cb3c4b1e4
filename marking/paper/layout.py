"""Where everything sits on a component's answer sheets: pure, deterministic geometry in mm.

A set of sheets is the same for every candidate, so the layout is a function of the
component's definition and two hints only: the same definition always gives the same
layout, and ``layout_text`` the same bytes (the digest of those bytes travels in every
page's QR code, so a scan is never cut against a layout it was not printed with).

An A4 page (210 × 297, from its top-left corner):

- four filled 6 mm corner marks, 10 mm in from the edges, to align a scan on;
- the QR code's square at the top right, the page's title left of it;
- on page 1 the sealed header (密封区): name and ID-number writing areas, the exam-number
  bubble grid (one column per digit, 0-9 down), and the 缺考 / 违纪 boxes;
- then objective questions' bubble rows, in blocks of five rows (as 网上阅卷 cards set
  them), one section a type (单项选择题, 多项选择题, 判断题) in the order the types first
  appear; then the fill-in boxes; then one answer box per examiner-marked question, in the
  definition's order, each whole on one page, flowing onto as many pages as needed.

Fill-in (fill_blank) questions are objective in the definition (scored from the key) but no
bubble can hold their text: each gets a small box, tagged ``fill_blank``, which the scan
step cuts like an answer box and must have transcribed (or marked) by a person; nothing
is read from handwriting by guess.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from marking.domain.definition import (
    DEFAULT_EXAM_NUMBER_DIGITS,
    MAX_EXAM_NUMBER_DIGITS,
    ComponentDef,
    QuestionDef,
    QuestionType,
)
from marking.errors import MarkingError
from reports.sheetdata import (
    ANSWER,
    BOTTOM,
    FILL_BLANK,
    LEFT,
    LINE_PITCH,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    RIGHT,
    AnswerBox,
    Box,
    DigitBubble,
    Header,
    OptionBubble,
    Section,
    SheetLayout,
    SheetPage,
)

MARK_SIZE = 6.0
MARK_INSET = 10.0
QR_BOX = Box(166.0, 20.0, 24.0, 24.0)
CONTENT_TOP = 50.0  # below the QR code and the serial printed under it
GAP = 3.0

BUBBLE_R = 1.6
OPTION_PITCH = 6.0
ROW_PITCH = 5.5
ROWS_PER_BLOCK = 5
ROW_LABEL = 7.0  # the question number left of its bubbles
BLOCK_GAP = 2.0
SECTION_TITLE = 6.0
FILL_HEIGHT = 12.0

CAPTION = 7.0  # the strip atop an answer box: 第N题（本题满分 N 分）
MAX_LINES = int((BOTTOM - CONTENT_TOP - CAPTION) // LINE_PITCH)  # a box never exceeds a page

DEFAULT_DIGITS = DEFAULT_EXAM_NUMBER_DIGITS
MAX_DIGITS = MAX_EXAM_NUMBER_DIGITS  # the grid leaves the name and ID areas their width
MAX_PAGES = 99  # a page code carries one or two digits of page number (codes.py)
DIGIT_PITCH_X = 5.5
DIGIT_PITCH_Y = 5.0
HEADER = Box(LEFT, CONTENT_TOP, RIGHT - LEFT, 67.0)
_GRID_RIGHT = HEADER.right - 3.0
_GRID_TOP = 59.0  # the written digits' cells; bubbles below them
_FIRST_DIGIT_Y = 67.0
ID_CELLS = 18  # a resident ID number (GB 11643)

_BUBBLE_TYPES = (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE, QuestionType.TRUE_FALSE)
_CHOICE_TYPES = (QuestionType.SINGLE_CHOICE, QuestionType.MULTIPLE_CHOICE)
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_DEFAULT_OPTIONS = 4  # A-D, unless the key or a hint asks for more
_TRUE_FALSE = ("T", "F")


class LayoutError(MarkingError):
    """The sheets cannot be laid out as asked (a hint names no such question, too many
    exam-number digits, fewer options than the key uses)."""

    exit_code = 2


def corner_marks() -> tuple[Box, ...]:
    """Top-left, top-right, bottom-left, bottom-right: filled squares in every page's corners."""
    near, far_x = MARK_INSET, PAGE_WIDTH - MARK_INSET - MARK_SIZE
    far_y = PAGE_HEIGHT - MARK_INSET - MARK_SIZE
    return tuple(Box(x, y, MARK_SIZE, MARK_SIZE) for y in (near, far_y) for x in (near, far_x))


def sealed_header(digits: int = DEFAULT_DIGITS) -> Header:
    """Page 1's header: name and ID lines on the left, the exam-number grid on the right."""
    if not 1 <= digits <= MAX_DIGITS:
        raise LayoutError(f"exam numbers of 1 to {MAX_DIGITS} digits fit the header, not {digits}")
    grid_left = _GRID_RIGHT - digits * DIGIT_PITCH_X
    cells = tuple(
        Box(grid_left + c * DIGIT_PITCH_X, _GRID_TOP, DIGIT_PITCH_X, 6.0) for c in range(digits)
    )
    bubbles = tuple(
        DigitBubble(
            x=grid_left + (c + 0.5) * DIGIT_PITCH_X,
            y=_FIRST_DIGIT_Y + d * DIGIT_PITCH_Y,
            r=BUBBLE_R,
            column=c,
            digit=d,
        )
        for c in range(digits)
        for d in range(10)
    )
    return Header(
        box=HEADER,
        name=Box(36.0, 53.0, 72.0, 8.0),
        id_number=Box(36.0, 64.0, 72.0, 8.0),  # 18 cells of 4 mm
        exam_number_cells=cells,
        exam_number=bubbles,
        absent=Box(33.0, 98.0, 6.0, 4.0),
        violation=Box(52.0, 98.0, 6.0, 4.0),
    )


def default_lines(question: QuestionDef) -> int:
    """Writing lines for an examiner-marked question: 2 + half its marks, up to a page."""
    return min(MAX_LINES, 2 + math.ceil(question.max / 2))


def option_letters(question: QuestionDef, hint: int | None = None) -> tuple[str, ...]:
    """The options printed for an objective question: A-D, or up to the key's last letter
    or the hint's count; T and F for true/false."""
    if question.type is QuestionType.TRUE_FALSE:
        return _TRUE_FALSE
    used = max((_LETTERS.index(c) + 1 for c in "".join(question.answer or ())), default=0)
    count = max(_DEFAULT_OPTIONS, used) if hint is None else hint
    if not used <= count <= len(_LETTERS):
        raise LayoutError(
            f"question {question.number}: {count} options cannot hold its key "
            f"(needs {used} to {len(_LETTERS)})"
        )
    return tuple(_LETTERS[:count])


@dataclass
class _Draft:
    sections: list[Section] = field(default_factory=list)
    bubbles: list[OptionBubble] = field(default_factory=list)
    answers: list[AnswerBox] = field(default_factory=list)


class _Flow:
    """Pages filled top to bottom; what does not fit whole goes to the next page."""

    def __init__(self, top: float) -> None:
        self.pages = [_Draft()]
        self.y = top

    @property
    def page(self) -> _Draft:
        return self.pages[-1]

    def fits(self, height: float) -> bool:
        return self.y + height <= BOTTOM

    def ensure(self, height: float) -> None:
        """A new page unless a strip ``height`` tall fits on this one."""
        if not self.fits(height):
            self.pages.append(_Draft())
            self.y = CONTENT_TOP

    def take(self, height: float) -> float:
        """The top of a strip ``height`` tall, on a new page if this one is full."""
        self.ensure(height)
        top = self.y
        self.y += height + GAP
        return top


def _under_title(
    flow: _Flow, titled: _Draft | None, section: tuple[str, str], height: float
) -> _Draft:
    """Makes room for a strip ``height`` tall under its section's title: the title goes on
    top of the section and again atop each page the section continues on, never alone at
    the foot of a page. Returns the page the title is on."""
    if titled is not flow.page or not flow.fits(height):
        flow.ensure(SECTION_TITLE + height)
        kind, title = section
        strip = Box(LEFT, flow.y, RIGHT - LEFT, SECTION_TITLE)
        flow.page.sections.append(Section(kind, title, strip))
        flow.y = strip.bottom
    return flow.page


def _bubble_section(
    flow: _Flow, section: tuple[str, str], rows: Sequence[tuple[str, tuple[str, ...]]]
) -> None:
    """Bubble rows in blocks of five, blocks side by side, bands of blocks down the page."""
    widest = max(len(options) for _number, options in rows)
    block = ROW_LABEL + widest * OPTION_PITCH + BLOCK_GAP
    per_band = max(1, int((RIGHT - LEFT + BLOCK_GAP) // block)) * ROWS_PER_BLOCK
    titled = None
    for start in range(0, len(rows), per_band):
        band = rows[start : start + per_band]
        height = min(ROWS_PER_BLOCK, len(band)) * ROW_PITCH
        titled = _under_title(flow, titled, section, height)
        top = flow.take(height)
        for k, (number, options) in enumerate(band):
            x0 = LEFT + (k // ROWS_PER_BLOCK) * block + ROW_LABEL + OPTION_PITCH / 2
            y = top + (k % ROWS_PER_BLOCK + 0.5) * ROW_PITCH
            flow.page.bubbles.extend(
                OptionBubble(x=x0 + i * OPTION_PITCH, y=y, r=BUBBLE_R, question=number, option=o)
                for i, o in enumerate(options)
            )


def _fill_section(flow: _Flow, numbers: Sequence[str]) -> None:
    """Fill-in boxes two to a row, under their section's title."""
    width = (RIGHT - LEFT - GAP) / 2
    section = (QuestionType.FILL_BLANK.value, QuestionType.FILL_BLANK.label)
    titled = None
    for start in range(0, len(numbers), 2):
        titled = _under_title(flow, titled, section, FILL_HEIGHT)
        top = flow.take(FILL_HEIGHT)
        for i, number in enumerate(numbers[start : start + 2]):
            box = Box(LEFT + i * (width + GAP), top, width, FILL_HEIGHT)
            flow.page.answers.append(AnswerBox(number, FILL_BLANK, box, 1))


def _check_hints(
    component: ComponentDef, lines: Mapping[str, int], options: Mapping[str, int]
) -> None:
    by_number = {q.number: q for q in component.questions}
    for number, count in lines.items():
        question = by_number.get(number)
        if question is None or question.is_objective:
            raise LayoutError(f"lines: {component.key} has no examiner-marked question {number}")
        if count < 1:
            raise LayoutError(f"lines: question {number} needs at least 1 line, not {count}")
    for number in options:
        question = by_number.get(number)
        if question is None or question.type not in _CHOICE_TYPES:
            raise LayoutError(f"options: {component.key} has no choice question {number}")


def sheet_layout(
    component: ComponentDef,
    *,
    exam_number_digits: int = DEFAULT_DIGITS,
    lines: Mapping[str, int] | None = None,
    options: Mapping[str, int] | None = None,
) -> SheetLayout:
    """The pages of a component's answer sheets.

    ``lines`` gives an examiner-marked question's writing lines (question number → lines;
    default ``default_lines``, at most a page's worth); ``options`` a choice question's
    number of options (default A-D, or up to the key's last letter). Raises LayoutError
    when a hint names no such question or cannot hold the key, or the exam number has
    more digits than the header holds, or the set would need more than MAX_PAGES pages.
    """
    lines, options = lines or {}, options or {}
    _check_hints(component, lines, options)
    header = sealed_header(exam_number_digits)
    flow = _Flow(header.box.bottom + GAP)
    runs: dict[QuestionType, list[tuple[str, tuple[str, ...]]]] = {}
    for q in component.questions:
        if q.type in _BUBBLE_TYPES:
            runs.setdefault(q.type, []).append((q.number, option_letters(q, options.get(q.number))))
    for kind, rows in runs.items():
        _bubble_section(flow, (kind.value, kind.label), rows)
    fills = [q.number for q in component.questions if q.type is QuestionType.FILL_BLANK]
    if fills:
        _fill_section(flow, fills)
    for q in component.questions:
        if not q.is_objective:
            count = min(MAX_LINES, lines.get(q.number, default_lines(q)))
            height = CAPTION + count * LINE_PITCH
            top = flow.take(height)
            box = Box(LEFT, top, RIGHT - LEFT, height)
            flow.page.answers.append(AnswerBox(q.number, ANSWER, box, count))
    marks = corner_marks()
    pages = tuple(
        SheetPage(
            number=n,
            marks=marks,
            qr=QR_BOX,
            header=header if n == 1 else None,
            sections=tuple(d.sections),
            bubbles=tuple(d.bubbles),
            answers=tuple(d.answers),
        )
        for n, d in enumerate(flow.pages, start=1)
    )
    if len(pages) > MAX_PAGES:
        raise LayoutError(
            f"component {component.key}: its sheets need {len(pages)} pages, more than the "
            f"{MAX_PAGES} a set can carry; give its questions fewer lines"
        )
    return SheetLayout(component.key, exam_number_digits, pages)


# --- the layout file (DESIGN §12 "Layout for others") -------------------------------------------

FORMAT = "blindmark-sheet-layout/1"
DIGEST_LENGTH = 6  # hex digits of the layout file's SHA-256 carried in each QR code


def _mm(value: float) -> float:
    return round(value, 3)


def _box(box: Box) -> dict[str, float]:
    return {"x": _mm(box.x), "y": _mm(box.y), "w": _mm(box.w), "h": _mm(box.h)}


def _circle(x: float, y: float, r: float) -> dict[str, float]:
    return {"x": _mm(x), "y": _mm(y), "r": _mm(r)}


def _header_json(header: Header | None) -> dict[str, Any] | None:
    if header is None:
        return None
    return {
        **_box(header.box),
        "name": _box(header.name),
        "id_number": _box(header.id_number),
        "exam_number_cells": [
            {"column": c, **_box(cell)} for c, cell in enumerate(header.exam_number_cells)
        ],
        "absent": _box(header.absent),
        "violation": _box(header.violation),
    }


def _page_json(page: SheetPage) -> dict[str, Any]:
    digits = page.header.exam_number if page.header is not None else ()
    return {
        "page": page.number,
        "corner_marks": [_box(mark) for mark in page.marks],
        "qr": _box(page.qr),
        "header": _header_json(page.header),
        "exam_number": [
            {"column": b.column, "digit": b.digit, **_circle(b.x, b.y, b.r)} for b in digits
        ],
        "objective": [
            {"question": b.question, "option": b.option, **_circle(b.x, b.y, b.r)}
            for b in page.bubbles
        ],
        "answer_boxes": [
            {"question": a.question, "kind": a.kind, "lines": a.lines, **_box(a.box)}
            for a in page.answers
        ],
    }


def layout_json(layout: SheetLayout) -> dict[str, Any]:
    """The layout as DESIGN §12 gives it: per page, in mm from the page's top-left corner,
    the corner marks, the QR code, the header, each exam-number bubble (``column``,
    ``digit``), each objective bubble (``question``, ``option``) and each answer box
    (``question``, ``kind``: ``answer`` or ``fill_blank``); boxes as ``x``, ``y``, ``w``,
    ``h``, bubbles as centre ``x``, ``y`` and radius ``r``."""
    return {
        "format": FORMAT,
        "unit": "mm",
        "page_size": {"w": PAGE_WIDTH, "h": PAGE_HEIGHT},
        "component": layout.component,
        "exam_number_digits": layout.exam_number_digits,
        "pages": [_page_json(page) for page in layout.pages],
    }


def layout_text(layout: SheetLayout) -> str:
    """The layout file's text: sorted keys, so the same layout is always the same bytes."""
    return json.dumps(layout_json(layout), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def layout_digest(layout: SheetLayout) -> str:
    """The first hex digits of the layout file's SHA-256 (``sha256sum F.json`` shows them)."""
    return hashlib.sha256(layout_text(layout).encode("utf-8")).hexdigest()[:DIGEST_LENGTH]
