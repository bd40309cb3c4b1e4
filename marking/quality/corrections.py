"""The examiner's "correct my last mark" over live work and checks alike (R6, DESIGN §13).

A seed or 回评 must look like live work on every screen, this one included: right after
marking a check, "correct my last mark" shows that check's mark and takes a correction of
it, as it would a live response's. A check's correction is a ``CheckCorrection`` (a new
record naming the check mark, never an update) and counts toward nothing: not a final, not
the quality figures, which keep the mark as first given.

A live mark stops being correctable by its examiner when its response is final: for most
live marks late in marking, at once, since the examiner's mark was the last one its response
needed and agreed with the others. A check's response is final already, so the check answers
for the live response it displaced at hand-out (``check_mark.displaced_id``), which the
hand-out records with whether the examiner's mark on it would have been the last it needed
(``check_mark.last_needed``):

- it would have been, and the check's mark in force reconciles with that response's marks
  given before the hand-out to a final (DESIGN §5: agreed, or a third mark that settles it):
  the check is not correctable once marked, as the live mark would not have been;
- otherwise (more marks were still needed, or the marks would call for a third mark or for
  arbitration): the examiner corrects it, from "correct my last mark" while it is their
  latest mark they may correct, and by its handle, for as long as the response it displaced
  is not final, as a live mark is correctable until its response is final (a tester who
  marked on and then corrected told checks by their closing sooner); and a suspension that
  withdrew their marks on the group's responses not yet final answers for it as withdrawn.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.domain.rules.reconciliation import Final, reconcile_decimal
from marking.errors import MarkingError, NotFound, StateError
from marking.queue.changes import Change, in_force
from marking.queue.corrections import (
    closed_to_corrections,
    last_correctable,
    outside_revision,
)
from marking.queue.handback import UNANNOUNCED
from marking.store.models import (
    Account,
    CheckCorrection,
    CheckMark,
    CheckState,
    Component,
    ExamSession,
    Mark,
    MarkingGroup,
    MarkWithdrawal,
    Question,
    Response,
    ResponseState,
    Script,
    effective_value,
    utcnow,
)
from marking.store.models.checks import GroupSuspension


@dataclass(frozen=True)
class LastMark:
    """The examiner's latest mark they may still correct: a live response's
    (``response_id``) or a check's (``check_id``), shown alike."""

    response_id: int | None
    check_id: int | None
    component: str
    question: str
    max: Decimal
    step: Decimal
    value: Decimal
    script_code: str = ""  # the script's code, as the marking screen showed it


def _in_force(db: Session, check: CheckMark) -> Decimal:
    """The check mark's value in force: its latest correction's, or its own."""
    assert check.value is not None
    value, _count = in_force(
        db, CheckCorrection, CheckCorrection.check_mark_id == check.id, given=check.value
    )
    return value


def _latest_check(db: Session, exam: ExamSession, examiner: Account) -> CheckMark | None:
    """The examiner's latest seed or 回评 mark of the session they may still correct."""
    for check in db.scalars(
        select(CheckMark)
        .where(
            CheckMark.session_id == exam.id,
            CheckMark.examiner_id == examiner.id,
            CheckMark.purpose.in_(UNANNOUNCED),
            CheckMark.state == CheckState.SUBMITTED,
        )
        .order_by(CheckMark.submitted_at.desc(), CheckMark.id.desc())
        .limit(LOOK_BACK)
    ):
        if _closed(db, exam, check) is None:
            return check
    return None


# How many of an examiner's latest check marks "correct my last mark" looks through for one
# still correctable: a check stays so as long as the response it stands for is not final,
# and few of those wait long.
LOOK_BACK = 50


def _newer(submitted: dt.datetime | None, given: dt.datetime) -> bool:
    return submitted is not None and submitted > given


def _closed(db: Session, exam: ExamSession, check: CheckMark) -> StateError | None:
    """Why the examiner may no longer correct this check's mark, worded as for the live
    mark it stands for (the module's docstring), or None while they may: it would have made
    that response final; that response is final now; or the lead suspended them on the group
    afterwards, withdrawing their marks on responses not yet final."""
    if exam.open_revision is not None:
        # Checks are of the first marking; a revision re-marks only the responses it sends,
        # and a live mark given before it is no longer offered (``last_correctable``).
        return outside_revision(exam)
    final = StateError.coded(
        "correction_final",
        "that response is final: only the lead examiner corrects its marks now",
    )
    if check.displaced_id is None or _would_be_final(db, check):
        return final
    displaced = db.get(Response, check.displaced_id)
    assert displaced is not None and check.submitted_at is not None
    if displaced.state is ResponseState.FINAL:
        return final
    withdrawn = db.scalar(
        select(GroupSuspension.id)
        .where(
            GroupSuspension.session_id == exam.id,
            GroupSuspension.group_id == check.group_id,
            GroupSuspension.examiner_id == check.examiner_id,
            GroupSuspension.keep_marks.is_(False),
            GroupSuspension.created_at > check.submitted_at,
        )
        .limit(1)
    )
    if withdrawn is not None:
        return StateError.coded(
            "correction_withdrawn", "that mark was withdrawn: it cannot be corrected"
        )
    return None


def _would_be_final(db: Session, check: CheckMark) -> bool:
    """Whether the check's mark in force, had it been given on the live response it displaced,
    would have made that response final (the module's docstring): the last mark it needed,
    reconciling with the marks it had when the check was handed out."""
    if not check.last_needed or check.displaced_id is None:
        return False
    displaced = db.get(Response, check.displaced_id)
    group = db.get(MarkingGroup, check.group_id)
    assert displaced is not None and group is not None
    question = db.get(Question, displaced.question_id)
    assert question is not None
    earlier = list(
        db.scalars(
            select(effective_value())
            .where(
                Mark.response_id == displaced.id,
                Mark.revision == displaced.revision,
                Mark.created_at < check.claimed_at,
                ~exists().where(MarkWithdrawal.mark_id == Mark.id),
            )
            .order_by(Mark.kind, Mark.id)
        )
    )
    try:
        outcome = reconcile_decimal(
            [*earlier, _in_force(db, check)],
            tolerance=question.tolerance,
            step=question.step,
            required=group.marks_required,
        )
    except ValueError:  # more marks than the rule takes: the response needed none more
        return False
    return isinstance(outcome, Final)


def _question(db: Session, response_id: int) -> tuple[str, Question, str]:
    """The response's component key, question and script code (as the screen showed it)."""
    row = db.execute(
        select(Component.key, Question, Script.code)
        .join(Question, Question.component_id == Component.id)
        .join(Response, Response.question_id == Question.id)
        .join(Script, Script.id == Response.script_id)
        .where(Response.id == response_id)
    ).one()
    return row[0], row[1], row[2]


def last_mark(db: Session, exam: ExamSession, examiner: Account) -> LastMark | None:
    """The examiner's latest mark in the session they may still correct, live or a check,
    or None (nothing marked, or everything final: only the lead corrects then)."""
    if not exam.marking_open:
        return None
    check = _latest_check(db, exam, examiner)
    live = last_correctable(db, exam, examiner)
    if check is not None and (live is None or _newer(check.submitted_at, live.given_at)):
        component, question, code = _question(db, check.response_id)
        value = _in_force(db, check)
        return LastMark(
            None, check.id, component, question.number, question.max, question.step, value, code
        )
    if live is None:
        return None
    # Read as a check's is, so the answer costs the same: the script names the paper, which
    # need not be the last one marked (a mark whose response is final is the lead's now).
    _component, _question_row, code = _question(db, live.response_id)
    return LastMark(
        live.response_id,
        None,
        live.component,
        live.question,
        live.max,
        live.step,
        live.value,
        code,
    )


def _as_for_unmarked_live(exam: ExamSession, examiner: Account) -> MarkingError:
    """The refusal of a correction on a check the examiner has not marked (held still, or
    someone else's): word for word a live response's they have not marked
    (``marking.queue.corrections.correct_mark``), which a tester could otherwise ask of each
    item held to tell the checks."""
    closed = closed_to_corrections(exam)
    if closed is not None:
        return closed
    return NotFound.coded(
        "correction_no_mark",
        "%(user)s gave no mark on that response in session %(session)s",
        user=examiner.username,
        session=exam.code,
    )


def correct_check(
    db: Session,
    exam: ExamSession,
    examiner: Account,
    *,
    check_id: int,
    value: object,
    reason: str,
    now: dt.datetime | None = None,
) -> CheckCorrection:
    """The examiner corrects their mark on a seed or 回评, refused as a live mark would be:
    NotFound (coded ``correction_no_mark``) for no such check marked by them, StateError
    (``correction_not_marking``) outside marking, StateError (``correction_final``) once
    it stopped being correctable (the module's docstring), MarkingError (``correction_reason``,
    ``correction_unchanged``) and InvalidMark as for live marks. Nothing is stored then."""
    check = db.scalar(
        select(CheckMark)
        .where(
            CheckMark.id == check_id,
            CheckMark.session_id == exam.id,
            CheckMark.examiner_id == examiner.id,
            CheckMark.purpose.in_(UNANNOUNCED),
            CheckMark.state == CheckState.SUBMITTED,
        )
        .with_for_update()
    )
    if check is None:
        raise _as_for_unmarked_live(exam, examiner)
    if not exam.marking_open:
        raise StateError.coded(
            "correction_not_marking", "session %(session)s is not in marking", session=exam.code
        )
    closed = _closed(db, exam, check)
    if closed is not None:
        raise closed
    _component, question, _code = _question(db, check.response_id)
    assert check.value is not None
    change = Change.of(
        db,
        CheckCorrection,
        CheckCorrection.check_mark_id == check.id,
        given=check.value,
        question=question,
        value=value,
        reason=reason,
    )
    now = now or utcnow()
    correction = CheckCorrection(
        check_mark_id=check.id,
        seq=change.seq,
        old_value=change.old,
        value=change.new,
        reason=change.reason,
        created_at=now,
    )
    db.add(correction)
    db.flush()
    ledger.append(
        db,
        exam,
        kind="check_corrected",
        actor=examiner.username,
        payload={
            "correction": correction.id,
            "check": check.id,
            **change.recorded(),
        },
        now=now,
    )
    return correction
