"""Answer sheets as PDF: sets of A4 pages drawn exactly where their layout says.

Each page is one inline SVG in millimetres (corner marks, the QR code as vector paths from
segno, bubbles, boxes and their ruled lines) with its words set over it as absolutely
placed text in the embedded CJK font. Nothing flows: a word never moves a box. The words
are Chinese only: a sheet is filled in by candidates at a Chinese station.

The geometry comes from ``reports.sheetdata`` (built by ``marking.paper.layout``); the
pages of every set are the same but for their QR codes and the serial printed under them,
so each page is drawn once and the sets are rendered in chunks, in parallel, by the same
machinery as the other long reports (``reports.render``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import segno

from reports.errors import ReportError
from reports.render import Job, merge, run_jobs
from reports.sheetdata import (
    FILL_BLANK,
    LINE_PITCH,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    AnswerBox,
    Box,
    Header,
    OptionBubble,
    SheetHeading,
    SheetLayout,
    SheetPage,
    SheetSet,
)

SETS_PER_CHUNK = 10
QUIET_ZONE = 4  # modules of white around a QR code, as the standard asks
MIN_MODULE_MM = 0.4  # finer than this no 150 dpi scan reads reliably

LEVELS = {1: "一级/高级技师", 2: "二级/技师", 3: "三级/高级工", 4: "四级/中级工", 5: "五级/初级工"}
OPTION_SHOWN = {"T": "√", "F": "×"}
NOTES = (
    "注意事项：",
    "1. 填写姓名、身份证号，并用2B铅笔填涂准考证号。",
    "2. 选择题用2B铅笔填涂；其余各题用黑色签字笔作答。",
    "3. 请在各题的答题区域内作答，超出区域的答案无效。",
    "4. 保持答题卡清洁，不要折叠、弄破。",
)
FOOTER = "请在各题目的答题区域内作答，超出黑色矩形边框限定区域的答案无效"


@dataclass(frozen=True)
class Text:
    """Words set in a box of the page (mm), on one line, centred vertically."""

    x: float
    y: float
    w: float
    h: float
    text: str
    style: str = ""
    align: str = "left"


@dataclass(frozen=True)
class DrawnPage:
    svg: str
    texts: tuple[Text, ...]


# --- drawing ------------------------------------------------------------------------------------


def _n(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _rect(box: Box, style: str) -> str:
    return (
        f'<rect x="{_n(box.x)}" y="{_n(box.y)}" width="{_n(box.w)}" height="{_n(box.h)}" {style}/>'
    )


def _line(x1: float, y1: float, x2: float, y2: float) -> str:
    return f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}"/>'


def qr_path(text: str, box: Box) -> str:
    """The QR code of ``text`` as one SVG path filling ``box`` (quiet zone included)."""
    code = segno.make(text, error="m", micro=False, boost_error=False)
    size = code.symbol_size(border=0)[0]
    module = box.w / (size + 2 * QUIET_ZONE)
    if module < MIN_MODULE_MM:
        raise ReportError(f"a page code of {len(text)} characters is too long for its QR box")
    steps: list[str] = []
    for row, bits in enumerate(code.matrix):
        col = 0
        while col < size:
            if not bits[col]:
                col += 1
                continue
            end = col
            while end < size and bits[end]:
                end += 1
            x = box.x + (QUIET_ZONE + col) * module
            y = box.y + (QUIET_ZONE + row) * module
            w = (end - col) * module
            steps.append(f"M{_n(x)} {_n(y)}h{_n(w)}v{_n(module)}h{_n(-w)}z")
            col = end
    return f'<path d="{"".join(steps)}" fill="#000"/>'


def _header_svg(header: Header) -> Iterator[str]:
    yield _rect(header.box, 'fill="none" stroke="#000" stroke-width="0.3" stroke-dasharray="2 1"')
    name = header.name
    yield '<g stroke="#000" stroke-width="0.2">'
    yield _line(name.x, name.bottom, name.right, name.bottom)
    yield "</g>"
    cell = header.id_number.w / 18
    yield '<g fill="none" stroke="#555" stroke-width="0.2">'
    for i in range(18):
        yield _rect(
            Box(header.id_number.x + i * cell, header.id_number.y, cell, header.id_number.h), ""
        )
    for box in (*header.exam_number_cells, header.absent, header.violation):
        yield _rect(box, "")
    for b in header.exam_number:
        yield f'<circle cx="{_n(b.x)}" cy="{_n(b.y)}" r="{_n(b.r)}"/>'
    yield "</g>"


def _answer_svg(answer: AnswerBox) -> Iterator[str]:
    box = answer.box
    yield _rect(box, 'fill="none" stroke="#000" stroke-width="0.35"')
    yield '<g stroke="#bbb" stroke-width="0.15">'
    if answer.kind == FILL_BLANK:
        yield _line(box.x + 16, box.bottom - 3, box.right - 3, box.bottom - 3)
    else:
        for k in range(1, answer.lines + 1):  # the writing lines, up from the bottom
            y = box.bottom - k * LINE_PITCH
            yield _line(box.x + 3, y, box.right - 3, y)
    yield "</g>"


def _page_svg(page: SheetPage) -> str:
    """The page's fixed drawing, left open for each set's QR code and ``</svg>``."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(PAGE_WIDTH)}mm" '
        f'height="{_n(PAGE_HEIGHT)}mm" viewBox="0 0 {_n(PAGE_WIDTH)} {_n(PAGE_HEIGHT)}">',
        *(_rect(mark, 'fill="#000"') for mark in page.marks),
    ]
    if page.header is not None:
        parts += _header_svg(page.header)
    parts.append('<g fill="none" stroke="#555" stroke-width="0.2">')
    parts += (f'<circle cx="{_n(b.x)}" cy="{_n(b.y)}" r="{_n(b.r)}"/>' for b in page.bubbles)
    parts.append("</g>")
    for answer in page.answers:
        parts += _answer_svg(answer)
    return "".join(parts)


# --- words ----------------------------------------------------------------------------------------


def sheet_title(heading: SheetHeading) -> str:
    s = heading.session
    level = LEVELS.get(s.level, f"{s.level}级")
    return f"{s.occupation}（{level}）{heading.component.name} 答题卡"


def _top_texts(heading: SheetHeading, page: SheetPage, pages: int) -> Iterator[Text]:
    s = heading.session
    right = page.qr.x - 2
    yield Text(20, 20, right - 20, 8, sheet_title(heading), "title")
    yield Text(20, 29, right - 20, 4.5, f"场次 {s.code}　鉴定日期 {s.date}　鉴定站 {s.station}")
    if page.header is None:
        yield Text(20, 35, right - 20, 4, f"（续）第 {page.number} 页", "note")
    yield Text(20, 279.5, 130, 4, FOOTER, "note")
    yield Text(150, 279.5, 40, 4, f"第 {page.number} 页 / 共 {pages} 页", "note", "right")


def _header_texts(header: Header) -> Iterator[Text]:
    yield Text(23, header.name.y, header.name.x - 23, header.name.h, "姓名", "label")
    yield Text(
        23, header.id_number.y, header.id_number.x - 23, header.id_number.h, "身份证号", "label"
    )
    cells = header.exam_number_cells
    grid_right = cells[-1].right
    width = max(grid_right - cells[0].x, 30.0)
    yield Text(
        grid_right - width,
        header.box.y + 3,
        width,
        5,
        "准考证号（用2B铅笔填涂）",
        "label",
        "center",
    )
    for b in header.exam_number:
        yield Text(b.x - b.r, b.y - b.r, 2 * b.r, 2 * b.r, str(b.digit), "in", "center")
    for i, line in enumerate(NOTES):
        yield Text(23, header.id_number.bottom + 3 + i * 3.8, 85, 3.8, line, "note")
    for box, word in ((header.absent, "缺考"), (header.violation, "违纪")):
        yield Text(box.x - 10, box.y - 1, 9.5, box.h + 2, word, "label", "right")
    after = header.violation.right + 2
    yield Text(after, header.absent.y - 1, 40, header.absent.h + 2, "（由监考员填涂）", "note")
    yield Text(
        23,
        header.absent.bottom + 4,
        85,
        4,
        "密封区：扫描后单独加密保存，评卷人看不到本区域",
        "note",
    )


def _page_texts(heading: SheetHeading, page: SheetPage, pages: int) -> tuple[Text, ...]:
    texts = list(_top_texts(heading, page, pages))
    if page.header is not None:
        texts += _header_texts(page.header)
    texts += (Text(x.box.x, x.box.y, x.box.w, x.box.h, x.title, "section") for x in page.sections)
    for b in page.bubbles:
        shown = OPTION_SHOWN.get(b.option, b.option)
        texts.append(Text(b.x - b.r, b.y - b.r, 2 * b.r, 2 * b.r, shown, "in", "center"))
    firsts: dict[str, OptionBubble] = {}
    for b in page.bubbles:
        firsts.setdefault(b.question, b)
    for b in firsts.values():
        texts.append(Text(b.x - b.r - 7.2, b.y - b.r, 6, 2 * b.r, b.question, "row", "right"))
    for a in page.answers:
        box = a.box
        if a.kind == FILL_BLANK:
            texts.append(Text(box.x + 1.5, box.y, 14, box.h, f"第{a.question}题", "label"))
        else:
            top = heading.maxima.get(a.question)
            caption = f"第{a.question}题" + (f"（本题满分 {top} 分）" if top else "")
            texts.append(Text(box.x + 2, box.y + 1, box.w - 4, 5, caption, "label"))
    return tuple(texts)


# --- the document -------------------------------------------------------------------------------


def _chunks(sets: Sequence[SheetSet], size: int) -> Iterator[Sequence[SheetSet]]:
    for start in range(0, len(sets), size):
        yield sets[start : start + size]


def render_sheets(
    layout: SheetLayout,
    heading: SheetHeading,
    sets: Sequence[SheetSet],
    *,
    workers: int | None = None,
    sets_per_chunk: int = SETS_PER_CHUNK,
) -> bytes:
    """One PDF of every set's pages in order, A4, the CJK font embedded.

    Raises ReportError when there is no set, a set's codes do not match the layout's pages,
    a code is too long for its QR box, or the pages do not come out as planned.
    """
    if not sets:
        raise ReportError("no answer sheets asked for")
    pages = len(layout.pages)
    for sheet in sets:
        if len(sheet.codes) != pages:
            raise ReportError(
                f"sheet {sheet.serial} has {len(sheet.codes)} codes for {pages} pages"
            )
    drawn = [DrawnPage(_page_svg(page), _page_texts(heading, page, pages)) for page in layout.pages]
    title = sheet_title(heading)
    jobs = [
        Job(
            "answer_sheets.html",
            "zh",
            {
                "title": title,
                "pages": list(_set_pages(drawn, layout, chunk)),
                "footer": None,
                "first_page": None,
            },
            len(chunk) * pages,
        )
        for chunk in _chunks(sets, sets_per_chunk)
    ]
    return merge(run_jobs(jobs, workers), title=f"{title} {heading.session.code}")


def _set_pages(
    drawn: Sequence[DrawnPage], layout: SheetLayout, sets: Sequence[SheetSet]
) -> Iterator[dict[str, Any]]:
    for sheet in sets:
        for page, fixed, code in zip(layout.pages, drawn, sheet.codes, strict=True):
            qr = page.qr
            serial = Text(
                qr.x, qr.bottom + 0.3, qr.w, 3.5, f"No. {sheet.serial}", "serial", "center"
            )
            yield {"svg": fixed.svg + qr_path(code, qr) + "</svg>", "texts": (*fixed.texts, serial)}
