"""Giving a held response back unmarked: released to the queue, or flagged to the lead (R4)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.errors import MarkingError, not_marking
from marking.queue.leases import free_slots, held_lease, uncount, uncount_leases
from marking.store.models import (
    Account,
    Anomaly,
    AnomalyKind,
    CheckMark,
    CheckPurpose,
    CheckState,
    ExamSession,
    Lease,
    LeaseState,
    Response,
    ResponseState,
    utcnow,
)

#: Checks that stand in a batch for live work (seeds, 回评), counted in the schedule as it is.
UNANNOUNCED = (CheckPurpose.SEED, CheckPurpose.REMARK)


def release(
    db: Session,
    exam: ExamSession,
    examiner: Account,
    *,
    response_id: int,
    now: dt.datetime | None = None,
) -> None:
    """Hand a held response back to the queue unmarked (NotFound for another session's)."""
    now = now or utcnow()
    lease = held_lease(db, exam, examiner, response_id, now=now)
    lease.state = LeaseState.RELEASED
    free_slots(db, [response_id])  # as a check handed back frees its displaced response's
    uncount_leases(db, [(response_id, examiner.id)])
    db.flush()


def release_all(db: Session, examiner: Account) -> int:
    """Hand back everything the examiner holds, in every session (at logout: the work goes
    to others at once instead of waiting for the leases to run out); how many. An open
    qualification attempt keeps its set."""
    return sum(release_held(db, examiner_id=examiner.id))


def release_held(
    db: Session,
    *,
    examiner_id: int | None = None,
    group_ids: Sequence[int] | None = None,
    qualification: bool = False,
) -> tuple[int, int]:
    """Hand back what is held, unmarked: one examiner's (``examiner_id``), or everyone's in
    these marking groups (``group_ids``), or both; returns (leases, checks) handed back.

    Seeds and 回评 go back with live work, so handing back tells nothing apart. A held
    qualification attempt keeps its set unless ``qualification`` (a suspension, an
    override: the examiner will not finish it). Leases are locked in response order, as a
    claim locks them, so a concurrent claim or mark waits instead of deadlocking."""
    if group_ids is not None and not group_ids:
        return 0, 0
    leases = (
        select(Lease.id, Lease.response_id, Lease.examiner_id)
        .where(Lease.state == LeaseState.HELD)
        .order_by(Lease.response_id)
        .with_for_update(of=Lease)
    )
    purposes = list(UNANNOUNCED)
    if qualification:
        purposes.append(CheckPurpose.QUALIFICATION)
    checks = update(CheckMark).where(
        CheckMark.state == CheckState.HELD, CheckMark.purpose.in_(purposes)
    )
    if examiner_id is not None:
        leases = leases.where(Lease.examiner_id == examiner_id)
        checks = checks.where(CheckMark.examiner_id == examiner_id)
    if group_ids is not None:
        leases = leases.join(Response, Response.id == Lease.response_id).where(
            Response.group_id.in_(list(group_ids))
        )
        checks = checks.where(CheckMark.group_id.in_(list(group_ids)))
    held = db.execute(leases).all()
    for lease_id, _response, _examiner in held:
        db.execute(update(Lease).where(Lease.id == lease_id).values(state=LeaseState.RELEASED))
    free_slots(db, [response_id for _lease, response_id, _examiner in held])
    uncount_leases(db, [(response_id, me) for _lease, response_id, me in held])
    released = db.execute(
        checks.values(state=CheckState.RELEASED).returning(
            CheckMark.examiner_id, CheckMark.group_id, CheckMark.purpose, CheckMark.displaced_id
        )
    ).all()
    free_slots(db, [displaced for *_, displaced in released])
    uncount(db, [(me, g) for me, g, purpose, _ in released if purpose in UNANNOUNCED])
    db.flush()
    return len(held), len(released)


#: The longest note a report on a response may carry.
NOTE_LIMIT = 2000


def report_note(note: str) -> str:
    """A report's note as kept: stripped; MarkingError (coded ``report_note_long``) when
    longer than ``NOTE_LIMIT`` characters, rather than cut without a word."""
    kept = note.strip()
    if len(kept) > NOTE_LIMIT:
        raise MarkingError.coded(
            "report_note_long",
            "the note is %(n)d characters: a report's note is at most %(limit)d",
            n=len(kept),
            limit=NOTE_LIMIT,
        )
    return kept


def flag(
    db: Session,
    exam: ExamSession,
    examiner: Account,
    *,
    response_id: int,
    kind: AnomalyKind,
    note: str,
    now: dt.datetime | None = None,
) -> Anomaly:
    """Report a held response to the lead instead of marking it (R4); it leaves the queue.

    Raises MarkingError (coded ``report_note_long``) for a note over ``NOTE_LIMIT``,
    NotFound for a response of another session and LeaseLost unless it is held."""
    if not exam.marking_open:
        raise not_marking(exam.code, exam.state.value)
    now = now or utcnow()
    note = report_note(note)  # refused before anything moves
    ledger.hold_lane(db, exam, examiner.username)  # as a mark does, before the lease
    lease = held_lease(db, exam, examiner, response_id, now=now)
    response = db.get(Response, response_id, with_for_update=True, populate_existing=True)
    assert response is not None
    lease.state = LeaseState.RELEASED
    response.held -= 1
    response.state = ResponseState.ANOMALY
    anomaly = Anomaly(
        session_id=exam.id,
        response_id=response_id,
        examiner_id=examiner.id,
        kind=kind,
        note=note,
        created_at=now,
        revision=response.revision,
    )
    db.add(anomaly)
    db.flush()
    ledger.append(
        db,
        exam,
        kind="flag",
        actor=examiner.username,
        payload={"anomaly": anomaly.id, "response": response_id, "kind": kind.value},
        now=now,
    )
    return anomaly
