"""Corrections of marks (R6, 第七条(八)): a new record naming the old, a reason, who and when.

Who corrects (DESIGN §14):

- the examiner who gave a mark, while its response is not final (open, waiting for a
  third mark, awaiting arbitration, or held for an anomaly report) and the session is
  marking;
- after that (or a mark of someone else) only whoever rules on the response: the lead, or
  the deputy where the lead is excluded (as for rulings), until publication. After it a
  change is an appeal (a revision, DESIGN §6): while a revision is open, the responses it
  reopened take corrections by the same rules (their marks and rulings are the
  revision's), every other response none.

A correction never overwrites: ``MarkCorrection`` rows chain on the mark (``seq``), the
latest in force (``effective_value``). The response is reconciled again at once on its
effective marks (DESIGN §5), the same rule the queue and the session-wide check run:

- two marks now within tolerance: final (a third mark already given stays on record and
  is ignored, as rules.reconcile does for any third mark beside agreeing doubles); a third
  examiner still holding the response is handed it back (their lease is released);
- two marks now apart: a third mark is called for (a final response reopens);
- three marks: the third-mark rule with the corrected values, or arbitration;
- an arbitration in force stands while the marks still call for one (R14: the ruling is
  final); when they no longer do, it is withdrawn (``RulingWithdrawal``, recorded) and
  the marks' final holds. The lead changes an arbitration's own value with
  ``correct_arbitration``: a new arbitration, the old one withdrawn with the reason;
- a response held for an anomaly report stays with the lead (the resolution reconciles);
  a final the lead gave on an anomaly report rests on that ruling, not on the marks.

No other code path changes a final (R12): finals change through marks, rulings, key
corrections and these corrections, each recorded in the ledger.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import exists, func, select, update
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.errors import MarkingError, NotFound, StateError
from marking.intake.recusal import ruler_of
from marking.people.register import require_in_standing
from marking.queue.changes import Change, required_reason
from marking.queue.leases import uncount
from marking.queue.marks import apply_reconciliation, validate_mark
from marking.read import monitoring
from marking.store.models import (
    Account,
    Arbitration,
    Component,
    ExamSession,
    Lease,
    LeaseState,
    Mark,
    MarkCorrection,
    MarkingGroup,
    MarkWithdrawal,
    Question,
    Response,
    ResponseState,
    RulingWithdrawal,
    Script,
    SessionState,
    effective_value,
    utcnow,
)

#: Why an arbitration is withdrawn when a correction makes its marks reconcile without it.
ARBITRATION_UNNEEDED = "the marks it ruled between were corrected and no longer disagree (R6)"


@dataclass(frozen=True)
class Corrected:
    """What a correction did: the record, and the response's state and final after it."""

    correction: MarkCorrection
    response_id: int
    state: ResponseState
    final: Decimal | None


@dataclass(frozen=True)
class Correctable:
    """An examiner's mark they may still correct (the marking screen's "correct my last
    mark"): the question and the mark in force, never the candidate."""

    response_id: int
    component: str
    question: str
    max: Decimal
    step: Decimal
    value: Decimal
    given_at: dt.datetime


def last_correctable(db: Session, exam: ExamSession, examiner: Account) -> Correctable | None:
    """The examiner's most recent mark in this session that they may still correct (its
    response not final, the mark not withdrawn), or None."""
    row = db.execute(
        select(Response.id, Component.key, Question.number, Question.max, Question.step)
        .add_columns(effective_value(), Mark.created_at)
        .join(Mark, Mark.response_id == Response.id)
        .join(Question, Question.id == Response.question_id)
        .join(Component, Component.id == Question.component_id)
        .join(Script, Script.id == Response.script_id)
        .where(
            Script.session_id == exam.id,
            Mark.examiner_id == examiner.id,
            Response.state != ResponseState.FINAL,
            Mark.revision == Response.revision,
            ~exists().where(MarkWithdrawal.mark_id == Mark.id),
        )
        .order_by(Mark.id.desc())
        .limit(1)
    ).first()
    if row is None or not exam.marking_open:
        return None
    rid, component, number, maximum, step, value, given = row
    return Correctable(rid, component, number, maximum, step, value, given)


def correct_mark(
    db: Session,
    exam: ExamSession,
    account: Account,
    *,
    response_id: int,
    examiner: Account | None = None,
    value: object,
    reason: str,
    now: dt.datetime | None = None,
) -> Corrected:
    """Correct the mark ``examiner`` (default: ``account`` itself) gave on a response.

    ``account`` is that examiner while the response is not final, or whoever rules on the
    response (the lead, or the deputy where the lead is excluded). Raises NotFound for a
    response of another session or no such mark, StateError (coded) for a published
    session, a final response corrected by its examiner or a withdrawn mark, MarkingError
    (coded) for anyone else, a missing reason or an unchanged value, InvalidMark for a
    value off the range or step. Nothing is stored then.
    """
    response = _locked_response(db, exam, response_id)
    author = examiner or account
    if author.id != account.id:  # someone else's mark: only whoever rules on the response
        _require_ruler(db, exam, account, response)
    mark = db.scalar(
        select(Mark).where(Mark.response_id == response.id, Mark.examiner_id == author.id)
    )
    if mark is None:
        raise NotFound.coded(
            "correction_no_mark",
            "%(user)s gave no mark on that response in session %(session)s",
            user=author.username,
            session=exam.code,
        )
    _require_may_correct(db, exam, account, response, mark)
    if db.get(MarkWithdrawal, mark.id) is not None:
        raise StateError.coded(
            "correction_withdrawn", "that mark was withdrawn: it cannot be corrected"
        )
    question = db.get(Question, response.question_id)
    assert question is not None
    change = Change.of(
        db,
        MarkCorrection,
        MarkCorrection.mark_id == mark.id,
        given=mark.value,
        question=question,
        value=value,
        reason=reason,
    )
    now = now or utcnow()
    correction = MarkCorrection(
        mark_id=mark.id,
        seq=change.seq,
        old_value=change.old,
        value=change.new,
        reason=change.reason,
        by_id=account.id,
        created_at=now,
    )
    db.add(correction)
    response.corrections += 1
    db.flush()
    monitoring.outdated(db, exam)
    withdrawn = _reconcile_again(db, exam, response, question, actor=account.username)
    payload: dict[str, object] = {
        "correction": correction.id,
        "mark": mark.id,
        "response": response.id,
        **change.recorded(),
        "state": response.state.value,
    }
    if response.revision != 1:
        payload["revision"] = response.revision
    if withdrawn is not None:
        payload["arbitration_withdrawn"] = withdrawn
    ledger.append(db, exam, kind="mark_corrected", actor=account.username, payload=payload, now=now)
    return Corrected(correction, response.id, response.state, response.final)


def correct_arbitration(
    db: Session,
    exam: ExamSession,
    account: Account,
    *,
    response_id: int,
    value: object,
    reason: str,
    now: dt.datetime | None = None,
) -> Arbitration:
    """The ruler's correction of their arbitration on a response: a new arbitration with the
    reason, the one in force withdrawn beside it (R6: recorded, never overwritten; R14).

    Raises NotFound, MarkingError (coded) as ``correct_mark``; StateError (coded) when the
    response has no arbitration in force; InvalidMark for a value off the range or step."""
    response = _locked_response(db, exam, response_id)
    _require_ruler(db, exam, account, response)
    in_force = _arbitration_in_force(db, response.id)
    if in_force is None or response.final_rule != "arbitration":
        raise StateError.coded(
            "correction_no_arbitration", "that response has no arbitration to correct"
        )
    reason = required_reason(reason)
    question = db.get(Question, response.question_id)
    assert question is not None
    new = validate_mark(value, maximum=question.max, step=question.step)
    if new == in_force.value:
        raise MarkingError.coded(
            "correction_unchanged", "the mark is %(value)s already", value=f"{new:f}"
        )
    now = now or utcnow()
    db.add(RulingWithdrawal(arbitration_id=in_force.id, reason=reason, by=account.username))
    arbitration = Arbitration(
        response_id=response.id,
        lead_id=account.id,
        value=new,
        reason=reason,
        created_at=now,
        revision=response.revision,
    )
    db.add(arbitration)
    response.final = new
    db.flush()
    ledger.append(
        db,
        exam,
        kind="arbitration_corrected",
        actor=account.username,
        payload={
            "arbitration": arbitration.id,
            "replaces": in_force.id,
            "response": response.id,
            "old": f"{in_force.value:f}",
            "new": f"{new:f}",
            "reason": reason,
            **({"revision": response.revision} if response.revision != 1 else {}),
        },
        now=now,
    )
    return arbitration


def corrections_of(db: Session, mark_id: int) -> list[MarkCorrection]:
    """A mark's corrections, first to last (the last is in force)."""
    return list(
        db.scalars(
            select(MarkCorrection)
            .where(MarkCorrection.mark_id == mark_id)
            .order_by(MarkCorrection.seq)
        )
    )


# --- checks ----------------------------------------------------------------------------


def _locked_response(db: Session, exam: ExamSession, response_id: int) -> Response:
    """The response, locked (a mark or a claim on it waits, and then sees the correction),
    if it is an examiner-marked response of this session; NotFound otherwise.

    Its held leases are locked first, as a mark locks its lease, then the response: locked
    the other way, a correction making a third mark needless (handing its lease back) and
    that mark sent at once deadlocked (a tester met it 5 times in 10 on PostgreSQL)."""
    db.execute(
        select(Lease.id)
        .where(Lease.response_id == response_id, Lease.state == LeaseState.HELD)
        .order_by(Lease.id)
        .with_for_update()
    ).all()
    response = db.get(Response, response_id, with_for_update=True, populate_existing=True)
    script = None if response is None else db.get(Script, response.script_id)
    if response is None or script is None or script.session_id != exam.id:
        raise NotFound.coded(
            "correction_no_response",
            "that response is not in session %(session)s",
            session=exam.code,
        )
    if exam.state is SessionState.PUBLISHED and exam.open_revision is not None:
        if response.revision != exam.open_revision:
            raise outside_revision(exam)
        return response
    refused = closed_to_corrections(exam)
    if refused is not None:
        raise refused
    return response


def outside_revision(exam: ExamSession) -> StateError:
    """The refusal of a correction on a response the open revision did not send."""
    return StateError.coded(
        "correction_outside_revision",
        "that response is not in revision %(number)s of session %(session)s: only "
        "the responses the open revision sends to be marked again take corrections",
        number=exam.open_revision,
        session=exam.code,
    )


def closed_to_corrections(exam: ExamSession) -> StateError | None:
    """Why the session takes no corrections now, outside a revision: published (a change is
    an appeal then) or not yet in marking; None while marking or reconciled."""
    if exam.state is SessionState.PUBLISHED:
        return StateError.coded(
            "correction_published",
            "session %(session)s is published: a change now is an appeal (a revision)",
            session=exam.code,
        )
    if exam.state not in (SessionState.MARKING, SessionState.RECONCILED):
        return StateError.coded(
            "correction_not_marking",
            "session %(session)s is not in marking",
            session=exam.code,
        )
    return None


def _require_may_correct(
    db: Session, exam: ExamSession, account: Account, response: Response, mark: Mark
) -> None:
    """The examiner's own mark before the final (the session marking); otherwise only
    whoever rules on the response (the lead, or the deputy where the lead is excluded)."""
    own = mark.examiner_id == account.id
    if own and response.state is not ResponseState.FINAL and exam.marking_open:
        return
    if account.id in (exam.lead_id, exam.deputy_id):
        _require_ruler(db, exam, account, response)
        return
    raise StateError.coded(
        "correction_final",
        "that response is final: only the lead examiner corrects its marks now",
    )


def _require_ruler(db: Session, exam: ExamSession, account: Account, response: Response) -> None:
    """``account`` rules on the response (the lead, or the deputy where the lead is
    excluded). A lead or deputy who does not is told the response is not there, as for
    rulings (``lead._require_ruler``): nothing tells the lead that the deputy rules on it,
    which would say the script is by someone the lead declared a conflict with."""
    if account.id not in (exam.lead_id, exam.deputy_id):
        raise MarkingError.coded(
            "correction_not_yours",
            "only the examiner who gave a mark, or the lead examiner, corrects it",
        )
    require_in_standing(account, exam)
    if ruler_of(db, exam, response.script_id) != account.id:
        raise NotFound.coded(
            "correction_no_response",
            "that response is not in session %(session)s",
            session=exam.code,
        )


def _arbitration_in_force(db: Session, response_id: int) -> Arbitration | None:
    return db.scalar(
        select(Arbitration)
        .where(
            Arbitration.response_id == response_id,
            ~exists().where(RulingWithdrawal.arbitration_id == Arbitration.id),
        )
        .order_by(Arbitration.id.desc())
        .limit(1)
    )


# --- reconciling again -------------------------------------------------------------------


def _reconcile_again(
    db: Session, exam: ExamSession, response: Response, question: Question, *, actor: str
) -> int | None:
    """DESIGN §5 on the response's effective marks after a correction (see the module's
    docstring); returns the id of an arbitration it withdrew, if any."""
    group = db.get(MarkingGroup, response.group_id)
    assert group is not None
    if response.final_rule in ("lead", "key"):
        return None  # the lead's ruling on an anomaly decides, not the marks
    if response.state is ResponseState.ANOMALY:
        # The lead's resolution reconciles it (back to the queue); a third mark called for
        # by the marks as they were is called for again then, if still needed.
        response.marks_needed = max(group.marks_required, response.marks_done)
        return None
    arbitrated = response.final_rule == "arbitration"
    arbitration = response.final
    response.marks_needed = group.marks_required
    response.final = None
    response.final_rule = None
    apply_reconciliation(db, response, question, group.marks_required)
    # A third mark given stays counted (the claim condition reads marks_done < needed).
    response.marks_needed = max(response.marks_needed, response.marks_done)
    withdrawn = None
    if arbitrated and response.state is ResponseState.ARBITRATION:
        # The marks still disagree: the ruling on them stands (R14).
        response.state, response.final, response.final_rule = (
            ResponseState.FINAL,
            arbitration,
            "arbitration",
        )
    elif arbitrated:
        in_force = _arbitration_in_force(db, response.id)
        assert in_force is not None
        db.add(RulingWithdrawal(arbitration_id=in_force.id, reason=ARBITRATION_UNNEEDED, by=actor))
        withdrawn = in_force.id
    if response.state is not ResponseState.OPEN:
        _release_holders(db, response)
    elif exam.state is SessionState.RECONCILED:
        exam.state = SessionState.MARKING  # the response needs marking again
    db.flush()
    return withdrawn


def _release_holders(db: Session, response: Response) -> None:
    """A response that no longer needs marks is handed back by whoever still holds it:
    their mark would be refused as on any lost lease (DESIGN §4), nothing else lost."""
    released = db.execute(
        update(Lease)
        .where(Lease.response_id == response.id, Lease.state == LeaseState.HELD)
        .values(state=LeaseState.RELEASED)
        .returning(Lease.examiner_id)
    ).all()
    if released:
        response.held = max(0, response.held - len(released))
        uncount(db, [(me, response.group_id) for (me,) in released])


def response_by_script(
    db: Session, exam: ExamSession, *, script_code: str, component: str, question: str
) -> int:
    """The response of a script (by its code, as the office and the lead see them) to a
    question; NotFound (coded) when the session has no such response."""
    found = db.scalar(
        select(Response.id)
        .join(Script, Script.id == Response.script_id)
        .join(Question, Question.id == Response.question_id)
        .join(Component, Component.id == Question.component_id)
        .where(
            Script.session_id == exam.id,
            # Typed in by hand: a code's letters in either case (codes are upper case).
            Script.code == script_code.strip().upper(),
            Component.key == component,
            Question.number == question,
        )
    )
    if found is None:
        raise NotFound.coded(
            "correction_no_script_response",
            "no response of script %(script)s to %(component)s/%(question)s in session %(session)s",
            script=script_code,
            component=exam.component_name(component),
            question=question,
            session=exam.code,
        )
    return found


@dataclass(frozen=True)
class GivenMark:
    """One mark on a response as the ruler sees it to correct it: whose, which kind, the
    value given and the value in force, and how many corrections it has had."""

    examiner: str
    kind: str
    given: Decimal
    value: Decimal
    corrections: int
    withdrawn: bool


@dataclass(frozen=True)
class ResponseRecord:
    """What the lead (or deputy) sees of a response to correct it: the question, the marks,
    the state and final, the arbitration in force; never the candidate."""

    response_id: int
    script_code: str
    component: str
    question: str
    max: Decimal
    step: Decimal
    tolerance: Decimal
    state: str
    final: Decimal | None
    rule: str | None
    arbitration: Decimal | None
    marks: tuple[GivenMark, ...]


def response_record(
    db: Session, exam: ExamSession, ruler: Account, *, response_id: int
) -> ResponseRecord:
    """The response as ``ruler`` sees it to correct its marks; NotFound (as for a response
    that does not exist) unless ``ruler`` rules on it (the lead, or the deputy where the
    lead is excluded): nothing tells the lead whose script the deputy rules on."""
    response = db.get(Response, response_id)
    script = None if response is None else db.get(Script, response.script_id)
    if (
        response is None
        or script is None
        or script.session_id != exam.id
        or response.group_id is None
        or ruler.id not in (exam.lead_id, exam.deputy_id)
        or ruler_of(db, exam, response.script_id) != ruler.id
    ):
        raise NotFound.coded(
            "correction_no_response",
            "that response is not in session %(session)s",
            session=exam.code,
        )
    question = db.get(Question, response.question_id)
    assert question is not None
    component = db.get(Component, question.component_id)
    assert component is not None
    count = (
        select(func.count())
        .select_from(MarkCorrection)
        .where(MarkCorrection.mark_id == Mark.id)
        .scalar_subquery()
    )
    rows = db.execute(
        select(
            Account.username,
            Mark.kind,
            Mark.value,
            effective_value(),
            count,
            exists().where(MarkWithdrawal.mark_id == Mark.id),
        )
        .join(Account, Account.id == Mark.examiner_id)
        .where(Mark.response_id == response.id)
        .order_by(Mark.kind, Mark.id)
    ).all()
    arbitration = _arbitration_in_force(db, response.id)
    return ResponseRecord(
        response_id=response.id,
        script_code=script.code,
        component=component.key,
        question=question.number,
        max=question.max,
        step=question.step,
        tolerance=question.tolerance,
        state=response.state.value,
        final=response.final,
        rule=response.final_rule,
        arbitration=arbitration.value if arbitration is not None else None,
        marks=tuple(
            GivenMark(user, kind.value, given, value, n, bool(gone))
            for user, kind, given, value, n, gone in rows
        ),
    )


def named_response(
    db: Session, exam: ExamSession, *, handle: str = "", script: str = "", question: str = ""
) -> int:
    """The response a lead names: by its handle, or by script code and question
    (``component/number``); NotFound (coded) for anything else."""
    from marking.queue import handles

    if handle.strip():
        return handles.response_id(exam, handle)
    component, _slash, number = question.partition("/")
    if not script.strip() or not number:
        raise MarkingError.coded(
            "correction_which_response",
            "name the response: its handle, or the script code and the question",
        )
    return response_by_script(db, exam, script_code=script, component=component, question=number)


def chosen_mark(target: str) -> str:
    """The mark a lead chose to correct (an examiner's username, or ``arbitration``)."""
    if not target.strip():
        raise MarkingError.coded(
            "correction_which_mark", "choose the mark to correct (whose, or the arbitration)"
        )
    return target.strip()
