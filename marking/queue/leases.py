"""Leases on responses: the held-lease check, expiry back to the queue, the session check."""

from __future__ import annotations

import datetime as dt
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.errors import MarkingError, NotFound
from marking.queue.statements import EXPIRE, FREE
from marking.store.models import (
    Account,
    ExamSession,
    Lease,
    LeaseState,
    Response,
    Script,
    utcnow,
)

DEFAULT_LEASE = dt.timedelta(minutes=20)


class LeaseLost(MarkingError):
    """The examiner no longer holds the response (expired, or never claimed)."""

    exit_code = 4


_Lost = TypeVar("_Lost", bound=LeaseLost)


def expire_leases(db: Session, exam: ExamSession, *, now: dt.datetime | None = None) -> int:
    """Return responses whose lease ran out to the queue; returns how many."""
    now = now or utcnow()
    expired = db.execute(EXPIRE, {"now": now, "session_id": exam.id}).scalars()
    freed: dict[int, int] = {}
    for response_id in expired:
        freed[response_id] = freed.get(response_id, 0) + 1
    for response_id, count in freed.items():
        db.execute(FREE, {"r_id": response_id, "r_count": count})
    return sum(freed.values())


def in_session(db: Session, exam: ExamSession, response_id: int) -> None:
    """NotFound unless the response belongs to the session it is addressed through.

    Every operation on a response checks this first: an examiner of two sessions must not
    mark, flag or hand back in one session what they hold in the other (each session's
    ledger would then hold the other's marks, and neither would verify)."""
    found = db.scalar(
        select(Response.id)
        .join(Script, Script.id == Response.script_id)
        .where(Response.id == response_id, Script.session_id == exam.id)
    )
    if found is None:
        raise NotFound(f"that response is not in session {exam.code}")


def held_lease(
    db: Session, exam: ExamSession, examiner: Account, response_id: int, *, now: dt.datetime
) -> Lease:
    """The examiner's live lease on a response of this session, or NotFound (another
    session's response) or LeaseLost saying what happened."""
    in_session(db, exam, response_id)
    lease = db.scalar(
        select(Lease)
        .where(
            Lease.response_id == response_id,
            Lease.examiner_id == examiner.id,
            Lease.state == LeaseState.HELD,
        )
        .with_for_update()
    )
    if lease is not None and lease.expires_at > now:
        return lease
    # The messages name no response: its row id is not for examiners to see.
    if lease is None:
        last = db.scalar(
            select(Lease)
            .where(Lease.response_id == response_id, Lease.examiner_id == examiner.id)
            .order_by(Lease.id.desc())
            .limit(1)
        )
        if last is None:
            raise LeaseLost.coded(
                "lease_none", "you have not claimed this response; claim a batch first"
            )
        if last.state is LeaseState.SUBMITTED:
            raise lost(LeaseLost, "submitted")
        if last.state is LeaseState.RELEASED:
            raise lost(LeaseLost, "released")
        expired_at = last.expires_at
    else:
        expired_at = lease.expires_at
    raise lost(LeaseLost, "expired", expired_at)


def lost(cls: type[_Lost], state: str, expired_at: dt.datetime | None = None) -> _Lost:
    """What a lost lease says by its last state (``submitted``, ``released``, otherwise
    expired at ``expired_at``), as ``cls``: checks (marking.quality.checks) say exactly what
    a live response says, so an examiner cannot tell the two apart."""
    if state == "submitted":
        return cls.coded("lease_marked", "you have already marked this response")
    if state == "released":
        return cls.coded("lease_released", "you handed this response back; it is no longer yours")
    return cls.coded(
        "lease_expired",
        "your claim on this response expired at %(time)s UTC and it went back to the queue; "
        "your mark was not recorded. Claim a new batch to go on.",
        time=f"{expired_at:%H:%M:%S}" if expired_at else "?",
    )
