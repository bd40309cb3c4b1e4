"""PDFs from plain data: read back with pypdf (names, scores, pages, footers, fonts) and
rasterized with pdftoppm. No database here: reports take data."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader

from marking.demo.register import sample_register
from reports import fonts, render
from reports.errors import ReportError
from reports.fetcher import ReportFetcher
from reports.produce import infer_format, produce

REG = sample_register(40, seed=5)
CJK = re.compile(r"[\u3400-\u9fff]")


def pages_text(pdf: bytes) -> list[str]:
    return [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def register_pdf() -> bytes:
    # Small pages and chunks, two workers: the parallel path, merged, with global numbers.
    return render.render_register(
        REG, paging=render.Paging(workers=2, rows_per_page=12, pages_per_chunk=2)
    )


def test_register_lists_every_candidate_in_order_with_scores(register_pdf: bytes) -> None:
    text = "\n".join(pages_text(register_pdf))
    rows = sorted(REG.rows, key=lambda r: r.exam_no)
    positions = [text.index(r.exam_no) for r in rows]
    assert positions == sorted(positions)
    for r in rows:
        line = next(line for line in text.splitlines() if r.exam_no in line)
        assert r.name in line and r.id_number in line
        for score in r.scores:
            assert (score or "-") in line
        assert {"pass": "合格", "fail": "不合格", "void": "成绩无效", "absent": "缺考"}[
            r.outcome
        ] in line


def test_register_pages_are_numbered_globally_and_footed_with_the_digests(
    register_pdf: bytes,
) -> None:
    texts = pages_text(register_pdf)
    total = len(texts)
    # 40 rows at 12 a page: 4 pages of rows, then the attributions page.
    assert total == 5
    for x, text in enumerate(texts, start=1):
        assert f"第 {x} 页，共 {total} 页" in text
        assert REG.publication.results_sha256 in text
        assert REG.publication.ledger_head in text
    last = texts[-1]
    assert "评分与登统签署" in last
    for group in REG.groups:
        for who in group.markers:
            assert who in last
    assert REG.publication.published_by in last and REG.publication.approved_by in last


def test_the_pdf_embeds_a_font_covering_the_chinese_text(register_pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(register_pdf))
    needed = set(CJK.findall("".join(p.extract_text() for p in reader.pages)))
    assert len(needed) > 50
    covered: set[str] = set()
    names: set[str] = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for descendant in font.get("/DescendantFonts", []):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                if not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
                    continue
                names.add(str(font["/BaseFont"]).split("+", 1)[-1])
                cmap = font["/ToUnicode"].get_object().get_data().decode("latin-1")
                for hexcode in re.findall(r"<[0-9A-Fa-f]+>\s*<([0-9A-Fa-f]{4,})>", cmap):
                    covered.add(bytes.fromhex(hexcode).decode("utf-16-be"))
    assert needed <= covered, f"not in an embedded font: {sorted(needed - covered)[:10]}"
    # Ours, from the report's @font-face, not whatever the machine happens to have.
    assert names and all(n.startswith(("BlindmarkCJK", "BlindmarkMono")) for n in names), names


@pytest.mark.skipif(
    shutil.which("pdftoppm") is None and not os.environ.get("CI"),
    reason="pdftoppm missing: `make fonts` installs poppler-utils (under CI this fails instead)",
)
def test_a_rasterized_page_is_not_blank(register_pdf: bytes, tmp_path: Path) -> None:
    source = tmp_path / "register.pdf"
    source.write_bytes(register_pdf)
    subprocess.run(
        ["pdftoppm", "-f", "1", "-l", "1", "-r", "40", "-gray", str(source), str(tmp_path / "p")],
        check=True,
    )
    (image,) = tmp_path.glob("p*.pgm")
    data = image.read_bytes()
    # PGM (P5): a header of three lines, then one byte a pixel.
    header_end = 0
    for _ in range(4):
        header_end = data.index(b"\n", header_end) + 1
    pixels = data[header_end:]
    dark = sum(1 for b in pixels if b < 128)
    assert dark > len(pixels) * 0.01, "page 1 is blank"


def test_english_register() -> None:
    pdf = render.render_register(
        sample_register(5, seed=2), lang="en", paging=render.Paging(workers=1)
    )
    texts = pages_text(pdf)
    assert "Score register" in texts[0] and "Exam no." in texts[0]
    assert f"page 1 of {len(texts)}" in texts[0]


def test_notices_one_page_per_chosen_candidate() -> None:
    chosen = [REG.rows[7].exam_no, REG.rows[2].exam_no]
    texts = pages_text(render.render_notices(REG, exam_nos=chosen, workers=1))
    assert len(texts) == 2
    for text, exam_no in zip(texts, chosen, strict=True):
        row = next(r for r in REG.rows if r.exam_no == exam_no)
        assert "成绩通知单" in text and row.name in text and exam_no in text
        assert all((s or "—") in text for s in row.scores)
        assert REG.publication.results_sha256 in text
    with pytest.raises(ReportError, match="no published result for exam number"):
        render.render_notices(REG, exam_nos=["000000"], workers=1)


def test_all_notices_in_parallel_chunks() -> None:
    texts = pages_text(render.render_notices(REG, workers=2, per_chunk=15))
    assert len(texts) == len(REG.rows)
    ordered = sorted(REG.rows, key=lambda r: r.exam_no)
    assert all(r.exam_no in t for r, t in zip(ordered, texts, strict=True))


def test_pass_list_has_only_those_who_passed() -> None:
    text = "\n".join(pages_text(render.render_passlist(REG, paging=render.Paging(workers=1))))
    assert "合格人员名册" in text
    for r in REG.rows:
        assert (r.exam_no in text) == (r.outcome == "pass")


def test_fetcher_allows_assets_and_fonts_only(tmp_path: Path) -> None:
    font = tmp_path / "font.otf"
    font.write_bytes(b"")
    fetcher = ReportFetcher(render.ASSETS, [font])
    assert fetcher.allows((render.ASSETS / "report.css").as_uri())
    assert fetcher.allows(font.as_uri())
    for url in (
        "file:///etc/passwd",
        (render.ASSETS / ".." / "fonts.py").as_uri(),
        "https://example.org/a.css",
        "http://127.0.0.1/x.png",
        "data:text/css,body{}",
        "file://otherhost/etc/passwd",
    ):
        assert not fetcher.allows(url), url


def test_a_template_reaching_outside_is_refused() -> None:
    html = '<html><body><img src="file:///etc/hostname"></body></html>'
    with pytest.raises(ReportError, match=r"report resource refused: file:///etc/hostname"):
        render.html_to_pdf(html)
    with pytest.raises(ReportError, match=r"refused: https://example\.org"):
        render.html_to_pdf('<link rel="stylesheet" href="https://example.org/x.css">')


def test_formats_are_inferred_and_checked() -> None:
    assert infer_format("register", Path("a.XLSX"), None) == "xlsx"
    assert infer_format("stats", Path("a.pdf"), "csv") == "csv"
    with pytest.raises(ReportError, match="PDF only"):
        infer_format("notices", Path("a.csv"), None)
    with pytest.raises(ReportError, match="cannot tell the format"):
        infer_format("register", Path("a.txt"), None)
    with pytest.raises(ReportError, match="notices only"):
        produce("register", REG, exam_nos=["1"])


def test_register_csv_has_a_bom_and_every_row() -> None:
    content = produce("register", REG, fmt="csv")
    assert content.startswith(b"\xef\xbb\xbf")
    text = content.decode("utf-8-sig")
    assert text.splitlines()[1].startswith("准考证号,姓名,身份证号")
    for r in REG.rows:
        assert r.exam_no in text and r.name in text
    assert REG.publication.results_sha256 in text


def test_register_xlsx_reads_back() -> None:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(produce("register", REG, fmt="xlsx", lang="en")))
    sheet = book["Score register"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Exam no.", "Name", "ID number")
    assert len(rows) == 1 + len(REG.rows)


def test_missing_fonts_say_how_to_install_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLINDMARK_CJK_FONT_DIR", str(tmp_path))
    fonts.cjk_fonts.cache_clear()
    try:
        with pytest.raises(ReportError, match=r"no CJK font for the reports: run `make fonts`"):
            render.render_register(REG, paging=render.Paging(workers=1))
    finally:
        fonts.cjk_fonts.cache_clear()
