"""Reading an aligned answer-sheet page: bubbles, the exam number, the 缺考/违纪 boxes, and
the answer boxes and header cut out.

A stub in the engine's branch: the dataclasses are the contract between the reader
(piece A, the "omr" helper) and the scan step; the functions come with the reader.
"""

from __future__ import annotations

from dataclasses import dataclass

from marking.paper.codes import PagePayload
from marking.paper.reading import PageReading
from marking.paper.sources import ScanPage
from reports.sheetdata import SheetPage


@dataclass(frozen=True)
class RowRead:
    """One objective question, or one exam-number column."""

    fills: tuple[float, ...]  # darkness 0..1 of each bubble, in layout order
    chosen: tuple[str, ...]  # the options/digits read as filled
    doubtful: bool  # a fill between the EMPTY and FILLED thresholds


@dataclass(frozen=True)
class ExamNumberRead:
    digits: str | None  # None unless every column has exactly one fill, none doubtful
    problem: str | None  # e.g. "column 3: no bubble filled" / "two bubbles" / "doubtful"
    columns: tuple[RowRead, ...]


@dataclass(frozen=True)
class BoxCut:
    question: str
    kind: str  # ANSWER or FILL_BLANK
    png: bytes  # the whole answer box, upright, ~8 px/mm (≈200 dpi), grey PNG
    blank: bool  # no ink beyond the printed rules/caption


@dataclass(frozen=True)
class PageRead:
    payload: PagePayload
    upside_down: bool
    exam_number: ExamNumberRead | None  # the page carrying the header only
    absent: bool | None  # 缺考: None = doubtful
    violation: bool | None  # 违纪: None = doubtful
    rows: dict[str, RowRead]  # objective question number -> its row
    boxes: tuple[BoxCut, ...]
    header_png: bytes | None  # the header box crop (identity! sealed later)


def read_sheet_page(reading: PageReading, page: SheetPage) -> PageRead:
    """The page's marks and cuts (stub: piece A provides it)."""
    raise NotImplementedError("marking.paper.omr.read_sheet_page comes with the page reader")


def row_crop(reading: PageReading, page: SheetPage, question: str) -> bytes:
    """A PNG of only that question's bubble row (stub: piece A provides it)."""
    raise NotImplementedError("marking.paper.omr.row_crop comes with the page reader")


def identify(scan: ScanPage, *, key: bytes) -> tuple[PageReading, PagePayload]:
    """The page found, aligned and its code decoded (stub: piece A provides it)."""
    raise NotImplementedError("marking.paper.omr.identify comes with the page reader")
