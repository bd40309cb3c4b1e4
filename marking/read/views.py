"""What the web screens read: per-role views of a session, never a candidate's identity.

Everything here returns opaque script codes, question texts, marks and counts only; the
identity tables are sealed and nothing here could read them anyway (blindness, R1).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from marking.errors import NotFound
from marking.intake.recusal import rules_here
from marking.queue.claims import Claimed, describe, masked, shown_code
from marking.store.models import (
    Account,
    Anomaly,
    Assignment,
    Component,
    ExamSession,
    Image,
    Lease,
    LeaseState,
    Mark,
    MarkingGroup,
    Question,
    Response,
    Script,
    utcnow,
)
from marking.store.models.checks import CheckMark, CheckPurpose, CheckState


def sessions_of_examiner(db: Session, account: Account) -> list[ExamSession]:
    """Sessions in which the account is assigned to at least one marking group."""
    return list(
        db.scalars(
            select(ExamSession)
            .where(
                ExamSession.id.in_(
                    select(Assignment.session_id).where(Assignment.examiner_id == account.id)
                )
            )
            .order_by(ExamSession.date.desc(), ExamSession.code)
        )
    )


def sessions_led_by(db: Session, account: Account) -> list[ExamSession]:
    """Sessions the account leads, or deputises for (DESIGN §14)."""
    return list(
        db.scalars(
            select(ExamSession)
            .where((ExamSession.lead_id == account.id) | (ExamSession.deputy_id == account.id))
            .order_by(ExamSession.date.desc(), ExamSession.code)
        )
    )


def all_sessions(db: Session) -> list[ExamSession]:
    return list(db.scalars(select(ExamSession).order_by(ExamSession.date.desc(), ExamSession.code)))


@dataclass(frozen=True)
class ExaminerGroup:
    """One of an examiner's marking groups: its state and the examiner's own marks and
    holdings. Nothing derived from reconciliation: how many responses are final would move
    when the examiner's mark agreed with the other one, and tell them so (R3).

    No count of what is left to take either (DESIGN §13). A seed or 回评 takes the place of a
    live response in its batch, and that response can come back to the examiner later: any
    count of what they may take either rises when they mark a check (where a mark of live
    work moves nothing) or, counted off, falls short of what a claim then hands them. Both
    tell the examiner that checks came. So the marking screen learns whether work is left by
    asking for it, as the examiner does, and says so when none came."""

    key: str
    name: str
    approved: bool
    suspended: bool
    # No count of the group's responses: an examiner's seeds and 回评 count among their marks
    # (``my_marks``) as the live work they look like, and they may later mark the response a
    # check displaced too, so their marks could pass the group's size and say checks exist.
    my_marks: int
    held: int
    # R5: the group has a qualification set the examiner has not passed yet (DESIGN §13).
    qualifying: bool = False


def examiner_groups(db: Session, exam: ExamSession, account: Account) -> list[ExaminerGroup]:
    rows = db.execute(
        select(MarkingGroup, Assignment.suspended_at, Assignment.qualified_at)
        .join(Assignment, Assignment.group_id == MarkingGroup.id)
        .where(Assignment.session_id == exam.id, Assignment.examiner_id == account.id)
        .order_by(MarkingGroup.id)
    ).all()
    ids = [g.id for g, _s, _q in rows]

    def per_group(query: Any) -> dict[int, int]:
        return {gid: int(n) for gid, n in db.execute(query.group_by(Response.group_id))}

    counted = select(Response.group_id, func.count())
    mine = per_group(
        counted.join(Mark, Mark.response_id == Response.id).where(
            Mark.examiner_id == account.id, Response.group_id.in_(ids)
        )
    )
    held = per_group(
        counted.join(Lease, Lease.response_id == Response.id).where(
            Lease.examiner_id == account.id,
            Lease.state == LeaseState.HELD,
            Lease.expires_at > utcnow(),
            Response.group_id.in_(ids),
        )
    )
    # Their seeds and 回评 count as the live work they look like (DESIGN §13: a count that
    # left them out would tell the examiner which responses of their batch were checks).
    checks = _check_counts(db, exam, account, now=utcnow())
    return [
        ExaminerGroup(
            key=g.key,
            name=g.name,
            approved=g.approved_at is not None,
            suspended=suspended is not None,
            my_marks=mine.get(g.id, 0) + checks.get((g.id, True), 0),
            held=held.get(g.id, 0) + checks.get((g.id, False), 0),
            qualifying=g.qualification_size is not None and qualified is None,
        )
        for g, suspended, qualified in rows
    ]


def _check_counts(
    db: Session, exam: ExamSession, account: Account, *, now: dt.datetime
) -> dict[tuple[int, bool], int]:
    """(group id, submitted?) → the examiner's seeds and 回评 marked, or held now."""
    submitted = CheckMark.state == CheckState.SUBMITTED
    rows = db.execute(
        select(CheckMark.group_id, submitted, func.count())
        .where(
            CheckMark.session_id == exam.id,
            CheckMark.examiner_id == account.id,
            CheckMark.purpose.in_([CheckPurpose.SEED, CheckPurpose.REMARK]),
            or_(submitted, and_(CheckMark.state == CheckState.HELD, CheckMark.expires_at > now)),
        )
        .group_by(CheckMark.group_id, submitted)
    )
    return {(gid, bool(done)): int(n) for gid, done, n in rows}


def held_by(
    db: Session,
    exam: ExamSession,
    account: Account,
    *,
    group_id: int | None = None,
    now: dt.datetime | None = None,
) -> list[Claimed]:
    """The responses the examiner holds right now in this session, or in group ``group_id``
    of it (a reloaded page resumes), each with its lease's expiry."""
    now = now or utcnow()
    query = (
        select(Lease.response_id, Lease.expires_at)
        .join(Response, Response.id == Lease.response_id)
        .join(Script, Script.id == Response.script_id)
        .where(
            Script.session_id == exam.id,
            Lease.examiner_id == account.id,
            Lease.state == LeaseState.HELD,
            Lease.expires_at > now,
        )
    )
    if group_id is not None:
        query = query.where(Response.group_id == group_id)
    expiry: dict[int, dt.datetime] = {r: e for r, e in db.execute(query)}
    if not expiry:
        return []
    # Each under its own lease's expiry, as the claim gave it: a check held alongside shows
    # its own batch's (``checks.held_checks``); one time for all would single the checks out.
    items = describe(db, list(expiry), expires_at=min(expiry.values()))
    return masked(exam, [replace(i, expires_at=expiry[i.response_id]) for i in items])


def session_response(db: Session, exam: ExamSession, response_id: int) -> Response:
    """A response of this session (NotFound for another session's, which is not told apart)."""
    row = db.execute(
        select(Response)
        .join(Script, Script.id == Response.script_id)
        .where(Response.id == response_id, Script.session_id == exam.id)
    ).scalar_one_or_none()
    if row is None:
        raise NotFound(f"that response is not in session {exam.code}")
    return row


def holds(
    db: Session, exam: ExamSession, account: Account, response_id: int, *, now: dt.datetime
) -> bool:
    """Whether the account holds a live lease on this response of this session."""
    return (
        db.scalar(
            select(Lease.id)
            .join(Response, Response.id == Lease.response_id)
            .join(Script, Script.id == Response.script_id)
            .where(
                Lease.response_id == response_id,
                Lease.examiner_id == account.id,
                Lease.state == LeaseState.HELD,
                Lease.expires_at > now,
                Script.session_id == exam.id,
            )
        )
        is not None
    )


def image_of(db: Session, response: Response) -> Image:
    if response.image_sha256 is None:
        raise NotFound("this response has no image")
    image = db.get(Image, response.image_sha256)
    if image is None:  # pragma: no cover - the foreign key prevents it
        raise NotFound("this response has no image")
    return image


@dataclass(frozen=True)
class AnomalyView:
    """A flag as the lead sees it: the response, the question and who flagged it."""

    id: int
    kind: str
    note: str
    examiner: str
    created_at: dt.datetime
    response_id: int
    script_code: str
    component: str
    question: str
    question_type: str
    text: str
    image_sha256: str | None
    max: Decimal
    step: Decimal
    reference: str
    scheme: str
    blank: bool = False  # a scanned answer box with no ink


def anomaly_inbox(
    db: Session, exam: ExamSession, ruler: Account, *, limit: int = 200
) -> list[AnomalyView]:
    """Open anomaly reports of the session that ``ruler`` resolves, oldest first: the
    lead's, or for the deputy lead exactly those on responses the lead is excluded from."""
    rows = db.execute(
        select(Anomaly, Account.username, Response, Script.code, Component.key, Question)
        .join(Account, Account.id == Anomaly.examiner_id)
        .join(Response, Response.id == Anomaly.response_id)
        .join(Script, Script.id == Response.script_id)
        .join(Question, Question.id == Response.question_id)
        .join(Component, Component.id == Question.component_id)
        .where(
            Anomaly.session_id == exam.id,
            Anomaly.resolution.is_(None),
            rules_here(exam, ruler, Response.script_id),
        )
        .order_by(Anomaly.id)
        .limit(limit)
    ).all()
    return [
        AnomalyView(
            id=a.id,
            kind=a.kind.value,
            note=a.note,
            examiner=username,
            created_at=a.created_at,
            response_id=r.id,
            script_code=shown_code(exam, code),
            component=component,
            question=q.number,
            question_type=q.type.value,
            text=r.text,
            image_sha256=r.image_sha256,
            max=q.max,
            step=q.step,
            reference=q.reference,
            scheme=q.scheme,
            blank=r.blank,
        )
        for a, username, r, code, component, q in rows
    ]


@dataclass(frozen=True)
class ObjectiveQuestion:
    component: str
    number: str
    type: str
    answer: list[str]


def objective_questions(db: Session, exam: ExamSession) -> list[ObjectiveQuestion]:
    """Questions scored from a key, with their current key (for the lead's corrections)."""
    return [
        ObjectiveQuestion(component, q.number, q.type.value, list(q.answer or []))
        for q, component in db.execute(
            select(Question, Component.key)
            .join(Component, Component.id == Question.component_id)
            .where(Component.session_id == exam.id, Question.answer.is_not(None))
            .order_by(Component.position, Question.position)
        )
    ]
