"""Reading a filled answer sheet back: a real printed sheet, rendered at 150/200/300/600 dpi,
written on through the layout (fills dark, light, ticked, crossed out, erased, double;
strokes in answer boxes; 缺考) and degraded (upside down, skewed ±7°, black-and-white, JPEG
q50, noise). Every value reads right or is doubtful; none is wrong."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
import pytest

from marking.demo.synthetic import session_toml
from marking.domain.definition import parse_session_definition
from marking.paper import omr
from marking.paper.codes import PayloadError
from marking.paper.printing import PrintedSheets, print_sheets
from marking.paper.reading import read_page
from marking.paper.sources import ScanPage
from reports.sheetdata import ANSWER, FILL_BLANK, SheetPage
from tests.paper import drawing as d

SESSION = parse_session_definition(
    session_toml("2026-GD-0412", questions_per_component=14, objective_share=0.72)
)
KEY = b"session secret"
EXAM_NUMBER = "2612000457"
# question -> (marks drawn, what may be read: the options, or None where only doubt is right)
MARKS: dict[str, tuple[dict[str, str], tuple[str, ...] | None]] = {
    "1": ({"B": "filled"}, ("B",)),
    "5": ({"C": "light"}, ("C",)),
    "2": ({"A": "filled", "C": "filled"}, ("A", "C")),  # multiple choice, double fill
    "6": ({"B": "tick"}, None),
    "3": ({"T": "cross"}, None),
    "7": ({"F": "filled", "T": "erased"}, ("F",)),  # erased then filled the other
    "9": ({"A": "half"}, None),
}
CLEAR = ("1", "5", "2")  # rows a person need not see
Step = Callable[[np.ndarray], np.ndarray]
DEGRADED: dict[str, tuple[Step, ...]] = {
    "grey": (),
    "upside down": (d.upside_down,),
    "skewed +7°": (d.skewed(7.0),),
    "skewed -7° upside down": (d.skewed(-7.0), d.upside_down),
    "black-and-white": (d.black_and_white,),
    "JPEG q50": (d.jpeg(50),),
    "noisy JPEG q50": (d.noisy(7), d.jpeg(50)),
}


@pytest.fixture(scope="module")
def printed() -> PrintedSheets:
    return print_sheets(SESSION, "theory", 1, workers=1, key=KEY)


@pytest.fixture(scope="module")
def first(printed: PrintedSheets) -> SheetPage:
    page = printed.layout.pages[0]
    kinds = {a.kind for a in page.answers}
    assert page.header is not None and kinds == {ANSWER, FILL_BLANK}
    assert set(MARKS) <= {b.question for b in page.bubbles}
    return page


def filled_in(printed: PrintedSheets, page: SheetPage, dpi: int) -> np.ndarray:
    """Page 1 as a candidate and an invigilator leave it: exam number, bubbles, 缺考, a
    scrawl in the answer box and one short stroke in the first fill-in box."""
    image = d.render(printed.pdf, 0, dpi)
    assert page.header is not None
    for bubble in page.header.exam_number:
        if EXAM_NUMBER[bubble.column] == str(bubble.digit):
            d.fill(image, dpi, bubble, "filled")
    for bubble in page.bubbles:
        how = MARKS.get(bubble.question, ({}, None))[0].get(bubble.option)
        if how:
            d.fill(image, dpi, bubble, how)
    d.fill_box(image, dpi, page.header.absent)
    answer = next(a for a in page.answers if a.kind == ANSWER)
    d.handwriting(image, dpi, answer.box, seed=dpi)
    fill_in = next(a for a in page.answers if a.kind == FILL_BLANK)
    y = fill_in.box.bottom - 5
    d.stroke(image, dpi, [(fill_in.box.x + 40, y), (fill_in.box.x + 43, y - 1)])
    return image


@pytest.fixture(scope="module", params=[150, 200, 300, 600])
def scans(
    request: pytest.FixtureRequest, printed: PrintedSheets, first: SheetPage
) -> dict[str, omr.PageRead]:
    """The filled page at one dpi, read through every degradation (read once, asserted
    by several tests)."""
    dpi: int = request.param
    image = filled_in(printed, first, dpi)
    reads = {}
    for name, steps in DEGRADED.items():
        reading = read_page(d.degrade(image, *steps), dpi_hint=dpi)
        reads[name] = omr.read_sheet_page(reading, first, key=KEY)
    return reads


@pytest.mark.parametrize("name", list(DEGRADED))
def test_bubbles_read_right_or_doubtful(name: str, scans: dict[str, omr.PageRead]) -> None:
    read = scans[name]
    for question, (_drawn, truth) in MARKS.items():
        row = read.rows[question]
        where = f"{name}: question {question} {row}"
        if name == "black-and-white" and question == "5":
            # a light fill is paler than a black-and-white scanner's threshold: the scan
            # holds nothing of it, and nothing can be read from nothing
            assert row.chosen in ((), truth), where
        elif truth is None:
            assert row.doubtful, where
        elif question in CLEAR:
            assert row.chosen == truth and not row.doubtful, where
        else:
            assert row.doubtful or row.chosen == truth, where
    untouched = [row for q, row in read.rows.items() if q not in MARKS]
    assert untouched and all(row.chosen == () and not row.doubtful for row in untouched)


@pytest.mark.parametrize("name", list(DEGRADED))
def test_exam_number_and_invigilator_boxes(name: str, scans: dict[str, omr.PageRead]) -> None:
    read = scans[name]
    assert read.exam_number is not None
    assert (read.exam_number.digits, read.exam_number.problem) == (EXAM_NUMBER, None)
    assert (read.absent, read.violation) == (True, False)
    assert read.payload.page == 1 and read.upside_down == ("upside down" in name)


@pytest.mark.parametrize("name", list(DEGRADED))
def test_boxes_with_ink_are_not_blank(name: str, scans: dict[str, omr.PageRead]) -> None:
    boxes = {b.question: b for b in scans[name].boxes}
    answer = next(b for b in boxes.values() if b.kind == ANSWER)
    fill_ins = [b for b in boxes.values() if b.kind == FILL_BLANK]
    assert not answer.blank
    assert not fill_ins[0].blank, "one short stroke is an answer"
    assert all(b.blank for b in fill_ins[1:])


@pytest.mark.parametrize("steps", [(), (d.noisy(3), d.jpeg(50)), (d.black_and_white,)])
def test_empty_boxes_are_blank(steps: tuple[Step, ...], printed: PrintedSheets) -> None:
    page = printed.layout.pages[1]
    image = d.degrade(d.render(printed.pdf, 1, 200), d.skewed(-5.0), *steps)
    read = omr.read_sheet_page(read_page(image, dpi_hint=200), page, key=KEY)
    assert read.boxes and all(b.blank for b in read.boxes)
    assert read.exam_number is None and read.header_png is None and read.absent is None


def test_a_short_stroke_anywhere_in_the_writing_area_is_ink(printed: PrintedSheets) -> None:
    page = printed.layout.pages[1]
    box = page.answers[0].box
    image = d.render(printed.pdf, 1, 150)
    d.stroke(image, 150, [(box.right - 20, box.y + 30), (box.right - 16, box.y + 31)])
    read = omr.read_sheet_page(read_page(d.jpeg(50)(image), dpi_hint=150), page, key=KEY)
    assert not read.boxes[0].blank


def test_a_cut_holds_the_whole_box_and_nothing_of_the_header(
    printed: PrintedSheets, first: SheetPage
) -> None:
    assert first.header is not None
    image = d.degrade(d.render(printed.pdf, 0, 200), d.skewed(7.0), d.upside_down)
    read = omr.read_sheet_page(read_page(image, dpi_hint=200), first, key=KEY)
    for answer, cut in zip(first.answers, read.boxes, strict=True):
        area = omr.box_cut_area(answer, first.header)
        assert area.contains(answer.box) and not area.overlaps(first.header.box)
        pixels = cv2.imdecode(np.frombuffer(cut.png, np.uint8), cv2.IMREAD_UNCHANGED)
        assert pixels.ndim == 2
        assert pixels.shape == (round(area.h * 8), round(area.w * 8))
        # the box's black border lies just inside each edge of the cut: whole, with a margin
        inside = pixels[4:-4, 4:-4]
        for edge in (inside[:6], inside[-6:], inside[:, :6].T, inside[:, -6:].T):
            assert edge.min() < 100
    assert read.header_png is not None
    header = cv2.imdecode(np.frombuffer(read.header_png, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert header.shape == (round(first.header.box.h * 8), round(first.header.box.w * 8))


def test_a_row_crop_shows_that_row_only(printed: PrintedSheets, first: SheetPage) -> None:
    reading = read_page(d.render(printed.pdf, 0, 200), dpi_hint=200)
    png = omr.row_crop(reading, first, "1")
    crop = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    height_mm = crop.shape[0] / omr.ROW_PX_PER_MM
    assert 3.2 < height_mm < 5.5  # a bubble's height and a margin: less than a row's pitch
    with pytest.raises(KeyError):
        omr.row_crop(reading, first, "no such question")


def test_exam_number_problems_name_the_column(printed: PrintedSheets, first: SheetPage) -> None:
    assert first.header is not None
    image = d.render(printed.pdf, 0, 200)
    marks = {0: [("2", "filled")], 1: [("3", "filled"), ("5", "filled")], 2: [("4", "tick")]}
    for bubble in first.header.exam_number:
        for digit, how in marks.get(bubble.column, [(EXAM_NUMBER[bubble.column], "filled")]):
            if digit == str(bubble.digit):
                d.fill(image, 200, bubble, how)
    read = omr.read_sheet_page(read_page(image, dpi_hint=200), first, key=KEY)
    assert read.exam_number is not None and read.exam_number.digits is None
    assert read.exam_number.problem == "column 2: 2 bubbles filled"
    third = read.exam_number.columns[2]
    assert third.doubtful and third.chosen == ()


@pytest.mark.parametrize("steps", [(), (d.black_and_white,), (d.skewed(-6.0), d.jpeg(50))])
def test_a_crossed_out_fill_goes_to_a_person(
    steps: tuple[Step, ...], printed: PrintedSheets, first: SheetPage
) -> None:
    """A fill struck through with an X ("not this one") beside the answer meant: as dark as
    a fill, so only the X's strokes past the ring tell it, and a person decides."""
    image = d.render(printed.pdf, 0, 200)
    row = {b.option: b for b in first.bubbles if b.question == "1"}
    d.fill(image, 200, row["B"], "filled")
    struck = row["D"]
    d.fill(image, 200, struck, "filled")
    reach = struck.r * 1.35
    for a, b in ((-1, -1), (1, -1)):
        start = (struck.x + a * reach, struck.y + b * reach)
        d.stroke(image, 200, [start, (struck.x - a * reach, struck.y - b * reach)], 0.35)
    read = omr.read_sheet_page(read_page(d.degrade(image, *steps), dpi_hint=200), first, key=KEY)
    assert read.rows["1"].doubtful, read.rows["1"]
    assert not read.rows["2"].doubtful  # the untouched row next to it is not


def test_the_rule_of_a_row() -> None:
    names = ["A", "B", "C", "D"]
    assert omr.judge_row((0.1, 0.95, 0.12, 0.1), names) == omr.RowRead(
        (0.1, 0.95, 0.12, 0.1), ("B",), False
    )
    assert omr.judge_row((0.1, 0.9, 0.9, 0.1), names).chosen == ("B", "C")
    assert omr.judge_row((0.1, 0.1, 0.1, 0.1), names) == omr.RowRead(
        (0.1, 0.1, 0.1, 0.1), (), False
    )
    in_band = omr.judge_row((0.1, 0.5, 0.1, 0.1), names)
    assert in_band.doubtful and in_band.chosen == ()
    # a weak fill beside a near-empty one: taken, but a person looks
    close = omr.judge_row((0.28, 0.77, 0.1, 0.1), names)
    assert close.chosen == ("B",) and close.doubtful


def test_identify_checks_the_code_with_the_key(printed: PrintedSheets) -> None:
    pixels = d.render(printed.pdf, 1, 200)
    reading, payload = omr.identify(ScanPage("bundle.pdf", 2, pixels, 200.0), key=KEY)
    assert (payload.serial, payload.page) == (printed.serials[0], 2)
    assert reading.text.startswith("BM1|")
    # a wrong stated resolution (a scanner's "fit to page") falls back on the QR's scale
    _, again = omr.identify(ScanPage("scan.png", 1, pixels, 400.0), key=KEY)
    assert again == payload
    with pytest.raises(PayloadError, match="check value"):
        omr.identify(ScanPage("bundle.pdf", 2, pixels, 200.0), key=b"another key")
    with pytest.raises(ValueError, match="page 2"):
        omr.read_sheet_page(reading, printed.layout.pages[0], key=KEY)
