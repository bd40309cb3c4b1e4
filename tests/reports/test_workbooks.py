"""The register and statistics workbooks work in Excel (issue 14, item 9): numbers are number
cells formatted by what they mean, dates are dates in the session's time zone, the header
row is frozen and columns fit their Chinese headings. No database: reports take data."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import re
import zipfile
from decimal import Decimal

from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet

from marking.demo.register import sample_register
from reports.data import ComponentInfo, QuestionMarks, StatsInput
from reports.produce import produce
from reports.workbook import display_width, mark_format

# Published at 17:30 UTC on 30 June: 01:30 on 1 July in Shanghai.
REG = sample_register(30, seed=7)
REG = dataclasses.replace(
    REG,
    publication=dataclasses.replace(REG.publication, published_at="2026-07-01T01:30:00+08:00"),
)


def _column(sheet: Worksheet, header: str) -> list[object]:
    heads = [c.value for c in sheet[1]]
    return [row[0] for row in sheet.iter_rows(min_row=2, min_col=heads.index(header) + 1)]


def test_register_scores_are_numbers_that_sum_to_the_published_total() -> None:
    book = load_workbook(io.BytesIO(produce("register", REG, fmt="xlsx")))
    sheet = book["成绩册"]
    assert sheet.freeze_panes == "A2"
    cells = _column(sheet, "理论知识")
    present = [c for c in cells if c.value is not None]  # type: ignore[attr-defined]
    assert present and all(c.data_type == "n" for c in present)  # type: ignore[attr-defined]
    assert {c.number_format for c in present} == {"0.0"}  # type: ignore[attr-defined]
    total = sum(Decimal(r.scores[0]) for r in REG.rows if r.scores[0] is not None)
    summed = sum(c.value for c in present)  # type: ignore[attr-defined]
    assert Decimal(f"{summed:.1f}") == total
    # Written as the published text (73.6), not openpyxl's 16 digits (73.59999999999999).
    xml = zipfile.ZipFile(io.BytesIO(produce("register", REG, fmt="xlsx")))
    written = re.findall(
        r'<c r="E\d+"[^>]*><v>([^<]*)</v>', xml.read("xl/worksheets/sheet1.xml").decode()
    )
    published = [r.scores[0] for r in sorted(REG.rows, key=lambda r: r.exam_no)]
    assert written == [s for s in published if s is not None]
    # Exam and ID numbers stay text: Excel would show 2.6E+11 and drop an ID's last digits.
    assert {c.data_type for c in _column(sheet, "准考证号")} == {"s"}  # type: ignore[attr-defined]
    assert {c.data_type for c in _column(sheet, "身份证号")} == {"s"}  # type: ignore[attr-defined]


def test_register_columns_fit_their_chinese_headings_and_longest_values() -> None:
    sheet = load_workbook(io.BytesIO(produce("register", REG, fmt="xlsx")))["成绩册"]
    for head in sheet[1]:
        width = sheet.column_dimensions[head.column_letter].width
        longest = max(
            display_width(str(c.value or ""))
            for c in sheet[head.column_letter]
            if c.data_type == "s"
        )
        assert longest <= width <= 60, (head.value, width)
    # 身份证号: 18 digits; 姓名: a heading of two Chinese characters counts as four.
    assert sheet.column_dimensions["C"].width >= 18
    assert sheet.column_dimensions["B"].width >= display_width("姓名") == 4


def test_the_publication_time_is_a_date_cell_in_the_session_time_zone() -> None:
    sheet = load_workbook(io.BytesIO(produce("register", REG, fmt="xlsx")))["评分与登统签署"]
    assert [c.value for c in sheet[1]] == ["项目", "内容"] and sheet.freeze_panes == "A2"
    values = {row[0].value: row[1] for row in sheet.iter_rows(min_row=2)}
    published = values["发布时间"]
    assert published.is_date and published.value == dt.datetime(2026, 7, 1, 1, 30)
    assert published.number_format == "yyyy-mm-dd hh:mm"
    assert values["鉴定日期"].is_date and values["鉴定日期"].value == dt.datetime(2026, 12, 5)
    csv = produce("register", REG, fmt="csv").decode("utf-8-sig")
    assert "发布时间,2026-07-01 01:30:00" in csv


def _question(number: str, step: int, marks: str, finals: tuple[int, ...]) -> QuestionMarks:
    """Question ``number`` of the practical group, max 7.5 or 10; ``marks`` as
    "response:examiner:kind:milli" words, the finals per response."""
    rows = [word.split(":") for word in marks.split()]
    return QuestionMarks(
        component="skills",
        number=number,
        group="prac",
        max_milli=7500 if step == 500 else 10000,
        step_milli=step,
        response=tuple(int(r[0]) for r in rows),
        examiner=tuple(r[1] for r in rows),
        kind=tuple(r[2] for r in rows),
        value=tuple(int(r[3]) for r in rows),
        final=finals,
        rule=("mean",) * len(finals),
    )


def _stats() -> StatsInput:
    # Question 1 (step 0.5): e1 marks half a point below e2 on four responses.
    half = _question(
        "1",
        500,
        "0:e1:double:3000 0:e2:double:3500 1:e1:double:5000 1:e2:double:5500 "
        "2:e1:double:6500 2:e2:double:7000 3:e1:double:1000 3:e2:double:1500",
        (3500, 5500, 7000, 1500),
    )
    # Question 2 (step 1): response 1 needs a third mark (2 and 6, then e3 gives 5).
    whole = _question(
        "2",
        1000,
        "0:e1:double:4000 0:e2:double:4000 1:e1:double:2000 1:e2:double:6000 1:e3:third:5000 "
        "2:e1:double:8000 2:e2:double:9000 3:e1:double:5000 3:e2:double:5000",
        (4000, 5500, 9000, 5000),
    )
    return StatsInput(
        session=REG.session,
        state="marking",
        components=(ComponentInfo("skills", "操作技能"),),
        groups=(("prac", "实操题"),),
        questions=(half, whole),
    )


def test_statistics_are_numbers_formatted_by_their_meaning() -> None:
    book = load_workbook(io.BytesIO(produce("stats", _stats(), fmt="xlsx")))
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2", sheet.title
    questions = book["试题分析"]
    rows = list(questions.iter_rows(min_row=2))
    heads = [c.value for c in questions[1]]
    top, third = heads.index("满分"), heads.index("三评率")
    # A maximum is shown to its question's step; a rate as a percentage.
    assert [(r[top].value, r[top].number_format) for r in rows] == [(7.5, "0.0"), (10, "0")]
    assert rows[0][third].data_type == "n" and rows[0][third].number_format == "0.0%"
    assert rows[1][third].value == 0.25  # one third mark in four responses: shows 25.0%
    examiners = book.worksheets[-1]
    heads = [c.value for c in examiners[1]]
    marks, severity = heads.index("评分次数"), heads.index("宽严度（与最终分之差）")
    by_name = {r[0].value: r for r in examiners.iter_rows(min_row=2)}
    assert by_name["e1"][marks].value == 8 and by_name["e3"][marks].value == 1
    assert by_name["e1"][marks].number_format == "0"
    assert by_name["e1"][severity].value < 0 and by_name["e1"][severity].data_type == "n"
    assert by_name["e1"][severity].number_format.startswith("+0.00")
    # The CSV keeps each measure's exact text.
    assert ",0.250," in produce("stats", _stats(), fmt="csv").decode("utf-8-sig")


def test_mark_formats_follow_the_step() -> None:
    assert [mark_format(s) for s in (1000, 500, 250, 100, 2000, 1)] == [
        "0",
        "0.0",
        "0.00",
        "0.0",
        "0",
        "0.000",
    ]
