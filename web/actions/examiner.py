"""An examiner's actions: their sessions, claiming, marking, handing back and flagging."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy.orm import Session

from marking.errors import MarkingError, NotFound
from marking.intake.recusal import ruler_of
from marking.queue import claims, handback, handles, marks
from marking.read import views
from marking.store.models import Account, AnomalyKind, ExamSession, Image, utcnow
from web.actions.common import addressed, parse_mark, session_summary


def examiner_home(db: Session, account: Account) -> list[dict[str, Any]]:
    return [
        {
            **session_summary(exam),
            "groups": [dataclasses.asdict(g) for g in views.examiner_groups(db, exam, account)],
        }
        for exam in views.sessions_of_examiner(db, account)
    ]


def held(db: Session, exam: ExamSession, account: Account) -> list[dict[str, Any]]:
    return [addressed(exam, c) for c in views.held_by(db, exam, account)]


def claim(db: Session, exam: ExamSession, account: Account, size: int) -> list[dict[str, Any]]:
    return [addressed(exam, c) for c in claims.claim(db, exam, account, size=size)]


def submit(
    db: Session, exam: ExamSession, account: Account, handle: str, value: object
) -> dict[str, Any]:
    response_id = handles.response_id(exam, handle)
    marks.submit_mark(db, exam, account, response_id=response_id, value=parse_mark(value))
    # The examiner learns only that the mark was taken: not the state or final it led to,
    # which would hint at the other examiners' marks (R3: marks are independent).
    return {"response": handle, "recorded": True}


def release(db: Session, exam: ExamSession, account: Account, handle: str) -> dict[str, Any]:
    handback.release(db, exam, account, response_id=handles.response_id(exam, handle))
    return {"response": handle, "released": True}


def flag(
    db: Session, exam: ExamSession, account: Account, handle: str, kind: str, note: str
) -> dict[str, Any]:
    response_id = handles.response_id(exam, handle)
    try:
        anomaly_kind = AnomalyKind(kind)
    except ValueError:
        raise MarkingError(
            f"anomaly kind {kind!r} is not one of {', '.join(k.value for k in AnomalyKind)}"
        ) from None
    anomaly = handback.flag(
        db, exam, account, response_id=response_id, kind=anomaly_kind, note=note
    )
    return {"response": handle, "anomaly": handles.anomaly_handle(exam, anomaly.id)}


def response_image(
    db: Session, exam: ExamSession, account: Account, handle: str, *, lead: bool
) -> Image:
    """A response's image for the session's lead, or for the examiner holding it (NotFound
    otherwise, not told apart from a response that does not exist)."""
    response_id = handles.response_id(exam, handle)
    response = views.session_response(db, exam, response_id)
    # The lead (or deputy) sees only what they rule on: recusal covers images too (R10).
    rules = lead and ruler_of(db, exam, response.script_id) == account.id
    if not rules and not views.holds(db, exam, account, response_id, now=utcnow()):
        raise NotFound(f"no response {handle[:32]!r} of yours")
    return views.image_of(db, response)
