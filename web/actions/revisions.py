"""Appeal revisions (复核) in the browser: the office opens and publishes, the director
reviews and approves (marking/publication/revisions.py and revision_publish.py)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy.orm import Session

from marking.errors import StateError
from marking.publication.approvals import combined
from marking.publication.revision_publish import (
    approve_revision,
    publish_revision,
    revision_approval_status,
    revision_digest,
    withdraw_revision_approval,
)
from marking.publication.revisions import (
    component_names,
    open_revision,
    open_revision_of,
    revision_progress,
    revisions_of,
)
from marking.read.published import published_revisions
from marking.store.models import Account, ExamSession, Revision, SessionState
from web.actions.common import plain
from web.actions.publishing import open_code


def _approval(db: Session, exam: ExamSession, revision: Revision) -> dict[str, Any] | None:
    status = revision_approval_status(db, exam, revision)
    if status.approval is None:
        return None
    return {
        "by": status.director,
        "at": plain(status.approval.created_at),
        "digest": status.approval.digest,
        "current": status.current,
        "changed": status.changed,
    }


def _described(db: Session, exam: ExamSession, revision: Revision) -> dict[str, Any]:
    names = component_names(db, exam)
    progress = revision_progress(db, exam, revision)
    return {
        "number": revision.number,
        "reason": revision.reason,
        "candidates": [
            {"exam_no": n, "components": [names.get(k, k) for k in keys]}
            for n, keys in revision.candidates.items()
        ],
        "opened_at": plain(revision.opened_at),
        "published_at": plain(revision.published_at) if revision.published_at else None,
        "responses": progress.responses,
        "states": progress.states,
        "short": progress.short,
        "open": [open_code(exam, item) for item in progress.open_items],
        "approval": _approval(db, exam, revision),
    }


def revisions(db: Session, exam: ExamSession) -> dict[str, Any]:
    """The session's revisions for the office and the director: each one, the open one's
    progress and approval, and whether another may be opened."""
    listed = [_described(db, exam, r) for r in revisions_of(db, exam)]
    current = open_revision_of(db, exam)
    digest = None
    if current is not None and not listed[-1]["open"]:
        digest = combined(revision_digest(db, exam, current))
    return {
        "published": published_revisions(db, exam),
        "revisions": listed,
        "open": listed[-1] if current is not None else None,
        "digest": digest,  # what the director approves, once nothing is open
        "components": sorted(component_names(db, exam).items()),
        "can_open": exam.state is SessionState.PUBLISHED and current is None,
    }


def open_rev(
    db: Session,
    exam: ExamSession,
    account: Account,
    *,
    candidates: str,
    components: list[str],
    reason: str,
) -> dict[str, Any]:
    """Open the next revision; ``candidates`` as typed (exam numbers, any separators)."""
    revision = open_revision(
        db,
        exam,
        by=account.username,
        candidates=[n for n in re.split(r"[\s,，;；]+", candidates) if n],
        components=components or None,
        reason=reason,
    )
    return {"revision": revision.number, "candidates": revision.candidates}


def approve_rev(
    db: Session, exam: ExamSession, account: Account, *, note: str, expected: str | None
) -> dict[str, Any]:
    approval = approve_revision(db, exam, account, note=note, expected=expected)
    return {"approved": True, "revision": approval.revision, "digest": approval.digest}


def withdraw_rev(db: Session, exam: ExamSession, account: Account) -> dict[str, Any]:
    approval = withdraw_revision_approval(db, exam, account)
    return {"approved": False, "revision": approval.revision}


def publish_rev(db: Session, exam: ExamSession, account: Account) -> dict[str, Any]:
    """Publish the open revision with the director whose approval is in force."""
    current = open_revision_of(db, exam)
    status = None if current is None else revision_approval_status(db, exam, current)
    if status is None or status.director is None:
        raise StateError("the revision needs a director's approval first (R16)")
    report = publish_revision(db, exam, by=account.username, approved_by=status.director)
    return {
        "revision": current.number if current else None,
        "candidates": report.candidates,
        "results_sha256": report.results_sha256,
        "ledger_head": report.ledger_head,
    }
