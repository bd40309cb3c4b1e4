"""The lead suspends an examiner on a group and reinstates them (DESIGN §13, issue 13 item 5).

Suspended: they claim nothing more there (the queue skips a suspended assignment), what
they hold there goes back at once, their open alarms there are closed by the decision,
and their marks on responses not yet final are withdrawn and the responses re-marked by
others, unless the lead keeps them by a recorded decision. Reinstated: recorded on the
same row; they claim again, unless the register (第八条) suspends them as well. Each step
has its ledger entry.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.errors import StateError
from marking.publication.late_conflicts import withdraw_marks
from marking.publication.revisions import short_of_examiners
from marking.quality.common import assignment_of, need_text, require_lead, require_state
from marking.quality.holdings import wait_for_claims
from marking.queue.handback import release_held
from marking.store.models import (
    Account,
    Assignment,
    CheckAlarm,
    ExaminerStatus,
    ExamSession,
    GroupSuspension,
    Lease,
    LeaseState,
    Mark,
    MarkingGroup,
    MarkWithdrawal,
    Response,
    ResponseState,
    Script,
    SessionState,
    utcnow,
)

#: Why the marks are withdrawn, in the withdrawal record (the lead's reason is on the
#: suspension row and in its ledger entry).
SUSPENDED = "examiner suspended on the group by the lead (DESIGN §13)"


@dataclass(frozen=True)
class Consequences:
    """What suspending an examiner on a group would do now: shown before the lead confirms."""

    marks_to_withdraw: int  # their marks in force on responses not yet final
    leases: int  # responses they hold there
    alarms: int  # their open alarms there
    examiners_left: int  # others on the group who are not suspended
    marks_required: int


def open_suspension(db: Session, *, examiner_id: int, group_id: int) -> GroupSuspension | None:
    return db.scalar(
        select(GroupSuspension).where(
            GroupSuspension.examiner_id == examiner_id,
            GroupSuspension.group_id == group_id,
            GroupSuspension.reinstated_at.is_(None),
        )
    )


def _unfinal_marks(db: Session, examiner: Account, group: MarkingGroup) -> list[tuple[int, int]]:
    """(mark id, script id) of the examiner's marks in force on the group's responses not
    yet final."""
    return [
        (mid, sid)
        for mid, sid in db.execute(
            select(Mark.id, Response.script_id)
            .join(Response, Response.id == Mark.response_id)
            .where(
                Mark.examiner_id == examiner.id,
                Response.group_id == group.id,
                Response.state != ResponseState.FINAL,
                ~exists().where(MarkWithdrawal.mark_id == Mark.id),
            )
            .order_by(Mark.id)
        )
    ]


def _others(db: Session, examiner: Account, group: MarkingGroup) -> int:
    found = db.scalar(
        select(func.count()).where(
            Assignment.group_id == group.id,
            Assignment.examiner_id != examiner.id,
            Assignment.suspended_at.is_(None),
        )
    )
    return int(found or 0)


def consequences(
    db: Session, exam: ExamSession, *, examiner: Account, group: MarkingGroup
) -> Consequences:
    """What a suspension would do now (for the confirmation page)."""
    assignment_of(db, exam, examiner, group)
    leases = db.scalar(
        select(func.count())
        .select_from(Lease)
        .join(Response, Response.id == Lease.response_id)
        .where(
            Lease.examiner_id == examiner.id,
            Lease.state == LeaseState.HELD,
            Response.group_id == group.id,
        )
    )
    alarms = db.scalar(
        select(func.count()).where(
            CheckAlarm.examiner_id == examiner.id,
            CheckAlarm.group_id == group.id,
            CheckAlarm.closed_at.is_(None),
        )
    )
    return Consequences(
        marks_to_withdraw=len(_unfinal_marks(db, examiner, group)),
        leases=int(leases or 0),
        alarms=int(alarms or 0),
        examiners_left=_others(db, examiner, group),
        marks_required=group.marks_required,
    )


def _close_alarms(
    db: Session,
    lead: Account,
    *,
    examiner: Account,
    group: MarkingGroup,
    note: str,
    now: dt.datetime,
) -> list[int]:
    """The suspension decides the examiner's open alarms on the group: closed, its reason
    their note. Returns their ids (for the ledger)."""
    closed = []
    for alarm in db.scalars(
        select(CheckAlarm).where(
            CheckAlarm.examiner_id == examiner.id,
            CheckAlarm.group_id == group.id,
            CheckAlarm.closed_at.is_(None),
        )
    ):
        alarm.closed_at = now
        alarm.closed_by = lead.id
        alarm.close_note = note
        closed.append(alarm.id)
    return closed


def suspend(
    db: Session,
    exam: ExamSession,
    lead: Account,
    *,
    examiner: Account,
    group: MarkingGroup,
    reason: str,
    keep_marks: bool,
    now: dt.datetime | None = None,
) -> GroupSuspension:
    """Suspend ``examiner`` on ``group`` with a reason (see the module docstring).

    Raises MarkingError (coded) for anyone but the lead or without a reason; NotFound when
    the examiner is not on the group (or the group not of the session); StateError when
    they are suspended there already, for the lead themselves (the lead rules on the
    session's arbitrations and anomalies: suspending themselves would leave those without
    their judge; the office's register is the way), or outside marking."""
    require_lead(exam, lead)
    require_state(exam, (SessionState.MARKING,))
    reason = need_text(reason)
    wait_for_claims(db, examiner_id=examiner.id)
    assignment = assignment_of(db, exam, examiner, group, lock=True)
    if examiner.id == lead.id:
        raise StateError.coded(
            "suspend_self",
            "the lead examiner does not suspend themselves: the office records it in the "
            "register (第八条), and names another lead",
        )
    if open_suspension(db, examiner_id=examiner.id, group_id=group.id) is not None:
        raise StateError.coded(
            "group_already_suspended",
            "%(user)s is already suspended on group %(group)s",
            user=examiner.name or examiner.username,
            group=group.name,
        )
    now = now or utcnow()
    assignment.suspended_at = now
    leases, checks = release_held(
        db, examiner_id=examiner.id, group_ids=[group.id], qualification=True
    )
    closed = _close_alarms(db, lead, examiner=examiner, group=group, note=reason, now=now)
    withdrawn = 0
    hits = [] if keep_marks else _unfinal_marks(db, examiner, group)
    if hits:
        withdrawn = withdraw_marks(
            db, exam, hits, reason=SUSPENDED, actor=lead.username, exclude_authors=False
        )
    row = GroupSuspension(
        session_id=exam.id,
        group_id=group.id,
        examiner_id=examiner.id,
        reason=reason,
        by_id=lead.id,
        created_at=now,
        keep_marks=keep_marks,
        withdrawn=withdrawn,
    )
    db.add(row)
    db.flush()
    ledger.append(
        db,
        exam,
        kind="suspension",
        actor=lead.username,
        payload={
            "suspension": row.id,
            "examiner": examiner.username,
            "group": group.key,
            "keep_marks": keep_marks,
            "withdrawn": [m for m, _s in hits],
            "leases_released": leases,
            "checks_released": checks,
            "alarms_closed": closed,
            "reason": reason,
        },
        now=now,
    )
    return row


def reinstate(
    db: Session,
    exam: ExamSession,
    lead: Account,
    *,
    examiner: Account,
    group: MarkingGroup,
    reason: str,
    now: dt.datetime | None = None,
) -> GroupSuspension:
    """End the lead's suspension of ``examiner`` on ``group``, recorded on its row. They
    claim there again unless the register suspends (or revoked) them: that stays until
    the office reinstates them there. Marks withdrawn stay withdrawn.

    Raises MarkingError (coded) for anyone but the lead or without a reason; NotFound when
    the examiner is not on the group; StateError when the lead has not suspended them."""
    require_lead(exam, lead)
    require_state(exam, (SessionState.MARKING,))
    reason = need_text(reason)
    assignment = assignment_of(db, exam, examiner, group, lock=True)
    row = open_suspension(db, examiner_id=examiner.id, group_id=group.id)
    if row is None:
        raise StateError.coded(
            "group_not_suspended",
            "%(user)s is not suspended on group %(group)s: nothing to reinstate",
            user=examiner.name or examiner.username,
            group=group.name,
        )
    now = now or utcnow()
    row.reinstated_at = now
    row.reinstated_by = lead.id
    row.reinstate_reason = reason
    in_register = examiner.examiner is None or examiner.examiner.status is ExaminerStatus.ACTIVE
    if in_register:
        assignment.suspended_at = None
    db.flush()
    ledger.append(
        db,
        exam,
        kind="reinstatement",
        actor=lead.username,
        payload={
            "suspension": row.id,
            "examiner": examiner.username,
            "group": group.key,
            "claims_again": in_register,
            "reason": reason,
        },
        now=now,
    )
    return row


def short_groups(db: Session, exam: ExamSession) -> dict[str, tuple[int, int]]:
    """{group key: (examiners not suspended, responses with too few of them left)} for the
    groups where marking cannot finish as the team stands: fewer examiners than a response
    needs marks while some of its responses are open, or responses needing marks from more
    examiners than remain who have not marked them. The office (or the lead) assigns more;
    the page says so."""
    stranded = short_of_examiners(db, exam, whole_session=True)
    out: dict[str, tuple[int, int]] = {}
    counts = dict(
        (k, v)
        for k, v in db.execute(
            select(Assignment.group_id, func.count())
            .where(Assignment.session_id == exam.id, Assignment.suspended_at.is_(None))
            .group_by(Assignment.group_id)
        )
    )
    open_in = {
        gid
        for (gid,) in db.execute(
            select(Response.group_id)
            .join(Script, Script.id == Response.script_id)
            .where(Script.session_id == exam.id, Response.state == ResponseState.OPEN)
            .distinct()
        )
    }
    for group in exam.groups:
        left = int(counts.get(group.id, 0))
        if (left < group.marks_required and group.id in open_in) or stranded.get(group.key):
            out[group.key] = (left, stranded.get(group.key, 0))
    return out


@dataclass(frozen=True)
class Member:
    """An examiner on a group as the lead's list shows them (DESIGN §13 status)."""

    username: str
    name: str
    status: str  # qualifying | active | suspended
    by_register: bool  # suspended (or revoked) in the register: only the office lifts that
    by_lead: GroupSuspension | None  # the lead's open suspension, if any
    alarms: tuple[str, ...]  # open alarm kinds


def members(db: Session, exam: ExamSession, group: MarkingGroup) -> list[Member]:
    """The group's examiners with their status, by name."""
    rows = db.execute(
        select(Assignment, Account)
        .join(Account, Account.id == Assignment.examiner_id)
        .where(Assignment.group_id == group.id)
        .order_by(Account.name, Account.username)
    )
    suspensions = {
        s.examiner_id: s
        for s in db.scalars(
            select(GroupSuspension).where(
                GroupSuspension.group_id == group.id, GroupSuspension.reinstated_at.is_(None)
            )
        )
    }
    open_alarms: dict[int, list[str]] = {}
    for examiner_id, kind in db.execute(
        select(CheckAlarm.examiner_id, CheckAlarm.kind)
        .where(CheckAlarm.group_id == group.id, CheckAlarm.closed_at.is_(None))
        .order_by(CheckAlarm.kind)
    ):
        open_alarms.setdefault(examiner_id, []).append(kind.value)
    out = []
    for assignment, account in rows:
        if assignment.suspended_at is not None:
            status = "suspended"
        elif group.qualification_size is not None and assignment.qualified_at is None:
            status = "qualifying"
        else:
            status = "active"
        standing = account.examiner
        out.append(
            Member(
                username=account.username,
                name=account.name or account.username,
                status=status,
                by_register=standing is not None and standing.status is not ExaminerStatus.ACTIVE,
                by_lead=suspensions.get(account.id),
                alarms=tuple(open_alarms.get(account.id, ())),
            )
        )
    return out


def held_by_leads(db: Session, *, examiner_id: int) -> list[tuple[str, str]]:
    """(session code, group name) where a lead's suspension of the examiner is still open in
    a session not yet published: what a register reinstatement leaves in place (the office
    is told, so it knows to ask the lead)."""
    return [
        (code, name)
        for code, name in db.execute(
            select(ExamSession.code, MarkingGroup.name)
            .select_from(GroupSuspension)
            .join(MarkingGroup, MarkingGroup.id == GroupSuspension.group_id)
            .join(ExamSession, ExamSession.id == GroupSuspension.session_id)
            .where(
                GroupSuspension.examiner_id == examiner_id,
                GroupSuspension.reinstated_at.is_(None),
                ExamSession.state != SessionState.PUBLISHED,
            )
            .order_by(ExamSession.code, MarkingGroup.id)
        )
    ]
