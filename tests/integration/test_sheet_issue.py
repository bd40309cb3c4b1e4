"""Issuing answer sheets (DESIGN §12): the serials recorded with the PDF, unique in the
session even when the random source repeats, the ledger told, the definition's hints
followed, the page codes keyed with the session's own key, and refusals storing nothing."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pypdfium2 as pdfium
import pytest
import zxingcpp
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marking.audit.verify import verify
from marking.errors import InputError, NotFound, StateError
from marking.paper.codes import PayloadError, decode_payload
from marking.paper.issue import issue_sheets
from marking.paper.layout import layout_digest
from marking.store.models import (
    Component,
    ExamSession,
    IssuedSheet,
    LedgerEntry,
    SessionState,
)
from tests.integration.factory import new_session, tiny_toml

HINTED = (
    tiny_toml("SHEETS-H")
    .replace(
        '[[groups]]\nkey = "short"',
        '[paper]\nexam_number_digits = 8\n\n[[groups]]\nkey = "short"',
        1,
    )
    .replace('group = "short"', 'group = "short"\nlines = 4', 1)
    .replace('answer = "A"', 'answer = "A"\noptions = 5', 1)
)


@pytest.fixture
def exam(db: Session, tmp_path: Path) -> ExamSession:
    made, _keys = new_session(db, tmp_path, tiny_toml("SHEETS-1"), key_file=True)
    return made


def issued(db: Session, exam: ExamSession) -> list[IssuedSheet]:
    return list(db.scalars(select(IssuedSheet).where(IssuedSheet.session_id == exam.id)))


def first_page_code(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    try:
        bitmap = document[0].render(scale=150 / 72, grayscale=True)
        (found,) = zxingcpp.read_barcodes(bitmap.to_numpy(), formats=zxingcpp.BarcodeFormat.QRCode)
        return str(found.text)
    finally:
        document.close()


def test_issued_serials_are_recorded_with_the_ledger_told(db: Session, exam: ExamSession) -> None:
    printed = issue_sheets(db, exam, "theory", 3, actor="office", workers=1)
    rows = issued(db, exam)
    theory = db.scalar(select(Component.id).where(Component.session_id == exam.id))
    digest = layout_digest(printed.layout)
    assert sorted(r.serial for r in rows) == sorted(printed.serials)
    for row in rows:
        assert (row.component_id, row.layout, row.issued_by) == (theory, digest, "office")
        assert row.issued_at.tzinfo is not None and row.issued_at.utcoffset() == dt.timedelta(0)
    entry = db.scalar(
        select(LedgerEntry).where(
            LedgerEntry.session_id == exam.id, LedgerEntry.kind == "sheets_issued"
        )
    )
    assert entry is not None and entry.actor == "office"
    assert entry.payload == {
        "component": "theory",
        "count": 3,
        "layout": digest,
        "pages": len(printed.layout.pages),
        "serials": list(printed.serials),
    }


def test_page_codes_are_checked_with_the_sessions_own_key(db: Session, exam: ExamSession) -> None:
    printed = issue_sheets(db, exam, "skills", 1, actor="office", workers=1)
    text = first_page_code(printed.pdf)
    page = decode_payload(text, key=exam.sheet_key)
    assert (page.session, page.component, page.serial, page.page) == (
        "SHEETS-1",
        "skills",
        printed.serials[0],
        1,
    )
    assert len(exam.sheet_key) == 32
    with pytest.raises(PayloadError, match="does not match"):
        decode_payload(text)  # unkeyed, or another session's key, fails


def test_serials_stay_unique_in_the_session_when_the_random_source_repeats(
    db: Session, exam: ExamSession
) -> None:
    first = issue_sheets(db, exam, "theory", 4, actor="office", choice=random.Random(7).choice)
    # The same seed draws the same four serials again: each is drawn anew.
    again = issue_sheets(db, exam, "skills", 4, actor="office", choice=random.Random(7).choice)
    assert set(first.serials).isdisjoint(again.serials)
    serials = [r.serial for r in issued(db, exam)]
    assert len(serials) == len(set(serials)) == 8


def test_the_schema_itself_refuses_a_serial_twice(db: Session, exam: ExamSession) -> None:
    issue_sheets(db, exam, "theory", 1, actor="office", workers=1)
    (row,) = issued(db, exam)
    with db.begin_nested():
        db.add(
            IssuedSheet(
                session_id=exam.id,
                component_id=row.component_id,
                serial=row.serial,
                layout=row.layout,
                issued_by="someone",
            )
        )
        with pytest.raises(IntegrityError, match=r"(?i)unique"):
            db.flush()


@pytest.mark.parametrize(
    ("component", "count", "error", "message"),
    [
        ("interview", 1, NotFound, "no component 'interview' \\(it has theory, skills\\)"),
        ("theory", 0, InputError, "1 to 2000 sets, not 0"),
        ("theory", 2001, InputError, "1 to 2000 sets, not 2001"),
    ],
)
def test_what_cannot_be_issued_is_refused_and_nothing_is_recorded(
    db: Session,
    exam: ExamSession,
    component: str,
    count: int,
    error: type[Exception],
    message: str,
) -> None:
    entries = db.scalar(select(func.count()).select_from(LedgerEntry))
    with pytest.raises(error, match=message):
        issue_sheets(db, exam, component, count, actor="office")
    assert issued(db, exam) == []
    assert db.scalar(select(func.count()).select_from(LedgerEntry)) == entries


def test_a_published_session_issues_no_more_sheets(db: Session, exam: ExamSession) -> None:
    exam.state = SessionState.PUBLISHED
    with pytest.raises(StateError, match="published"):
        issue_sheets(db, exam, "theory", 1, actor="office")
    assert issued(db, exam) == []


def test_the_definitions_hints_shape_the_sheets(db: Session, tmp_path: Path) -> None:
    exam, _keys = new_session(db, tmp_path, HINTED, key_file=True)
    printed = issue_sheets(db, exam, "theory", 1, actor="office", workers=1)
    header = printed.layout.pages[0].header
    assert header is not None and len(header.exam_number_cells) == 8
    assert [b.option for b in printed.layout.pages[0].bubbles] == list("ABCDE")
    assert [a.lines for p in printed.layout.pages for a in p.answers] == [4]


def test_verify_holds_the_issued_serials_to_the_ledger(db: Session, exam: ExamSession) -> None:
    issue_sheets(db, exam, "theory", 2, actor="office", workers=1)
    assert verify(db, exam).ok
    kept, gone = issued(db, exam)
    db.add(
        IssuedSheet(
            session_id=exam.id,
            component_id=kept.component_id,
            serial="FAKE234567",
            layout=kept.layout,
            issued_by="office",
        )
    )
    db.delete(gone)
    db.flush()
    problems = verify(db, exam).problems
    assert len(problems) == 2
    assert any(f"issued sheet {gone.serial} " in p and "(ledger only)" in p for p in problems)
    assert any("issued sheet FAKE234567 " in p and "(table only)" in p for p in problems)
