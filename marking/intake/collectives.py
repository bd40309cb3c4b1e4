"""Collective violation decisions (R13, 第七条(五)): one decision on several candidates, taken
by the lead examiner with the guidance centre's consent. Each is kept in clear without exam
numbers (its id, how many candidates, who decided, the sealed record holding its rows) and
waits for the approval of an account with the ``centre`` role; publication waits for it."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.errors import MarkingError, NotFound, StateError
from marking.store.models import (
    Account,
    CollectiveDecision,
    ExamSession,
    RecordWithdrawal,
    Role,
    SealedRecord,
    SessionState,
    utcnow,
)


def _live() -> Any:
    """Collective decisions whose record is not withdrawn."""
    return ~exists().where(RecordWithdrawal.record_id == CollectiveDecision.record_id)


def register_collectives(
    db: Session, exam: ExamSession, record: SealedRecord, items: list[dict[str, Any]]
) -> list[CollectiveDecision]:
    """One CollectiveDecision per ``collective`` id among the record's items; refused
    (nothing stored, the caller's transaction rolls back) when an id is already in use in
    the session by a record not withdrawn."""
    counts = Counter(i["collective"] for i in items if i.get("collective"))
    if not counts:
        return []
    taken = set(
        db.scalars(
            select(CollectiveDecision.label).where(
                CollectiveDecision.session_id == exam.id,
                CollectiveDecision.label.in_(sorted(counts)),
                _live(),
            )
        )
    )
    if taken:
        raise MarkingError.coded(
            "collective_taken",
            "collective %(collective)s is already recorded in session %(session)s: give the "
            "new decision an id of its own, or withdraw the earlier record first",
            collective=", ".join(sorted(taken)),
            session=exam.code,
        )
    made = []
    for label, count in sorted(counts.items()):
        decided_by = next(i.get("decided_by", "") for i in items if i.get("collective") == label)
        decision = CollectiveDecision(
            session_id=exam.id,
            record_id=record.id,
            label=label,
            candidates=count,
            decided_by=decided_by,
            created_at=utcnow(),
            approval_note="",
        )
        db.add(decision)
        made.append(decision)
    db.flush()
    return made


def waiting(db: Session, exam: ExamSession | None = None) -> list[CollectiveDecision]:
    """Collective decisions waiting for the centre's approval: of ``exam``, or of every
    session not yet published."""
    query = (
        select(CollectiveDecision)
        .join(ExamSession, ExamSession.id == CollectiveDecision.session_id)
        .where(
            CollectiveDecision.approved_at.is_(None),
            ExamSession.state != SessionState.PUBLISHED,
            _live(),
        )
        .order_by(ExamSession.code, CollectiveDecision.id)
    )
    if exam is not None:
        query = query.where(CollectiveDecision.session_id == exam.id)
    return list(db.scalars(query))


def of_session(db: Session, exam: ExamSession) -> list[CollectiveDecision]:
    """Every collective decision of the session whose record is not withdrawn."""
    return list(
        db.scalars(
            select(CollectiveDecision)
            .where(CollectiveDecision.session_id == exam.id, _live())
            .order_by(CollectiveDecision.id)
        )
    )


def get_collective(db: Session, exam: ExamSession, label: str) -> CollectiveDecision:
    """The session's live collective decision ``label`` (NotFound otherwise)."""
    found = db.scalar(
        select(CollectiveDecision).where(
            CollectiveDecision.session_id == exam.id, CollectiveDecision.label == label, _live()
        )
    )
    if found is None:
        raise NotFound.coded(
            "no_collective",
            "session %(session)s has no collective decision %(collective)s",
            session=exam.code,
            collective=label,
        )
    return found


def approve_collective(
    db: Session,
    exam: ExamSession,
    decision: CollectiveDecision,
    centre: Account,
    *,
    note: str = "",
    now: dt.datetime | None = None,
) -> CollectiveDecision:
    """The guidance centre approves a collective decision (R13, 第七条(五)); recorded.

    Raises MarkingError unless ``centre`` is an active centre account, StateError when the
    session is published or the decision already approved."""
    if centre.role is not Role.CENTRE or not centre.active:
        raise MarkingError.coded(
            "not_centre",
            "approving a collective violation decision needs an active account of the "
            "guidance centre; %(user)s is not one",
            user=centre.username,
        )
    if decision.session_id != exam.id:
        raise NotFound(f"session {exam.code} has no such collective decision")
    if exam.state is SessionState.PUBLISHED:
        raise StateError(f"session {exam.code} is published; it is read-only")
    # Locked and read again: a second approval at the same time waits, then sees this one.
    db.refresh(decision, with_for_update=True)
    if decision.approved_at is not None:
        raise StateError.coded(
            "collective_approved",
            "collective decision %(collective)s of session %(session)s is already approved",
            collective=decision.label,
            session=exam.code,
        )
    decision.approved_by = centre.id
    decision.approved_at = now or utcnow()
    decision.approval_note = note.strip()
    db.flush()
    ledger.append(
        db,
        exam,
        kind="collective_approved",
        actor=centre.username,
        payload={
            "collective": decision.label,
            "decision": decision.id,
            "record": decision.record_id,
            "candidates": decision.candidates,
            "note": decision.approval_note,
        },
        now=now,
    )
    return decision
