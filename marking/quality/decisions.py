"""The lead's other quality decisions (DESIGN §13): qualifying an examiner on a group by a
recorded override (R5), and closing a drift alarm with a note. Each has its ledger entry."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.errors import NotFound, StateError
from marking.quality.common import assignment_of, need_text, require_lead, require_state
from marking.queue.handback import release_held
from marking.store.models import (
    Account,
    AlarmKind,
    CheckAlarm,
    ExamSession,
    MarkingGroup,
    QualificationOverride,
    utcnow,
)


def override_qualification(
    db: Session,
    exam: ExamSession,
    lead: Account,
    *,
    examiner: Account,
    group: MarkingGroup,
    reason: str,
    now: dt.datetime | None = None,
) -> QualificationOverride:
    """The lead qualifies ``examiner`` on ``group`` without (or despite) the qualification
    set, with a reason: live claims open to them there; a qualification attempt they hold
    is released (its checks are not needed any more).

    Raises MarkingError (coded) for anyone but the lead or without a reason; NotFound when
    the examiner is not on the group; StateError when the group asks for no qualification
    or they are qualified already."""
    require_lead(exam, lead)
    require_state(exam)
    reason = need_text(reason)
    assignment = assignment_of(db, exam, examiner, group, lock=True)
    who = examiner.name or examiner.username
    if group.qualification_size is None:
        raise StateError.coded(
            "qualification_none",
            "group %(group)s asks for no qualification set (session.toml)",
            group=group.name,
        )
    if assignment.qualified_at is not None:
        raise StateError.coded(
            "already_qualified",
            "%(user)s is qualified on group %(group)s already",
            user=who,
            group=group.name,
        )
    now = now or utcnow()
    assignment.qualified_at = now
    # Not qualified until now, they hold nothing live there: what goes back is the
    # qualification attempt they hold.
    _leases, released = release_held(
        db, examiner_id=examiner.id, group_ids=[group.id], qualification=True
    )
    row = QualificationOverride(
        session_id=exam.id,
        group_id=group.id,
        examiner_id=examiner.id,
        reason=reason,
        by_id=lead.id,
        created_at=now,
    )
    db.add(row)
    db.flush()
    ledger.append(
        db,
        exam,
        kind="qualification_override",
        actor=lead.username,
        payload={
            "override": row.id,
            "examiner": examiner.username,
            "group": group.key,
            "checks_released": released,
            "reason": reason,
        },
        now=now,
    )
    return row


def close_alarm(
    db: Session,
    exam: ExamSession,
    lead: Account,
    *,
    alarm_id: int,
    note: str,
    now: dt.datetime | None = None,
) -> CheckAlarm:
    """The lead closes a drift alarm with a note (looked into, spoken to the examiner...).

    Raises MarkingError (coded) for anyone but the lead or without a note; NotFound for
    another session's alarm; StateError for one closed already."""
    require_lead(exam, lead)
    note = need_text(note)
    alarm = db.get(CheckAlarm, alarm_id, with_for_update=True)
    if alarm is None or alarm.session_id != exam.id:
        raise NotFound.coded(
            "alarm_unknown", "no such alarm in session %(session)s", session=exam.code
        )
    if alarm.closed_at is not None:
        raise StateError.coded("alarm_closed", "that alarm is closed already")
    now = now or utcnow()
    alarm.closed_at = now
    alarm.closed_by = lead.id
    alarm.close_note = note
    db.flush()
    ledger.append(
        db,
        exam,
        kind="alarm_closed",
        actor=lead.username,
        payload={"alarm": alarm.id, "kind": alarm.kind.value, "note": note},
        now=now,
    )
    return alarm


def open_alarm(
    db: Session, exam: ExamSession, *, examiner: Account, group: MarkingGroup, kind: AlarmKind
) -> CheckAlarm:
    """The open alarm of this kind on the examiner in the group (at most one: the lead's
    screens address alarms so, not by row id); NotFound otherwise."""
    found = db.scalar(
        select(CheckAlarm).where(
            CheckAlarm.session_id == exam.id,
            CheckAlarm.group_id == group.id,
            CheckAlarm.examiner_id == examiner.id,
            CheckAlarm.kind == kind,
            CheckAlarm.closed_at.is_(None),
        )
    )
    if found is None:
        raise NotFound.coded(
            "alarm_unknown", "no such alarm in session %(session)s", session=exam.code
        )
    return found


@dataclass(frozen=True)
class AlarmView:
    """An alarm as the lead's inbox shows it: names, not keys or ids."""

    group_key: str
    group: str
    username: str
    examiner: str
    kind: AlarmKind
    raised_at: dt.datetime
    evidence: dict[str, Any]
    closed_at: dt.datetime | None
    close_note: str


def alarms(db: Session, exam: ExamSession, *, closed: bool = False) -> list[AlarmView]:
    """The session's open alarms, newest first (``closed``: the closed ones too)."""
    query = (
        select(CheckAlarm, MarkingGroup, Account)
        .join(MarkingGroup, MarkingGroup.id == CheckAlarm.group_id)
        .join(Account, Account.id == CheckAlarm.examiner_id)
        .where(CheckAlarm.session_id == exam.id)
        .order_by(CheckAlarm.raised_at.desc(), CheckAlarm.id.desc())
    )
    if not closed:
        query = query.where(CheckAlarm.closed_at.is_(None))
    return [
        AlarmView(
            group_key=g.key,
            group=g.name,
            username=a.username,
            examiner=a.name or a.username,
            kind=alarm.kind,
            raised_at=alarm.raised_at,
            evidence=dict(alarm.evidence or {}),
            closed_at=alarm.closed_at,
            close_note=alarm.close_note,
        )
        for alarm, g, a in db.execute(query)
    ]
