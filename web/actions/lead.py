"""The lead's actions: schemes approved, anomalies resolved, keys corrected, arbitrations."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from marking.errors import MarkingError
from marking.quality.qualification import active_items, fresh_retry
from marking.queue import handles, lead
from marking.read import status, views
from marking.setup.assignment import (
    approve_scheme,
    get_group,
    marked_in,
    withdraw_scheme_approval,
)
from marking.store.models import Account, AnomalyResolution, ExamSession
from web.actions.common import addressed, parse_mark, plain


def approve(db: Session, exam: ExamSession, account: Account, group_key: str) -> dict[str, Any]:
    approve_scheme(db, exam, get_group(db, exam, group_key), by=account.username)
    return {"group": group_key, "approved": True}


def withdraw_approval(
    db: Session, exam: ExamSession, account: Account, group_key: str, reason: str
) -> dict[str, Any]:
    group = get_group(db, exam, group_key)
    handed = withdraw_scheme_approval(db, exam, group, by=account.username, reason=reason)
    return {"group": group_key, "approved": False, "handed_back": handed}


def lead_home(db: Session, account: Account) -> list[dict[str, Any]]:
    """The sessions the account leads (or deputises for), each with what waits for them:
    open anomaly reports and responses to arbitrate."""
    return [
        {
            "exam": exam,
            # With the reports on seeds and 回评 (on the quality pages), as the progress counts.
            "anomalies": lead.anomalies_open(db, exam, ruler=account)
            + sum(status.open_check_reports(db, exam).values()),
            "arbitrations": lead.arbitrations_waiting(db, exam, ruler=account),
        }
        for exam in views.sessions_led_by(db, account)
    ]


def scheme(db: Session, exam: ExamSession) -> list[dict[str, Any]]:
    """Per group: its questions with reference answer and scheme, for the lead to approve."""
    out = []
    for group in exam.groups:
        questions = [
            {
                "component": c.key,
                "number": q.number,
                "type": q.type.value,
                "max": f"{q.max:f}",
                "step": f"{q.step:f}",
                "tolerance": f"{q.tolerance:f}",
                "reference": q.reference,
                "scheme": q.scheme,
            }
            for c in exam.components
            for q in c.questions
            if q.group_id == group.id
        ]
        out.append(
            {
                "key": group.key,
                "name": group.name,
                "marks_required": group.marks_required,
                "approved": group.approved_at is not None,
                "approved_at": plain(group.approved_at),
                # Marks, checks and qualification sets begun: an approval stays once any exist.
                "marked": marked_in(db, group) if group.approved_at is not None else 0,
                "questions": questions,
                # R5's set: fewer than twice an attempt's size strands responses (see
                # qualification.fresh_retry), which the lead should fix before approving.
                "qualification_size": group.qualification_size,
                "qualification_items": len(active_items(db, group)),
                "fresh_retry": fresh_retry(db, group),
            }
        )
    return out


def anomalies(db: Session, exam: ExamSession, account: Account) -> list[dict[str, Any]]:
    """The open anomalies this lead (or the deputy, where the lead is excluded) resolves."""
    return [addressed(exam, a) for a in views.anomaly_inbox(db, exam, account)]


def resolve(
    db: Session,
    exam: ExamSession,
    account: Account,
    handle: str,
    resolution: str,
    note: str,
    value: object,
) -> dict[str, Any]:
    try:
        how = AnomalyResolution(resolution)
    except ValueError:
        raise MarkingError.coded(
            "resolution_unknown", "the resolution must be requeue, final or key_correction"
        ) from None
    anomaly_id = handles.anomaly_id(exam, handle)
    mark = parse_mark(value) if how is AnomalyResolution.FINAL and value not in (None, "") else None
    lead.resolve_anomaly(
        db, exam, account, anomaly_id=anomaly_id, resolution=how, note=note, value=mark
    )
    return {"anomaly": handle, "resolution": how.value}


def correct_key(
    db: Session,
    exam: ExamSession,
    account: Account,
    component: str,
    question: str,
    answer: str,
    reason: str,
) -> dict[str, Any]:
    answers = tuple(a.strip() for a in answer.split("|") if a.strip())
    if not answers:
        raise MarkingError("give the corrected key (alternatives separated by '|')")
    correction = lead.correct_key(
        db,
        exam,
        account,
        component=component,
        question_number=question,
        answer=answers,
        reason=reason,
    )
    return {"correction_id": correction.id, "rescored": correction.rescored}


def arbitrations(db: Session, exam: ExamSession, account: Account) -> list[dict[str, Any]]:
    return [addressed(exam, task) for task in lead.arbitration_tasks(db, exam, ruler=account)]


def next_arbitration(db: Session, exam: ExamSession, account: Account) -> dict[str, Any]:
    """The lead's arbitration screen: one response at a time (the first in queue order),
    with how many wait in all."""
    tasks = lead.arbitration_tasks(db, exam, ruler=account, limit=1)
    return {
        "task": addressed(exam, tasks[0]) if tasks else None,
        "left": lead.arbitrations_waiting(db, exam, ruler=account),
    }


def arbitrate(
    db: Session, exam: ExamSession, account: Account, handle: str, value: object, reason: str
) -> dict[str, Any]:
    response_id = handles.response_id(exam, handle)
    done = lead.arbitrate(
        db, exam, account, response_id=response_id, value=parse_mark(value), reason=reason
    )
    return {"response": handle, "final": f"{done.value:f}"}
