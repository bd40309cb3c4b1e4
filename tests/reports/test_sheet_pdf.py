"""Printed answer sheets: A4 pages, the CJK font embedded, every QR code reading back to its
sheet and page, and the corner marks where the layout says (measured in the raster)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import numpy as np
import pypdfium2 as pdfium
import pytest
import zxingcpp
from pypdf import PdfReader

from marking.demo.synthetic import session_toml
from marking.domain.definition import parse_session_definition
from marking.errors import InputError, NotFound
from marking.paper.codes import decode_payload
from marking.paper.layout import layout_digest
from marking.paper.printing import PrintedSheets, print_sheets
from reports.sheetdata import Box
from reports.sheets import Text, stacked

SESSION = parse_session_definition(session_toml("2026-GD-0412", questions_per_component=8))
SETS = 3
MM = 25.4  # per inch
CJK = re.compile(r"[\u3400-\u9fff]")


@pytest.fixture(scope="module")
def printed() -> PrintedSheets:
    return print_sheets(SESSION, "theory", SETS, workers=1)


def rasters(pdf: bytes, dpi: int) -> Iterator[np.ndarray]:
    """Each page as grey pixels, 0 black to 255 white."""
    document = pdfium.PdfDocument(pdf)
    try:
        for index in range(len(document)):
            page = document[index]
            bitmap = page.render(scale=dpi / 72, grayscale=True)
            yield bitmap.to_numpy().copy()
            bitmap.close()
            page.close()
    finally:
        document.close()


def test_one_a4_page_per_layout_page_per_set(printed: PrintedSheets) -> None:
    reader = PdfReader(io.BytesIO(printed.pdf))
    assert len(printed.layout.pages) >= 2  # answer boxes flowed past page 1
    assert len(reader.pages) == SETS * len(printed.layout.pages)
    for page in reader.pages:
        box = page.mediabox
        assert float(box.width) == pytest.approx(595.28, abs=0.01)
        assert float(box.height) == pytest.approx(841.89, abs=0.01)
    first = reader.pages[0].extract_text()
    for words in ("姓名", "身份证号", "准考证号", "缺考", "违纪", "电工", "理论知识", "单项选择题"):
        assert words in first
    everything = "".join(p.extract_text() for p in reader.pages[: len(printed.layout.pages)])
    assert "第5题（本题满分 10 分）" in everything
    assert "答题区域内作答" in everything


def test_the_chinese_words_are_in_the_embedded_font(printed: PrintedSheets) -> None:
    reader = PdfReader(io.BytesIO(printed.pdf))
    needed = set(CJK.findall(reader.pages[0].extract_text()))
    covered: set[str] = set()
    names: set[str] = set()
    for font in reader.pages[0]["/Resources"]["/Font"].values():
        font = font.get_object()
        for descendant in font.get("/DescendantFonts", []):
            descriptor = descendant.get_object()["/FontDescriptor"].get_object()
            assert any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            names.add(str(font["/BaseFont"]).split("+", 1)[-1])
            cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
            for hexcode in re.findall(r"<[0-9A-Fa-f]+>\s*<([0-9A-Fa-f]{4,})>", cmap):
                covered.add(bytes.fromhex(hexcode).decode("utf-16-be"))
    assert len(needed) > 30 and needed <= covered
    assert names and all(n.startswith(("BlindmarkCJK", "BlindmarkMono")) for n in names)


def test_every_page_code_reads_back_to_its_sheet_and_page(printed: PrintedSheets) -> None:
    per_set = len(printed.layout.pages)
    digest = layout_digest(printed.layout)
    dpi = 150
    for index, pixels in enumerate(rasters(printed.pdf, dpi)):
        (found,) = zxingcpp.read_barcodes(pixels, formats=zxingcpp.BarcodeFormat.QRCode)
        payload = decode_payload(found.text)
        assert payload.session == SESSION.code and payload.component == "theory"
        assert payload.serial == printed.serials[index // per_set]
        assert payload.page == index % per_set + 1
        assert payload.layout == digest
        qr = printed.layout.pages[payload.page - 1].qr
        position = found.position
        for corner in (position.top_left, position.top_right, position.bottom_left):
            x, y = corner.x * MM / dpi, corner.y * MM / dpi
            assert qr.x <= x <= qr.right and qr.y <= y <= qr.bottom


def dark_extent(pixels: np.ndarray, box: Box, dpi: int, margin: float = 3.0) -> Box:
    """The bounding box (mm) of the dark pixels around ``box``, ``margin`` mm each side."""
    per_mm = dpi / MM
    top, left = round((box.y - margin) * per_mm), round((box.x - margin) * per_mm)
    bottom = round((box.bottom + margin) * per_mm)
    right = round((box.right + margin) * per_mm)
    rows, cols = np.nonzero(pixels[top:bottom, left:right] < 128)
    assert rows.size, f"no mark near {box}"
    x0, y0 = (left + cols.min()) / per_mm, (top + rows.min()) / per_mm
    x1, y1 = (left + cols.max() + 1) / per_mm, (top + rows.max() + 1) / per_mm
    return Box(x0, y0, x1 - x0, y1 - y0)


def test_corner_marks_are_printed_where_the_layout_says(printed: PrintedSheets) -> None:
    dpi = 100
    per_set = len(printed.layout.pages)
    for index, pixels in enumerate(rasters(printed.pdf, dpi)):
        page = printed.layout.pages[index % per_set]
        height, width = pixels.shape
        assert abs(height - 297 * dpi / MM) < 1 and abs(width - 210 * dpi / MM) < 1
        for mark in page.marks:
            seen = dark_extent(pixels, mark, dpi)
            for got, want in zip(
                (seen.x, seen.y, seen.right, seen.bottom),
                (mark.x, mark.y, mark.right, mark.bottom),
                strict=True,
            ):
                assert got == pytest.approx(want, abs=1.0), (index, mark, seen)
            per_mm = dpi / MM
            inner = pixels[
                round((mark.y + 1) * per_mm) : round((mark.bottom - 1) * per_mm),
                round((mark.x + 1) * per_mm) : round((mark.right - 1) * per_mm),
            ]
            assert (inner < 128).mean() > 0.95  # filled, not an outline


def test_serials_of_one_call_are_distinct(printed: PrintedSheets) -> None:
    assert len(set(printed.serials)) == SETS


def test_what_cannot_be_printed_is_refused_before_rendering() -> None:
    with pytest.raises(NotFound, match="no component 'interview'"):
        print_sheets(SESSION, "interview", 1)
    with pytest.raises(InputError, match="1 to 2000"):
        print_sheets(SESSION, "theory", 0)


def test_columns_of_labels_are_set_as_one_text_with_each_line_where_it_was() -> None:
    digits = [Text(50, 60 + 5 * d, 3.2, 3.2, str(d), "in", "center") for d in range(10)]
    other_column = [Text(55.5, 60 + 5 * d, 3.2, 3.2, str(d), "in", "center") for d in range(3)]
    uneven = [Text(80, 60, 3.2, 3.2, "A", "in"), Text(80, 65, 3.2, 3.2, "B", "in")]
    uneven.append(Text(80, 75, 3.2, 3.2, "C", "in"))  # a band further down: a new stack
    out = stacked([*digits, *other_column, *uneven])
    assert len(out) == 4
    column = next(t for t in out if t.x == 50)
    assert column.text == "\n".join("0123456789") and column.line == 5
    for d in range(10):  # each line's centre is where its own text's centre was
        assert column.y + (d + 0.5) * column.line == pytest.approx(digits[d].y + 1.6)
    assert sorted(t.text for t in out if t.x == 80) == ["A\nB", "C"]
