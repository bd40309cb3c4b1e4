"""An examiner's actions: their sessions, claiming, marking, handing back and flagging."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy.orm import Session

from marking.errors import MarkingError, NotFound
from marking.intake.recusal import ruler_of
from marking.quality import checks, qualification, reports
from marking.queue import claims, handback, handles, marks
from marking.read import views
from marking.store.models import Account, AnomalyKind, ExamSession, Image, MarkingGroup, utcnow
from web.actions.common import addressed, parse_mark, plain, session_summary


def examiner_home(db: Session, account: Account) -> list[dict[str, Any]]:
    return [
        {
            **session_summary(exam),
            "groups": [dataclasses.asdict(g) for g in views.examiner_groups(db, exam, account)],
        }
        for exam in views.sessions_of_examiner(db, account)
    ]


def _in_handle_order(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Responses and checks in the order of their handles: pseudorandom (a block cipher's
    output), and the same in a claim's answer and on every reload. Any other pair of orders
    lets the examiner compare the two and find the one item that moved, the check."""
    return sorted(items, key=lambda item: str(item["response"]))


def held(
    db: Session, exam: ExamSession, account: Account, *, group: str | None = None
) -> list[dict[str, Any]]:
    """What the examiner holds, live responses and the seeds and 回评 of their batches alike,
    in handle order as the claim gave them; of group ``group`` only when they chose to mark
    that one (its page resumes no other group's work)."""
    only = None if group is None else _group(exam, group).id
    items = [
        *views.held_by(db, exam, account, group_id=only),
        *checks.held_checks(db, exam, account, group_id=only),
    ]
    return _in_handle_order([addressed(exam, c) for c in items])


def claim(
    db: Session, exam: ExamSession, account: Account, size: int, *, group: str | None = None
) -> list[dict[str, Any]]:
    """A batch of up to ``size`` from the examiner's groups, or from ``group`` alone."""
    return _in_handle_order(
        [addressed(exam, c) for c in claims.claim(db, exam, account, size=size, group=group)]
    )


def submit(
    db: Session, exam: ExamSession, account: Account, handle: str, value: object
) -> dict[str, Any]:
    kind, found = handles.target(exam, handle)
    if kind is handles.Kind.CHECK:
        checks.submit_check(db, exam, account, check_id=found, value=parse_mark(value))
    else:
        marks.submit_mark(db, exam, account, response_id=found, value=parse_mark(value))
    # The examiner learns only that the mark was taken: not the state or final it led to,
    # which would hint at the other examiners' marks (R3: marks are independent).
    return {"response": handle, "recorded": True}


def release(db: Session, exam: ExamSession, account: Account, handle: str) -> dict[str, Any]:
    kind, found = handles.target(exam, handle)
    if kind is handles.Kind.CHECK:
        checks.release_check(db, exam, account, check_id=found)
    else:
        handback.release(db, exam, account, response_id=found)
    return {"response": handle, "released": True}


def flag(
    db: Session, exam: ExamSession, account: Account, handle: str, kind: str, note: str
) -> dict[str, Any]:
    target, response_id = handles.target(exam, handle)
    try:
        anomaly_kind = AnomalyKind(kind)
    except ValueError:
        raise MarkingError(
            f"anomaly kind {kind!r} is not one of {', '.join(k.value for k in AnomalyKind)}"
        ) from None
    if target is handles.Kind.CHECK:
        # A check's response is not the examiner's to flag (it is final, or theirs already):
        # the check is handed back and the report goes to the lead (R4) beside the item,
        # nowhere the examiner could see.
        reports.report_check(db, exam, account, check_id=response_id, kind=anomaly_kind, note=note)
        # An anomaly handle as any other, naming no report (ids past any row's): the
        # answer has the shape of a flag's, and the handle leads nowhere.
        nowhere = handles.anomaly_handle(exam, handles.NO_ROW + response_id)
        return {"response": handle, "anomaly": nowhere}
    anomaly = handback.flag(
        db, exam, account, response_id=response_id, kind=anomaly_kind, note=note
    )
    return {"response": handle, "anomaly": handles.anomaly_handle(exam, anomaly.id)}


def response_image(
    db: Session, exam: ExamSession, account: Account, handle: str, *, lead: bool
) -> Image:
    """A response's image for the session's lead, or for the examiner holding it (NotFound
    otherwise, not told apart from a response that does not exist)."""
    kind, found = handles.target(exam, handle)
    if kind is handles.Kind.CHECK:
        if lead or (shows := checks.holds_check(db, exam, account, found, now=utcnow())) is None:
            raise NotFound(f"no response {handle[:32]!r} of yours")
        return views.image_of(db, views.session_response(db, exam, shows))
    response_id = found
    response = views.session_response(db, exam, response_id)
    # The lead (or deputy) sees only what they rule on: recusal covers images too (R10).
    rules = lead and ruler_of(db, exam, response.script_id) == account.id
    if not rules and not views.holds(db, exam, account, response_id, now=utcnow()):
        raise NotFound(f"no response {handle[:32]!r} of yours")
    return views.image_of(db, response)


# --- qualification (R5, DESIGN §13) --------------------------------------------------------------


def _group(exam: ExamSession, key: str) -> MarkingGroup:
    found = next((g for g in exam.groups if g.key == key), None)
    if found is None:
        raise NotFound(f"no group {key[:40]!r} in session {exam.code}")
    return found


def qualification_state(
    db: Session, exam: ExamSession, account: Account, key: str
) -> dict[str, Any]:
    """Where the examiner stands on the group's set; after a failed attempt, its review:
    the responses as shown, their marks, the definitive marks and the lead's notes."""
    group = _group(exam, key)
    state = qualification.qualification_state(db, exam, account, group)
    data: dict[str, Any] = {"group": group.name, **dataclasses.asdict(state)}
    if state.last_passed is False and not state.qualified:
        data["review"] = [
            {
                **addressed(exam, r.item),
                "given": plain(r.given),
                "definitive": plain(r.definitive),
                "note": r.note,
                "within": r.within,
            }
            for r in qualification.review(db, exam, account, group)
        ]
    return data


def qualification_start(
    db: Session, exam: ExamSession, account: Account, key: str
) -> list[dict[str, Any]]:
    items = qualification.start_qualification(db, exam, account, group=_group(exam, key))
    return [addressed(exam, c) for c in items]


def qualification_held(
    db: Session, exam: ExamSession, account: Account, key: str
) -> list[dict[str, Any]]:
    items = qualification.held_set(db, exam, account, _group(exam, key))
    return [addressed(exam, c) for c in items]
