"""What a candidate (and the invigilator) write on a sheet, planned in mm, with its truth.

Planning is apart from drawing: a page's marks are a list of shapes in the layout's mm,
drawn at whatever resolution the page is scanned at, and planned again identically from the
same seed when the page is drawn (so a corpus of thousands of pages keeps only its truth in
memory). Each page has its own random stream, keyed by (seed, stream, sheet, page): a page
reads the same whatever else is in the corpus.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from marking.demo.sheetfill.truth import (
    BLANK,
    CROSSED,
    DARK,
    DOUBLE,
    ERASED,
    FAINT,
    LIGHT,
    NUMBER_CLEAN,
    NUMBER_EMPTY_COLUMN,
    NUMBER_FAINT_COLUMN,
    NUMBER_TWO_IN_COLUMN,
    TICKED,
    UNCLEAR,
    BoxTruth,
    ExamNumberTruth,
    Mix,
    RowTruth,
)
from marking.domain.definition import QuestionDef, QuestionType
from reports.sheetdata import ANSWER, LINE_PITCH, Box, Header, OptionBubble, SheetPage

Point = tuple[float, float]

SHADES = {DARK: (15, 55), LIGHT: (80, 115), FAINT: (170, 200), ERASED: (205, 232)}
PEN = (10, 50)  # a black gel pen
PEN_WIDTH = (0.35, 0.55)  # mm
CHARACTER = (4.6, 5.8)  # mm, a written character's height and width
FILL_START = 18.0  # mm into a fill-in box: its printed label is left of this


@dataclass(frozen=True, slots=True)
class Blot:
    """A filled ellipse (a pencil fill): centre, radii (mm), turn (degrees), grey shade."""

    x: float
    y: float
    rx: float
    ry: float
    angle: float
    shade: int


@dataclass(frozen=True, slots=True)
class Stroke:
    """A pen or pencil line through ``points`` (mm), ``width`` mm wide."""

    points: tuple[Point, ...]
    width: float
    shade: int


@dataclass(frozen=True, slots=True)
class Glyph:
    """Handwritten-looking digits or letters (a stroke font): bottom-left at ``x``, ``y``
    mm, capitals ``height`` mm tall."""

    x: float
    y: float
    height: float
    text: str
    width: float
    shade: int


@dataclass(frozen=True, slots=True)
class Patch:
    """A filled rectangle (a 缺考/违纪 box filled in)."""

    box: Box
    shade: int


Ink = Blot | Stroke | Glyph | Patch


@dataclass(frozen=True, slots=True)
class SheetSpec:
    """What is decided once for a whole sheet; the rest is decided page by page."""

    seed: int
    stream: int  # 0: the corpus's sheets; 1: another session's
    index: int
    serial: str
    number: ExamNumberTruth
    absent: bool
    violation: bool


@dataclass(frozen=True, slots=True)
class PagePlan:
    ink: tuple[Ink, ...]
    rows: tuple[RowTruth, ...]
    boxes: tuple[BoxTruth, ...]


def page_random(seed: int, stream: int, index: int, page: int) -> random.Random:
    return random.Random(f"sheetfill:{seed}:{stream}:{index}:{page}")


def sheet_spec(
    seed: int, stream: int, index: int, serial: str, exam_number: str, mix: Mix
) -> SheetSpec:
    """The sheet's fate: absent, violation, and how its exam number is filled."""
    rng = page_random(seed, stream, index, 0)
    absent = rng.random() < mix.absent
    violation = not absent and rng.random() < mix.violation
    style, column = NUMBER_CLEAN, None
    if rng.random() < mix.smudged_number:
        style = rng.choice((NUMBER_EMPTY_COLUMN, NUMBER_TWO_IN_COLUMN, NUMBER_FAINT_COLUMN))
        column = rng.randrange(len(exam_number))
    number = ExamNumberTruth(exam_number, style, column)
    return SheetSpec(seed, stream, index, serial, number, absent, violation)


def plan_page(
    spec: SheetSpec, page: SheetPage, questions: dict[str, QuestionDef], mix: Mix
) -> PagePlan:
    """The marks on one page of the sheet and what they mean."""
    rng = page_random(spec.seed, spec.stream, spec.index, page.number)
    ink: list[Ink] = []
    if page.header is not None:
        ink += _header(rng, spec, page.header)
    rows: list[RowTruth] = []
    for number, bubbles in _rows(page.bubbles).items():
        row_ink, truth = _row(rng, questions[number], bubbles, mix, page.number, spec.absent)
        ink += row_ink
        rows.append(truth)
    boxes: list[BoxTruth] = []
    for answer in page.answers:
        blank = spec.absent or rng.random() < mix.blank_box
        written: list[Ink] = []
        extents: list[Box] = []
        if not blank:
            written, extents = _write_box(rng, answer.box, answer.kind, answer.lines)
        ink += written
        boxes.append(BoxTruth(answer.question, answer.kind, page.number, blank, tuple(extents)))
    return PagePlan(tuple(ink), tuple(rows), tuple(boxes))


def _rows(bubbles: Sequence[OptionBubble]) -> dict[str, list[OptionBubble]]:
    rows: dict[str, list[OptionBubble]] = {}
    for bubble in bubbles:
        rows.setdefault(bubble.question, []).append(bubble)
    return rows


def _shade(rng: random.Random, style: str) -> int:
    low, high = SHADES[style]
    return rng.randint(low, high)


def blot(rng: random.Random, x: float, y: float, r: float, shade: int) -> Blot:
    """A hand's fill of a bubble: a little off centre, not quite round, most of it."""
    return Blot(
        x + rng.uniform(-0.15, 0.15),
        y + rng.uniform(-0.15, 0.15),
        r * rng.uniform(0.82, 1.02),
        r * rng.uniform(0.78, 0.98),
        rng.uniform(0, 180),
        shade,
    )


# --- the header: exam number, name, ID number, 缺考 / 违纪 ------------------------------------


def _header(rng: random.Random, spec: SheetSpec, header: Header) -> list[Ink]:
    number = spec.number
    if len(number.intended) != len(header.exam_number_cells) or not number.intended.isdigit():
        raise ValueError(
            f"exam number {number.intended!r}: the sheets' grid takes "
            f"{len(header.exam_number_cells)} digits"
        )
    ink: list[Ink] = []
    for cell, digit in zip(header.exam_number_cells, number.intended, strict=True):
        ink.append(_digit(rng, cell, digit))
    for bubble in header.exam_number:
        wanted = bubble.digit == int(number.intended[bubble.column])
        spoiled = bubble.column == number.column
        if spoiled and number.style == NUMBER_EMPTY_COLUMN and wanted:
            continue
        if wanted:
            faint = spoiled and number.style == NUMBER_FAINT_COLUMN
            ink.append(
                blot(rng, bubble.x, bubble.y, bubble.r, _shade(rng, FAINT if faint else DARK))
            )
        elif (
            spoiled
            and number.style == NUMBER_TWO_IN_COLUMN
            and bubble.digit == ((int(number.intended[bubble.column]) + 3) % 10)
        ):
            ink.append(blot(rng, bubble.x, bubble.y, bubble.r, _shade(rng, DARK)))
    if not spec.absent:  # the invigilator fills an absent candidate's grid, not the name
        name = header.name
        ink += _characters(rng, name.x + 4, name.bottom - 1.2, rng.randint(2, 3), name.right)[0]
        cell_w = header.id_number.w / 18
        for i in range(18):
            cell = Box(
                header.id_number.x + i * cell_w, header.id_number.y, cell_w, header.id_number.h
            )
            ink.append(_digit(rng, cell, str(rng.randrange(10))))
    for filled, box in ((spec.absent, header.absent), (spec.violation, header.violation)):
        if filled:
            inset = 0.6
            inner = Box(box.x + inset, box.y + inset, box.w - 2 * inset, box.h - 2 * inset)
            ink.append(Patch(inner, _shade(rng, DARK)))
    return ink


def _digit(rng: random.Random, cell: Box, digit: str) -> Glyph:
    height = min(cell.h * 0.6, cell.w * 0.7) * rng.uniform(0.85, 1.0)
    return Glyph(
        cell.x + cell.w * 0.22 + rng.uniform(-0.2, 0.2),
        cell.bottom - (cell.h - height) / 2 + rng.uniform(-0.2, 0.2),
        height,
        digit,
        rng.uniform(0.25, 0.35),
        rng.randint(*PEN),
    )


# --- objective rows ----------------------------------------------------------------------------


def _intended(
    rng: random.Random, question: QuestionDef, options: list[str], right: float
) -> set[str]:
    key = set(question.answer[0]) if question.answer else set()
    if key <= set(options) and key and rng.random() < right:
        return key
    if question.type is QuestionType.MULTIPLE_CHOICE:
        for _ in range(10):
            pick = set(rng.sample(options, rng.randint(1, min(3, len(options)))))
            if pick != key:
                return pick
        return {options[0]}
    others = [o for o in options if o not in key] or options
    return {rng.choice(others)}


def _row_style(rng: random.Random, mix: Mix, question: QuestionDef) -> str:
    draw = rng.random()
    style = DARK
    for name, share in mix.row_styles():
        if draw < share:
            style = name
            break
        draw -= share
    if style == DOUBLE and question.type is QuestionType.MULTIPLE_CHOICE:
        return DARK  # two fills are a fine multiple-choice answer
    return style


def _row(
    rng: random.Random,
    question: QuestionDef,
    bubbles: list[OptionBubble],
    mix: Mix,
    page: int,
    absent: bool,
) -> tuple[list[Ink], RowTruth]:
    """One objective row's marks and their truth (see truth.STYLES)."""
    options = [b.option for b in bubbles]
    at = {b.option: b for b in bubbles}
    style = BLANK if absent else _row_style(rng, mix, question)
    chosen = set() if style == BLANK else _intended(rng, question, options, mix.right)
    spare = [o for o in options if o not in chosen]
    if style in (CROSSED, ERASED, DOUBLE) and not spare:
        style = DARK
    ink: list[Ink] = []
    if style in (CROSSED, ERASED):
        other = at[rng.choice(spare)]
        if style == ERASED:
            ink.append(blot(rng, other.x, other.y, other.r * 1.05, _shade(rng, ERASED)))
        else:
            ink.append(blot(rng, other.x, other.y, other.r, _shade(rng, DARK)))
            ink += _cross(rng, other)
    if style == DOUBLE:
        chosen.add(rng.choice(spare))
    for option in options:
        if option not in chosen:
            continue
        bubble = at[option]
        if style == TICKED:
            ink.append(_tick(rng, bubble))
        else:
            shade = _shade(rng, style if style in (LIGHT, FAINT) else DARK)
            ink.append(blot(rng, bubble.x, bubble.y, bubble.r, shade))
    value = "".join(o for o in options if o in chosen)
    clear = style not in UNCLEAR
    return ink, RowTruth(question.number, question.type.value, page, value, clear, style)


def _tick(rng: random.Random, b: OptionBubble) -> Stroke:
    r = b.r
    points = ((-0.75 * r, 0.0), (-0.2 * r, 0.7 * r), (0.9 * r, -0.9 * r))
    jitter = [
        (b.x + x + rng.uniform(-0.1, 0.1), b.y + y + rng.uniform(-0.1, 0.1)) for x, y in points
    ]
    return Stroke(tuple(jitter), rng.uniform(0.5, 0.7), _shade(rng, DARK))


def _cross(rng: random.Random, b: OptionBubble) -> list[Ink]:
    """An X over a filled bubble, reaching a little past its edge: "not this one"."""
    reach = b.r * 1.35
    width = rng.uniform(0.3, 0.45)
    return [
        Stroke(((b.x - reach, b.y - reach), (b.x + reach, b.y + reach)), width, rng.randint(*PEN)),
        Stroke(((b.x + reach, b.y - reach), (b.x - reach, b.y + reach)), width, rng.randint(*PEN)),
    ]


# --- handwriting -------------------------------------------------------------------------------

# The strokes of Chinese characters (横 竖 撇 捺 点 横折 竖钩 提), in a unit cell, y down.
STROKES: tuple[tuple[Point, ...], ...] = (
    ((0.1, 0.3), (0.9, 0.26)),
    ((0.15, 0.55), (0.85, 0.52)),
    ((0.05, 0.85), (0.95, 0.82)),
    ((0.5, 0.08), (0.5, 0.92)),
    ((0.3, 0.2), (0.3, 0.8)),
    ((0.6, 0.15), (0.48, 0.5), (0.12, 0.88)),
    ((0.42, 0.38), (0.66, 0.66), (0.94, 0.86)),
    ((0.45, 0.05), (0.55, 0.16)),
    ((0.15, 0.25), (0.85, 0.22), (0.8, 0.88)),
    ((0.7, 0.1), (0.7, 0.85), (0.56, 0.74)),
    ((0.12, 0.7), (0.42, 0.55)),
)


def _characters(
    rng: random.Random, left: float, baseline: float, count: int, right: float
) -> tuple[list[Ink], list[Box]]:
    """Up to ``count`` Chinese-like characters on a baseline from ``left``, not past
    ``right``: the strokes and each character's extent (pen width included)."""
    ink: list[Ink] = []
    extents: list[Box] = []
    x = left
    width = rng.uniform(*PEN_WIDTH)
    shade = rng.randint(*PEN)
    for _ in range(count):
        size = rng.uniform(*CHARACTER)
        if x + size > right:
            break
        strokes = [
            tuple(
                (x + (u + rng.uniform(-0.05, 0.05)) * size, baseline - (1 - v) * size)
                for u, v in rng.choice(STROKES)
            )
            for _ in range(rng.randint(3, 7))
        ]
        ink += (Stroke(points, width, shade) for points in strokes)
        extents.append(_extent([p for s in strokes for p in s], width / 2))
        x += size + rng.uniform(0.4, 1.2)
    return ink, extents


def _squiggle(
    rng: random.Random, left: float, baseline: float, right: float
) -> tuple[list[Ink], list[Box]]:
    """A free curve along a line (a sketch, a formula's scrawl)."""
    length = rng.uniform(10, 40)
    end = min(right, left + length)
    steps = max(4, int((end - left) / 1.5))
    points = tuple(
        (left + (end - left) * k / steps, baseline - 2.5 + 2.2 * rng.uniform(-1, 1))
        for k in range(steps + 1)
    )
    width = rng.uniform(*PEN_WIDTH)
    return [Stroke(points, width, rng.randint(*PEN))], [_extent(list(points), width / 2)]


def _extent(points: Sequence[Point], pad: float) -> Box:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return Box(
        min(xs) - pad, min(ys) - pad, max(xs) - min(xs) + 2 * pad, max(ys) - min(ys) + 2 * pad
    )


def _write_box(rng: random.Random, box: Box, kind: str, lines: int) -> tuple[list[Ink], list[Box]]:
    """Handwriting in an answer box, line after line from the top, or a few characters
    after a fill-in box's label; always inside the box."""
    right = box.right - 4.0
    if kind != ANSWER:
        return _characters(rng, box.x + FILL_START, box.bottom - 3.6, rng.randint(1, 5), right)
    ink: list[Ink] = []
    extents: list[Box] = []
    written = rng.randint(1, lines)
    for k in range(lines - 1, lines - 1 - written, -1):
        baseline = box.bottom - k * LINE_PITCH - 0.9
        last = k == lines - written
        end = box.x + 4 + (right - box.x - 4) * (rng.uniform(0.2, 1.0) if last else 1.0)
        if rng.random() < 0.1:
            more, boxes = _squiggle(rng, box.x + 4, baseline, end)
        else:
            more, boxes = _characters(rng, box.x + 4, baseline, 40, end)
        ink += more
        extents += boxes
    return ink, extents
