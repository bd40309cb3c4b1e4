"""The plain geometry of a paper answer sheet, in millimetres from each A4 page's top-left.

``marking.paper.layout`` builds these from a component's definition; ``reports.sheets``
draws them and the scan step will read pages back against them. They live here, in
``reports``, because the dependencies point one way (``marking`` → ``reports``): the
renderer takes plain data and knows nothing of session definitions. Frozen and picklable,
so the pages can be drawn in worker processes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from reports.data import ComponentInfo, SessionInfo

PAGE_WIDTH = 210.0
PAGE_HEIGHT = 297.0
LINE_PITCH = 8.0  # the writing lines ruled in an answer box
# The content's column, and its foot: the corner marks are outside it, the footer line below.
LEFT, RIGHT, BOTTOM = 20.0, 190.0, 277.0

# AnswerBox.kind: an examiner marks what is written in it, or a fill-in (objective, scored
# from the key) whose text no bubble reader can take: it is cut like an answer box.
ANSWER = "answer"
FILL_BLANK = "fill_blank"


@dataclass(frozen=True, slots=True)
class Box:
    """A rectangle: its top-left corner ``x``, ``y`` and its size ``w``, ``h``."""

    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    def overlaps(self, other: Box) -> bool:
        """Whether the two share any area (touching edges do not count)."""
        return (
            self.x < other.right
            and other.x < self.right
            and self.y < other.bottom
            and other.y < self.bottom
        )

    def contains(self, other: Box) -> bool:
        return (
            self.x <= other.x
            and self.y <= other.y
            and other.right <= self.right
            and other.bottom <= self.bottom
        )


@dataclass(frozen=True, slots=True)
class Circle:
    """A circle to fill: centre ``x``, ``y`` and radius ``r``."""

    x: float
    y: float
    r: float

    @property
    def box(self) -> Box:
        return Box(self.x - self.r, self.y - self.r, 2 * self.r, 2 * self.r)


@dataclass(frozen=True, slots=True)
class DigitBubble(Circle):
    """A place of the exam-number grid: ``column`` 0 is the leftmost digit."""

    column: int
    digit: int


@dataclass(frozen=True, slots=True)
class OptionBubble(Circle):
    """An objective question's option: ("41", "B"); true/false options are "T" and "F"."""

    question: str
    option: str


@dataclass(frozen=True, slots=True)
class AnswerBox:
    """Where one question is answered in writing, cut out whole by the scan step."""

    question: str
    kind: str  # ANSWER or FILL_BLANK
    box: Box
    lines: int  # writing lines ruled in it (a fill-in has one)


@dataclass(frozen=True, slots=True)
class Section:
    """The title strip over a run of objective questions of one type (e.g. 单项选择题)."""

    kind: str
    title: str
    box: Box


@dataclass(frozen=True, slots=True)
class Header:
    """The sealed header (密封区) of a sheet's first page: everything that names a candidate.

    The scan step cuts ``box`` and seals it like every identity record; an answer box never
    reaches into it.
    """

    box: Box
    name: Box
    id_number: Box
    exam_number_cells: tuple[Box, ...]  # where the digits are written above their columns
    exam_number: tuple[DigitBubble, ...]  # column × digit 0-9
    absent: Box  # 缺考, filled by the invigilator
    violation: Box  # 违纪, filled by the invigilator


@dataclass(frozen=True, slots=True)
class SheetPage:
    number: int
    marks: tuple[Box, ...]  # the four corner alignment marks, filled squares
    qr: Box  # the QR code's square, its quiet zone included
    header: Header | None
    sections: tuple[Section, ...]
    bubbles: tuple[OptionBubble, ...]
    answers: tuple[AnswerBox, ...]


@dataclass(frozen=True, slots=True)
class SheetLayout:
    """The pages of one set of answer sheets for a component, the same for every set."""

    component: str
    exam_number_digits: int
    pages: tuple[SheetPage, ...]


@dataclass(frozen=True, slots=True)
class SheetSet:
    """One printed set: its random serial and the QR code text of each page, in order."""

    serial: str
    codes: tuple[str, ...]


@dataclass(frozen=True)
class SheetHeading:
    """The words a sheet carries besides its geometry."""

    session: SessionInfo
    component: ComponentInfo
    # question number → its maximum as written in the definition ("10", "2.5")
    maxima: Mapping[str, str] = field(default_factory=dict)
