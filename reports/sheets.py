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

import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import segno

from reports.errors import ReportError
from reports.render import Job, merge, run_jobs
from reports.sheetdata import (
    BOTTOM,
    FILL_BLANK,
    LEFT,
    LINE_PITCH,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    RIGHT,
    Box,
    Circle,
    Header,
    OptionBubble,
    SheetHeading,
    SheetLayout,
    SheetPage,
    SheetSet,
)

SETS_PER_CHUNK = 10
ID_CELLS = 18  # a resident ID number's characters (GB 11643)
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
SEALED = "密封区：扫描后单独加密保存，评卷人看不到本区域"
FOOTER = "请在各题目的答题区域内作答，超出黑色矩形边框限定区域的答案无效"


@dataclass(frozen=True)
class Text:
    """Words set in a box of the page (mm), centred vertically in their line."""

    x: float
    y: float
    w: float
    h: float
    text: str
    style: str = ""
    align: str = "left"
    line: float | None = None  # the pitch of the lines of a stacked text (else ``h``)


@dataclass(frozen=True)
class DrawnPage:
    svg: str
    texts: tuple[Text, ...]


# --- drawing ------------------------------------------------------------------------------------


def _n(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _box_d(box: Box) -> str:
    return f"M{_n(box.x)} {_n(box.y)}h{_n(box.w)}v{_n(box.h)}h{_n(-box.w)}z"


def _circle_d(c: Circle) -> str:
    r = _n(c.r)
    return (
        f"M{_n(c.x - c.r)} {_n(c.y)}a{r} {r} 0 1 0 {_n(2 * c.r)} 0a{r} {r} 0 1 0 {_n(-2 * c.r)} 0z"
    )


def _rule_d(x1: float, x2: float, y: float) -> str:
    return f"M{_n(x1)} {_n(y)}H{_n(x2)}"


def _path(steps: Iterable[str], style: str) -> str:
    """Many shapes of one style as a single SVG path: a page is a handful of elements, which
    keeps WeasyPrint fast (it styles every element of an inline SVG like HTML)."""
    d = "".join(steps)
    return f'<path d="{d}" {style}/>' if d else ""


def qr_path(text: str, box: Box) -> str:
    """The QR code of ``text`` filling ``box`` (quiet zone included), as one SVG path.

    Drawn in module units, each run of dark modules in a row one stroke a module wide:
    a third of the numbers of filled rectangles, which WeasyPrint parses one by one."""
    code = segno.make(text, error="m", micro=False, boost_error=False)
    size = code.symbol_size(border=0)[0]
    module = box.w / (size + 2 * QUIET_ZONE)
    if module < MIN_MODULE_MM:
        raise ReportError(f"a page code of {len(text)} characters is too long for its QR box")
    steps: list[str] = []
    for row, bits in enumerate(code.matrix):
        col = 0
        while col < size:
            end = col
            while end < size and bits[end]:
                end += 1
            if end > col:
                steps.append(f"M{QUIET_ZONE + col} {QUIET_ZONE + row}.5h{end - col}")
            col = end + 1
    move = f"translate({_n(box.x)} {_n(box.y)}) scale({module:.6f})"
    return f'<path transform="{move}" d="{"".join(steps)}" stroke="#000" stroke-width="1"/>'


def _outlines(page: SheetPage) -> Iterator[str]:
    """The thin grey shapes to write or fill in: cells, small boxes, bubbles."""
    header = page.header
    if header is not None:
        ids = header.id_number
        cell = ids.w / ID_CELLS
        yield from (_box_d(Box(ids.x + i * cell, ids.y, cell, ids.h)) for i in range(ID_CELLS))
        yield from map(_box_d, (*header.exam_number_cells, header.absent, header.violation))
        yield from map(_circle_d, header.exam_number)
    yield from map(_circle_d, page.bubbles)


def _rules(page: SheetPage) -> Iterator[str]:
    """The light writing lines of the answer boxes, up from each box's bottom."""
    for answer in page.answers:
        box = answer.box
        if answer.kind == FILL_BLANK:
            yield _rule_d(box.x + 16, box.right - 3, box.bottom - 3)
        else:
            for k in range(1, answer.lines + 1):
                yield _rule_d(box.x + 3, box.right - 3, box.bottom - k * LINE_PITCH)


def _page_svg(page: SheetPage) -> str:
    """The page's fixed drawing, left open for each set's QR code and ``</svg>``."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(PAGE_WIDTH)}mm" '
        f'height="{_n(PAGE_HEIGHT)}mm" viewBox="0 0 {_n(PAGE_WIDTH)} {_n(PAGE_HEIGHT)}">',
        _path(map(_box_d, page.marks), 'fill="#000"'),
        _path(_outlines(page), 'fill="none" stroke="#555" stroke-width="0.2"'),
        _path(_rules(page), 'fill="none" stroke="#bbb" stroke-width="0.15"'),
        _path(
            (_box_d(a.box) for a in page.answers), 'fill="none" stroke="#000" stroke-width="0.35"'
        ),
    ]
    if page.header is not None:
        name = page.header.name
        parts.append(
            _path([_rule_d(name.x, name.right, name.bottom)], 'stroke="#000" stroke-width="0.2"')
        )
        dashed = 'fill="none" stroke="#000" stroke-width="0.3" stroke-dasharray="2 1"'
        parts.append(_path([_box_d(page.header.box)], dashed))
    return "".join(parts)


# --- words ----------------------------------------------------------------------------------------


def sheet_title(heading: SheetHeading) -> str:
    s = heading.session
    level = LEVELS.get(s.level, f"{s.level}级")
    return f"{s.occupation}（{level}）{heading.component.name} 答题卡"


def _top_texts(heading: SheetHeading, page: SheetPage, pages: int) -> Iterator[Text]:
    s = heading.session
    width = page.qr.x - 2 - LEFT
    top = page.qr.y
    yield Text(LEFT, top, width, 8, sheet_title(heading), "title")
    yield Text(LEFT, top + 9, width, 4.5, f"场次 {s.code}　鉴定日期 {s.date}　鉴定站 {s.station}")
    if page.header is None:
        yield Text(LEFT, top + 15, width, 4, f"（续）第 {page.number} 页", "note")
    yield Text(LEFT, BOTTOM + 2.5, 130, 4, FOOTER, "note")
    count = f"第 {page.number} 页 / 共 {pages} 页"
    yield Text(RIGHT - 40, BOTTOM + 2.5, 40, 4, count, "note", "right")


def _header_texts(header: Header) -> Iterator[Text]:
    left = header.box.x + 3
    for box, word in ((header.name, "姓名"), (header.id_number, "身份证号")):
        yield Text(left, box.y, box.x - left, box.h, word, "label")
    cells = header.exam_number_cells
    grid_right = cells[-1].right
    width = max(grid_right - cells[0].x, 30.0)
    grid_label = "准考证号（用2B铅笔填涂）"
    yield Text(grid_right - width, header.box.y + 3, width, 5, grid_label, "label", "center")
    for b in header.exam_number:
        yield Text(b.x - b.r, b.y - b.r, 2 * b.r, 2 * b.r, str(b.digit), "in", "center")
    notes_width = header.id_number.right - left
    for i, line in enumerate(NOTES):
        yield Text(left, header.id_number.bottom + 3 + i * 3.8, notes_width, 3.8, line, "note")
    for box, word in ((header.absent, "缺考"), (header.violation, "违纪")):
        yield Text(box.x - 10, box.y - 1, 9.5, box.h + 2, word, "label", "right")
    after = header.violation.right + 2
    yield Text(after, header.absent.y - 1, 40, header.absent.h + 2, "（由监考员填涂）", "note")
    yield Text(left, header.absent.bottom + 4, notes_width, 4, SEALED, "note")


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


def _stack(run: Sequence[Text]) -> Text:
    first = run[0]
    if len(run) == 1:
        return first
    pitch = run[1].y - first.y
    top = first.y + first.h / 2 - pitch / 2  # each line's centre where each text's was
    lines = "\n".join(t.text for t in run)
    return Text(first.x, top, first.w, pitch * len(run), lines, first.style, first.align, pitch)


def stacked(texts: Iterable[Text]) -> list[Text]:
    """The same words with each column of like texts at an even pitch (a column of the
    exam-number grid, the option letters of a block) set as one text of many lines: page 1
    has a few dozen elements instead of hundreds, which WeasyPrint lays out three times
    faster, and looks the same."""
    columns: dict[tuple[str, str, float, float, float], list[Text]] = {}
    for text in texts:
        columns.setdefault((text.style, text.align, text.x, text.w, text.h), []).append(text)
    out: list[Text] = []
    for column in columns.values():
        column.sort(key=lambda t: t.y)
        run = [column[0]]
        for text in column[1:]:
            pitch = text.y - run[-1].y
            even = len(run) == 1 or math.isclose(pitch, run[1].y - run[0].y)
            if even and pitch >= text.h:
                run.append(text)
            else:
                out.append(_stack(run))
                run = [text]
        out.append(_stack(run))
    return out


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
