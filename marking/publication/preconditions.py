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
from marking.queue.handback import UNANNOUNCED
from marking.read.status import unresolved_reports
from marking.store.models import (
    Account,
    CheckMark,
    CheckState,
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
    return [str(item) for item in open_items(db, exam, now=now, skip_scripts=skip_scripts)]


def open_items(
    db: Session,
    exam: ExamSession,
    *,
    now: dt.datetime | None = None,
    skip_scripts: Sequence[int] = (),
) -> list[MarkingError]:
    """``open_work`` as coded items, for a screen to word in its reader's language."""
    now = now or utcnow()
    problems: list[MarkingError] = []
    query = (
        select(MarkingGroup.key, Response.state, func.count())
        .join(Response, Response.group_id == MarkingGroup.id)
        .where(MarkingGroup.session_id == exam.id, Response.state != ResponseState.FINAL)
        .group_by(MarkingGroup.key, Response.state)
        .order_by(MarkingGroup.key)
    )
    if skip_scripts:
        query = query.where(Response.script_id.not_in(list(skip_scripts)))
    for group, state, count in db.execute(query).all():
        problems.append(_waiting_responses(group, state, count))
    anomalies = unresolved_reports(db, exam)
    if anomalies:
        problems.append(
            MarkingError.coded(
                "open_anomaly_reports",
                "%(count)s anomaly report(s) are not resolved",
                count=anomalies,
            )
        )
    unruled = _rulings_nobody_may_give(db, exam)
    if unruled:
        problems.append(
            MarkingError.coded(
                "open_no_deputy",
                "%(count)s response(s) wait for a ruling the lead is excluded from and no deputy "
                "lead may give: name one (`blindmark assign --session %(session)s --deputy U`)",
                count=unruled,
                session=exam.code,
            )
        )
    problems.extend(_session_items(db, exam, now=now))
    return problems


def _session_items(db: Session, exam: ExamSession, *, now: dt.datetime) -> list[MarkingError]:
    """The session-wide items of ``open_items``: leases, schemes, batches, collectives."""
    problems: list[MarkingError] = []
    leases = db.scalar(
        select(func.count())
        .select_from(Lease)
        .join(Response, Response.id == Lease.response_id)
        .join(Script, Script.id == Response.script_id)
        .where(Script.session_id == exam.id, Lease.state == LeaseState.HELD, Lease.expires_at > now)
    )
    # Seeds and 回评 held are counted as the live work they look like: an examiner holding
    # one is marking still (and the lead may have finished the response it displaced).
    checks = db.scalar(
        select(func.count())
        .select_from(CheckMark)
        .where(
            CheckMark.session_id == exam.id,
            CheckMark.state == CheckState.HELD,
            CheckMark.expires_at > now,
            CheckMark.purpose.in_(UNANNOUNCED),
        )
    )
    leases = (leases or 0) + (checks or 0)
    if leases:
        problems.append(
            MarkingError.coded(
                "open_held", "%(count)s response(s) are still held by examiners", count=leases
            )
        )
    unapproved = db.scalars(
        select(MarkingGroup.key).where(
            MarkingGroup.session_id == exam.id, MarkingGroup.approved_at.is_(None)
        )
    ).all()
    if unapproved:
        problems.append(
            MarkingError.coded(
                "open_scheme",
                "marking scheme not approved for group(s): %(groups)s",
                groups=", ".join(unapproved),
            )
        )
    batches = db.scalar(
        select(func.count())
        .select_from(IntakeBatch)
        .where(IntakeBatch.session_id == exam.id, IntakeBatch.withdrawn_at.is_(None))
    )
    if not batches:
        problems.append(MarkingError.coded("open_no_batch", "no intake batch"))
    waiting = collectives.waiting(db, exam)
    if waiting:
        problems.append(
            MarkingError.coded(
                "open_collectives",
                "%(count)s collective violation decision(s) wait for the guidance centre's "
                "approval (R13): %(which)s",
                count=len(waiting),
                which=", ".join(w.label for w in waiting),
            )
        )
    return problems


def _waiting_responses(group: str, state: ResponseState, count: int) -> MarkingError:
    """A group's responses that are not final yet, by what they wait for."""
    if state is ResponseState.ANOMALY:
        return MarkingError.coded(
            "open_anomaly",
            "group %(group)s: %(count)s response(s) are on hold for an anomaly",
            group=group,
            count=count,
        )
    if state is ResponseState.ARBITRATION:
        return MarkingError.coded(
            "open_arbitration",
            "group %(group)s: %(count)s response(s) await the lead's arbitration",
            group=group,
            count=count,
        )
    return MarkingError.coded(
        "open_marks",
        "group %(group)s: %(count)s response(s) still need marks",
        group=group,
        count=count,
    )


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
