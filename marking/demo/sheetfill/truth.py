"""What the corpus generator was asked to do and what it did: the knobs and the truth.

The truth is what a reader of the scans must find (or refuse): per sheet its serial, exam
number, 缺考/违纪, each objective row's intended value and whether the writer's mark is
clear, each answer box's ink; per scanned page where it came from and how it was degraded.
Everything is plain frozen data, so a test can compare a reading against it and a bench
can pickle it.
"""

from __future__ import annotations

from dataclasses import dataclass

from reports.sheetdata import Box

# RowTruth.style: how the writer marked an objective row.
DARK = "dark"  # filled in soft pencil: clear
LIGHT = "light"  # filled in a pencil-grey: clear, if pale
FAINT = "faint"  # as pale as an erasure: the writer's intent is not clear
TICKED = "ticked"  # a check stroke inside the bubble instead of a fill: clear to a person
CROSSED = "crossed"  # a filled bubble crossed out with an X ("not chosen"), another filled
ERASED = "erased"  # a faint smudge left by an eraser on one bubble, the chosen one filled
DOUBLE = "double"  # two bubbles filled in a single-choice or true/false row: no one answer
BLANK = "blank"  # left unanswered
STYLES = (DARK, LIGHT, FAINT, TICKED, CROSSED, ERASED, DOUBLE, BLANK)
UNCLEAR = frozenset({FAINT, CROSSED, DOUBLE})

# ExamNumberTruth.style
NUMBER_CLEAN = "clean"
NUMBER_EMPTY_COLUMN = "empty_column"  # one column left unfilled
NUMBER_TWO_IN_COLUMN = "two_in_column"  # two bubbles filled in one column
NUMBER_FAINT_COLUMN = "faint_column"  # one column filled as pale as an erasure

# PageTruth.kind
SHEET_PAGE = "sheet"  # a page of one of the corpus's sheets
REPEATED_PAGE = "repeat"  # a page of a sheet scanned a second time
FOREIGN_PAGE = "foreign"  # a page of another session's sheet

# Scan.mode
GREY = "grey"
COLOUR = "colour"  # BGR pixels on tinted paper
BLACK_AND_WHITE = "bw"  # thresholded: 0 or 255 only


@dataclass(frozen=True, slots=True)
class Mix:
    """The share of each way of marking; what is left over is clean (dark fills, written
    boxes). Rows: ``light`` … ``blank_row`` are per objective row and together at most 1.
    Sheets: ``absent``, ``violation``, ``smudged_number`` per sheet. ``blank_box`` per
    answer box of a sheet that is not absent."""

    light: float = 0.05
    faint: float = 0.01
    ticked: float = 0.02
    crossed: float = 0.01
    erased: float = 0.02
    double: float = 0.01
    blank_row: float = 0.03
    blank_box: float = 0.15
    absent: float = 0.03
    violation: float = 0.02
    smudged_number: float = 0.03
    right: float = 0.7  # chance a row is answered with the key (otherwise a wrong option)

    def row_styles(self) -> tuple[tuple[str, float], ...]:
        """(style, share) of the non-dark row styles, in a fixed order."""
        return (
            (LIGHT, self.light),
            (FAINT, self.faint),
            (TICKED, self.ticked),
            (CROSSED, self.crossed),
            (ERASED, self.erased),
            (DOUBLE, self.double),
            (BLANK, self.blank_row),
        )


CLEAN_MIX = Mix(
    light=0,
    faint=0,
    ticked=0,
    crossed=0,
    erased=0,
    double=0,
    blank_row=0,
    blank_box=0,
    absent=0,
    violation=0,
    smudged_number=0,
)


@dataclass(frozen=True, slots=True)
class Degrade:
    """How pages are spoiled on their way through a scanner, each drawn per page at random
    within these bounds. ``dpis`` is the resolution a page is scanned at (one of them);
    ``skew`` the most degrees a page lies askew (either way); ``scale`` the most a scan is
    larger or smaller (0.05 = ±5 %); ``noise`` the most sensor noise (standard deviation in
    grey levels); ``blur`` the most optical blur (Gaussian sigma in mm); the shares
    ``upside_down``, ``jpeg`` (compressed at ``jpeg_quality``), ``colour`` (BGR on tinted
    paper) and ``black_and_white`` (thresholded at ``threshold``) are per page; a page is
    never both colour and black-and-white, and a black-and-white page is never JPEG."""

    dpis: tuple[int, ...] = (150, 200, 300)
    upside_down: float = 0.15
    skew: float = 10.0
    scale: float = 0.05
    noise: float = 8.0
    blur: float = 0.12
    jpeg: float = 0.3
    jpeg_quality: int = 50
    colour: float = 0.25
    black_and_white: float = 0.2
    threshold: int = 150


NO_DEGRADE = Degrade(
    dpis=(200,),
    upside_down=0,
    skew=0,
    scale=0,
    noise=0,
    blur=0,
    jpeg=0,
    colour=0,
    black_and_white=0,
)


@dataclass(frozen=True, slots=True)
class Faults:
    """What goes wrong with a bundle as a whole: pages of the corpus's sheets left out
    (``missing``), scanned twice (``repeated``), pages of another session slipped in
    (``foreign``), and the order of the pages shuffled (a dropped pile) or kept."""

    missing: int = 0
    repeated: int = 0
    foreign: int = 0
    shuffle: bool = False


@dataclass(frozen=True, slots=True)
class RowTruth:
    """One objective question as the writer meant it.

    ``value`` is the options meant, in the layout's order ("B", "AC", "T"; "" none), or for
    a ``double`` row the two filled; ``clear`` is False when the mark is deliberately
    ambiguous (``UNCLEAR`` styles): a reader must then send the row to a person or read
    ``value``, never another value without doubt."""

    question: str
    type: str  # the QuestionType's value
    page: int
    value: str
    clear: bool
    style: str


@dataclass(frozen=True, slots=True)
class BoxTruth:
    """One answer or fill-in box: ``blank`` when nothing was written in it; ``strokes`` the
    bounding boxes (mm, from the page's top-left, the pen's width included) of the ink
    written in it, one a written character or squiggle, all inside the box."""

    question: str
    kind: str  # reports.sheetdata.ANSWER or FILL_BLANK
    page: int
    blank: bool
    strokes: tuple[Box, ...]


@dataclass(frozen=True, slots=True)
class ExamNumberTruth:
    """The exam number as written: ``intended`` the roster's number the candidate meant
    (written in the cells above the grid either way), ``style`` how the grid was filled;
    ``read`` what a reader must take from the grid: ``intended`` when clean, else None
    (a reader must refuse it)."""

    intended: str
    style: str
    column: int | None  # the column spoiled, when not clean

    @property
    def read(self) -> str | None:
        return self.intended if self.style == NUMBER_CLEAN else None


@dataclass(frozen=True, slots=True)
class SheetTruth:
    """One filled set of answer sheets. ``codes`` is each page's QR text, in page order;
    ``missing_pages`` the page numbers left out of the bundle (Faults.missing)."""

    serial: str
    session: str
    component: str
    exam_number: ExamNumberTruth
    absent: bool
    violation: bool
    rows: tuple[RowTruth, ...]
    boxes: tuple[BoxTruth, ...]
    codes: tuple[str, ...]
    missing_pages: tuple[int, ...] = ()

    def row(self, question: str) -> RowTruth:
        return next(r for r in self.rows if r.question == question)


@dataclass(frozen=True, slots=True)
class Scan:
    """How one page was scanned: its resolution, whether it went through upside down, the
    skew (degrees, counter-clockwise), scale, noise and blur drawn, the JPEG quality (None:
    not compressed), the ``mode`` (GREY, COLOUR, BLACK_AND_WHITE), and ``transform``: the
    3×3 matrix (row-major) taking the layout's mm (from the page's top-left) to the scan's
    pixels as delivered (OpenCV's convention: pixel (i, j)'s centre is at (i, j))."""

    dpi: int
    upside_down: bool
    skew: float
    scale: float
    noise: float
    blur: float
    jpeg_quality: int | None
    mode: str
    transform: tuple[tuple[float, float, float], ...]

    def locate(self, x: float, y: float) -> tuple[float, float]:
        """Where the layout's point (``x``, ``y``) mm landed in the scan's pixels."""
        (a, b, c), (d, e, f), (g, h, i) = self.transform
        w = g * x + h * y + i
        return (a * x + b * y + c) / w, (d * x + e * y + f) / w


@dataclass(frozen=True, slots=True)
class PageTruth:
    """One page of the bundle, at ``position`` (from 0) in it: a page of ``serial``'s set
    (``kind`` SHEET_PAGE, REPEATED_PAGE for its second scan, FOREIGN_PAGE for another
    session's sheet), its QR text and how it was scanned."""

    position: int
    kind: str
    session: str
    serial: str
    page: int
    code: str
    scan: Scan
