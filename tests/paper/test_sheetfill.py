"""The scan corpus generator (marking.demo.sheetfill): the same seed gives the same bytes;
what the truth says is filled is dark where the layout puts it and its pages read back
with the expected code; degradations stay within their knobs; bundles carry the faults
they claim (a missing page, a repeated page, a page of another session)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image
from sqlalchemy.orm import Session

from marking.demo.sheetfill import (
    CLEAN_MIX,
    NO_DEGRADE,
    Corpus,
    Degrade,
    Faults,
    Mix,
    ScanImage,
    SheetSource,
    make_corpus,
    source_from_definition,
    source_from_exam,
    write_files,
    write_pdf,
    write_tiff,
)
from marking.demo.sheetfill.truth import (
    BLACK_AND_WHITE,
    BLANK,
    COLOUR,
    DARK,
    FOREIGN_PAGE,
    NUMBER_CLEAN,
    REPEATED_PAGE,
    UNCLEAR,
)
from marking.demo.synthetic import roster, session_toml
from marking.domain.definition import parse_session_definition
from marking.paper.codes import decode_payload
from marking.paper.issue import issue_sheets
from marking.paper.reading import read_page
from marking.paper.scanning import OmrReader
from marking.paper.sources import ScanPage
from tests.integration.factory import new_session, tiny_toml

SESSION = parse_session_definition(session_toml("2026-GD-0412", questions_per_component=8))
KEY = bytes(range(32))
NUMBERS = [c.exam_no[2:] for c in roster(6, seed=5)]  # 10 digits, the default grid
BUSY = Mix(light=0.15, faint=0.1, ticked=0.1, crossed=0.1, erased=0.1, double=0.1, blank_row=0.1)


@pytest.fixture(scope="module")
def source() -> SheetSource:
    return source_from_definition(SESSION, "theory", key=KEY)


def pdf_of(corpus: Corpus) -> bytes:
    out = io.BytesIO()
    write_pdf(corpus.images(), out)
    return out.getvalue()


def test_the_same_seed_gives_the_same_bytes() -> None:
    # two sources, so the blank pages are printed and rendered twice as well
    first, second = (source_from_definition(SESSION, "theory", key=KEY) for _ in range(2))
    faults = Faults(missing=1, repeated=1, foreign=1, shuffle=True)
    one = make_corpus(first, NUMBERS[:2], seed=11, mix=BUSY, faults=faults)
    two = make_corpus(second, NUMBERS[:2], seed=11, mix=BUSY, faults=faults)
    assert one.sheets == two.sheets and one.pages == two.pages
    assert pdf_of(one) == pdf_of(two)
    other = make_corpus(first, NUMBERS[:2], seed=12, mix=BUSY, faults=faults)
    assert other.sheets != one.sheets


def darkness(scan: ScanImage, x: float, y: float, r: float) -> float:
    """The mean grey within ``r`` mm of the layout point, where the scan put it."""
    u, v = scan.truth.scan.locate(x, y)
    per_mm = scan.truth.scan.dpi / 25.4
    rows, cols = np.ogrid[: scan.pixels.shape[0], : scan.pixels.shape[1]]
    inside = (cols - u) ** 2 + (rows - v) ** 2 <= (r * per_mm) ** 2
    return float(scan.pixels[inside].mean())


def test_what_the_truth_says_is_filled_is_dark_at_its_layout_place(source: SheetSource) -> None:
    corpus = make_corpus(source, NUMBERS, seed=3, mix=BUSY, degrade=NO_DEGRADE)
    page = source.layout.pages[0]
    assert page.header is not None
    checked = 0
    for position, truth in enumerate(corpus.pages):
        if truth.page != 1:
            continue
        scan = corpus.image(position)
        sheet = corpus.sheet(truth.serial)
        for bubble in page.bubbles:
            row = sheet.row(bubble.question)
            level = darkness(scan, bubble.x, bubble.y, bubble.r * 0.6)
            if row.style == DARK and bubble.option in row.value:
                assert level < 90, (row, level)
                checked += 1
            if row.style == BLANK:
                assert level > 200, (row, level)
        if sheet.exam_number.style == NUMBER_CLEAN:
            for bubble in page.header.exam_number:
                level = darkness(scan, bubble.x, bubble.y, bubble.r * 0.6)
                wanted = int(sheet.exam_number.intended[bubble.column]) == bubble.digit
                assert (level < 90) if wanted else (level > 200), (bubble, level)
    assert checked >= 5
    styles = {row.style for sheet in corpus.sheets for row in sheet.rows}
    assert {row.clear for s in corpus.sheets for row in s.rows if row.style in UNCLEAR} == {False}
    assert len(styles) >= 5


def test_answer_box_ink_lies_inside_its_box(source: SheetSource) -> None:
    corpus = make_corpus(source, NUMBERS, seed=4, degrade=NO_DEGRADE)
    boxes = {a.question: a.box for page in source.layout.pages for a in page.answers}
    written = [b for s in corpus.sheets for b in s.boxes if not b.blank]
    assert written and all(b.strokes for b in written)
    for truth in written:
        assert all(boxes[truth.question].contains(stroke) for stroke in truth.strokes)
    position = next(i for i, p in enumerate(corpus.pages) if p.page == 2)
    scan = corpus.image(position)
    sheet = corpus.sheet(corpus.pages[position].serial)
    for box in (b for b in sheet.boxes if b.page == 2 and not b.blank):
        stroke = box.strokes[0]
        centre = (stroke.x + stroke.w / 2, stroke.y + stroke.h / 2)
        u, v = scan.truth.scan.locate(stroke.x, stroke.y)
        u2, v2 = scan.truth.scan.locate(stroke.right, stroke.bottom)
        ink = scan.pixels[round(v) : round(v2) + 1, round(u) : round(u2) + 1]
        assert ink.min() < 80, (box.question, centre)


def test_an_absent_sheet_is_empty_but_for_its_number_and_box(source: SheetSource) -> None:
    corpus = make_corpus(source, NUMBERS[:2], seed=5, mix=Mix(absent=1.0), degrade=NO_DEGRADE)
    for sheet in corpus.sheets:
        assert sheet.absent and not sheet.violation
        assert all(row.value == "" and row.clear for row in sheet.rows)
        assert all(box.blank and not box.strokes for box in sheet.boxes)
    header = source.layout.pages[0].header
    assert header is not None
    scan = corpus.image(0)
    absent = header.absent
    assert darkness(scan, absent.x + absent.w / 2, absent.y + absent.h / 2, 1.0) < 90


def test_pages_read_back_with_their_codes_through_the_degradations(source: SheetSource) -> None:
    knobs = Degrade(upside_down=0.4, jpeg=0.4, colour=0.3, black_and_white=0.3)
    corpus = make_corpus(source, NUMBERS[:3], seed=8, degrade=knobs)
    seen = set()
    for position in range(0, len(corpus.pages), 2):
        scan = corpus.image(position)
        reading = read_page(scan.pixels, dpi_hint=scan.truth.scan.dpi)
        assert reading.text == scan.truth.code
        assert reading.upside_down is scan.truth.scan.upside_down
        assert decode_payload(reading.text, key=KEY).serial == scan.truth.serial
        # the truth's transform and the reader's alignment agree on a corner mark
        mark = source.layout.pages[scan.truth.page - 1].marks[3]
        x, y = mark.x + mark.w / 2, mark.y + mark.h / 2
        u, v = reading.locate(x, y)
        if reading.upside_down:
            u, v = scan.pixels.shape[1] - 1 - u, scan.pixels.shape[0] - 1 - v
        expected = scan.truth.scan.locate(x, y)
        assert np.hypot(u - expected[0], v - expected[1]) < scan.truth.scan.dpi / 25.4
        seen.add((scan.truth.scan.mode, scan.truth.scan.jpeg_quality is not None))
    assert len(seen) >= 3


def test_degradations_stay_within_their_knobs(source: SheetSource) -> None:
    knobs = Degrade(skew=6.0, scale=0.03, dpis=(150, 300))
    corpus = make_corpus(source, NUMBERS, seed=9, degrade=knobs, mix=CLEAN_MIX)
    scans = [p.scan for p in corpus.pages]
    assert all(abs(s.skew) <= 6.0 and abs(s.scale - 1) <= 0.03 for s in scans)
    assert {s.dpi for s in scans} == {150, 300}
    assert any(s.upside_down for s in scans) and not all(s.upside_down for s in scans)
    assert max(abs(s.skew) for s in scans) > 3.0
    modes = {s.mode for s in scans}
    assert modes == {"grey", COLOUR, BLACK_AND_WHITE}
    for mode in (COLOUR, BLACK_AND_WHITE):
        position = next(p.position for p in corpus.pages if p.scan.mode == mode)
        scan = corpus.image(position)
        if mode == COLOUR:
            assert scan.pixels.ndim == 3 and scan.pixels.shape[2] == 3
        else:
            assert set(np.unique(scan.pixels)) <= {0, 255} and scan.jpeg is None
    jpeg = next(p.position for p in corpus.pages if p.scan.jpeg_quality is not None)
    data = corpus.image(jpeg).jpeg
    assert data is not None and data[:2] == b"\xff\xd8"


def test_a_bundle_carries_its_faults(source: SheetSource, tmp_path: Path) -> None:
    faults = Faults(missing=1, repeated=1, foreign=1, shuffle=True)
    corpus = make_corpus(source, NUMBERS[:3], seed=13, faults=faults)
    per_sheet = len(source.layout.pages)
    assert len(corpus.pages) == 3 * per_sheet - 1 + 1 + 1
    (repeat,) = [p for p in corpus.pages if p.kind == REPEATED_PAGE]
    assert [p.code for p in corpus.pages].count(repeat.code) == 2
    (foreign,) = [p for p in corpus.pages if p.kind == FOREIGN_PAGE]
    assert foreign.session != SESSION.code and foreign.serial == corpus.foreign[0].serial
    (lacking,) = [s for s in corpus.sheets if s.missing_pages]
    (gone,) = lacking.missing_pages
    assert lacking.codes[gone - 1] not in {p.code for p in corpus.pages}
    order = [(p.serial, p.page) for p in corpus.pages if p.kind != FOREIGN_PAGE]
    assert order != sorted(order, key=lambda k: [s.serial for s in corpus.sheets].index(k[0]))

    path = tmp_path / "bundle.pdf"
    assert write_pdf(corpus.images(), path) == len(corpus.pages)
    document = pdfium.PdfDocument(path)
    try:
        assert len(document) == len(corpus.pages)
        truth = corpus.pages[foreign.position]
        page = document[foreign.position]
        width, _height = page.get_size()
        assert abs(width * truth.scan.dpi / 72 - corpus.image(foreign.position).pixels.shape[1]) < 1
        pixels = page.render(scale=truth.scan.dpi / 72, grayscale=True).to_numpy().copy()
    finally:
        document.close()
    assert read_page(pixels, dpi_hint=truth.scan.dpi).text == foreign.code


def test_files_and_a_multipage_tiff_are_written(source: SheetSource, tmp_path: Path) -> None:
    corpus = make_corpus(source, NUMBERS[:1], seed=14, degrade=Degrade(dpis=(150,)))
    scans = [corpus.image(i) for i in range(3)]
    for fmt in ("png", "jpeg", "tiff"):
        paths = write_files(scans, tmp_path / fmt, fmt)
        assert [p.name[:4] for p in paths] == ["0001", "0002", "0003"]
        with Image.open(paths[0]) as image:
            assert image.size == scans[0].pixels.shape[1::-1]
            assert round(image.info["dpi"][0]) == 150
    assert write_tiff(scans, tmp_path / "bundle.tif") == 3
    with Image.open(tmp_path / "bundle.tif") as tiff:
        assert tiff.n_frames == 3
        tiff.seek(2)
        grey = np.asarray(tiff.convert("L"))
    assert read_page(grey, dpi_hint=150).text == corpus.pages[2].code


def test_a_stored_sessions_issued_sheets_are_filled(db: Session, tmp_path: Path) -> None:
    exam, _keys = new_session(db, tmp_path, tiny_toml("SHEETS-FILL"), key_file=True)
    printed = issue_sheets(db, exam, "theory", 1, actor="office", workers=1)
    source = source_from_exam(exam, "theory")
    number = "1" * source.layout.exam_number_digits
    corpus = make_corpus(source, [number], seed=1, serials=printed.serials, degrade=NO_DEGRADE)
    assert corpus.sheets[0].serial == printed.serials[0]
    reading = read_page(corpus.image(0).pixels, dpi_hint=200)
    payload = decode_payload(reading.text, key=exam.sheet_key)
    assert (payload.serial, payload.page) == (printed.serials[0], 1)


def test_the_production_reader_reads_a_keyed_sessions_sheet(db: Session, tmp_path: Path) -> None:
    # The scan step's own reader checks the page code under the session's key in both its
    # steps: without the key, every page of a real (keyed) session failed its check value.
    exam, _keys = new_session(db, tmp_path, tiny_toml("SHEETS-OMR"), key_file=True)
    printed = issue_sheets(db, exam, "theory", 1, actor="office", workers=1)
    source = source_from_exam(exam, "theory")
    number = "2" * source.layout.exam_number_digits
    corpus = make_corpus(
        source, [number], seed=1, serials=printed.serials, mix=CLEAN_MIX, degrade=NO_DEGRADE
    )
    reader = OmrReader()
    scan = ScanPage("sheet.png", 1, corpus.image(0).pixels, 200)
    reading, payload = reader.identify(scan, key=exam.sheet_key)
    read = reader.read(reading, source.layout.pages[0], key=exam.sheet_key)
    assert payload == read.payload and read.payload.serial == printed.serials[0]
    assert read.exam_number is not None and read.exam_number.digits == number
