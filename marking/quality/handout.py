"""Handing one check (a seed or a 回评) out inside a claim (DESIGN §13; the schedule and
the reasons: ``marking.quality.checks``).

A check handed out is held by the examiner under the batch's lease expiry; it takes the place
of a live response of the batch, whose lease is released at once (the check records which,
and whether the examiner's mark on it would have been the last it needed); and the
examiner's schedule moves on to the next check due. All of it, or nothing when no check
can be given now (it stays owed).

The displaced response keeps the examiner's slot (``held``) for as long as the check is
held: others cannot take the place and finish the response meanwhile, as they could not
had the examiner held it live. The slot is freed when the check leaves their hands
(``leases.free_slots``: marked, handed back, reported, expired), and a check handed
back comes back with that response (``come_back``), as live work handed back does.

On PostgreSQL this is one statement for a seed (its choice included) and one more for a
回评 (after the two short reads that choose it): the choice, the check, the release, the
schedule and what the examiner sees of it, as data-modifying CTEs each
conditioned on the check having been made, run as the driver's own SQL as the queue's hot
statements are. On SQLite the same steps as statements of their own.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import (
    Integer,
    bindparam,
    exists,
    func,
    insert,
    literal_column,
    select,
    update,
)
from sqlalchemy.orm import Session

from marking.quality.remarks import remark_for
from marking.quality.seeds import FRESH_SEED, PRIME, seed_for
from marking.queue.claims import Checked, Claimed, _claimed, describe
from marking.queue.statements import _describe, _DriverStatement, _is, lost_check
from marking.store.db import to_milli
from marking.store.models import (
    Assignment,
    Lease,
    LeaseState,
    Response,
)
from marking.store.models.checks import CheckMark, CheckPurpose, CheckState

_ME = bindparam("me", type_=Integer)
# The live response a check displaced from the batch, let go as if handed back at once.
_DISPLACED = (
    update(Lease)
    .where(
        Lease.response_id == bindparam("r"),
        Lease.examiner_id == _ME,
        _is(Lease.state, LeaseState.HELD),
    )
    .values(state=LeaseState.RELEASED)
)
# Whether the examiner's mark on the displaced response would have been the last it needed
# (a live mark stops being theirs to correct once its response is final): read as the
# check is made.
_LAST_NEEDED = (
    select(Response.marks_done + 1 >= Response.marks_needed)
    .where(Response.id == bindparam("r", type_=Integer))
    .scalar_subquery()
)
_NEW_CHECK = (
    insert(CheckMark)
    .values(displaced_id=bindparam("r", type_=Integer), last_needed=_LAST_NEEDED)
    .returning(CheckMark.id)
)
DUES = update(Assignment).where(Assignment.id == bindparam("a_id"))
DUE_FIELD = {CheckPurpose.SEED: "seed_due", CheckPurpose.REMARK: "remark_due"}
# The examiner's schedule moved on: where the next check of a purpose is due.
_FOLLOWING = {
    purpose: DUES.values({field: bindparam("following", type_=Integer)})
    for purpose, field in DUE_FIELD.items()
}


@dataclass(frozen=True)
class Place:
    """Where a check goes: the examiner's assignment in the group, the live response it
    displaces, and where the next check of its purpose is due once it is given."""

    assignment_id: int
    group_id: int
    displaced: int
    following: int


@dataclass(frozen=True)
class Batch:
    """The claim a check goes into: its session, examiner, time, expiry and randomness."""

    session_id: int
    examiner_id: int
    now: dt.datetime
    expires: dt.datetime
    rng: random.Random


def hand_out(db: Session, batch: Batch, purpose: CheckPurpose, place: Place) -> Claimed | None:
    """Hand the examiner a seed or a 回评 in ``place``, as they see it; None when none can
    be given now (nothing is changed then)."""
    conn = db.connection()
    if conn.dialect.name == "postgresql":
        return _fused(db, batch, purpose, place)
    session_id, examiner_id, rng = batch.session_id, batch.examiner_id, batch.rng
    now, expires = batch.now, batch.expires
    item_id = mark_id = None
    if purpose is CheckPurpose.SEED:
        found = seed_for(db, place.group_id, examiner_id, rng)
        if found is None:
            return None
        item_id, response_id, expected = found
    else:
        found = remark_for(db, place.group_id, examiner_id, rng)
        if found is None:
            return None
        mark_id, response_id, expected = found
    check_id = conn.execute(
        _NEW_CHECK,
        {
            "session_id": session_id,
            "group_id": place.group_id,
            "examiner_id": examiner_id,
            "purpose": purpose,
            "item_id": item_id,
            "response_id": response_id,
            "mark_id": mark_id,
            "attempt": 1,
            "expected": expected,
            "state": CheckState.HELD,
            "claimed_at": now,
            "expires_at": expires,
            "r": place.displaced,
        },
    ).scalar_one()
    conn.execute(_DISPLACED, {"r": place.displaced, "me": examiner_id})
    conn.execute(_FOLLOWING[purpose], {"a_id": place.assignment_id, "following": place.following})
    (item,) = describe(db, [response_id], expires_at=expires)
    return replace(item, check_id=check_id)


# --- PostgreSQL: one statement ----------------------------------------------------------------

_c = CheckMark.__table__.c
_HELD_CHECK_VALUES = {
    "session_id": bindparam("s_id", type_=Integer),
    "group_id": bindparam("g", type_=Integer),
    "examiner_id": _ME,
    "attempt": literal_column("1"),
    "state": literal_column(f"'{CheckState.HELD.value}'"),
    "claimed_at": bindparam("now", type_=_c.claimed_at.type),
    "expires_at": bindparam("expires", type_=_c.expires_at.type),
    "displaced_id": bindparam("r", type_=Integer),
    "last_needed": _LAST_NEEDED,
}


def _seed_check() -> Any:
    picked = FRESH_SEED.cte("picked")
    values = {
        **_HELD_CHECK_VALUES,
        "purpose": literal_column(f"'{CheckPurpose.SEED.value}'"),
        "item_id": picked.c.id,
        "response_id": picked.c.response_id,
        "expected": picked.c.value,
    }
    return insert(CheckMark).from_select(list(values), select(*values.values()))


def _remark_check() -> Any:
    return insert(CheckMark).values(
        {
            **_HELD_CHECK_VALUES,
            "purpose": literal_column(f"'{CheckPurpose.REMARK.value}'"),
            "response_id": bindparam("response_id", type_=Integer),
            "mark_id": bindparam("mark_id", type_=Integer),
            "expected": bindparam("expected", type_=_c.expected.type),
        }
    )


def _fused_statement(made: Any, purpose: CheckPurpose) -> _DriverStatement:
    check = made.returning(CheckMark.id, CheckMark.response_id).cte("check_made")
    given = exists(select(check.c.id))
    released = _DISPLACED.where(given).cte("released")
    dues = _FOLLOWING[purpose].where(given).cte("scheduled")
    shown = _describe(Response.id.in_(select(check.c.response_id))).add_columns(
        select(check.c.id).scalar_subquery().label("check_id")
    )
    return _DriverStatement(shown.add_cte(check, released, dues))


_FUSED = {
    CheckPurpose.SEED: _fused_statement(_seed_check(), CheckPurpose.SEED),
    CheckPurpose.REMARK: _fused_statement(_remark_check(), CheckPurpose.REMARK),
}


def _fused(db: Session, batch: Batch, purpose: CheckPurpose, place: Place) -> Claimed | None:
    examiner_id, rng = batch.examiner_id, batch.rng
    params: dict[str, Any] = {
        "s_id": batch.session_id,
        "g": place.group_id,
        "me": examiner_id,
        "now": batch.now,
        "expires": batch.expires,
        "r": place.displaced,
        "a_id": place.assignment_id,
        "following": place.following,
    }
    if purpose is CheckPurpose.SEED:
        params["salt"] = rng.randrange(1, PRIME)
    else:
        found = remark_for(db, place.group_id, examiner_id, rng)
        if found is None:
            return None
        mark_id, response_id, expected = found
        params.update(mark_id=mark_id, response_id=response_id, expected=to_milli(expected))
    row = _FUSED[purpose].run(db.connection(), params).fetchone()
    if row is None:
        return None
    return replace(_claimed(row, batch.expires, plain=True), check_id=row.check_id)


# --- a check handed back comes back as itself --------------------------------------------------


def _lost_for(displaced: Any) -> Any:
    """The examiner's first check given up (``statements.lost_check``) standing for each of
    the responses ``displaced`` selects: SQLite's read (PostgreSQL's claim reads it)."""
    return (
        select(func.min(CheckMark.id), CheckMark.displaced_id)
        .where(displaced, lost_check(_ME))
        .group_by(CheckMark.displaced_id)
    )


# By the index ``ix_check_mark_displaced``: a probe per live response of the batch.
_LOST_IN = _lost_for(CheckMark.displaced_id.in_(bindparam("ids", expanding=True)))
_HELD_AGAIN = (
    update(CheckMark)
    .where(CheckMark.id == bindparam("c"), lost_check(_ME))
    .values(
        state=CheckState.HELD,
        claimed_at=bindparam("at", type_=_c.claimed_at.type),
        expires_at=bindparam("expires", type_=_c.expires_at.type),
        last_needed=_LAST_NEEDED,
    )
    .returning(CheckMark.response_id)
)


def _again_statement() -> _DriverStatement:
    """PostgreSQL: a check held again, the live response it displaced let go and what the
    examiner sees of the check, in one statement, as at hand-out (``_fused_statement``): a
    claim that brought a check back took two round trips more than one that brought live
    work back, and a tester timed the difference (a tenth slower)."""
    again = _HELD_AGAIN.cte("held_again")
    released = _DISPLACED.where(exists(select(again.c.response_id))).cte("released")
    shown = _describe(Response.id.in_(select(again.c.response_id)))
    return _DriverStatement(shown.add_cte(again, released))


_AGAIN = _again_statement()


def come_back(
    db: Session, batch: Batch, items: list[Claimed], checked: Mapping[str, Checked]
) -> dict[int, Claimed]:
    """The examiner's checks handed back or expired that come back in this batch, by position:
    each where the claim put the live response it displaced at hand-out, whose lease is let
    go at once, its slot kept for the check, as at hand-out.

    So a check handed back returns exactly when that response would have: under its own
    handle, with its own text, held again under the batch's expiry. A check never returns
    otherwise, so handing back and claiming again neither shows a fresh check each time (a
    handle that never came back would single each one out, and seeds would be used up
    unmarked) nor brings a check back sooner than live work. Only in the groups of
    ``checked`` (with checks on). PostgreSQL's claim read them with the batch; SQLite's are
    read here, one read, a probe per live response."""
    live = {
        item.response_id: i
        for i, item in enumerate(items)
        if item.group in checked and item.check_id is None
    }
    if not live:
        return {}
    conn = db.connection()
    read = [group.lost for group in checked.values()]
    found: list[Any] = []
    if all(lost is not None for lost in read):
        found = [(c, r) for lost in read for c, r in lost or () if r in live]
    else:
        found = list(conn.execute(_LOST_IN, {"me": batch.examiner_id, "ids": list(live)}))
    back: dict[int, Claimed] = {}
    fused = conn.dialect.name == "postgresql"
    for check_id, displaced in found:
        again = {"c": check_id, "me": batch.examiner_id, "r": displaced}
        if fused:
            row = _AGAIN.run(conn, {**again, "at": batch.now, "expires": batch.expires}).fetchone()
            if row is not None:  # else taken out of use by a concurrent step, as below
                back[live[displaced]] = replace(
                    _claimed(row, batch.expires, plain=True), check_id=check_id
                )
            continue
        response_id = conn.execute(
            _HELD_AGAIN, {**again, "at": batch.now, "expires": batch.expires}
        ).scalar()
        if response_id is None:
            continue  # taken out of use by a concurrent step: the live response stays
        conn.execute(_DISPLACED, {"r": displaced, "me": batch.examiner_id})
        (item,) = describe(db, [response_id], expires_at=batch.expires)
        back[live[displaced]] = replace(item, check_id=check_id)
    return back
