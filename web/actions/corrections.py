"""Corrections of marks (R6, 第七条(八)): the examiner's "correct my last mark", and the
lead's correction of a response's marks or of their arbitration."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy.orm import Session

from marking.people.accounts import get_account
from marking.quality import corrections as check_corrections
from marking.queue import corrections, handles
from marking.store.models import Account, ExamSession
from web.actions.common import plain


def last_mark(db: Session, exam: ExamSession, account: Account) -> dict[str, Any] | None:
    """The examiner's most recent mark in the session they may still correct, or None: a
    live response's or a check's, in the same shape (a handle of the same format)."""
    mine = check_corrections.last_mark(db, exam, account)
    if mine is None:
        return None
    data: dict[str, Any] = plain(dataclasses.asdict(mine))
    response_id, check_id = data.pop("response_id"), data.pop("check_id")
    handle = (
        handles.response_handle(exam, response_id)
        if check_id is None
        else handles.check_handle(exam, check_id)
    )
    return {"response": handle, **data, "component_name": exam.component_name(mine.component)}


def correct_own(
    db: Session, exam: ExamSession, account: Account, handle: str, value: object, reason: str
) -> dict[str, Any]:
    """The examiner corrects their own mark. They learn only that it was recorded: not the
    state or final it led to (R3: marks stay independent); a check answers alike."""
    kind, found = handles.target(exam, handle)
    if kind is handles.Kind.CHECK:
        fixed = check_corrections.correct_check(
            db, exam, account, check_id=found, value=value, reason=reason
        )
        return {"response": handle, "corrected": True, "value": f"{fixed.value:f}"}
    done = corrections.correct_mark(
        db,
        exam,
        account,
        response_id=handles.response_id(exam, handle),
        value=value,
        reason=reason,
    )
    return {"response": handle, "corrected": True, "value": f"{done.correction.value:f}"}


def find_response(
    db: Session, exam: ExamSession, *, handle: str = "", script: str = "", question: str = ""
) -> str:
    """The handle of the response named by its handle, or by script code and question
    (``component/number``), as the lead knows them."""
    found = corrections.named_response(db, exam, handle=handle, script=script, question=question)
    return handles.response_handle(exam, found)


def record(db: Session, exam: ExamSession, account: Account, handle: str) -> dict[str, Any]:
    """A response's marks as the lead (or deputy) sees them to correct them."""
    seen = corrections.response_record(
        db, exam, account, response_id=handles.response_id(exam, handle)
    )
    data: dict[str, Any] = plain(dataclasses.asdict(seen))
    data.pop("response_id")
    return {
        "response": handle,
        **data,
        "component_name": exam.component_name(seen.component),
    }


def lead_correct(
    db: Session,
    exam: ExamSession,
    account: Account,
    handle: str,
    *,
    examiner: str,
    value: object,
    reason: str,
) -> dict[str, Any]:
    """The lead's correction: ``examiner``'s mark, or their arbitration when ``examiner``
    is ``arbitration``. Answers with the response's state and final after it."""
    response_id = handles.response_id(exam, handle)
    examiner = corrections.chosen_mark(examiner)
    if examiner == "arbitration":
        ruling = corrections.correct_arbitration(
            db, exam, account, response_id=response_id, value=value, reason=reason
        )
        return {"response": handle, "state": "final", "final": f"{ruling.value:f}"}
    done = corrections.correct_mark(
        db,
        exam,
        account,
        response_id=response_id,
        examiner=get_account(db, examiner),
        value=value,
        reason=reason,
    )
    return {
        "response": handle,
        "state": done.state.value,
        "final": None if done.final is None else f"{done.final:f}",
    }
