"""Things that name a candidate and arrive after intake: violations (R13) and interview
scores (R7). Validated, then sealed to the session's public key the moment they enter."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from anonymizer.seal import associated_data, seal_record
from marking.audit import ledger
from marking.domain.rules import MarkRefused, parse_mark
from marking.domain.tabular import read_rows
from marking.errors import InputError, InputErrors, MarkingError, StateError
from marking.store.models import (
    Account,
    Component,
    ExamSession,
    Grade,
    Role,
    SealedKind,
    SealedRecord,
    SessionState,
)

VIOLATION_COLUMNS = ("exam_no", "component", "action", "reason")
INTERVIEW_COLUMNS = ("exam_no", "username", "score")
ACTIONS = ("advice", "warning", "terminated", "void")
MAX_ERRORS = 50
_INTERVIEW_MAX = Decimal(100)


def seal(
    db: Session, exam: ExamSession, kind: SealedKind, items: list[dict[str, Any]], *, actor: str
) -> SealedRecord:
    """Seal ``items`` as one record of ``kind``; the ledger learns only the count."""
    if exam.public_key is None:
        raise StateError(f"session {exam.code} has no key: run `blindmark keys init` first")
    record = SealedRecord(
        session_id=exam.id, kind=kind, sealed_key=b"", ciphertext=b"", created_by=actor
    )
    db.add(record)
    db.flush()
    plaintext = json.dumps(items, ensure_ascii=False).encode()
    record.sealed_key, record.ciphertext = seal_record(
        exam.public_key, plaintext, associated_data("sealed_record", exam.id, record.id)
    )
    db.flush()
    ledger.append(
        db,
        exam,
        kind=f"{kind.value}_recorded",
        actor=actor,
        payload={"sealed_record": record.id, "count": len(items)},
    )
    return record


def _open_for_records(exam: ExamSession) -> None:
    if exam.state is SessionState.PUBLISHED:
        raise StateError(f"session {exam.code} is {exam.state.value}: records are closed")


def record_violations(db: Session, exam: ExamSession, path: Path, *, actor: str) -> int:
    """Seal a violations file (exam_no, component, action, reason). Exam numbers cannot be
    checked against the sealed roster here; publication checks them and names any unknown."""
    _open_for_records(exam)
    components = set(db.scalars(select(Component.key).where(Component.session_id == exam.id)))
    errors: list[InputError] = []
    items: list[dict[str, Any]] = []
    for rowno, (exam_no, component, action, reason) in read_rows(path, VIOLATION_COLUMNS):
        if not exam_no:
            errors.append(InputError(path.name, "empty", row=rowno, column="exam_no"))
        if component not in components:
            errors.append(
                InputError(
                    path.name,
                    f"no component {component!r} in this session",
                    row=rowno,
                    column="component",
                )
            )
        if action.lower() not in ACTIONS:
            errors.append(
                InputError(
                    path.name, f"must be one of {', '.join(ACTIONS)}", row=rowno, column="action"
                )
            )
        if not reason:
            errors.append(
                InputError(
                    path.name, "empty: a violation needs its reason", row=rowno, column="reason"
                )
            )
        items.append(
            {
                "row": rowno,
                "exam_no": exam_no,
                "component": component,
                "action": action.lower(),
                "reason": reason,
            }
        )
        if len(errors) >= MAX_ERRORS:
            raise InputErrors(errors, truncated=True)
    if errors:
        raise InputErrors(errors)
    seal(db, exam, SealedKind.VIOLATION, items, actor=actor)
    return len(items)


def record_interview(db: Session, exam: ExamSession, path: Path, *, actor: str) -> int:
    """Seal interview panel scores (exam_no, username, score) for a level 1-2 session (R7)."""
    _open_for_records(exam)
    if exam.level > 2:
        raise MarkingError(
            f"session {exam.code} is level {exam.level}: interviews belong to levels 1-2 (R7)"
        )
    errors: list[InputError] = []
    items: list[dict[str, Any]] = []
    panel: dict[str, Account | None] = {}
    seen: dict[tuple[str, str], int] = {}
    for rowno, (exam_no, username, score) in read_rows(path, INTERVIEW_COLUMNS):
        if not exam_no:
            errors.append(InputError(path.name, "empty", row=rowno, column="exam_no"))
        if username not in panel:
            panel[username] = db.scalar(
                select(Account).where(Account.username == username, Account.role == Role.EXAMINER)
            )
        account = panel[username]
        if account is None or account.examiner is None:
            errors.append(
                InputError(
                    path.name, "no examiner with this username", row=rowno, column="username"
                )
            )
        elif account.examiner.grade is not Grade.SENIOR:
            errors.append(
                InputError(
                    path.name,
                    "not a senior examiner: interview panels are senior examiners (R7)",
                    row=rowno,
                    column="username",
                )
            )
        try:
            value = parse_mark(score, maximum=_INTERVIEW_MAX)
        except MarkRefused as refused:
            errors.append(
                InputError(
                    path.name, f"a score from 0 to 100 ({refused})", row=rowno, column="score"
                )
            )
            value = Decimal(0)
        if (exam_no, username) in seen:
            errors.append(
                InputError(
                    path.name,
                    "this examiner already scored this candidate at row "
                    f"{seen[(exam_no, username)]}",
                    row=rowno,
                    column="username",
                )
            )
        seen.setdefault((exam_no, username), rowno)
        items.append(
            {"row": rowno, "exam_no": exam_no, "username": username, "score": f"{value:f}"}
        )
        if len(errors) >= MAX_ERRORS:
            raise InputErrors(errors, truncated=True)
    if errors:
        raise InputErrors(errors)
    seal(db, exam, SealedKind.INTERVIEW, items, actor=actor)
    return len(items)
