"""What must hold before publication: the session publishable by these two people with its
key, every response final and nothing else open (the approval's own check, that the session
is still what the director approved, is ``approvals.require_current_approval``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marking.errors import MarkingError, StateError
from marking.intake import collectives
from marking.intake.recusal import excluded_clause
from marking.people.accounts import require_role
from marking.store.models import (
    Account,
    Anomaly,
    Examiner,
    ExamSession,
    Grade,
    IntakeBatch,
    Lease,
    LeaseState,
    MarkingGroup,
    Response,
    ResponseState,
    Role,
    Script,
    SessionState,
    utcnow,
)


class PublicationRefused(MarkingError):
    """Publication cannot go ahead; the message lists what is still to be done."""

    exit_code = 4


def require_publishable(
    db: Session, exam: ExamSession, *, by: str, approved_by: str, public_key: bytes
) -> tuple[Account, Account]:
    """The office and director accounts, once the session may be published by them with a
    key whose public half is ``public_key``; raises StateError or MarkingError otherwise."""
    if exam.state is SessionState.PUBLISHED:
        raise StateError(f"session {exam.code} is already published; it is read-only")
    if exam.state not in (SessionState.MARKING, SessionState.RECONCILED):
        raise StateError(f"session {exam.code} is {exam.state.value}: nothing to publish yet")
    office = require_role(db, by, Role.OFFICE, what="publishing")
    director = require_role(db, approved_by, Role.DIRECTOR, what="approving publication")
    if office.id == director.id:
        raise MarkingError("the approver must be a second person (R16)")
    if exam.public_key is None or public_key != exam.public_key:
        raise MarkingError("that key does not belong to this session")
    return office, director


def senior_examiners(db: Session) -> list[str]:
    """The usernames of the senior examiners, sorted: who counts on an interview panel (R7).

    What publication reads of the examiner register; the director's approval of a session
    with an interview digests it, so a grade changed after the approval voids it."""
    return list(
        db.scalars(
            select(Account.username)
            .join(Examiner, Examiner.account_id == Account.id)
            .where(Examiner.grade == Grade.SENIOR)
            .order_by(Account.username)
        )
    )


def open_work(
    db: Session,
    exam: ExamSession,
    *,
    now: dt.datetime | None = None,
    skip_scripts: Sequence[int] = (),
) -> list[str]:
    """What still stands between the session and publication; [] when nothing does.

    ``skip_scripts`` are scripts of withdrawn batches: their work no longer counts.
    """
    now = now or utcnow()
    problems: list[str] = []
    query = (
        select(MarkingGroup.key, Response.state, func.count())
        .join(Response, Response.group_id == MarkingGroup.id)
        .where(MarkingGroup.session_id == exam.id, Response.state != ResponseState.FINAL)
        .group_by(MarkingGroup.key, Response.state)
        .order_by(MarkingGroup.key)
    )
    if skip_scripts:
        query = query.where(Response.script_id.not_in(list(skip_scripts)))
    rows = db.execute(query).all()
    words = {
        ResponseState.OPEN: "still need marks",
        ResponseState.ANOMALY: "are on hold for an anomaly",
        ResponseState.ARBITRATION: "await the lead's arbitration",
    }
    for group, state, count in rows:
        problems.append(f"group {group}: {count} response(s) {words[state]}")
    anomalies = db.scalar(
        select(func.count())
        .select_from(Anomaly)
        .where(Anomaly.session_id == exam.id, Anomaly.resolution.is_(None))
    )
    if anomalies:
        problems.append(f"{anomalies} anomaly report(s) are not resolved")
    unruled = _rulings_nobody_may_give(db, exam)
    if unruled:
        problems.append(
            f"{unruled} response(s) wait for a ruling the lead is excluded from and no deputy "
            f"lead may give: name one (`blindmark assign --session {exam.code} --deputy U`)"
        )
    leases = db.scalar(
        select(func.count())
        .select_from(Lease)
        .join(Response, Response.id == Lease.response_id)
        .join(Script, Script.id == Response.script_id)
        .where(Script.session_id == exam.id, Lease.state == LeaseState.HELD, Lease.expires_at > now)
    )
    if leases:
        problems.append(f"{leases} response(s) are still held by examiners")
    unapproved = db.scalars(
        select(MarkingGroup.key).where(
            MarkingGroup.session_id == exam.id, MarkingGroup.approved_at.is_(None)
        )
    ).all()
    if unapproved:
        problems.append("marking scheme not approved for group(s): " + ", ".join(unapproved))
    batches = db.scalar(
        select(func.count())
        .select_from(IntakeBatch)
        .where(IntakeBatch.session_id == exam.id, IntakeBatch.withdrawn_at.is_(None))
    )
    if not batches:
        problems.append("no intake batch")
    waiting = collectives.waiting(db, exam)
    if waiting:
        problems.append(
            f"{len(waiting)} collective violation decision(s) wait for the guidance centre's "
            "approval (R13): " + ", ".join(f"{w.label} (record {w.record_id})" for w in waiting)
        )
    return problems


def _rulings_nobody_may_give(db: Session, exam: ExamSession) -> int:
    """Responses awaiting arbitration or an anomaly ruling that neither the lead nor the
    deputy may give (the lead excluded, the deputy missing or excluded too)."""
    if exam.lead_id is None:
        return 0
    nobody = excluded_clause(exam.lead_id, Response.script_id)
    if exam.deputy_id is not None:
        nobody = nobody & excluded_clause(exam.deputy_id, Response.script_id)
    return (
        db.scalar(
            select(func.count())
            .select_from(Response)
            .join(Script, Script.id == Response.script_id)
            .where(
                Script.session_id == exam.id,
                Response.state.in_([ResponseState.ARBITRATION, ResponseState.ANOMALY]),
                nobody,
            )
        )
        or 0
    )
