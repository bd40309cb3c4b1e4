"""Anomaly reports on seeds and 回评 (R4, DESIGN §13).

An examiner reports a check as they would a live response (the marking screen labels
neither, and answers alike): the check is handed back and the report, its kind and note,
goes to the lead as a live one does, recorded in the ledger. The check's source response is
not touched (it is final, or the examiner's own already): the lead reads the report beside
the item on the quality pages and decides, e.g. retires a seed whose image is unreadable.

Until the lead deals with a report (retires the seed, or closes the report and keeps it),
the live response the check displaced is out of the queue for everyone
(``statements.stands_in``), as a reported live response is until the lead resolves it: the
queue moves for every examiner as after a live report sent back to it, and publication
waits for it as for any report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.errors import StateError, not_marking
from marking.quality.checks import held_check
from marking.quality.common import require_group, require_lead, require_state
from marking.queue import handles
from marking.queue.claims import shown_code
from marking.queue.handback import report_note
from marking.queue.leases import free_slots
from marking.store.models import (
    Account,
    AnomalyKind,
    Component,
    ExamSession,
    MarkingGroup,
    Question,
    Response,
    Script,
    utcnow,
)
from marking.store.models.checks import CheckMark, CheckPurpose, CheckState


def report_check(
    db: Session,
    exam: ExamSession,
    examiner: Account,
    *,
    check_id: int,
    kind: AnomalyKind,
    note: str,
    now: dt.datetime | None = None,
) -> CheckMark:
    """The examiner reports a seed or 回评 they hold instead of marking it: handed back, it
    keeps standing in for the live response it displaced (``check_mark.reported``), and the
    report is the lead's (R4). NotFound or CheckLost as for marking it."""
    if not exam.marking_open:  # as a report on live work is refused then (``handback.flag``)
        raise not_marking(exam.code, exam.state.value)
    note = report_note(note)  # refused before anything moves, as for live work
    now = now or utcnow()
    ledger.hold_lane(db, exam, examiner.username)  # as a mark does, before the check
    check = held_check(db, exam, examiner, check_id, now=now)
    if check.purpose is CheckPurpose.QUALIFICATION:
        # Announced, not live work: no lead's inbox lists such a report, so none is taken.
        raise StateError.coded(
            "report_qualification",
            "an item of your qualification set is marked as it stands, not reported; tell the "
            "lead examiner about it directly",
        )
    check.state = CheckState.RELEASED
    free_slots(db, [check.displaced_id])  # reported, it keeps the response from them only
    check.reported = True
    check.report_kind = kind
    check.report_note = note
    check.reported_at = now
    db.flush()
    ledger.append(
        db,
        exam,
        kind="check_reported",
        actor=examiner.username,
        payload={
            "check": check.id,
            "purpose": check.purpose.value,
            "response": check.response_id,
            "kind": kind.value,
        },
        now=now,
    )
    return check


@dataclass(frozen=True)
class CheckReport:
    """A report on a seed or 回评 as the lead reads it: which response it showed (by handle),
    the question, the kind and note, who reported it and when; never the candidate."""

    handle: str
    # The script code the examiner saw on the item (the source response's, as any
    # response's: ``claims.shown_code``), so the lead can match what they were told.
    script_code: str
    purpose: str
    component: str  # its name as the office gave it (理论知识)
    question: str
    kind: str
    note: str
    examiner: str
    reported_at: dt.datetime


def open_reports(db: Session, exam: ExamSession, group: MarkingGroup) -> list[CheckReport]:
    """The group's reports on seeds and 回评, oldest first."""
    require_group(exam, group)
    rows = db.execute(
        select(CheckMark, Account.name, Component.name, Question.number, Script.code)
        .join(Account, Account.id == CheckMark.examiner_id)
        .join(Response, Response.id == CheckMark.response_id)
        .join(Script, Script.id == Response.script_id)
        .join(Question, Question.id == Response.question_id)
        .join(Component, Component.id == Question.component_id)
        .where(
            CheckMark.session_id == exam.id,
            CheckMark.group_id == group.id,
            CheckMark.purpose.in_([CheckPurpose.SEED, CheckPurpose.REMARK]),
            CheckMark.reported_at.is_not(None),
            CheckMark.report_closed_at.is_(None),
        )
        .order_by(CheckMark.reported_at, CheckMark.id)
    ).all()
    out = []
    for check, name, component, number, script in rows:
        assert check.report_kind is not None and check.reported_at is not None
        out.append(
            CheckReport(
                handle=handles.response_handle(exam, check.response_id),
                script_code=shown_code(exam, script),
                purpose=check.purpose.value,
                component=component,
                question=number,
                kind=check.report_kind.value,
                note=check.report_note or "",
                examiner=name,
                reported_at=check.reported_at,
            )
        )
    return out


def close_reports(
    db: Session,
    exam: ExamSession,
    lead: Account,
    *,
    response_id: int,
    purpose: CheckPurpose,
    now: dt.datetime | None = None,
) -> list[int]:
    """The lead deals with the open reports on the seeds or 回评 (``purpose``) of a response
    (retiring the seed does too): each check stops standing in for the live response it
    displaced. The checks closed (none when there was nothing open: nothing recorded)."""
    require_lead(exam, lead)
    require_state(exam)
    now = now or utcnow()
    closed = list(
        db.scalars(
            update(CheckMark)
            .where(
                CheckMark.session_id == exam.id,
                CheckMark.response_id == response_id,
                CheckMark.purpose == purpose,
                CheckMark.reported_at.is_not(None),
                CheckMark.report_closed_at.is_(None),
            )
            .values(report_closed_at=now, report_closed_by=lead.id)
            .returning(CheckMark.id)
        )
    )
    if closed:
        ledger.append(
            db,
            exam,
            kind="check_reports_closed",
            actor=lead.username,
            payload={"checks": sorted(closed), "response": response_id, "purpose": purpose.value},
            now=now,
        )
    return closed
