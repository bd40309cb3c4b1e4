"""Things that name a candidate and arrive after intake: violations (R13) and interview
scores (R7), from a file or entered one at a time, and candidates recorded absent from the
interview. Validated, then sealed to the session's public key the moment they enter."""

from __future__ import annotations

import json
from dataclasses import dataclass
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
from marking.intake.collectives import register_collectives
from marking.intake.panel import OPEN_FOR_RECORDS, panel_accounts, panel_problem, require_interview
from marking.store.models import Component, ExamSession, SealedKind, SealedRecord

VIOLATION_COLUMNS = ("exam_no", "component", "action", "reason")
VIOLATION_OPTIONAL = ("decided_by", "collective")
INTERVIEW_COLUMNS = ("exam_no", "username", "score")
ABSENT_COLUMNS = ("exam_no",)
ABSENT_OPTIONAL = ("reason",)
ACTIONS = ("advice", "warning", "terminated", "void")
MAX_ERRORS = 50
_INTERVIEW_MAX = Decimal(100)
_LONGEST = 64  # exam numbers, collective ids


def seal(
    db: Session, exam: ExamSession, kind: SealedKind, items: list[dict[str, Any]], *, actor: str
) -> SealedRecord:
    """Seal ``items`` as one record of ``kind``; the ledger learns only the count."""
    if exam.public_key is None:
        raise StateError.coded(
            "no_key",
            "session %(session)s has no key: run `blindmark keys init` first",
            session=exam.code,
        )
    record = SealedRecord(
        session_id=exam.id,
        kind=kind,
        sealed_key=b"",
        ciphertext=b"",
        created_by=actor,
        item_count=len(items),
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


def open_for_records(exam: ExamSession) -> None:
    """Raises StateError once the session is published: records are closed then."""
    if exam.state not in OPEN_FOR_RECORDS:
        raise StateError(f"session {exam.code} is {exam.state.value}: records are closed")


@dataclass(frozen=True)
class Violation:
    """One violation as entered: a row of violations.csv or the browser's form."""

    exam_no: str
    component: str
    action: str
    reason: str
    decided_by: str = ""
    collective: str = ""


def violation_problems(components: set[str], v: Violation) -> list[tuple[str, MarkingError]]:
    """(column, coded refusal) for each thing wrong with ``v``; none names the exam number."""
    found: list[tuple[str, MarkingError]] = []
    if not v.exam_no:
        found.append(("exam_no", MarkingError.coded("field_empty", "empty")))
    elif len(v.exam_no) > _LONGEST:
        found.append(
            (
                "exam_no",
                MarkingError.coded("field_too_long", "longer than %(n)s characters", n=_LONGEST),
            )
        )
    if v.component not in components:
        found.append(
            (
                "component",
                MarkingError.coded(
                    "no_component",
                    "no component %(component)s in this session",
                    component=repr(v.component),
                ),
            )
        )
    if v.action.lower() not in ACTIONS:
        found.append(
            (
                "action",
                MarkingError.coded(
                    "bad_action", "must be one of %(actions)s", actions=", ".join(ACTIONS)
                ),
            )
        )
    if not v.reason:
        found.append(
            (
                "reason",
                MarkingError.coded("violation_reason", "empty: a violation needs its reason"),
            )
        )
    if len(v.decided_by) > 128:
        found.append(
            (
                "decided_by",
                MarkingError.coded("field_too_long", "longer than %(n)s characters", n=128),
            )
        )
    if len(v.collective) > _LONGEST:
        found.append(
            (
                "collective",
                MarkingError.coded("field_too_long", "longer than %(n)s characters", n=_LONGEST),
            )
        )
    elif v.exam_no and v.exam_no in v.collective:
        # The id is kept and shown in clear before publication (the centre's list): an exam
        # number in it would name a candidate beside a violation (R1, R8).
        found.append(
            (
                "collective",
                MarkingError.coded(
                    "collective_names_candidate",
                    "a collective decision's id is shown before publication: it must not "
                    "contain a candidate's exam number",
                ),
            )
        )
    return found


def violation_item(v: Violation, row: int) -> dict[str, Any]:
    item: dict[str, Any] = {
        "row": row,
        "exam_no": v.exam_no,
        "component": v.component,
        "action": v.action.lower(),
        "reason": v.reason,
        "decided_by": v.decided_by,
    }
    if v.collective:
        item["collective"] = v.collective
    return item


def store_violations(
    db: Session, exam: ExamSession, items: list[dict[str, Any]], *, actor: str
) -> SealedRecord:
    """Seal violation items as one record, and register its collective decisions."""
    record = seal(db, exam, SealedKind.VIOLATION, items, actor=actor)
    register_collectives(db, exam, record, items)
    return record


def session_components(db: Session, exam: ExamSession) -> set[str]:
    return set(db.scalars(select(Component.key).where(Component.session_id == exam.id)))


def record_violations(db: Session, exam: ExamSession, path: Path, *, actor: str) -> int:
    """Seal a violations file (exam_no, component, action, reason[, decided_by, collective]).

    Rows sharing a ``collective`` id are one collective decision (R13, 第七条(五)): they share
    the action and who decided, and publication waits for the guidance centre's approval.
    Exam numbers cannot be checked against the sealed roster here; publication checks them
    and names the record of any unknown one, which the office withdraws."""
    open_for_records(exam)
    components = session_components(db, exam)
    errors: list[InputError] = []
    items: list[dict[str, Any]] = []
    collectives: dict[str, tuple[int, str, str]] = {}
    for rowno, values in read_rows(path, VIOLATION_COLUMNS, optional=VIOLATION_OPTIONAL):
        v = Violation(*values)
        for column, problem in violation_problems(components, v):
            errors.append(InputError(path.name, str(problem), row=rowno, column=column))
        if v.collective:
            first = collectives.setdefault(v.collective, (rowno, v.action.lower(), v.decided_by))
            if first[1:] != (v.action.lower(), v.decided_by):
                errors.append(
                    InputError(
                        path.name,
                        f"collective {v.collective!r} is one decision: the same action and "
                        f"decided_by as at row {first[0]}",
                        row=rowno,
                        column="collective",
                    )
                )
        items.append(violation_item(v, rowno))
        if len(errors) >= MAX_ERRORS:
            raise InputErrors(errors, truncated=True)
    if errors:
        raise InputErrors(errors)
    store_violations(db, exam, items, actor=actor)
    return len(items)


def record_interview(db: Session, exam: ExamSession, path: Path, *, actor: str) -> int:
    """Seal interview panel scores (exam_no, username, score) for a level 1-2 session (R7):
    each panel member a senior examiner whose valid certificate covers the session."""
    open_for_records(exam)
    require_interview(exam)
    rows = list(read_rows(path, INTERVIEW_COLUMNS))
    accounts = panel_accounts(db, {username for _r, (_n, username, _s) in rows})
    errors: list[InputError] = []
    items: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    for rowno, (exam_no, username, score) in rows:
        if not exam_no:
            errors.append(InputError(path.name, "empty", row=rowno, column="exam_no"))
        problem = panel_problem(exam, accounts.get(username), username)
        if problem is not None:
            errors.append(InputError(path.name, str(problem), row=rowno, column="username"))
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


def record_interview_absent(db: Session, exam: ExamSession, path: Path, *, actor: str) -> int:
    """Seal the candidates (exam_no[, reason]) absent from a level 1-2 session's interview:
    publication then wants no panel scores of them (they are absent from it, R7)."""
    open_for_records(exam)
    require_interview(exam)
    errors: list[InputError] = []
    items: list[dict[str, Any]] = []
    for rowno, (exam_no, reason) in read_rows(path, ABSENT_COLUMNS, optional=ABSENT_OPTIONAL):
        if not exam_no:
            errors.append(InputError(path.name, "empty", row=rowno, column="exam_no"))
        items.append({"row": rowno, "exam_no": exam_no, "reason": reason})
        if len(errors) >= MAX_ERRORS:
            raise InputErrors(errors, truncated=True)
    if errors:
        raise InputErrors(errors)
    seal(db, exam, SealedKind.INTERVIEW_ABSENT, items, actor=actor)
    return len(items)


__all__ = [
    "Violation",
    "record_interview",
    "record_interview_absent",
    "record_violations",
    "seal",
]
