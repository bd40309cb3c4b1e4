"""The lead examiner's rulings: anomalies (R4), arbitration (R14), key corrections (DESIGN §4)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.domain.definition import parse_answer
from marking.errors import MarkingError, NotFound, StateError
from marking.intake.questions import make_scorer_for
from marking.intake.recusal import ruler_of, rules_here
from marking.people.register import require_in_standing
from marking.queue.claims import shown_code
from marking.queue.marks import apply_reconciliation, effective_marks, validate_mark
from marking.store.models import (
    Account,
    Anomaly,
    AnomalyResolution,
    Arbitration,
    Component,
    ExamSession,
    KeyCorrection,
    Mark,
    MarkingGroup,
    Question,
    Response,
    ResponseState,
    Script,
    utcnow,
)


def _require_lead(exam: ExamSession, account: Account) -> None:
    if exam.lead_id is None or account.id != exam.lead_id:
        raise MarkingError.coded(
            "lead_only",
            "only the lead examiner of session %(session)s may do this",
            session=exam.code,
        )
    _require_marking(exam)


def _require_marking(exam: ExamSession) -> None:
    if not exam.marking_open:
        raise StateError.coded(
            "lead_not_marking",
            "session %(session)s is %(state)s, not in marking",
            session=exam.code,
            state=exam.state.value,
        )


def _require_ruler(db: Session, exam: ExamSession, account: Account, response: Response) -> None:
    """The account rules on this response: the lead, or the deputy lead where the lead is
    excluded (recusal holds for the lead too, DESIGN §14).

    Anyone else is told the response is not theirs to rule on, as for one that does not
    exist: saying "the deputy rules on this one" would tell the lead that this response
    is by someone they declared a conflict with. Where neither may rule, the office
    learns it from the open work before publication (``publish.open_work``)."""
    if account.id not in (exam.lead_id, exam.deputy_id):
        raise MarkingError.coded(
            "lead_only",
            "only the lead examiner of session %(session)s may do this",
            session=exam.code,
        )
    _require_marking(exam)
    require_in_standing(account, exam)
    if ruler_of(db, exam, response.script_id) != account.id:
        raise NotFound.coded(
            "lead_not_yours",
            "that response is not awaiting your ruling in session %(session)s",
            session=exam.code,
        )


@dataclass(frozen=True)
class ArbitrationTask:
    """What the lead sees to arbitrate: the question and the marks, never the candidate."""

    response_id: int
    script_code: str
    component: str
    question: str
    text: str
    image_sha256: str | None
    max: Decimal
    step: Decimal
    tolerance: Decimal
    marks: tuple[Decimal, ...]
    blank: bool = False  # a scanned answer box with no ink
    # Who gave each mark (the examiners' names, in the order of ``marks``): the lead rules
    # knowing whose marks disagree; examiners are no secret from the lead, candidates are.
    markers: tuple[str, ...] = ()
    reference: str = ""
    scheme: str = ""


def arbitration_tasks(
    db: Session, exam: ExamSession, *, ruler: Account | None = None, limit: int = 100
) -> list[ArbitrationTask]:
    """The responses awaiting arbitration (all of them, or those ``ruler`` decides: the
    lead's, or for the deputy lead exactly those the lead is excluded from)."""
    rows = db.execute(
        select(Response, Script.code, Component.key, Question)
        .join(Script, Script.id == Response.script_id)
        .join(Question, Question.id == Response.question_id)
        .join(Component, Component.id == Question.component_id)
        .where(
            Script.session_id == exam.id,
            Response.state == ResponseState.ARBITRATION,
            rules_here(exam, ruler, Response.script_id),
        )
        # Queue order, not row order: the list's order says nothing about ids or batches.
        .order_by(Response.queue_key, Response.id)
        .limit(limit)
    ).all()
    return [
        ArbitrationTask(
            response_id=r.id,
            script_code=shown_code(exam, code),
            component=component,
            question=q.number,
            text=r.text,
            image_sha256=r.image_sha256,
            max=q.max,
            step=q.step,
            tolerance=q.tolerance,
            marks=tuple(v for _mid, v in marks),
            blank=r.blank,
            markers=_markers(db, [mid for mid, _v in marks]),
            reference=q.reference,
            scheme=q.scheme,
        )
        for r, code, component, q in rows
        for marks in [effective_marks(db, r.id)]
    ]


def _markers(db: Session, mark_ids: list[int]) -> tuple[str, ...]:
    """The names of the examiners who gave these marks, in the same order."""
    rows = db.execute(
        select(Mark.id, Account.name)
        .join(Account, Account.id == Mark.examiner_id)
        .where(Mark.id.in_(mark_ids))
    )
    names: dict[int, str] = {mid: name for mid, name in rows}
    return tuple(names[mid] for mid in mark_ids)


def anomalies_open(db: Session, exam: ExamSession, *, ruler: Account | None = None) -> int:
    """How many anomaly reports wait for a ruling (all, or those ``ruler`` resolves)."""
    return (
        db.scalar(
            select(func.count())
            .select_from(Anomaly)
            .join(Response, Response.id == Anomaly.response_id)
            .where(
                Anomaly.session_id == exam.id,
                Anomaly.resolution.is_(None),
                rules_here(exam, ruler, Response.script_id),
            )
        )
        or 0
    )


def arbitrations_waiting(db: Session, exam: ExamSession, *, ruler: Account | None = None) -> int:
    """How many responses await arbitration (all, or those ``ruler`` decides)."""
    return (
        db.scalar(
            select(func.count())
            .select_from(Response)
            .join(Script, Script.id == Response.script_id)
            .where(
                Script.session_id == exam.id,
                Response.state == ResponseState.ARBITRATION,
                rules_here(exam, ruler, Response.script_id),
            )
        )
        or 0
    )


def _session_response(db: Session, exam: ExamSession, response_id: int) -> Response:
    """The response, locked, if it belongs to this session; NotFound otherwise (messages
    name no row id: the lead addresses responses by handle)."""
    response = db.get(Response, response_id, with_for_update=True, populate_existing=True)
    script = None if response is None else db.get(Script, response.script_id)
    if response is None or script is None or script.session_id != exam.id:
        raise NotFound.coded(
            "lead_no_response", "that response is not in session %(session)s", session=exam.code
        )
    return response


def arbitrate(
    db: Session,
    exam: ExamSession,
    lead: Account,
    *,
    response_id: int,
    value: Decimal,
    reason: str = "",
    now: dt.datetime | None = None,
) -> Arbitration:
    """The lead's final mark on a response whose marks disagree (R14: it is final).

    ``lead`` is the session's lead, or its deputy for a response the lead is excluded
    from; MarkingError for anyone else. Raises NotFound for a response of another session,
    StateError unless it awaits arbitration, InvalidMark for a mark off the range or step."""
    response = _session_response(db, exam, response_id)
    _require_ruler(db, exam, lead, response)
    if response.state is not ResponseState.ARBITRATION:
        raise StateError.coded(
            "lead_not_awaiting", "this response is not awaiting arbitration (any longer)"
        )
    question = db.get(Question, response.question_id)
    assert question is not None
    value = validate_mark(value, maximum=question.max, step=question.step)
    now = now or utcnow()
    arbitration = Arbitration(
        response_id=response_id,
        lead_id=lead.id,
        value=value,
        reason=reason,
        created_at=now,
        revision=response.revision,
    )
    db.add(arbitration)
    response.state = ResponseState.FINAL
    response.final = value
    response.final_rule = "arbitration"
    db.flush()
    ledger.append(
        db,
        exam,
        kind="arbitration",
        actor=lead.username,
        payload={
            "arbitration": arbitration.id,
            "response": response_id,
            "value": f"{value:f}",
            # An appeal revision's ruling says so (verify reads it).
            **({"revision": response.revision} if response.revision != 1 else {}),
        },
        now=now,
    )
    return arbitration


def open_anomalies(
    db: Session, exam: ExamSession, *, ruler: Account | None = None
) -> list[Anomaly]:
    """The open anomaly reports (all, or those ``ruler``, the lead or the deputy, resolves)."""
    return list(
        db.scalars(
            select(Anomaly)
            .join(Response, Response.id == Anomaly.response_id)
            .where(
                Anomaly.session_id == exam.id,
                Anomaly.resolution.is_(None),
                rules_here(exam, ruler, Response.script_id),
            )
            .order_by(Anomaly.id)
        )
    )


def resolve_anomaly(
    db: Session,
    exam: ExamSession,
    lead: Account,
    *,
    anomaly_id: int,
    resolution: AnomalyResolution,
    note: str,
    value: Decimal | None = None,
    now: dt.datetime | None = None,
) -> Anomaly:
    """Resolve a flag: back to the queue, a final mark with a reason, or after a key
    correction (made with ``correct_key``) back to the queue.

    ``lead`` is the session's lead, or its deputy for a response the lead is excluded
    from. Raises NotFound for an anomaly of another session, MarkingError for anyone else,
    a missing reason or a final without a valid mark.
    """
    anomaly = db.get(Anomaly, anomaly_id)
    if anomaly is None or anomaly.session_id != exam.id:
        raise NotFound.coded(
            "lead_no_anomaly",
            "that anomaly report is not in session %(session)s",
            session=exam.code,
        )
    response = _session_response(db, exam, anomaly.response_id)
    _require_ruler(db, exam, lead, response)
    if anomaly.resolution is not None:
        raise StateError.coded("lead_resolved", "this anomaly report was already resolved")
    if not note.strip():
        raise MarkingError.coded(
            "lead_note_required",
            "a resolution needs a note saying why (R6: corrections are signed)",
        )
    now = now or utcnow()
    if resolution is AnomalyResolution.FINAL:
        if value is None:
            raise MarkingError.coded("lead_mark_required", "a final resolution needs the mark")
        question = db.get(Question, response.question_id)
        assert question is not None
        value = validate_mark(value, maximum=question.max, step=question.step)
        response.state = ResponseState.FINAL
        response.final = value
        response.final_rule = "lead"
        anomaly.final_value = value
    else:
        group = db.get(MarkingGroup, response.group_id)
        question = db.get(Question, response.question_id)
        assert group is not None and question is not None
        # Back in the queue; if all its marks are already in (flagged by a third
        # marker, say), reconciliation decides at once.
        apply_reconciliation(db, response, question, group.marks_required)
    anomaly.resolution = resolution
    anomaly.resolution_note = note.strip()
    anomaly.resolved_by = lead.id
    anomaly.resolved_at = now
    db.flush()
    ledger.append(
        db,
        exam,
        kind="resolve",
        actor=lead.username,
        payload={
            "anomaly": anomaly.id,
            "response": response.id,
            "resolution": resolution.value,
            "value": f"{value:f}" if value is not None else None,
        },
        now=now,
    )
    return anomaly


def _require_no_revision(exam: ExamSession) -> None:
    """StateError during an appeal revision: a key changes every candidate's scores, and a
    revision recomputes only the candidates it names."""
    if exam.open_revision is not None:
        raise StateError.coded(
            "key_correction_in_revision",
            "a key cannot be corrected during revision %(number)s: a revision re-marks only "
            "the candidates it names",
            number=exam.open_revision,
        )


def _keyed_question(db: Session, exam: ExamSession, component: str, number: str) -> Question:
    """The session's objective question ``component``/``number``; NotFound or refused (an
    examiner-marked question has no key) otherwise, the component named as the office did."""
    question = db.scalar(
        select(Question)
        .join(Component, Component.id == Question.component_id)
        .where(
            Component.session_id == exam.id,
            Component.key == component,
            Question.number == number,
        )
    )
    if question is None:
        raise NotFound.coded(
            "lead_no_question",
            "no question %(component)s/%(question)s in session %(session)s",
            component=exam.component_name(component),
            question=number,
            session=exam.code,
        )
    if question.answer is None:
        raise MarkingError.coded(
            "lead_not_objective",
            "question %(component)s/%(question)s is marked by examiners, not a key",
            component=exam.component_name(component),
            question=number,
        )
    return question


def correct_key(
    db: Session,
    exam: ExamSession,
    lead: Account,
    *,
    component: str,
    question_number: str,
    answer: tuple[str, ...],
    reason: str,
    now: dt.datetime | None = None,
) -> KeyCorrection:
    """Correct an objective question's key and re-score its responses, recorded (§4);
    refused while an appeal revision is open (``_require_no_revision``)."""
    _require_lead(exam, lead)
    _require_no_revision(exam)
    if not reason.strip():
        raise MarkingError.coded("lead_key_reason_required", "a key correction needs a reason")
    question = _keyed_question(db, exam, component, question_number)
    normalised = parse_answer(question.type, answer)
    scorer = make_scorer_for(question, normalised)
    assert scorer is not None
    assert question.answer is not None  # an objective question (``_keyed_question``)
    old = list(question.answer)
    question.answer = list(normalised)
    changed = 0
    for rid, text, score in db.execute(
        select(Response.id, Response.text, Response.key_score).where(
            Response.question_id == question.id
        )
    ):
        new = scorer(text)
        if new != score:
            changed += 1
            db.execute(
                update(Response)
                .where(Response.id == rid)
                .values(key_score=new, final=new, final_rule="key")
            )
    correction = KeyCorrection(
        question_id=question.id,
        old_answer=old,
        new_answer=list(normalised),
        reason=reason.strip(),
        by=lead.id,
        rescored=changed,
        created_at=now or utcnow(),
    )
    db.add(correction)
    db.flush()
    ledger.append(
        db,
        exam,
        kind="key_correction",
        actor=lead.username,
        payload={
            "correction": correction.id,
            "question": f"{component}/{question_number}",
            "old": old,
            "new": list(normalised),
            "rescored": changed,
        },
        now=now,
    )
    return correction
