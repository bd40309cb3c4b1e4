"""Leases on responses: the held-lease check, expiry back to the queue, the session check."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Collection, Iterable
from typing import TypeVar

from sqlalchemy import bindparam, case, select, update
from sqlalchemy.orm import Session

from marking.errors import MarkingError, NotFound
from marking.queue.statements import EXPIRE, FREE
from marking.store.models import (
    Account,
    Assignment,
    ExamSession,
    GroupSuspension,
    Lease,
    LeaseState,
    MarkingGroup,
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
    expired = db.execute(EXPIRE, {"now": now, "session_id": exam.id}).all()
    free_slots(db, [response_id for response_id, _examiner in expired])
    uncount_leases(db, expired)
    return len(expired)


# The examiner's check schedule (``marking.quality.checks``) counts the places of their
# batches in a group (``Assignment.handed``) that they keep: marked, held, reported. A place
# given up unmarked (handed back, expired, taken back) is counted off, and counted again when
# a claim hands it out again: so handing back and claiming again brings no check nearer, and
# uses up no seed.
_UNCOUNT = (
    update(Assignment)
    .where(Assignment.examiner_id == bindparam("me"), Assignment.group_id == bindparam("g"))
    .values(
        handed=case(
            (Assignment.handed > bindparam("n"), Assignment.handed - bindparam("n")), else_=0
        )
    )
)


def uncount(db: Session, places: Iterable[tuple[int, int | None]]) -> None:
    """Count off the places given up, each (examiner id, group id), from the schedules."""
    given_up = Counter((me, g) for me, g in places if g is not None)
    if given_up:
        db.connection().execute(
            _UNCOUNT, [{"me": me, "g": g, "n": n} for (me, g), n in given_up.items()]
        )


def free_slots(db: Session, responses: Iterable[int | None]) -> None:
    """Free a slot (``held``) on each of these responses, once per mention: a live response
    handed back, or the live response a seed or 回评 displaced from its batch
    (``marking.quality.handout``) once the check leaves the examiner's hands (marked, handed
    back, reported, expired). While the check is held, that response is short of the
    examiner's place as it would be had they held it, so others cannot take and finish it
    and the check comes back when the examiner's claim brings that response, as live work
    handed back does. One routine for both, so that handing back a check costs what handing
    back a live response does. None (a qualification item displaces nothing) frees nothing."""
    counted = Counter(r for r in responses if r is not None)
    if counted:
        db.connection().execute(
            FREE, [{"r_id": r, "r_count": n} for r, n in sorted(counted.items())]
        )


def uncount_leases(db: Session, leases: Iterable[tuple[int, int]]) -> None:
    """``uncount`` for live responses given up, each (response id, examiner id)."""
    leases = list(leases)
    if not leases:
        return
    groups: dict[int, int | None] = {
        response_id: group_id
        for response_id, group_id in db.execute(
            select(Response.id, Response.group_id).where(
                Response.id.in_({response_id for response_id, _ in leases})
            )
        )
    }
    uncount(db, [(me, groups.get(response_id)) for response_id, me in leases])


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
            raise suspended(db, examiner, response_id) or lost(LeaseLost, "released")
        expired_at = last.expires_at
    else:
        expired_at = lease.expires_at
    raise lost(LeaseLost, "expired", expired_at, zone=exam.zone)


def suspended(
    db: Session,
    examiner: Account,
    response_id: int,
    cls: type[_Lost] = LeaseLost,  # type: ignore[assignment]
) -> _Lost | None:
    """The answer when the examiner was suspended on the response's group (the suspension
    handed back what they held): saying so, with the lead's reason, rather than "you handed
    it back". For a check the caller passes the response it shows: the same answer."""
    found = db.execute(
        select(MarkingGroup.id, MarkingGroup.name)
        .join(Response, Response.group_id == MarkingGroup.id)
        .join(
            Assignment,
            (Assignment.group_id == MarkingGroup.id) & (Assignment.examiner_id == examiner.id),
        )
        .where(Response.id == response_id, Assignment.suspended_at.is_not(None))
    ).first()
    reason = found and lead_suspensions(db, examiner.id, [found.id]).get(found.id)
    if found is None or reason is None:
        return None
    return cls.coded(
        "lease_suspended",
        "the lead examiner suspended your marking in %(group)s (%(reason)s): what you held "
        "there went back to the queue and your mark was not recorded; ask the lead examiner",
        group=found.name,
        reason=reason,
    )


def lead_suspensions(db: Session, examiner_id: int, group_ids: Collection[int]) -> dict[int, str]:
    """Group id → the lead's reason, for those of ``group_ids`` where the lead suspended the
    examiner and has not reinstated them (the latest reason). A suspension in the office's
    register (第八条) has no such row: the callers then say it generally."""
    return dict(
        db.execute(
            select(GroupSuspension.group_id, GroupSuspension.reason)
            .where(
                GroupSuspension.examiner_id == examiner_id,
                GroupSuspension.group_id.in_(list(group_ids)),
                GroupSuspension.reinstated_at.is_(None),
            )
            .order_by(GroupSuspension.id)
        ).all()
    )


def _aware(moment: dt.datetime) -> dt.datetime:
    """A time read back from the database, as UTC (SQLite hands back naive times)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def lost(
    cls: type[_Lost],
    state: str,
    expired_at: dt.datetime | None = None,
    *,
    zone: dt.tzinfo = dt.UTC,
) -> _Lost:
    """What a lost lease says by its last state (``submitted``, ``released``, otherwise
    expired at ``expired_at``, told in the session's time ``zone``, as every time a person
    reads), as ``cls``: checks (marking.quality.checks) say exactly what a live response
    says, so an examiner cannot tell the two apart."""
    if state == "submitted":
        return cls.coded("lease_marked", "you have already marked this response")
    if state == "released":
        return cls.coded("lease_released", "you handed this response back; it is no longer yours")
    return cls.coded(
        "lease_expired",
        "your claim on this response expired at %(time)s and it went back to the queue; "
        "your mark was not recorded. Claim a new batch to go on.",
        time=f"{_aware(expired_at).astimezone(zone):%H:%M:%S}" if expired_at else "?",
    )
