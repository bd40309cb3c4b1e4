"""Which publications a session has: revision 1, then each appeal revision (2, 3, ...), and
which one a reader asked for (the latest unless named)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marking.errors import NotFound
from marking.store.models import ExamSession, Publication


def latest_published(db: Session, exam: ExamSession) -> int:
    """The number of the session's latest published revision (1 for the first publication);
    0 when the session is not published."""
    return (
        db.scalar(select(func.max(Publication.revision)).where(Publication.session_id == exam.id))
        or 0
    )


def published_revisions(db: Session, exam: ExamSession) -> list[int]:
    """The numbers of the session's published revisions, in order."""
    return list(
        db.scalars(
            select(Publication.revision)
            .where(Publication.session_id == exam.id)
            .order_by(Publication.revision)
        )
    )


def pick_revision(db: Session, exam: ExamSession, revision: int | None) -> int:
    """The published revision a reader asked for: ``revision``, or the latest when None (1
    before publication: every mark is revision 1's then). NotFound (coded
    ``revision_unknown``) for one that was not published."""
    if revision is None:
        return latest_published(db, exam) or 1
    if revision not in published_revisions(db, exam):
        raise NotFound.coded(
            "revision_unknown",
            "session %(session)s has no published revision %(number)s",
            session=exam.code,
            number=revision,
        )
    return revision
