"""Checks handed to examiners inside their claims: seeds and 回评 (DESIGN §13), and the
one way any check (qualification too) is marked: ``submit_check``.

Schedule. Per examiner and group (``Assignment``), ``handed`` counts the places handed out
in batches. A rate r gives a window W = floor(1/r): in each block of W places one check
goes in at a random place of the block (``seed_due``/``remark_due`` hold the count at which
the next is due). A claim puts a due check into the batch at that place, in the live
response's stead (that one's lease is let go at once, its slot kept while the check is
held: ``leases.free_slots``), under the batch's lease expiry,
in the same ``Claimed`` shape, addressed by a handle of the same format: the examiner cannot
tell it from live work, nor from the batch's length or the count they hold. A check due
when none can be given (no seed eligible yet) stays owed and goes into the next batch that
can take one.

Handed back. ``handed`` counts the places the examiner keeps: a place given up unmarked (a
live response or a check handed back, expired, taken back) is counted off
(``queue.leases.uncount``) and counted again when handed out again, so handing back and
claiming again brings no check nearer. A check given up comes back as itself when a claim
brings the examiner the live response it displaced (``handout.come_back``), as a live
response handed back comes back under its own handle: no fresh check for each hand-back (a
handle never seen again would single each one out), no seed used up unmarked.

Seeds go to an examiner only once their source response is no longer open (all its marks
are in) and when the examiner never marked, held or was shown it: so no one meets a seed's
text live, and a seed never keeps a live response from its markers. A 回评 is one of the
examiner's own marks in force in the group (not one of their last ``REMARK_RECENT``, never
twice), shown without the first mark. It is an answer they marked before, with its script
code and text as then: they may recognise it, as on paper, but nothing on the screen says it
is a 回评 and their first mark is not shown.

Cost. A group without seeds and 回评 costs a claim nothing (``claims.Checked`` comes with
the batch's own rows); otherwise one small UPDATE per group, plus the hand-out itself when a
check is due. Nothing here writes a ``mark``: no check can reach a final.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, NoReturn

from sqlalchemy import (
    Integer,
    bindparam,
    case,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.domain.rules import drift
from marking.domain.rules.schedule import first_due, schedule, window
from marking.errors import NotFound, StateError, not_marking
from marking.quality.alarms import open_kinds, prior_seeds, raise_alarms, seed_marks
from marking.quality.handout import DUE_FIELD, DUES, Batch, Place, come_back, hand_out
from marking.queue.claims import Checked, Claimed, describe, masked
from marking.queue.handback import UNANNOUNCED
from marking.queue.leases import (
    LeaseLost,
    free_slots,
    held_lease,
    in_session,
    lost,
    suspended,
    uncount,
    uncount_leases,
)
from marking.queue.marks import validate_mark
from marking.queue.statements import _DriverStatement, _is, decimals
from marking.store.db import to_milli
from marking.store.models import (
    Account,
    Assignment,
    ExamSession,
    LedgerEntry,
    Question,
    Response,
    utcnow,
)
from marking.store.models.checks import (
    AlarmKind,
    CheckMark,
    CheckPurpose,
    CheckState,
)


class CheckLost(LeaseLost, StateError):
    """The examiner no longer holds the check (expired, handed back, already marked)."""


# --- handing checks out -----------------------------------------------------------------------

# The batch counted in the examiner's schedule in a group (on PostgreSQL the claim's own
# statement counts it: ``claims.Checked.counters``).
_COUNT = (
    update(Assignment)
    .where(Assignment.group_id == bindparam("g"), Assignment.examiner_id == bindparam("me"))
    .values(handed=Assignment.handed + bindparam("n", type_=Assignment.handed.type))
    .returning(Assignment.id, Assignment.handed, Assignment.seed_due, Assignment.remark_due)
)


def mix_in(
    db: Session,
    exam: ExamSession,
    examiner: Account,
    items: list[Claimed],
    checked: Mapping[str, Checked],
    *,
    now: dt.datetime,
    expires: dt.datetime,
    rng: random.Random,
) -> list[Claimed]:
    """The batch with the checks due in it mixed in at their positions (see the module)."""
    mixed = list(items)
    batch = Batch(exam.id, examiner.id, now, expires, rng)
    # Checks handed back come back first, where the live responses they displaced came.
    for at, check in come_back(db, batch, items, checked).items():
        mixed[at] = check
    taken = {at for at, item in enumerate(mixed) if item.check_id is not None}
    conn = db.connection()  # Core statements, as the rest of a claim: no ORM on this path
    for key, group in checked.items():
        positions = [i for i, item in enumerate(items) if item.group == key]
        row = (
            group.counters
            or conn.execute(
                _COUNT, {"g": group.group_id, "me": examiner.id, "n": group.count}
            ).one()
        )
        before = row.handed - group.count
        first: dict[str, int] = {}  # a purpose's first due, set now: written unless moved on
        for purpose, rate, due in (
            (CheckPurpose.SEED, group.seed_rate, row.seed_due),
            (CheckPurpose.REMARK, group.remark_rate, row.remark_due),
        ):
            width = window(rate)
            if not width:
                continue
            if due is None:
                due = first[DUE_FIELD[purpose]] = first_due(before, width, rng)

            def give(
                at: int,
                following: int,
                purpose: CheckPurpose = purpose,
                positions: list[int] = positions,
                assignment: int = row.id,
                group_id: int = group.group_id,
                first: dict[str, int] = first,
            ) -> bool:
                # Its place, or (a seed and a 回评 due at one place) the next free one.
                free = [p for p in positions[at:] + positions[:at] if p not in taken]
                if not free:
                    return False  # owed to the next batch
                # It takes the place of the live response there, which goes back to the
                # queue: the batch keeps the size asked for and the group's hold limit, so
                # neither its length nor the count held says that it holds a check.
                place = Place(assignment, group_id, mixed[free[0]].response_id, following)
                check = hand_out(db, batch, purpose, place)
                if check is None:
                    return False  # owed: handed out with a later batch, once one can be
                taken.add(free[0])
                mixed[free[0]] = check
                first.pop(DUE_FIELD[purpose], None)  # the schedule moved on, and was written
                return True

            schedule(due, before, group.count, width, rng, give)
        if first:
            conn.execute(DUES.values(**first), {"a_id": row.id})
    return mixed  # claim() masks script codes during a revision, checks' as live ones


def shown(db: Session, check: CheckMark) -> Claimed:
    """A check as the examiner sees it: its source response, as a live one is shown."""
    (item,) = describe(db, [check.response_id], expires_at=check.expires_at)
    return replace(item, check_id=check.id)


def held_checks(
    db: Session,
    exam: ExamSession,
    examiner: Account,
    *,
    purposes: tuple[CheckPurpose, ...] = (CheckPurpose.SEED, CheckPurpose.REMARK),
    group_id: int | None = None,
    now: dt.datetime | None = None,
) -> list[Claimed]:
    """The checks of these purposes the examiner holds now (a reloaded page resumes)."""
    now = now or utcnow()
    query = select(CheckMark).where(
        CheckMark.session_id == exam.id,
        CheckMark.examiner_id == examiner.id,
        CheckMark.state == CheckState.HELD,
        CheckMark.expires_at > now,
        CheckMark.purpose.in_(purposes),
    )
    if group_id is not None:
        query = query.where(CheckMark.group_id == group_id)
    found = db.scalars(query.order_by(CheckMark.id)).all()
    return masked(exam, [shown(db, c) for c in found])


def expire_checks(db: Session, exam: ExamSession, *, now: dt.datetime | None = None) -> int:
    """Held checks past their time marked expired; how many."""
    expired = db.execute(
        update(CheckMark)
        .where(
            CheckMark.session_id == exam.id,
            CheckMark.state == CheckState.HELD,
            CheckMark.expires_at <= (now or utcnow()),
        )
        .values(state=CheckState.EXPIRED)
        .returning(
            CheckMark.examiner_id, CheckMark.group_id, CheckMark.purpose, CheckMark.displaced_id
        )
        .execution_options(synchronize_session=False)
    ).all()
    free_slots(db, [displaced for *_, displaced in expired])
    uncount(db, [(me, g) for me, g, purpose, _ in expired if purpose in UNANNOUNCED])
    return len(expired)


# --- marking a check --------------------------------------------------------------------------


# The examiner's check with its question's limits, locked; and its mark recorded.
_HELD_CHECK = (
    select(
        CheckMark.state,
        CheckMark.expires_at,
        CheckMark.purpose,
        CheckMark.group_id,
        CheckMark.attempt,
        CheckMark.displaced_id,
        Question.max,
        Question.step,
    )
    .join(Response, Response.id == CheckMark.response_id)
    .join(Question, Question.id == Response.question_id)
    .where(
        CheckMark.id == bindparam("c_id"),
        CheckMark.session_id == bindparam("s_id"),
        CheckMark.examiner_id == bindparam("me"),
    )
    .with_for_update(of=CheckMark.__table__)
)
_SUBMITTED = (
    update(CheckMark)
    .where(CheckMark.id == bindparam("c_id"))
    .values(
        value=bindparam("value", type_=CheckMark.__table__.c.value.type),
        state=CheckState.SUBMITTED,
        submitted_at=bindparam("at", type_=CheckMark.__table__.c.submitted_at.type),
    )
)


# PostgreSQL: a check marked in two round trips, as a live mark is (marking.queue.marks):
# the first locks the check and the examiner's ledger lane and reads the question's limits
# and the lane's tip; the second records the mark, the ledger entry and the lane's new tip.
# A seed's first statement also reads the examiner's seeds marked before it in the group, for
# the drift rule (``alarms.prior_seeds``): a seed's mark then takes the round trips a live
# mark does (a tester timed seeds' marks a seventh slower over HTTP).
_check_lane = ledger.lane_lock("postgresql").cte("check_lane_tip")
_this_check = CheckMark.__table__.alias("this_check")
_this_group = (
    select(_this_check.c.group_id)
    .where(_this_check.c.id == bindparam("c_id", type_=Integer))
    .scalar_subquery()
)
_A_SEED = _is(CheckMark.purpose, CheckPurpose.SEED)
_PRIOR = case(
    (
        _A_SEED,
        prior_seeds(bindparam("me", type_=Integer), _this_group, bindparam("c_id", type_=Integer)),
    )
).label("prior")
_OPEN_NOW = case(
    (
        _A_SEED,
        open_kinds(bindparam("me", type_=Integer), _this_group, bindparam("s_id", type_=Integer)),
    )
).label("open_now")
_HELD_CHECK_DRIVER = _DriverStatement(
    _HELD_CHECK.add_columns(
        _check_lane.c.seq,
        _check_lane.c.hash,
        CheckMark.expected,
        Question.tolerance,
        _PRIOR,
        _OPEN_NOW,
    ).join_from(CheckMark, _check_lane, true())
)
_c = CheckMark.__table__.c
_SUBMIT_DRIVER = _DriverStatement(
    ledger.INSERT_ENTRY.values(
        {
            c: bindparam(f"e_{c}", type_=LedgerEntry.__table__.c[c].type)
            for c in ledger.ENTRY_COLUMNS
        }
    ).add_cte(
        update(CheckMark)
        .where(CheckMark.id == bindparam("c_id"))
        .values(
            value=bindparam("c_value", type_=_c.value.type),
            state=CheckState.SUBMITTED,
            submitted_at=bindparam("e_created_at", type_=_c.submitted_at.type),
        )
        .cte("check_submitted"),
        # The live response the check displaced gets the examiner's slot back
        # (``leases.free_slots``); none for a qualification item (NULL matches no row).
        update(Response)
        .where(Response.id == bindparam("d_id", type_=Integer))
        .values(held=Response.held - 1)
        .cte("slot_freed"),
        ledger.ADVANCE_LANE.cte("advanced"),
    )
)


@dataclass(frozen=True)
class CheckSubmitted:
    check_id: int
    purpose: CheckPurpose
    value: Decimal
    alarms: tuple[AlarmKind, ...] = ()
    qualified: bool | None = None  # qualification: the attempt's outcome once complete


def held_check(
    db: Session, exam: ExamSession, examiner: Account, check_id: int, *, now: dt.datetime
) -> CheckMark:
    """The examiner's live check, locked; NotFound (another session's), LeaseLost for
    another examiner's (as a live response's would say), or CheckLost saying what
    happened."""
    check = db.scalar(
        select(CheckMark)
        .where(
            CheckMark.id == check_id,
            CheckMark.session_id == exam.id,
            CheckMark.examiner_id == examiner.id,
        )
        .with_for_update()
    )
    if check is None:
        _not_yours(db, exam, examiner, check_id, now=now)
    if check.state is CheckState.HELD and check.expires_at > now:
        return check
    # The messages say what a live response's would: a check is not told apart.
    if check.state is CheckState.SUBMITTED:
        raise lost(CheckLost, "submitted")
    if check.state is CheckState.RELEASED:
        raise suspended(db, examiner, check.response_id, CheckLost) or lost(CheckLost, "released")
    if check.state is CheckState.HELD:
        check.state = CheckState.EXPIRED
        _given_up(db, check)
    raise lost(CheckLost, "expired", check.expires_at, zone=exam.zone)


def _not_yours(
    db: Session, exam: ExamSession, examiner: Account, check_id: int, *, now: dt.datetime
) -> NoReturn:
    """Refuse a check that is not the examiner's as a live response held by another would
    be refused: by what the examiner did with the response it shows (``held_lease``: never
    claimed, marked, handed back). A 404 here, against a 409 for live work, would tell two
    examiners comparing handles which of one's items is a check."""
    other = db.scalar(
        select(CheckMark.response_id).where(
            CheckMark.id == check_id, CheckMark.session_id == exam.id
        )
    )
    if other is None:
        raise NotFound(f"that response is not in session {exam.code}")
    held_lease(db, exam, examiner, other, now=now)  # raises, saying what they did with it
    # They hold that response live themselves, under its own handle: not under this one.
    raise CheckLost.coded("lease_none", "you have not claimed this response; claim a batch first")


def submit_check(
    db: Session,
    exam: ExamSession,
    examiner: Account,
    *,
    check_id: int,
    value: object,
    now: dt.datetime | None = None,
) -> CheckSubmitted:
    """Record the examiner's mark on a check they hold: validated as a live mark would be,
    kept in ``check_mark`` (never ``mark``), in the ledger (``check_mark``). A seed's mark
    runs the drift rule (``rules.drift``) and opens the alarms it raises; the last mark of a
    qualification attempt decides it (``qualification.decide``).

    Raises StateError outside marking, NotFound for another examiner's or another
    session's check, CheckLost (a StateError) when the check's lease is gone and
    InvalidMark for a value outside [0, max] or off the step; nothing is stored then."""
    if not exam.marking_open:
        raise not_marking(exam.code, exam.state.value)
    now = now or utcnow()
    params: dict[str, Any] = {"c_id": check_id, "s_id": exam.id, "me": examiner.id}
    conn = db.connection()
    fused = conn.dialect.name == "postgresql"
    if fused:
        params.update(l_session=exam.id, l_lane=examiner.username)
        check = _HELD_CHECK_DRIVER.run(conn, params).fetchone()
    else:
        check = conn.execute(_HELD_CHECK, params).first()
    if check is None or CheckState(check.state) is not CheckState.HELD or check.expires_at <= now:
        held_check(db, exam, examiner, check_id, now=now)  # raises, saying why
        raise AssertionError("unreachable")
    maximum, step = decimals((check.max, check.step)) if fused else (check.max, check.step)
    mark = validate_mark(value, maximum=maximum, step=step)
    purpose = CheckPurpose(check.purpose)
    payload: dict[str, Any] = {
        "check": check_id,
        "purpose": purpose.value,
        "value": f"{mark:f}",
    }
    if purpose is CheckPurpose.QUALIFICATION:
        payload["attempt"] = check.attempt
    if fused:
        entry = ledger.entry_row(
            session_id=exam.id,
            lane=examiner.username,
            tip=(check.seq, check.hash),
            kind="check_mark",
            actor=examiner.username,
            payload=payload,
            created_at=now,
        )
        _SUBMIT_DRIVER.run(
            conn,
            {
                **{f"e_{k}": v for k, v in entry.items()},
                "e_payload": json.dumps(payload),
                "c_id": check_id,
                "c_value": to_milli(mark),
                "d_id": check.displaced_id,
                "l_session": exam.id,
                "l_lane": examiner.username,
                "tip_seq": entry["seq"],
                "tip_hash": entry["hash"],
            },
        )
    else:
        conn.execute(_SUBMITTED, {"c_id": check_id, "value": mark, "at": now})
        free_slots(db, [check.displaced_id])
        ledger.append(
            db, exam, kind="check_mark", actor=examiner.username, payload=payload, now=now
        )
    raised: tuple[AlarmKind, ...] = ()
    qualified: bool | None = None
    if purpose is CheckPurpose.SEED:
        raised = _drift(db, exam, examiner, check, check_id, mark, step, now=now, fused=fused)
    elif purpose is CheckPurpose.QUALIFICATION:
        from marking.quality.qualification import decide

        qualified = decide(db, exam, examiner, check.group_id, check.attempt, now=now)
    return CheckSubmitted(check_id, purpose, mark, raised, qualified)


def _drift(
    db: Session,
    exam: ExamSession,
    examiner: Account,
    check: Any,
    check_id: int,
    mark: Decimal,
    step: Decimal,
    *,
    now: dt.datetime,
    fused: bool,
) -> tuple[AlarmKind, ...]:
    """The drift rule on a seed just marked (``rules.drift``): the alarms it opened. SQLite
    reads the examiner's recent seeds now; PostgreSQL's first statement read them (and the
    open alarms' kinds) with the check."""
    seeds, open_now = None, None
    if fused:
        expected, tolerance = decimals((check.expected, check.tolerance))
        this = drift.SeedMark(check_id, expected, mark, tolerance, step)
        seeds, open_now = seed_marks(this, check.prior), check.open_now or []
    return raise_alarms(db, exam, examiner, check.group_id, now=now, seeds=seeds, open_now=open_now)


def release_check(
    db: Session,
    exam: ExamSession,
    examiner: Account,
    *,
    check_id: int,
    now: dt.datetime | None = None,
) -> None:
    """Hand a held check back unmarked (the marking screen's hand-back; a report on a check
    is ``marking.quality.reports.report_check``)."""
    check = held_check(db, exam, examiner, check_id, now=now or utcnow())
    # The steps of a live hand-back (``handback.release``), statement for statement: its
    # response checked to be the session's, a slot freed (``_given_up``), its group read
    # with it. A hand-back that cost less time told a tester, over many, which handles were
    # checks.
    in_session(db, exam, check.response_id)
    check.state = CheckState.RELEASED
    _given_up(db, check)


def _given_up(db: Session, check: CheckMark) -> None:
    """A check handed back or expired, unmarked: the slot it kept on its displaced response
    freed (``leases.free_slots``) and its place counted off the schedule, as a live
    response's (``leases.uncount_leases``, its group read from its response, as a live one's
    is); it comes back when its displaced response would (``handout.come_back``)."""
    free_slots(db, [check.displaced_id])
    if check.purpose in UNANNOUNCED:
        uncount_leases(db, [(check.response_id, check.examiner_id)])
    db.flush()


def holds_check(
    db: Session, exam: ExamSession, examiner: Account, check_id: int, *, now: dt.datetime
) -> int | None:
    """The response a live check of the examiner shows, or None."""
    return db.scalar(
        select(CheckMark.response_id).where(
            CheckMark.id == check_id,
            CheckMark.session_id == exam.id,
            CheckMark.examiner_id == examiner.id,
            CheckMark.state == CheckState.HELD,
            CheckMark.expires_at > now,
        )
    )
