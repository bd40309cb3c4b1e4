"""The reports print times in the session's time zone (issue 14, R1): a session published at
17:30 UTC on 30 June was published at 01:30 on 1 July in Shanghai, and every report says so."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.read import reportdata
from marking.store.models import ExamSession, MarkingGroup, Publication
from reports import render
from reports.data import Register, StatsInput
from reports.produce import produce
from tests.reports.test_spreadsheets import _published

LATE = dt.datetime(2026, 6, 30, 17, 30, tzinfo=dt.UTC)


def _text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def test_register_notices_and_statistics_show_shanghai_time(db: Session, tmp_path: Path) -> None:
    exam, _names = _published(db, tmp_path)
    assert isinstance(exam, ExamSession)
    db.scalars(select(Publication).where(Publication.session_id == exam.id)).one().created_at = LATE
    for group in db.scalars(select(MarkingGroup).where(MarkingGroup.session_id == exam.id)):
        group.approved_at = LATE - dt.timedelta(hours=1)
    db.flush()

    register = reportdata.gather(db, exam, "register")
    assert isinstance(register, Register)
    attributions = _text(produce("register", register)).replace("\n", " ")
    assert "2026-07-01 01:30" in attributions  # published
    assert "2026-07-01 00:30" in attributions  # a scheme approved
    assert "17:30" not in attributions and "UTC" not in attributions
    assert "2026-07-01" in _text(produce("notices", register))  # the notice's date
    assert "2026-06-30" not in _text(produce("notices", register))
    book = load_workbook(io.BytesIO(produce("register", register, fmt="xlsx")))
    record = {row[0].value: row[1].value for row in book.worksheets[1].iter_rows()}
    assert record["发布时间"] == dt.datetime(2026, 7, 1, 1, 30)

    stats = reportdata.gather(db, exam, "stats")
    assert isinstance(stats, StatsInput)
    assert "生成时间：2026-07-01 01:30" in _text(render.render_stats(stats, now=LATE))
