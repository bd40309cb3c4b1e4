"""Reading one page of the accuracy corpus and judging it against the truth (test_accuracy.py).

A worker process reads a page with the real reader and hands back only small, picklable
outcomes, so the pages can be read in parallel and the test asserts and counts in one place.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from marking.demo.sheetfill import Corpus, PageTruth, SheetTruth
from marking.demo.sheetfill.truth import BLACK_AND_WHITE, FAINT
from marking.paper import omr
from marking.paper.codes import PayloadError
from marking.paper.reading import PageReading, PageUnreadable
from marking.paper.sources import ScanPage
from reports.sheetdata import AnswerBox, Box, SheetPage

OBJECTIVE = (
    ("single_choice", "ABCD", 2),
    ("multiple_choice", ("AC", "BCD", "ABD"), 2),
    ("true_false", "TF", 1),
)


def definition_toml(code: str, shape: tuple[tuple[str, str, int, int, int, int], ...]) -> str:
    """A session definition whose components each have ``rows`` bubble questions (single,
    multiple choice and true/false in turn), ``blanks`` fill-in boxes and ``boxes`` answer
    boxes of ``lines`` lines: (key, name, rows, blanks, boxes, lines) a component."""
    out = [
        "[session]",
        f'code = "{code}"',
        'occupation = "电工"',
        'occupation_code = "6-31-01-03"',
        "level = 3",
        'date = "2026-12-05"',
        'station = "GD-0107"',
        "",
        "[[groups]]",
        'key = "short"',
        'name = "简答题"',
        "marks_required = 2",
        "",
    ]
    for key, name, rows, blanks, boxes, lines in shape:
        out += ["[[components]]", f'key = "{key}"', f'name = "{name}"', ""]
        for n in range(1, rows + blanks + boxes + 1):
            out += ["[[components.questions]]", f'number = "{n}"', f'bank_item = "{key}-{n:04d}"']
            if n <= rows:
                kind, answers, most = OBJECTIVE[(n - 1) % 3]
                out += [f'type = "{kind}"', f"max = {most}", f'answer = "{answers[n % 3]}"']
            elif n <= rows + blanks:
                out += ['type = "fill_blank"', "max = 2", 'answer = "接地"']
            else:
                out += ['type = "short_answer"', "max = 10", "step = 0.5", "tolerance = 2"]
                out += ['group = "short"', f"lines = {lines}", 'reference = "要点"']
                out += ['scheme = "按要点给分"']
            out.append("")
    return "\n".join(out)


@dataclass(frozen=True, slots=True)
class RowOutcome:
    position: int
    question: str
    style: str
    value: str  # what the writer meant (RowTruth.value)
    read: str  # the options the reader took
    doubtful: bool
    lost: bool  # a faint mark a black-and-white scan kept nothing of: nothing to read
    fills: tuple[float, ...]

    @property
    def wrong(self) -> bool:
        return not self.doubtful and not self.lost and self.read != self.value


@dataclass(frozen=True, slots=True)
class NumberOutcome:
    intended: str
    truth: str | None  # what must be read: None when the grid was spoiled on purpose
    digits: str | None
    problem: str | None


@dataclass(frozen=True, slots=True)
class BoxOutcome:
    position: int
    question: str
    blank_truth: bool
    blank_read: bool
    area_holds_box: bool  # on the layout: the cut area holds the whole answer box ...
    area_clear_of_header: bool  # ... and nothing of the header box
    strokes_inside: bool  # on the pixels: every stroke, where the scan put it, is in the cut
    header_outside: bool  # ... and the header, where the scan put it, is not
    drift: float  # mm: the furthest a stroke's corner is from where the reader places it


@dataclass(frozen=True, slots=True)
class PageOutcome:
    component: str
    position: int
    kind: str
    refused: str | None  # the error that refused the page (its class's name)
    serial: str
    page: int
    rows: tuple[RowOutcome, ...] = ()
    number: NumberOutcome | None = None
    checkboxes: tuple[tuple[bool, bool | None], ...] = ()  # (truth, read) of 缺考 and 违纪
    boxes: tuple[BoxOutcome, ...] = ()


_STATE: dict[str, Any] = {}


def use_corpora(corpora: dict[str, Corpus], key: bytes) -> None:
    """What the worker processes read (inherited through fork): the corpora and the key."""
    _STATE["corpora"], _STATE["key"] = corpora, key


def read_page_at(job: tuple[str, int]) -> PageOutcome:
    """Page ``position`` of ``component``'s bundle, read and judged against its truth."""
    component, position = job
    corpus: Corpus = _STATE["corpora"][component]
    key: bytes = _STATE["key"]
    scan = corpus.image(position)
    truth = scan.truth
    source = ScanPage(f"{component}.pdf", position + 1, scan.pixels, truth.scan.dpi)
    try:
        reading, payload = omr.identify(source, key=key)
    except (PageUnreadable, PayloadError) as error:
        refused = type(error).__name__
        return PageOutcome(component, position, truth.kind, refused, truth.serial, truth.page)
    if (payload.serial, payload.page) != (truth.serial, truth.page):
        raise AssertionError(f"{component} page {position}: read as {payload}, is {truth}")
    layout = corpus.source.layout.pages[payload.page - 1]
    read = omr.read_sheet_page(reading, layout, key=key)
    sheet = corpus.sheet(payload.serial)
    rows = tuple(_row(position, sheet, truth, q, r) for q, r in read.rows.items())
    number = checkboxes = None
    if read.exam_number is not None:
        written = sheet.exam_number
        number = NumberOutcome(
            written.intended, written.read, read.exam_number.digits, read.exam_number.problem
        )
        checkboxes = ((sheet.absent, read.absent), (sheet.violation, read.violation))
    shape = (scan.pixels.shape[1], scan.pixels.shape[0])
    boxes = tuple(
        _box(position, sheet, layout, answer, cut, _Mapper(reading, truth, shape))
        for answer, cut in zip(layout.answers, read.boxes, strict=True)
    )
    return PageOutcome(
        component, position, truth.kind, None, truth.serial, truth.page, rows, number,
        checkboxes or (), boxes,
    )  # fmt: skip


def _row(
    position: int, sheet: SheetTruth, page: PageTruth, question: str, row: omr.RowRead
) -> RowOutcome:
    meant = sheet.row(question)
    read = "".join(row.chosen)
    lost = meant.style == FAINT and page.scan.mode == BLACK_AND_WHITE and not read
    return RowOutcome(
        position, question, meant.style, meant.value, read, row.doubtful, lost, row.fills
    )


class _Mapper:
    """Where the reader places a layout point that the scan really put elsewhere: the
    truth's transform to the scan's pixels, then back through the reader's alignment."""

    def __init__(self, reading: PageReading, page: PageTruth, size: tuple[int, int]) -> None:
        self.scan = page.scan
        self.turned = reading.upside_down
        self.size = size
        self.inverse = np.linalg.inv(reading.transform)

    def __call__(self, x: float, y: float) -> tuple[float, float]:
        u, v = self.scan.locate(x, y)
        if self.turned:  # the reader works on the page turned upright
            u, v = self.size[0] - 1 - u, self.size[1] - 1 - v
        a, b, w = self.inverse @ np.array([u, v, 1.0])
        return float(a / w), float(b / w)


def _corners(box: Box) -> list[tuple[float, float]]:
    return [(box.x, box.y), (box.right, box.y), (box.x, box.bottom), (box.right, box.bottom)]


def _box(
    position: int,
    sheet: SheetTruth,
    layout: SheetPage,
    answer: AnswerBox,
    cut: omr.BoxCut,
    where: _Mapper,
) -> BoxOutcome:
    meant = next(b for b in sheet.boxes if b.question == answer.question)
    header = layout.header
    area = omr.box_cut_area(answer, header)
    corners = [c for stroke in meant.strokes for c in _corners(stroke)]
    placed = [where(x, y) for x, y in corners]
    inside = all(area.x <= x <= area.right and area.y <= y <= area.bottom for x, y in placed)
    drift = max(
        (float(np.hypot(p[0] - c[0], p[1] - c[1])) for p, c in zip(placed, corners, strict=True)),
        default=0.0,
    )
    header_outside = True
    if header is not None:
        xs, ys = zip(*(where(x, y) for x, y in _corners(header.box)), strict=True)
        seen = Box(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
        header_outside = not seen.overlaps(area)
    return BoxOutcome(
        position=position,
        question=answer.question,
        blank_truth=meant.blank,
        blank_read=cut.blank,
        area_holds_box=area.contains(answer.box),
        area_clear_of_header=header is None or not area.overlaps(header.box),
        strokes_inside=inside,
        header_outside=header_outside,
        drift=drift,
    )
