"""The director's approval of a publication (R16: four eyes), recorded before publishing."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from marking import ledger
from marking.errors import MarkingError, StateError
from marking.models import (
    Account,
    ExamSession,
    PublicationApproval,
    Role,
    SessionState,
    utcnow,
)


def current_approval(db: Session, exam: ExamSession) -> PublicationApproval | None:
    """The approval in force (the latest not withdrawn), if any."""
    return db.scalar(
        select(PublicationApproval)
        .where(
            PublicationApproval.session_id == exam.id, PublicationApproval.withdrawn_at.is_(None)
        )
        .order_by(PublicationApproval.id.desc())
        .limit(1)
    )


def approve_publication(
    db: Session,
    exam: ExamSession,
    director: Account,
    *,
    note: str = "",
    now: dt.datetime | None = None,
) -> PublicationApproval:
    """A director approves the session's publication.

    Raises MarkingError for a non-director account, StateError when the session is not
    in marking or reconciled, or is already approved.
    """
    if director.role is not Role.DIRECTOR or not director.active:
        raise MarkingError("approving a publication needs an active director account (R16)")
    if exam.state not in (SessionState.MARKING, SessionState.RECONCILED):
        raise StateError(f"session {exam.code} is {exam.state.value}: nothing to approve")
    existing = current_approval(db, exam)
    if existing is not None:
        raise StateError(f"session {exam.code}'s publication is already approved")
    approval = PublicationApproval(
        session_id=exam.id, director_id=director.id, note=note.strip(), created_at=now or utcnow()
    )
    db.add(approval)
    db.flush()
    ledger.append(
        db,
        exam,
        kind="publication_approved",
        actor=director.username,
        payload={"approval": approval.id},
        now=now,
    )
    return approval


def withdraw_approval(
    db: Session, exam: ExamSession, director: Account, *, now: dt.datetime | None = None
) -> PublicationApproval:
    """The approving director withdraws it before publication."""
    approval = current_approval(db, exam)
    if approval is None:
        raise StateError(f"session {exam.code} has no approval to withdraw")
    if exam.state is SessionState.PUBLISHED:
        raise StateError(f"session {exam.code} is published; its approval stands")
    if approval.director_id != director.id:
        raise MarkingError("only the director who approved may withdraw the approval")
    approval.withdrawn_at = now or utcnow()
    db.flush()
    ledger.append(
        db,
        exam,
        kind="approval_withdrawn",
        actor=director.username,
        payload={"approval": approval.id},
        now=now,
    )
    return approval
