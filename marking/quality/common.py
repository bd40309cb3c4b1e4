"""What the lead's quality-control actions share: who may take them, and the examiner's
place on a group."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.errors import MarkingError, NotFound, StateError
from marking.people.register import require_in_standing
from marking.store.models import Account, Assignment, ExamSession, MarkingGroup, SessionState

#: States in which the lead builds qualification sets and seeds: once responses are in,
#: until the session is reconciled (later there is nothing left to mark).
BUILDING = (SessionState.INTAKE, SessionState.MARKING)


def require_lead(exam: ExamSession, account: Account) -> None:
    """Only the session's lead (not the deputy, who rules only where the lead is excluded)
    decides on qualification, seeds, alarms and suspensions, and only while in standing."""
    if exam.lead_id is None or account.id != exam.lead_id:
        raise MarkingError.coded(
            "quality_not_the_lead",
            "only the lead examiner of session %(session)s decides on quality control; "
            "%(user)s is not",
            session=exam.code,
            user=account.username,
        )
    require_in_standing(account, exam)


def require_state(exam: ExamSession, states: tuple[SessionState, ...] = BUILDING) -> None:
    if exam.state not in states:
        raise StateError.coded(
            "quality_not_marking",
            "session %(session)s is %(state)s: quality control is done while it is marked",
            session=exam.code,
            state=exam.state.value,
        )


def require_group(exam: ExamSession, group: MarkingGroup) -> None:
    if group.session_id != exam.id:
        raise NotFound.coded(
            "quality_no_group",
            "session %(session)s has no such marking group",
            session=exam.code,
        )


def need_text(text: str) -> str:
    if not text.strip():
        raise MarkingError.coded("reason_needed", "give the reason, for the record")
    return text.strip()


def assignment_of(
    db: Session, exam: ExamSession, examiner: Account, group: MarkingGroup, *, lock: bool = False
) -> Assignment:
    """The examiner's assignment to the group, or NotFound naming both (names, not keys)."""
    require_group(exam, group)
    query = select(Assignment).where(
        Assignment.group_id == group.id, Assignment.examiner_id == examiner.id
    )
    found = db.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise NotFound.coded(
            "quality_not_assigned",
            "%(user)s is not an examiner of group %(group)s",
            user=examiner.name or examiner.username,
            group=group.name,
        )
    return found
