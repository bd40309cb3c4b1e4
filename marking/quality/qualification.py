"""Qualification before live work (R5, DESIGN §13): the group's set, attempts, the decision,
the review after a failed attempt, and the gate on live claims.

A group with ``qualification_size`` gives an examiner nothing live (``ROOMS`` in
``marking.queue.statements``) until ``Assignment.qualified_at`` is set: by passing the set
here, or by the lead's recorded override (``marking.quality.decisions``). An attempt is the
whole set, announced (资格测试), each item a check marked through ``checks.submit_check``;
the examiner passes when the share of their marks within the question's tolerance of the
definitive mark is at least ``qualification_within``. After a failed attempt they may see
the definitive marks, the lead's notes and the scheme (``review``), then try again
(attempt + 1). A qualification item's response stays live and is marked live like any
other (the set is the lead's choice of real responses, made before any is complete),
except by an examiner whose failed attempt showed them its definitive mark: those marks
are ``revealed`` and the queue holds the response out of their claims (``takeable_by``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.errors import MarkingError, NotFound, StateError, not_marking
from marking.intake.recusal import excluded_clause
from marking.quality.checks import held_checks, shown
from marking.queue.claims import Claimed, masked
from marking.store.models import (
    Account,
    Assignment,
    ExamSession,
    MarkingGroup,
    Question,
    Response,
    utcnow,
)
from marking.store.models.checks import CheckItem, CheckMark, CheckPurpose, CheckState

#: An attempt is held longer than a live batch: the whole set is marked at one sitting.
QUALIFICATION_LEASE = dt.timedelta(hours=2)


@dataclass(frozen=True)
class QualificationState:
    """Where an examiner stands on a group's qualification set."""

    required: bool
    qualified: bool
    attempt: int  # the latest attempt's number (0: none yet)
    open: bool  # an attempt is held and not complete
    last_passed: bool | None  # the latest complete attempt's outcome (None: none complete)
    within: int  # the latest complete attempt: marks within tolerance ...
    of: int  # ... of so many


@dataclass(frozen=True)
class ReviewItem:
    """One item of a failed attempt as the examiner reviews it: the response as shown, their
    mark, the definitive mark and the lead's note."""

    item: Claimed
    given: Decimal | None
    definitive: Decimal
    note: str
    within: bool


def active_items(db: Session, group: MarkingGroup) -> list[CheckItem]:
    """The group's qualification set in order (active items only)."""
    return list(
        db.scalars(
            select(CheckItem)
            .where(
                CheckItem.group_id == group.id,
                CheckItem.purpose == CheckPurpose.QUALIFICATION,
                CheckItem.retired_at.is_(None),
            )
            .order_by(CheckItem.position, CheckItem.id)
        )
    )


def set_problem(db: Session, group: MarkingGroup) -> MarkingError | None:
    """Why the group's scheme cannot be approved yet for want of a complete qualification
    set (R5), or None."""
    if group.qualification_size is None:
        return None
    have = len(active_items(db, group))
    if have >= group.qualification_size:
        return None
    return StateError.coded(
        "qualification_set_incomplete",
        "group %(group)s needs a qualification set of %(size)s responses with definitive "
        "marks before its scheme is approved; it has %(have)s",
        group=group.name,
        size=group.qualification_size,
        have=have,
    )


def _assignment(
    db: Session, exam: ExamSession, examiner: Account, group: MarkingGroup, *, lock: bool = False
) -> Assignment:
    if group.session_id != exam.id:
        raise NotFound(f"no group {group.key} in session {exam.code}")
    query = select(Assignment).where(
        Assignment.group_id == group.id, Assignment.examiner_id == examiner.id
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    found = db.scalar(query)
    if found is None:
        raise NotFound.coded(
            "group_not_assigned",
            "%(user)s is not assigned to group %(group)s",
            user=examiner.username,
            group=group.name,
        )
    return found


def _attempt_marks(
    db: Session, examiner: Account, group: MarkingGroup, attempt: int
) -> list[CheckMark]:
    return list(
        db.scalars(
            select(CheckMark)
            .where(
                CheckMark.examiner_id == examiner.id,
                CheckMark.group_id == group.id,
                CheckMark.purpose == CheckPurpose.QUALIFICATION,
                CheckMark.attempt == attempt,
            )
            .order_by(CheckMark.id)
            # submit_check records marks by a plain UPDATE: read them as stored.
            .execution_options(populate_existing=True)
        )
    )


def _latest_attempt(db: Session, examiner: Account, group: MarkingGroup) -> int:
    return int(
        db.scalar(
            select(func.max(CheckMark.attempt)).where(
                CheckMark.examiner_id == examiner.id,
                CheckMark.group_id == group.id,
                CheckMark.purpose == CheckPurpose.QUALIFICATION,
            )
        )
        or 0
    )


def _tolerances(db: Session, marks: list[CheckMark]) -> dict[int, Decimal]:
    ids = [m.response_id for m in marks]
    return {
        rid: tolerance
        for rid, tolerance in db.execute(
            select(Response.id, Question.tolerance)
            .join(Question, Question.id == Response.question_id)
            .where(Response.id.in_(ids))
        )
    }


def _score(db: Session, marks: list[CheckMark]) -> tuple[int, int]:
    """(within tolerance, of) over an attempt's marks."""
    tolerance = _tolerances(db, marks)
    within = sum(
        1
        for m in marks
        if m.value is not None and abs(m.value - m.expected) <= tolerance[m.response_id]
    )
    return within, len(marks)


def passes(within: int, of: int, share: Decimal) -> bool:
    """The pass rule: at least ``share`` of the set within tolerance (exact arithmetic)."""
    return of > 0 and Decimal(within) >= share * of


def qualification_state(
    db: Session, exam: ExamSession, examiner: Account, group: MarkingGroup
) -> QualificationState:
    assignment = _assignment(db, exam, examiner, group)
    required = group.qualification_size is not None
    attempt = _latest_attempt(db, examiner, group)
    is_open, last_passed, within, of = False, None, 0, 0
    if attempt:
        marks = _attempt_marks(db, examiner, group, attempt)
        complete = all(m.state is CheckState.SUBMITTED for m in marks)
        if complete:
            within, of = _score(db, marks)
            last_passed = passes(within, of, group.qualification_within or Decimal(1))
        else:
            is_open = True
            if attempt > 1:
                within, of = _score(db, _attempt_marks(db, examiner, group, attempt - 1))
                last_passed = passes(within, of, group.qualification_within or Decimal(1))
    return QualificationState(
        required=required,
        qualified=assignment.qualified_at is not None,
        attempt=attempt,
        open=is_open,
        last_passed=last_passed,
        within=within,
        of=of,
    )


def start_qualification(
    db: Session,
    exam: ExamSession,
    examiner: Account,
    *,
    group: MarkingGroup,
    now: dt.datetime | None = None,
) -> list[Claimed]:
    """Hand the examiner the group's qualification set (a new attempt), or the attempt they
    have open (its unmarked items held again if their time ran out).

    Raises StateError outside marking, when the group has no set, its scheme is not
    approved yet, the examiner is suspended there or already qualified; NotFound when they
    are not assigned to the group."""
    if not exam.marking_open:
        raise not_marking(exam.code, exam.state.value)
    now = now or utcnow()
    # Locked: two starts at once (two tabs, a double click) would both open attempt n + 1
    # and the second fail on the unique check; the second now waits and resumes the first's.
    assignment = _assignment(db, exam, examiner, group, lock=True)
    if group.qualification_size is None:
        raise StateError.coded(
            "qualification_none", "group %(group)s has no qualification set", group=group.name
        )
    if group.approved_at is None:
        raise StateError.coded(
            "qualification_not_approved",
            "the scheme of group %(group)s is not approved yet: the qualification set opens "
            "with it",
            group=group.name,
        )
    if assignment.suspended_at is not None:
        raise StateError.coded(
            "qualification_suspended", "you are suspended in group %(group)s", group=group.name
        )
    if assignment.qualified_at is not None:
        raise StateError.coded(
            "qualification_done", "you are qualified in group %(group)s already", group=group.name
        )
    expires = now + QUALIFICATION_LEASE
    attempt = _latest_attempt(db, examiner, group)
    if attempt:
        marks = _attempt_marks(db, examiner, group, attempt)
        waiting = [m for m in marks if m.state is not CheckState.SUBMITTED]
        if waiting:
            for m in waiting:
                if m.state is not CheckState.HELD or m.expires_at <= now:
                    m.state, m.claimed_at, m.expires_at = CheckState.HELD, now, expires
            db.flush()
            return masked(exam, [shown(db, m) for m in waiting])
    items = draw(db, examiner, group)
    attempt += 1
    made = [
        CheckMark(
            session_id=exam.id,
            group_id=group.id,
            examiner_id=examiner.id,
            purpose=CheckPurpose.QUALIFICATION,
            item_id=item.id,
            response_id=item.response_id,
            attempt=attempt,
            expected=item.value,
            state=CheckState.HELD,
            claimed_at=now,
            expires_at=expires,
        )
        for item in items
    ]
    db.add_all(made)
    db.flush()
    return masked(exam, [shown(db, m) for m in made])


def usable_items(db: Session, examiner_id: int, group: MarkingGroup) -> list[CheckItem]:
    """The group's set in force less the items on scripts the examiner is excluded from
    (recusal, R10, holds for a qualification set as for live work), in the lead's order."""
    excluded = set(
        db.scalars(
            select(Response.id)
            .join(CheckItem, CheckItem.response_id == Response.id)
            .where(
                CheckItem.group_id == group.id,
                excluded_clause(examiner_id, Response.script_id),
            )
        )
    )
    return [i for i in active_items(db, group) if i.response_id not in excluded]


def draw(db: Session, examiner: Account, group: MarkingGroup) -> list[CheckItem]:
    """The items of the examiner's next attempt: ``qualification_size`` of the set in force,
    in the lead's order, never one of a script they are excluded from, those whose definitive
    marks they were shown (a failed attempt's) last. A retry on items already reviewed would
    test memory, not the standard: while the lead keeps more items than one attempt takes, a
    retry draws ones not seen; with fewer, it repeats some, and the lead's page asks for more
    items (``fresh_retry``).

    Raises StateError when the items the examiner may mark are fewer than an attempt takes
    (recusal left too few): an attempt is never short, and the lead's page asks for more
    items (``short_for``)."""
    seen = set(
        db.scalars(
            select(CheckMark.item_id).where(
                CheckMark.examiner_id == examiner.id,
                CheckMark.group_id == group.id,
                CheckMark.purpose == CheckPurpose.QUALIFICATION,
                CheckMark.revealed.is_(True),
            )
        )
    )
    pool = usable_items(db, examiner.id, group)
    size = group.qualification_size or 0
    if len(pool) < size:
        raise StateError.coded(
            "qualification_set_short",
            "the qualification set of group %(group)s has too few responses you may mark; "
            "the lead examiner's page asks for more: try again once they are added",
            group=group.name,
        )
    ordered = [i for i in pool if i.id not in seen] + [i for i in pool if i.id in seen]
    return ordered[:size]


def short_for(db: Session, group: MarkingGroup) -> int:
    """How many examiners of the group, still to qualify, cannot be given a whole attempt
    because they are excluded from scripts of the set (the lead's page asks for more items;
    it names no one, as recusal names no one)."""
    size = group.qualification_size
    if size is None:
        return 0
    waiting = db.scalars(
        select(Assignment.examiner_id).where(
            Assignment.group_id == group.id,
            Assignment.qualified_at.is_(None),
            Assignment.suspended_at.is_(None),
        )
    ).all()
    return sum(1 for e in waiting if len(usable_items(db, e, group)) < size)


def fresh_retry(db: Session, group: MarkingGroup) -> bool:
    """Whether a retry after a failed attempt can be drawn wholly from items the examiner has
    not seen: the set in force holds at least twice ``qualification_size`` (or the group asks
    for no set)."""
    if group.qualification_size is None:
        return True
    return len(active_items(db, group)) >= 2 * group.qualification_size


def held_set(
    db: Session, exam: ExamSession, examiner: Account, group: MarkingGroup
) -> list[Claimed]:
    """The items of the examiner's open attempt still to mark (starts nothing)."""
    _assignment(db, exam, examiner, group)
    return held_checks(
        db, exam, examiner, purposes=(CheckPurpose.QUALIFICATION,), group_id=group.id
    )


def decide(
    db: Session,
    exam: ExamSession,
    examiner: Account,
    group_id: int,
    attempt: int,
    *,
    now: dt.datetime | None = None,
) -> bool | None:
    """The attempt's outcome once all its items are marked (None before): a pass qualifies
    the examiner (``qualified`` in the ledger)."""
    group = db.get(MarkingGroup, group_id)
    assert group is not None
    marks = _attempt_marks(db, examiner, group, attempt)
    if any(m.state is not CheckState.SUBMITTED for m in marks):
        return None
    within, of = _score(db, marks)
    passed = passes(within, of, group.qualification_within or Decimal(1))
    assignment = _assignment(db, exam, examiner, group)
    if not passed:
        # The review shows them the definitive marks from now on: those responses are
        # held out of their live claims (``takeable_by``).
        db.execute(
            update(CheckMark)
            .where(CheckMark.id.in_([m.id for m in marks]))
            .values(revealed=True)
            .execution_options(synchronize_session=False)
        )
    if passed and assignment.qualified_at is None:
        assignment.qualified_at = now or utcnow()
        db.flush()
        ledger.append(
            db,
            exam,
            kind="qualified",
            actor=examiner.username,
            payload={
                "group": group.key,
                "attempt": attempt,
                "within": within,
                "of": of,
                "checks": [m.id for m in marks],
            },
            now=now,
        )
    return passed


def review(
    db: Session, exam: ExamSession, examiner: Account, group: MarkingGroup
) -> list[ReviewItem]:
    """The examiner's latest complete attempt beside the definitive marks and the lead's
    notes, once it failed (StateError otherwise: the definitive marks are shown to help an
    examiner who did not qualify, and to no one else)."""
    state = qualification_state(db, exam, examiner, group)
    if state.last_passed is not False or state.qualified:
        raise StateError.coded(
            "qualification_no_review",
            "the definitive marks are shown after a failed attempt only",
        )
    attempt = state.attempt - 1 if state.open else state.attempt
    marks = _attempt_marks(db, examiner, group, attempt)
    tolerance = _tolerances(db, marks)
    notes = {
        iid: note
        for iid, note in db.execute(
            select(CheckItem.id, CheckItem.note).where(
                CheckItem.id.in_([m.item_id for m in marks if m.item_id is not None])
            )
        )
    }
    return [
        ReviewItem(
            item=masked(exam, [shown(db, m)])[0],
            given=m.value,
            definitive=m.expected,
            note=notes.get(m.item_id or 0, ""),
            within=m.value is not None and abs(m.value - m.expected) <= tolerance[m.response_id],
        )
        for m in marks
    ]


def require_qualified(
    db: Session, exam: ExamSession, examiner: Account, *, group_id: int | None = None
) -> None:
    """StateError naming the groups whose qualification set the examiner must pass before
    live work, when that is why they have no open group (a claim's refusal, not its hot
    path); of group ``group_id`` only, when they chose that group to mark (another group's
    set is not why that one gives them nothing)."""
    query = (
        select(MarkingGroup.name)
        .join(Assignment, Assignment.group_id == MarkingGroup.id)
        .where(
            Assignment.session_id == exam.id,
            Assignment.examiner_id == examiner.id,
            Assignment.suspended_at.is_(None),
            Assignment.qualified_at.is_(None),
            MarkingGroup.qualification_size.is_not(None),
            MarkingGroup.approved_at.is_not(None),
        )
        .order_by(MarkingGroup.id)
    )
    if group_id is not None:
        query = query.where(MarkingGroup.id == group_id)
    waiting = db.scalars(query).all()
    if waiting:
        raise StateError.coded(
            "qualification_required",
            "take the qualification set (资格测试) of %(groups)s before live marking there",
            groups="、".join(waiting),
        )
