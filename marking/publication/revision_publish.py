"""An appeal revision's approval (R16, bound to content) and its publication as revision N.

The director approves the revision as it stands: the digest is the session's publication
digest (``approvals.publication_digest``: finals, withdrawals, rulings, ...) with one part
more, the revision itself (its number, candidates, components and reason), so any later
mark, ruling or correction voids the approval as it does the first one. The interview
panels' part is left out: a revision decides interviews from what revision 1 published.

Publishing needs no key: revision N is a complete result set (every candidate of the
latest published revision; the unchanged ones copied), written with its own results
digest and ledger head in a ``Publication`` row for revision N. The revised candidates'
component scores are recomputed from the finals; their outcome from those scores and,
as published before, their violations (a void stays void) and their interview verdict.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marking.domain.rules import component_scores, outcome
from marking.errors import MarkingError, StateError
from marking.people.accounts import require_role
from marking.publication.approvals import (
    ApprovalStatus,
    ReviewOutdated,
    _sha,
    changed_parts,
    combined,
    current_approval,
    end_approval,
    publication_digest,
    record_approval,
)
from marking.publication.outcomes import component_keys
from marking.publication.preconditions import PublicationRefused, open_work
from marking.publication.reconciliation import check_reconciliation
from marking.publication.results import PublicationReport, write_results
from marking.publication.revisions import require_open_revision, scope_codes
from marking.read.published import latest_published
from marking.store.models import (
    Account,
    Component,
    ExamSession,
    PublicationApproval,
    Question,
    Response,
    Result,
    Revision,
    Role,
    Script,
    utcnow,
)


def revision_digest(db: Session, exam: ExamSession, revision: Revision) -> dict[str, str]:
    """The parts a director approves for a revision (see the module's docstring)."""
    parts = publication_digest(db, exam)
    parts.pop("panels", None)
    parts["revision"] = _sha([revision.number, revision.candidates, revision.reason])
    return parts


def revision_approval_status(db: Session, exam: ExamSession, revision: Revision) -> ApprovalStatus:
    """The approval of this revision in force and what changed since it was given."""
    approval = current_approval(db, exam, revision=revision.number)
    if approval is None:
        return ApprovalStatus()
    director = db.get(Account, approval.director_id)
    assert director is not None
    if revision.published_at is not None:
        return ApprovalStatus(approval, director.username)
    return ApprovalStatus(
        approval,
        director.username,
        changed_parts(approval.parts, revision_digest(db, exam, revision)),
    )


def approve_revision(
    db: Session,
    exam: ExamSession,
    director: Account,
    *,
    note: str = "",
    expected: str | None = None,
    now: dt.datetime | None = None,
) -> PublicationApproval:
    """A director approves the open revision as it stands (R16), as ``approve_publication``
    does the first publication: ``expected`` is the digest the director reviewed.

    Raises MarkingError for a non-director, StateError when no revision is open, while its
    work is open, or when it is already approved as it stands; ReviewOutdated when it is
    no longer what was reviewed."""
    now = now or utcnow()
    if director.role is not Role.DIRECTOR or not director.active:
        raise MarkingError("approving a publication needs an active director account (R16)")
    revision = require_open_revision(db, exam)
    problems = open_work(db, exam, now=now)
    if problems:
        raise StateError.coded(
            "revision_work_open",
            "revision %(number)s of session %(session)s cannot be approved or published "
            "while work is open: %(problems)s",
            number=revision.number,
            session=exam.code,
            problems="; ".join(problems),
        )
    parts = revision_digest(db, exam, revision)
    digest = combined(parts)
    if expected is not None and expected.strip().lower() != digest:
        raise ReviewOutdated(
            f"revision {revision.number} of session {exam.code} is no longer what was "
            "reviewed: nothing was approved; review it again and approve what it shows now"
        )
    before = current_approval(db, exam, revision=revision.number)
    if before is not None and not changed_parts(before.parts, parts):
        raise StateError(f"revision {revision.number} of session {exam.code} is already approved")
    return record_approval(
        db,
        exam,
        director,
        parts=parts,
        before=before,
        note=note,
        now=now,
        revision=revision.number,
    )


def withdraw_revision_approval(
    db: Session, exam: ExamSession, director: Account, *, now: dt.datetime | None = None
) -> PublicationApproval:
    """The approving director withdraws their approval of the open revision, recorded.
    StateError when no revision is open or it has no approval in force, MarkingError for
    another account than the director who approved."""
    revision = require_open_revision(db, exam)
    approval = current_approval(db, exam, revision=revision.number)
    if approval is None:
        raise StateError(f"revision {revision.number} of session {exam.code} has no approval")
    return end_approval(db, exam, director, approval, now=now)


def publish_revision(
    db: Session,
    exam: ExamSession,
    *,
    by: str,
    approved_by: str,
    now: dt.datetime | None = None,
) -> PublicationReport:
    """Publish the open revision as revision N (see the module's docstring).

    ``by`` an office account, ``approved_by`` a different director whose approval of the
    revision still matches it. Raises StateError when no revision is open or its work is
    open, PublicationRefused without a current approval by that director, MarkingError
    for the wrong accounts; nothing is published then.
    """
    now = now or utcnow()
    office = require_role(db, by, Role.OFFICE, what="publishing")
    director = require_role(db, approved_by, Role.DIRECTOR, what="approving publication")
    if office.id == director.id:
        raise MarkingError("the approver must be a second person (R16)")
    revision = require_open_revision(db, exam)
    if problems := open_work(db, exam, now=now):
        raise StateError.coded(
            "revision_work_open",
            "revision %(number)s of session %(session)s cannot be approved or published "
            "while work is open: %(problems)s",
            number=revision.number,
            session=exam.code,
            problems="; ".join(problems),
        )
    status = revision_approval_status(db, exam, revision)
    if status.approval is None or status.director != director.username or status.changed:
        raise PublicationRefused.coded(
            "revision_not_approved",
            "revision %(number)s of session %(session)s has no current approval by "
            "%(director)s: the director reviews and approves it first (R16)",
            number=revision.number,
            session=exam.code,
            director=director.username,
        )
    checked = check_reconciliation(db, exam)
    components = component_keys(db, exam)
    rows = revised_rows(db, exam, revision, components)
    report = write_results(
        db,
        exam,
        rows,
        components=components,
        office=office,
        director=director,
        approval=status.approval,
        checked=checked,
        now=now,
        revision=revision.number,
    )
    revision.published_at = now
    exam.open_revision = None
    db.flush()
    return report


def revised_rows(
    db: Session, exam: ExamSession, revision: Revision, components: list[str]
) -> list[dict[str, Any]]:
    """Revision N's rows: the latest published results, the revised candidates recomputed."""
    latest = latest_published(db, exam)
    scores = _scores_by_code(db, exam, list(scope_codes(db, exam, revision.candidates)))
    rows: list[dict[str, Any]] = []
    for r in db.scalars(
        select(Result)
        .where(Result.session_id == exam.id, Result.revision == latest)
        .order_by(Result.exam_no)
    ):
        parts = {k: dict(r.components.get(k) or {"code": None, "score": None}) for k in components}
        if r.exam_no in revision.candidates:
            for part in parts.values():
                if part.get("code") in scores:
                    part["score"] = scores[part["code"]]
        rows.append(_row(exam, r, parts, components, revised=r.exam_no in revision.candidates))
    return rows


def _row(
    exam: ExamSession,
    r: Result,
    parts: dict[str, dict[str, Any]],
    components: list[str],
    *,
    revised: bool,
) -> dict[str, Any]:
    """A result row as ``write_results`` takes it; the outcome recomputed when ``revised``."""
    row: dict[str, Any] = {"exam_no": r.exam_no, "name": r.name, "id_number": r.id_number}
    for k in components:
        row[f"{k}_code"] = parts[k].get("code") or ""
        row[f"{k}_score"] = parts[k].get("score") or ""
    interview = exam.level <= 2
    if interview:
        row["interview_score"] = "" if r.interview_score is None else f"{r.interview_score:.1f}"
    verdict = r.interview_passed if interview else None
    if revised and interview and r.interview_score is not None and verdict is None:
        verdict = _legacy_verdict(r, components)
    row["outcome"] = (
        outcome(
            voided=r.outcome == "void",
            absent_any=any(parts[k].get("code") is None for k in components)
            or (interview and r.interview_score is None),
            components_passed=[
                Decimal(parts[k]["score"]) * 10 >= 600 for k in components if parts[k].get("code")
            ],
            interview_passed=verdict,
            needs_interview=interview,
        )
        if revised
        else r.outcome
    )
    row["_components"] = parts
    row["_institution"] = r.institution
    row["_interview"] = r.interview_score
    row["_interview_passed"] = verdict
    return row


def _legacy_verdict(r: Result, components: list[str]) -> bool:
    """The interview verdict of a result published before verdicts were stored, where the
    published outcome tells it; MarkingError (coded) where it does not."""
    if r.outcome == "pass":
        return True
    scores = [(r.components.get(k) or {}).get("score") for k in components]
    if r.outcome == "fail" and all(s is not None and Decimal(s) >= 60 for s in scores):
        return False
    raise MarkingError.coded(
        "revision_interview_unknown",
        "the interview verdict of candidate %(exam_no)s was not recorded at publication: "
        "this revision cannot recompute their outcome",
        exam_no=r.exam_no,
    )


def _scores_by_code(db: Session, exam: ExamSession, codes: list[str]) -> dict[str, str]:
    """{script code: component score "73.5"} of these scripts, from their finals now."""
    if not codes:
        return {}
    maxima = {
        key: int(Decimal(total) * 1000) if isinstance(total, Decimal) else int(total)
        for key, total in db.execute(
            select(Component.key, func.sum(Question.max))
            .join(Question, Question.component_id == Component.id)
            .where(Component.session_id == exam.id)
            .group_by(Component.key)
        )
    }
    out: dict[str, str] = {}
    for code, key, total in db.execute(
        select(Script.code, Component.key, func.coalesce(func.sum(Response.final), 0))
        .join(Component, Component.id == Script.component_id)
        .join(Response, Response.script_id == Script.id)
        .where(Script.session_id == exam.id, Script.code.in_(codes))
        .group_by(Script.code, Component.key)
    ):
        milli = int((total or 0) * 1000)
        tenths = int(component_scores(np.array([milli], dtype=np.int64), maxima[key])[0])
        out[code] = f"{Decimal(tenths).scaleb(-1):.1f}"
    return out
