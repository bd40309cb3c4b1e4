"""Records entered one at a time in the browser (DESIGN §14): a violation, a panel member's
interview score (their own, or transcribed by the office from the signed sheet naming the
member), candidates absent from the interview; each sealed the moment it enters, exactly as
a file's rows are. And the way back for a record entered wrongly: the office withdraws it,
with a reason, and enters it again. Nothing here shows what a record holds: lists give its
number, kind, count, who entered it and when."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.domain.rules import MarkRefused, parse_mark
from marking.errors import MarkingError, NotFound, Refusals, StateError
from marking.intake import records
from marking.intake.panel import panel_problem, require_interview, require_panel_member
from marking.store.models import (
    Account,
    CollectiveDecision,
    ExamSession,
    RecordWithdrawal,
    SealedKind,
    SealedRecord,
    SessionState,
    utcnow,
)

#: The kinds of record the office enters and may withdraw (conflicts and scan headers stay).
ENTERED = (SealedKind.VIOLATION, SealedKind.INTERVIEW, SealedKind.INTERVIEW_ABSENT)


class FormRefused(Refusals):
    """A form refused whole, nothing stored: ``fields`` maps each field to its refusal."""

    def __init__(self, fields: dict[str, MarkingError]) -> None:
        self.fields = fields
        super().__init__("refused; nothing was stored", list(fields.values()), code="form_refused")


def exam_numbers(text: str) -> list[str]:
    """Exam numbers typed into one field: separated by spaces, commas or new lines."""
    return [n for n in re.split(r"[\s,，;；]+", text.strip()) if n]


def enter_violation(
    db: Session,
    exam: ExamSession,
    *,
    exam_nos: list[str],
    component: str,
    action: str,
    reason: str,
    decided_by: str,
    collective: str = "",
    actor: str,
) -> SealedRecord:
    """Seal a violation decided on one candidate, or a collective decision on several
    (``collective`` names it; R13, 第七条(五)). Raises FormRefused naming each field."""
    records.open_for_records(exam)
    components = records.session_components(db, exam)
    fields: dict[str, MarkingError] = {}
    if not exam_nos:
        fields["exam_no"] = MarkingError.coded("field_empty", "empty")
    if len(exam_nos) > 1 and not collective.strip():
        fields["collective"] = MarkingError.coded(
            "collective_needed",
            "one decision on several candidates is a collective decision: give it an id "
            "(the guidance centre approves it)",
        )
    if not decided_by.strip():
        fields["decided_by"] = MarkingError.coded(
            "decided_by_needed", "say who decided (the examiner or lead examiner)"
        )
    entered = [
        records.Violation(
            n, component, action, reason.strip(), decided_by.strip(), collective.strip()
        )
        for n in exam_nos or [""]
    ]
    for n in entered:
        for column, problem in records.violation_problems(components, n):
            if column != "exam_no" or exam_nos:
                fields.setdefault(column, problem)
    if fields:
        raise FormRefused(fields)
    items = [records.violation_item(v, n) for n, v in enumerate(entered, start=1)]
    return records.store_violations(db, exam, items, actor=actor)


def _score(text: str) -> Decimal:
    try:
        return parse_mark(text, maximum=Decimal(100))
    except MarkRefused as refused:
        raise FormRefused(
            {
                "score": MarkingError.coded(
                    "score_refused", "a score from 0 to 100 (%(why)s)", why=str(refused)
                )
            }
        ) from None


def enter_interview_score(
    db: Session,
    exam: ExamSession,
    *,
    member: Account | None,
    member_name: str,
    exam_no: str,
    score: str,
    actor: str,
) -> SealedRecord:
    """Seal one panel member's score of one candidate (R7, 第七条(九)): the member scoring
    for themselves (``actor`` is the member) or the office transcribing the signed sheet
    (``member`` named). The member must be a senior examiner whose valid certificate covers
    the session; a declared conflict with the candidate is found when publication unseals.
    Raises FormRefused naming each field, MarkingError for a session without interview."""
    records.open_for_records(exam)
    require_interview(exam)
    fields: dict[str, MarkingError] = {}
    problem = panel_problem(exam, member, member_name)
    if problem is not None:
        fields["member"] = problem
    if not exam_no.strip():
        fields["exam_no"] = MarkingError.coded("field_empty", "empty")
    try:
        value = _score(score)
    except FormRefused as refused:
        fields.update(refused.fields)
    if fields:
        raise FormRefused(fields)
    item = {"row": 1, "exam_no": exam_no.strip(), "username": member_name, "score": f"{value:f}"}
    return records.seal(db, exam, SealedKind.INTERVIEW, [item], actor=actor)


def enter_own_score(
    db: Session, exam: ExamSession, member: Account, *, exam_no: str, score: str
) -> SealedRecord:
    """A panel member enters their own score (refused, naming why, if they may not sit)."""
    require_panel_member(exam, member)
    return enter_interview_score(
        db,
        exam,
        member=member,
        member_name=member.username,
        exam_no=exam_no,
        score=score,
        actor=member.username,
    )


def enter_interview_absent(
    db: Session, exam: ExamSession, *, exam_nos: list[str], reason: str, actor: str
) -> SealedRecord:
    """Seal candidates absent from the interview: publication wants no scores of them."""
    records.open_for_records(exam)
    require_interview(exam)
    if not exam_nos:
        raise FormRefused({"exam_no": MarkingError.coded("field_empty", "empty")})
    items = [{"row": n, "exam_no": e, "reason": reason.strip()} for n, e in enumerate(exam_nos, 1)]
    return records.seal(db, exam, SealedKind.INTERVIEW_ABSENT, items, actor=actor)


# --- withdrawing a record entered wrongly --------------------------------------------------------


def withdraw_record(
    db: Session, exam: ExamSession, record_id: int, *, reason: str, actor: str
) -> RecordWithdrawal:
    """Withdraw a violation, interview or absence record (an exam number in no batch, a
    conflicted panel member): publication leaves it out; the record stays sealed, and the
    withdrawal is recorded with its reason. Raises NotFound, StateError, MarkingError."""
    if exam.state is SessionState.PUBLISHED:
        raise StateError(f"session {exam.code} is published; it is read-only")
    # Locked: a second withdrawal of the same record at the same time waits for this one,
    # then is told it was withdrawn (not a duplicate-key error).
    record = db.get(SealedRecord, record_id, with_for_update=True)
    if record is None or record.session_id != exam.id or record.kind not in ENTERED:
        raise NotFound.coded(
            "no_record",
            "session %(session)s has no violation or interview record %(record)s",
            session=exam.code,
            record=record_id,
        )
    if db.scalar(select(RecordWithdrawal.id).where(RecordWithdrawal.record_id == record.id)):
        raise StateError.coded(
            "record_withdrawn", "record %(record)s was already withdrawn", record=record_id
        )
    if not reason.strip():
        raise FormRefused(
            {
                "reason": MarkingError.coded(
                    "withdrawal_reason_needed", "a withdrawal needs a reason"
                )
            }
        )
    withdrawal = RecordWithdrawal(
        record_id=record.id, reason=reason.strip(), withdrawn_by=actor, created_at=utcnow()
    )
    db.add(withdrawal)
    db.flush()
    ledger.append(
        db,
        exam,
        kind="record_withdrawn",
        actor=actor,
        payload={"record": record.id, "kind": record.kind.value, "reason": withdrawal.reason},
    )
    return withdrawal


@dataclass
class RecordLine:
    """A record as the session page lists it: never its content."""

    id: int
    kind: str
    count: int | None
    by: str
    at: dt.datetime
    withdrawn: dict[str, Any] | None = None
    collectives: list[str] = field(default_factory=list)


def session_records(db: Session, exam: ExamSession) -> list[RecordLine]:
    """The session's violation, interview and absence records, newest first."""
    withdrawals = {
        w.record_id: w
        for w in db.scalars(
            select(RecordWithdrawal)
            .join(SealedRecord, SealedRecord.id == RecordWithdrawal.record_id)
            .where(SealedRecord.session_id == exam.id)
        )
    }
    labels: dict[int, list[str]] = {}
    for record_id, label in db.execute(
        select(CollectiveDecision.record_id, CollectiveDecision.label).where(
            CollectiveDecision.session_id == exam.id
        )
    ):
        labels.setdefault(record_id, []).append(label)
    lines = []
    for r in db.scalars(
        select(SealedRecord)
        .where(SealedRecord.session_id == exam.id, SealedRecord.kind.in_(ENTERED))
        .order_by(SealedRecord.id.desc())
    ):
        w = withdrawals.get(r.id)
        lines.append(
            RecordLine(
                r.id,
                r.kind.value,
                r.item_count,
                r.created_by,
                r.created_at,
                None
                if w is None
                else {"by": w.withdrawn_by, "at": w.created_at, "reason": w.reason},
                labels.get(r.id, []),
            )
        )
    return lines


def entry_counts(db: Session, exam: ExamSession, *, by: str | None = None) -> dict[str, int]:
    """How many items of each kind are recorded and not withdrawn (``by``: entered by)."""
    query = (
        select(SealedRecord.kind, func.coalesce(func.sum(SealedRecord.item_count), 0))
        .where(
            SealedRecord.session_id == exam.id,
            SealedRecord.kind.in_(ENTERED),
            ~select(RecordWithdrawal.id)
            .where(RecordWithdrawal.record_id == SealedRecord.id)
            .exists(),
        )
        .group_by(SealedRecord.kind)
    )
    if by is not None:
        query = query.where(SealedRecord.created_by == by)
    counts = {k.value: 0 for k in ENTERED}
    counts.update({kind.value: int(n or 0) for kind, n in db.execute(query)})
    return counts
