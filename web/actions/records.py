"""Violations, interview scores and absences entered in the browser, sealed on entry; the
office's withdrawal of a record entered wrongly; the guidance centre's approval of a
collective violation decision. Screens show counts and record numbers, never content."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.errors import MarkingError, NotFound
from marking.intake import collectives, entries
from marking.intake import records as file_records
from marking.intake.panel import panel_sessions, require_panel_member
from marking.store.models import Account, CollectiveDecision, ExamSession
from web.actions.common import plain

#: What a records file may hold, and the engine's reader of each.
FILE_KINDS = {
    "violations": file_records.record_violations,
    "interview": file_records.record_interview,
    "interview_absent": file_records.record_interview_absent,
}


def records_page(db: Session, exam: ExamSession) -> dict[str, Any]:
    """The session's records as the office sees them: counts, the records, collectives."""
    return {
        "counts": entries.entry_counts(db, exam),
        "records": [_line(line) for line in entries.session_records(db, exam)],
        "collectives": [_collective(db, c) for c in collectives.of_session(db, exam)],
        "interview": exam.level <= 2,
    }


def _line(line: entries.RecordLine) -> dict[str, Any]:
    return {
        "id": line.id,
        "kind": line.kind,
        "count": line.count,
        "by": line.by,
        "at": plain(line.at),
        "collectives": line.collectives,
        "withdrawn": None
        if line.withdrawn is None
        else {**line.withdrawn, "at": plain(line.withdrawn["at"])},
    }


def _collective(db: Session, c: CollectiveDecision) -> dict[str, Any]:
    approver = db.get(Account, c.approved_by) if c.approved_by else None
    exam = db.get(ExamSession, c.session_id)
    return {
        "id": c.id,
        "session": exam.code if exam else "",
        "label": c.label,
        "candidates": c.candidates,
        "decided_by": c.decided_by,
        "record": c.record_id,
        "entered_at": plain(c.created_at),
        "approved_by": approver.username if approver else None,
        "approved_at": plain(c.approved_at) if c.approved_at else None,
    }


def enter_violation(
    db: Session, exam: ExamSession, account: Account, form: dict[str, str]
) -> dict[str, Any]:
    record = entries.enter_violation(
        db,
        exam,
        exam_nos=entries.exam_numbers(form.get("exam_no", "")),
        component=form.get("component", "").strip(),
        action=form.get("action", "").strip(),
        reason=form.get("reason", ""),
        decided_by=form.get("decided_by", ""),
        collective=form.get("collective", ""),
        actor=account.username,
    )
    return {"record": record.id, "count": record.item_count}


def transcribe_score(
    db: Session, exam: ExamSession, account: Account, form: dict[str, str]
) -> dict[str, Any]:
    """The office transcribes a signed score sheet, naming the panel member."""
    name = form.get("member", "").strip()
    member = db.scalar(select(Account).where(Account.username == name)) if name else None
    record = entries.enter_interview_score(
        db,
        exam,
        member=member,
        member_name=name or "-",
        exam_no=form.get("exam_no", ""),
        score=form.get("score", ""),
        actor=account.username,
    )
    return {"record": record.id}


def own_score(
    db: Session, exam: ExamSession, account: Account, form: dict[str, str]
) -> dict[str, Any]:
    record = entries.enter_own_score(
        db, exam, account, exam_no=form.get("exam_no", ""), score=form.get("score", "")
    )
    return {"record": record.id}


def record_absent(
    db: Session, exam: ExamSession, account: Account, form: dict[str, str]
) -> dict[str, Any]:
    record = entries.enter_interview_absent(
        db,
        exam,
        exam_nos=entries.exam_numbers(form.get("exam_no", "")),
        reason=form.get("reason", ""),
        actor=account.username,
    )
    return {"record": record.id, "count": record.item_count}


def records_file(
    db: Session, exam: ExamSession, account: Account, kind: str, data: bytes, filename: str
) -> dict[str, Any]:
    """A violations, interview or absence file, sealed as one record."""
    reader = FILE_KINDS.get(kind)
    if reader is None:
        raise MarkingError(f"a records file is one of {', '.join(FILE_KINDS)}, not {kind!r}")
    suffix = ".xlsx" if filename.lower().endswith(".xlsx") else ".csv"
    with tempfile.TemporaryDirectory(prefix="blindmark-records-") as tmp:
        path = Path(tmp) / f"{kind}{suffix}"
        path.write_bytes(data)
        count = reader(db, exam, path, actor=account.username)
    return {"rows": count}


def withdraw_record(
    db: Session, exam: ExamSession, account: Account, record_id: int, reason: str
) -> dict[str, Any]:
    done = entries.withdraw_record(db, exam, record_id, reason=reason, actor=account.username)
    return {"record": done.record_id}


def panel_home(db: Session, account: Account) -> list[dict[str, Any]]:
    """The interviews an examiner may score, with how many scores they entered in each."""
    return [
        {
            "code": s.code,
            "occupation": s.occupation,
            "level": s.level,
            "entered": entries.entry_counts(db, s, by=account.username)["interview"],
        }
        for s in panel_sessions(db, account)
    ]


def panel_page(db: Session, exam: ExamSession, account: Account) -> dict[str, Any]:
    require_panel_member(exam, account)
    return {"entered": entries.entry_counts(db, exam, by=account.username)["interview"]}


def centre_waiting(db: Session) -> list[dict[str, Any]]:
    return [_collective(db, c) for c in collectives.waiting(db)]


def centre_approve(
    db: Session, account: Account, code: str, collective_id: int, note: str
) -> dict[str, Any]:
    from marking.setup.sessions import get_session

    exam = get_session(db, code)
    decision = db.get(CollectiveDecision, collective_id)
    if decision is None or decision.session_id != exam.id:
        raise NotFound(f"session {code} has no collective decision {collective_id}")
    collectives.approve_collective(db, exam, decision, account, note=note)
    return {"collective": decision.label, "session": code}
