"""The assembly-line queue (DESIGN §4): claim a batch under a lease, mark, flag, hand back.

Concurrency: a claim locks the response rows it takes (FOR UPDATE SKIP LOCKED on
PostgreSQL; SQLite has one writer at a time) and counts its lease on the row itself
(``held``), so a competing claim rechecks the row after the lock and never sees a
response as free when its slots are taken. The schema backs this up: one held lease per
examiner and response, one mark per examiner and response.

Fairness: responses are handed out in a random order fixed at intake (``queue_key``), each
claim starting at a random point of it, and no examiner holds more than a group's
``max_held`` at once; so no one takes a whole session, and no two examiners can arrange to
mark the same responses. Every operation on a response checks that it belongs to the
session it is addressed through.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import random
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from psycopg.rows import namedtuple_row
from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    bindparam,
    exists,
    func,
    insert,
    literal_column,
    select,
    true,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.domain.rules import (
    Final,
    MarkRefused,
    NeedsArbitration,
    NeedsThird,
    parse_mark,
    reconcile,
)
from marking.errors import MarkingError, NotFound, StateError
from marking.store.db import to_milli
from marking.store.models import (
    Account,
    Anomaly,
    AnomalyKind,
    Assignment,
    Component,
    ExamSession,
    Exclusion,
    Lease,
    LeaseState,
    LedgerEntry,
    Mark,
    MarkingGroup,
    MarkKind,
    MarkWithdrawal,
    Question,
    Response,
    ResponseState,
    Script,
    SessionState,
    utcnow,
)

DEFAULT_LEASE = dt.timedelta(minutes=20)
MAX_BATCH = 100
QUEUE_KEYS = 2**31  # queue keys (Response.queue_key) lie in [0, QUEUE_KEYS)
_SYSTEM_RANDOM = random.SystemRandom()


class LeaseLost(MarkingError):
    """The examiner no longer holds the response (expired, or never claimed)."""

    exit_code = 4


class HoldLimit(StateError):
    """The examiner already holds the most responses a group allows one examiner."""


class InvalidMark(MarkingError):
    """A mark that is not plain decimal text, outside [0, max] or off the question's step;
    ``reason`` and ``params`` (``rules.MarkRefused``) let a screen say why in its language."""

    exit_code = 2

    def __init__(
        self, message: str, *, reason: str = "", params: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.params = dict(params or {})


@dataclass(frozen=True)
class Claimed:
    """What an examiner sees of a claimed response: no candidate, no other marks."""

    response_id: int
    script_code: str
    component: str
    question: str
    question_type: str
    text: str
    image_sha256: str | None
    max: Decimal
    step: Decimal
    group: str
    reference: str
    scheme: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class Submitted:
    response_id: int
    mark_id: int
    state: ResponseState
    final: Decimal | None


def _is(column: Any, value: enum.StrEnum) -> Any:
    """``column = 'value'`` with the value written into the statement, not bound.

    The queue's statements are prepared by the driver and PostgreSQL soon plans them once
    for any parameters: a partial index (``WHERE state = 'open'``, ``... = 'held'``) can
    serve such a generic plan only if its predicate is literally in the statement. With a
    bound state, each claim read the whole group instead (2 ms of server time a claim)."""
    return column == literal_column(f"'{value.value}'")


# An examiner's open groups (assigned, not suspended, scheme approved), each with the room
# left under its hold limit: the group's max_held less the leases the examiner holds there.
# Leases past their time count until they are swept, which a claim that comes up short does.
def _held_in(group_id: Any) -> Any:
    return (
        select(func.count())
        .select_from(Lease)
        .join(Response, Response.id == Lease.response_id)
        .where(
            Lease.examiner_id == bindparam("me"),
            _is(Lease.state, LeaseState.HELD),
            Response.group_id == group_id,
        )
        .scalar_subquery()
    )


_ROOMS = (
    select(
        Assignment.group_id,
        (MarkingGroup.max_held - _held_in(Assignment.group_id)).label("room"),
        MarkingGroup.key,
        MarkingGroup.max_held,
    )
    .join(MarkingGroup, MarkingGroup.id == Assignment.group_id)
    .where(
        Assignment.session_id == bindparam("session_id"),
        Assignment.examiner_id == bindparam("me"),
        Assignment.suspended_at.is_(None),
        MarkingGroup.approved_at.is_not(None),
    )
    .order_by(Assignment.group_id)
)


def _rooms(db: Session, exam: ExamSession, examiner: Account) -> list[Any]:
    """(group id, room, key, max_held) of the examiner's open groups, in group order."""
    return list(db.execute(_ROOMS, {"session_id": exam.id, "me": examiner.id}))


# Claiming runs for every batch an examiner asks for: its statements are built once.
_EXPIRE = (
    update(Lease)
    .where(
        _is(Lease.state, LeaseState.HELD),
        Lease.expires_at <= bindparam("now"),
        Lease.response_id.in_(
            select(Response.id)
            .join(Script, Script.id == Response.script_id)
            .where(Script.session_id == bindparam("session_id"))
        ),
    )
    .values(state=LeaseState.EXPIRED)
    .returning(Lease.response_id)
)
_FREE = (
    update(Response)
    .where(Response.id == bindparam("r_id"))
    .values(held=Response.held - bindparam("r_count", type_=Response.__table__.c.held.type))
)


def expire_leases(db: Session, exam: ExamSession, *, now: dt.datetime | None = None) -> int:
    """Return responses whose lease ran out to the queue; returns how many."""
    now = now or utcnow()
    expired = db.execute(_EXPIRE, {"now": now, "session_id": exam.id}).scalars()
    freed: dict[int, int] = {}
    for response_id in expired:
        freed[response_id] = freed.get(response_id, 0) + 1
    for response_id, count in freed.items():
        db.execute(_FREE, {"r_id": response_id, "r_count": count})
    return sum(freed.values())


def takeable_by(examiner_id: Any) -> tuple[Any, ...]:
    """Conditions on a response that the examiner may take now: open, a slot free, and not
    one they marked, hold or are excluded from."""
    return (
        _is(Response.state, ResponseState.OPEN),
        Response.marks_done + Response.held < Response.marks_needed,
        ~exists().where(Mark.response_id == Response.id, Mark.examiner_id == examiner_id),
        ~exists().where(
            Lease.response_id == Response.id,
            Lease.examiner_id == examiner_id,
            _is(Lease.state, LeaseState.HELD),
        ),
        ~exists().where(
            Exclusion.script_id == Response.script_id, Exclusion.examiner_id == examiner_id
        ),
    )


def _window(group_id: Any, *, onward: bool, limit: Any) -> Any:
    """Up to ``limit`` responses of one group the examiner may take, in queue order from
    the claim's random starting point onward (or, ``onward`` false, the wrap-around part
    before it), locked, skipping ones others lock."""
    start = bindparam("start", type_=Integer)
    return (
        select(Response.id)
        .where(
            Response.group_id == group_id,
            Response.queue_key >= start if onward else Response.queue_key < start,
            *takeable_by(bindparam("me")),
        )
        .order_by(Response.queue_key)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Response)
    )


def _from_start(group_id: Any, limit: Any, *, correlate: Any = None) -> Any:
    """A group's takeable responses in queue order, starting at a random point and wrapping
    around: the part from the start onward, then the part before it (each read through the
    partial index in key order, so a claim reads no more of the group than it takes)."""
    parts = []
    for name, onward in (("onward", True), ("wrapped", False)):
        window = _window(group_id, onward=onward, limit=limit)
        if correlate is not None:
            window = window.correlate(correlate)
        part = window.subquery(name)
        parts.append(select(part.c.id))
    return union_all(*parts).limit(limit)


_SIZE = bindparam("size", type_=Integer)
_CANDIDATES = _from_start(bindparam("group_id", type_=Integer), _SIZE)
_HOLD = (
    update(Response)
    .where(Response.id.in_(bindparam("ids", expanding=True)))
    .values(held=Response.held + 1)
)


def _describe(which: Any) -> Any:
    """What the examiner sees of the responses ``which`` selects (never the candidate), in
    queue order: a batch's order says nothing about row ids either."""
    return (
        select(
            Response.id,
            Script.code,
            Component.key,
            Question.number,
            Question.type,
            Response.text,
            Response.image_sha256,
            Question.max,
            Question.step,
            MarkingGroup.key,
            Question.reference,
            Question.scheme,
        )
        .join(Script, Script.id == Response.script_id)
        .join(Question, Question.id == Response.question_id)
        .join(Component, Component.id == Question.component_id)
        .join(MarkingGroup, MarkingGroup.id == Response.group_id)
        .where(which)
        .order_by(Response.queue_key, Response.id)
    )


_DESCRIBE = _describe(Response.id.in_(bindparam("ids", expanding=True)))

# PostgreSQL: a claim in one statement. For each open group in turn (with room under its
# hold limit), the responses from a random point of the queue onward are picked and
# locked, then counted as held, leased and described at once (a CTE with FOR UPDATE is
# evaluated exactly once; the LATERAL part runs per group only while the batch is short).
_rooms_cte = _ROOMS.cte("rooms")
_room_left = func.least(func.greatest(_rooms_cte.c.room, literal_column("0")), _SIZE)
_per_group = _from_start(_rooms_cte.c.group_id, _room_left, correlate=_rooms_cte).lateral("window")
_picked = (
    select(_per_group.c.id)
    .select_from(_rooms_cte)
    .join(_per_group, true())
    .limit(_SIZE)
    .cte("picked")
)
_lease_c = Lease.__table__.c
_CLAIM_FUSED = _describe(Response.id.in_(select(_picked.c.id))).add_cte(
    update(Response)
    .where(Response.id.in_(select(_picked.c.id)))
    .values(held=Response.held + 1)
    .cte("counted"),
    insert(Lease)
    .from_select(
        ["response_id", "examiner_id", "state", "created_at", "expires_at"],
        select(
            _picked.c.id,
            bindparam("me", type_=Integer),
            bindparam("l_state", type_=_lease_c.state.type),
            bindparam("l_now", type_=_lease_c.created_at.type),
            bindparam("l_expires", type_=_lease_c.expires_at.type),
        ),
    )
    .cte("leased"),
)
# PostgreSQL: one claim at a time per examiner, so two claims sent at once cannot both count
# the same room under the hold limit (each statement counts from its own snapshot). A
# transaction-scoped advisory lock: nothing written, released at commit. Its own statement,
# before the claim, so that the claim's snapshot is taken once the lock is held.
CLAIM_LOCK_CLASS = 0x626D  # "bm": the first key of blindmark's advisory locks
_CLAIM_LOCK = select(
    func.pg_advisory_xact_lock(
        literal_column(str(CLAIM_LOCK_CLASS)), bindparam("me", type_=Integer)
    )
)


def claim(
    db: Session,
    exam: ExamSession,
    examiner: Account,
    *,
    size: int = 10,
    now: dt.datetime | None = None,
    lease: dt.timedelta = DEFAULT_LEASE,
    rng: random.Random | None = None,
) -> list[Claimed]:
    """Lease up to ``size`` responses from the examiner's open groups.

    Never one the examiner marked, holds or is excluded from, nor one on anomaly hold or
    awaiting arbitration, and never more than a group's hold limit (``max_held``, default
    20) held at once in one group. Responses come in the random order intake fixed, from
    a random point of it (``rng``: the system's randomness unless given), so no one can
    arrange which responses they get, nor whose second marker they are.

    Raises StateError outside marking, MarkingError if the examiner has no open group,
    HoldLimit when nothing could be given because they already hold the most a group
    allows. Returns [] when nothing is left for them.

    Expired leases are returned to the queue when a claim comes up short: until then the
    rest of the queue keeps everyone busy, and a claim costs no sweep of the session.
    """
    if exam.state is not SessionState.MARKING:
        raise StateError(f"session {exam.code} is {exam.state.value}, not open for marking")
    if not 1 <= size <= MAX_BATCH:
        raise MarkingError(f"a batch is 1 to {MAX_BATCH} responses")
    now = now or utcnow()
    expires = now + lease
    start = (rng or _SYSTEM_RANDOM).randrange(QUEUE_KEYS)
    conn = db.connection()
    fused = conn.dialect.name == "postgresql"
    if fused:
        _CLAIM_LOCK_DRIVER.run(conn, {"me": examiner.id})
    take = _take_fused if fused else _take
    items = take(db, exam, examiner, size, now, expires, start)
    if len(items) < size and expire_leases(db, exam, now=now):
        items += take(db, exam, examiner, size - len(items), now, expires, start)
    if not items:
        rooms = _rooms(db, exam, examiner)
        if not rooms:
            raise MarkingError(
                f"{examiner.username} has no open marking group in session {exam.code} "
                "(not assigned, suspended, or the scheme is not approved yet)"
            )
        if full := [f"{r.key} ({r.max_held})" for r in rooms if r.room <= 0]:
            raise HoldLimit(
                f"you already hold as many responses as one examiner may in group(s) "
                f"{', '.join(full)}; mark or hand back the ones you hold, then claim again"
            )
    return items


def _take_fused(
    db: Session,
    exam: ExamSession,
    examiner: Account,
    size: int,
    now: dt.datetime,
    expires: dt.datetime,
    start: int,
) -> list[Claimed]:
    rows = _CLAIM_DRIVER.run(
        db.connection(),
        {
            "session_id": exam.id,
            "me": examiner.id,
            "size": size,
            "start": start,
            "l_state": LeaseState.HELD.value,
            "l_now": now,
            "l_expires": expires,
        },
    )
    return [_claimed(row, expires, plain=True) for row in rows]


def _decimals(milli: Any) -> list[Decimal]:
    return [Decimal(v) / 1000 for v in milli]


def _take(
    db: Session,
    exam: ExamSession,
    examiner: Account,
    size: int,
    now: dt.datetime,
    expires: dt.datetime,
    start: int,
) -> list[Claimed]:
    me = examiner.id
    ids: list[int] = []
    for row in _rooms(db, exam, examiner):
        want = min(row.room, size - len(ids))
        if want > 0:
            params = {"group_id": row.group_id, "me": me, "start": start, "size": want}
            ids += db.scalars(_CANDIDATES, params)
    if not ids:
        return []
    db.execute(
        insert(Lease),
        [
            {
                "response_id": rid,
                "examiner_id": me,
                "state": LeaseState.HELD,
                "created_at": now,
                "expires_at": expires,
            }
            for rid in ids
        ],
    )
    db.execute(_HOLD, {"ids": ids})
    return describe(db, ids, expires_at=expires)


def describe(db: Session, ids: list[int], *, expires_at: dt.datetime) -> list[Claimed]:
    # Plain columns, not ORM objects: this runs for every batch claimed.
    return [_claimed(row, expires_at) for row in db.execute(_DESCRIBE, {"ids": ids})]


def _claimed(row: Any, expires_at: dt.datetime, *, plain: bool = False) -> Claimed:
    """A described row as the examiner sees it; ``plain``: the driver's own values (the
    question type as text, max and step in thousandths), not SQLAlchemy's."""
    kind, maximum, step = row[4], row[7], row[8]
    if plain:
        maximum, step = _decimals((maximum, step))
    else:
        kind = kind.value
    return Claimed(
        response_id=row[0],
        script_code=row[1],
        component=row[2],
        question=row[3],
        question_type=kind,
        text=row[5],
        image_sha256=row[6],
        max=maximum,
        step=step,
        group=row[9],
        reference=row[10],
        scheme=row[11],
        expires_at=expires_at,
    )


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
            raise LeaseLost("you have not claimed this response; claim a batch first")
        if last.state is LeaseState.SUBMITTED:
            raise LeaseLost("you have already marked this response")
        if last.state is LeaseState.RELEASED:
            raise LeaseLost("you handed this response back; it is no longer yours")
        expired_at = last.expires_at
    else:
        expired_at = lease.expires_at
    raise LeaseLost(
        f"your claim on this response expired at {expired_at:%H:%M:%S} UTC and it went "
        "back to the queue; your mark was not recorded. Claim a new batch to go on."
    )


def validate_mark(
    value: object, *, maximum: Decimal | None = None, step: Decimal | None = None
) -> Decimal:
    """The mark as stored and recorded (``rules.parse_mark``), or InvalidMark saying why."""
    try:
        return parse_mark(value, maximum=maximum, step=step)
    except MarkRefused as refused:
        raise InvalidMark(str(refused), reason=refused.reason, params=refused.params) from None


def effective_marks(db: Session, response_id: int) -> list[tuple[int, Decimal]]:
    """(mark id, value) of the response's marks not withdrawn, in the order given."""
    return [
        (mid, value)
        for mid, value in db.execute(
            select(Mark.id, Mark.value)
            .where(
                Mark.response_id == response_id,
                ~exists().where(MarkWithdrawal.mark_id == Mark.id),
            )
            .order_by(Mark.kind, Mark.id)
        )
    ]


def apply_reconciliation(
    db: Session, response: Response, question: Question, required: int
) -> None:
    """Re-run DESIGN §5 on the response's effective marks and set its state."""
    marks = effective_marks(db, response.id)
    if len(marks) < response.marks_needed:
        response.state = ResponseState.OPEN
        return
    outcome = reconcile(
        [to_int(v) for _mid, v in marks],
        tolerance=to_int(question.tolerance),
        step=to_int(question.step),
        required=required,
    )
    if isinstance(outcome, Final):
        response.state = ResponseState.FINAL
        response.final = Decimal(outcome.value) / 1000
        response.final_rule = outcome.rule
    elif isinstance(outcome, NeedsThird):
        response.marks_needed = required + 1
        response.state = ResponseState.OPEN
    elif isinstance(outcome, NeedsArbitration):
        response.state = ResponseState.ARBITRATION
    else:
        response.state = ResponseState.OPEN


def to_int(value: Decimal) -> int:
    return int(value * 1000)


_HELD = (
    select(
        Lease.id,
        Lease.expires_at,
        Response.marks_done,
        Response.marks_needed,
        Question.max,
        Question.step,
        Question.tolerance,
        MarkingGroup.marks_required,
    )
    .join(Response, Response.id == Lease.response_id)
    .join(Question, Question.id == Response.question_id)
    .join(MarkingGroup, MarkingGroup.id == Response.group_id)
    .where(
        Lease.response_id == bindparam("response_id"),
        Lease.examiner_id == bindparam("examiner_id"),
        _is(Lease.state, LeaseState.HELD),
        # Only a response of the session the mark is sent through. The group is joined
        # anyway and belongs to the response's session: the check costs no extra join.
        MarkingGroup.session_id == bindparam("session_id"),
    )
    .with_for_update(of=[Lease.__table__, Response.__table__])
)
_INSERT_MARK = insert(Mark).returning(Mark.id)
_LEASE_SUBMITTED = (
    update(Lease).where(Lease.id == bindparam("lease_id")).values(state=LeaseState.SUBMITTED)
)
_EFFECTIVE = (
    select(Mark.value)
    .where(
        Mark.response_id == bindparam("response_id"),
        ~exists().where(MarkWithdrawal.mark_id == Mark.id),
    )
    # The N independent marks first, then the third: the order rules.reconcile reads them in.
    .order_by(Mark.kind, Mark.id)
)

# The response's bookkeeping after a mark, one prepared statement per outcome: built once,
# so the hot path pays neither statement construction nor cache-key generation per mark.
_r = Response.__table__.c


def _response_update(**values: Any) -> Any:
    return (
        update(Response)
        .where(Response.id == bindparam("r_id"))
        .values(held=Response.held - 1, marks_done=bindparam("r_done", type_=_r.marks_done.type))
        .values(**values)
    )


_RESPONSE_MARKED = _response_update()
_RESPONSE_FINAL = _response_update(
    state=bindparam("r_state", type_=_r.state.type),
    final=bindparam("r_final", type_=_r.final.type),
    final_rule=bindparam("r_rule", type_=_r.final_rule.type),
)
_RESPONSE_THIRD = _response_update(marks_needed=bindparam("r_needed", type_=_r.marks_needed.type))
_RESPONSE_ARBITRATION = _response_update(state=bindparam("r_state", type_=_r.state.type))
_RESPONSE_UPDATES = {
    "marked": _RESPONSE_MARKED,
    "final": _RESPONSE_FINAL,
    "third": _RESPONSE_THIRD,
    "arbitration": _RESPONSE_ARBITRATION,
}

# PostgreSQL: a mark in two round trips, so that eight examiners on two cores spend their
# time marking, not waiting on the network. The first statement locks the lease, the
# response and the examiner's ledger lane and reads everything the rule needs (the marks
# so far, a mark id from the sequence, the lane's tip); Python validates, reconciles and
# hashes; the second writes the mark, the lease, the response, the ledger entry and the
# lane's new tip at once.
_lane_tip = ledger.lane_lock("postgresql").cte("lane_tip")


def _marks_so_far(column: Any, label: str) -> Any:
    """One column of the response's effective marks as an array, in (kind, id) order."""
    return (
        select(func.array_agg(aggregate_order_by(column, Mark.kind, Mark.id)))
        .where(
            Mark.response_id == Response.id,
            ~exists().where(MarkWithdrawal.mark_id == Mark.id),
        )
        .scalar_subquery()
        .label(label)
    )


_HELD_FUSED = _HELD.add_columns(
    _marks_so_far(type_coerce(Mark.kind, String), "marks_kind"),
    _marks_so_far(type_coerce(Mark.value, BigInteger), "marks_value"),
    func.nextval(func.pg_get_serial_sequence("mark", "id")).label("mark_id"),
    _lane_tip.c.seq,
    _lane_tip.c.hash,
).join_from(Lease, _lane_tip, true())


def _fused_write(response_update: Any) -> Any:
    return ledger.INSERT_ENTRY.values(
        {
            c: bindparam(f"e_{c}", type_=LedgerEntry.__table__.c[c].type)
            for c in ledger.ENTRY_COLUMNS
        }
    ).add_cte(
        insert(Mark)
        .values(
            {
                c: bindparam(f"m_{c}", type_=Mark.__table__.c[c].type)
                for c in ("id", "response_id", "examiner_id", "kind", "value", "lease_id")
            }
        )
        .values(created_at=bindparam("e_created_at", type_=Mark.__table__.c.created_at.type))
        .cte("new_mark"),
        _LEASE_SUBMITTED.cte("submitted"),
        response_update.cte("counted"),
        ledger.ADVANCE_LANE.cte("advanced"),
    )


class _DriverStatement:
    """A Core statement compiled once (on first use) and then run as the driver's own SQL.

    For the two statements of every mark on PostgreSQL: SQLAlchemy would otherwise build a
    cache key over the whole statement and convert every parameter and column through its
    types on each call, which cost more client CPU than the database spent on the mark.
    Parameters go in, and columns come out, as the driver's plain values (marks in
    thousandths, enum values as text); submit_mark converts them itself."""

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self.sql: str | None = None
        self.defaults: dict[str, Any] = {}

    def run(self, conn: Any, params: dict[str, Any]) -> Any:
        if self.sql is None:
            compiled = self.statement.compile(dialect=conn.dialect)
            self.defaults = {
                k: v.value if isinstance(v, enum.Enum) else v
                for k, v in compiled.params.items()
                if v is not None
            }
            self.sql = str(compiled)
        # The driver's own cursor, inside the transaction SQLAlchemy holds on this connection.
        cursor = conn.connection.driver_connection.cursor(row_factory=namedtuple_row)
        cursor.execute(self.sql, {**self.defaults, **params})
        return cursor


_HELD_DRIVER = _DriverStatement(_HELD_FUSED)
_CLAIM_DRIVER = _DriverStatement(_CLAIM_FUSED)
_CLAIM_LOCK_DRIVER = _DriverStatement(_CLAIM_LOCK)
_FUSED_WRITES = {
    outcome: _DriverStatement(_fused_write(u)) for outcome, u in _RESPONSE_UPDATES.items()
}


def submit_mark(
    db: Session,
    exam: ExamSession,
    examiner: Account,
    *,
    response_id: int,
    value: Decimal,
    now: dt.datetime | None = None,
) -> Submitted:
    """Record the examiner's mark on a response they hold; reconcile when enough marks are in.

    Raises NotFound for a response of another session, LeaseLost when the lease is gone
    (expired, handed back, or never held) and InvalidMark for a value outside [0, max] or
    off the step; nothing is stored then.
    This is the hot path of marking: prepared Core statements, no ORM objects.
    """
    if exam.state is not SessionState.MARKING:
        raise StateError(f"session {exam.code} is {exam.state.value}, not open for marking")
    now = now or utcnow()
    conn = db.connection()
    fused = conn.dialect.name == "postgresql"
    params: dict[str, Any] = {
        "response_id": response_id,
        "examiner_id": examiner.id,
        "session_id": exam.id,
    }
    if fused:
        params.update(l_session=exam.id, l_lane=examiner.username)
    # One round trip: the lease, and the response's counters and rules, both locked.
    row = (
        _HELD_DRIVER.run(conn, params).fetchone() if fused else conn.execute(_HELD, params).first()
    )
    if row is None or row.expires_at <= now:
        held_lease(db, exam, examiner, response_id, now=now)  # raises, saying why
        raise AssertionError("unreachable")
    limits = (row.max, row.step, row.tolerance)
    maximum, step, tolerance = _decimals(limits) if fused else limits
    value = validate_mark(value, maximum=maximum, step=step)
    kind = MarkKind.THIRD if row.marks_done >= row.marks_required else MarkKind.DOUBLE
    mark = {
        "response_id": response_id,
        "examiner_id": examiner.id,
        "kind": kind,
        "value": value,
        "lease_id": row.id,
    }
    if fused:
        mark_id = row.mark_id
    else:
        mark_id = conn.execute(_INSERT_MARK, {**mark, "created_at": now}).scalar_one()
        conn.execute(_LEASE_SUBMITTED, {"lease_id": row.id})
    done = row.marks_done + 1
    update_key, response_params = "marked", {"r_id": response_id, "r_done": done}
    state, final = ResponseState.OPEN, None
    if done >= row.marks_needed:
        if not fused:
            marks = [to_int(v) for v in conn.execute(_EFFECTIVE, params).scalars()]
        elif len(row.marks_value or ()) == row.marks_done:
            # Read before this mark, in (kind, id) order: this one has the highest id.
            before = list(zip(row.marks_kind or (), row.marks_value or (), strict=True))
            marks = _with_new_mark(before, kind, to_int(value))
        else:
            # Another examiner's mark was committed while this one waited for the lock: the
            # statement's snapshot predates it. A new statement sees it.
            marks = _with_new_mark(_effective_milli(conn, response_id), kind, to_int(value))
        outcome = reconcile(
            marks,
            tolerance=to_int(tolerance),
            step=to_int(step),
            required=row.marks_required,
        )
        if isinstance(outcome, Final):
            state, final = ResponseState.FINAL, Decimal(outcome.value) / 1000
            update_key = "final"
            response_params.update(r_state=state, r_final=final, r_rule=outcome.rule)
        elif isinstance(outcome, NeedsThird):
            update_key = "third"
            response_params["r_needed"] = row.marks_required + 1
        elif isinstance(outcome, NeedsArbitration):
            state = ResponseState.ARBITRATION
            update_key = "arbitration"
            response_params["r_state"] = state
    payload = {"mark": mark_id, "response": response_id, "value": f"{value:f}", "kind": kind.value}
    if not fused:
        conn.execute(_RESPONSE_UPDATES[update_key], response_params)
        ledger.append(db, exam, kind="mark", actor=examiner.username, payload=payload, now=now)
        return Submitted(response_id, mark_id, state, final)
    entry = ledger.entry_row(
        session_id=exam.id,
        lane=examiner.username,
        tip=(row.seq, row.hash),
        kind="mark",
        actor=examiner.username,
        payload=payload,
        created_at=now,
    )
    for key in ("r_state", "r_final"):  # the driver's plain values, as stored
        if key in response_params:
            value_of = response_params[key]
            response_params[key] = (
                to_milli(value_of) if isinstance(value_of, Decimal) else value_of.value
            )
    _FUSED_WRITES[update_key].run(
        conn,
        {
            **{f"m_{k}": v for k, v in mark.items()},
            "m_id": mark_id,
            "m_kind": kind.value,
            "m_value": to_milli(value),
            **{f"e_{k}": v for k, v in entry.items()},
            "e_payload": json.dumps(payload),
            "lease_id": row.id,
            **response_params,
            "l_session": exam.id,
            "l_lane": examiner.username,
            "tip_seq": entry["seq"],
            "tip_hash": entry["hash"],
        },
    )
    return Submitted(response_id, mark_id, state, final)


_EFFECTIVE_KINDS = (
    select(Mark.kind, type_coerce(Mark.value, BigInteger))
    .where(
        Mark.response_id == bindparam("response_id"),
        ~exists().where(MarkWithdrawal.mark_id == Mark.id),
    )
    .order_by(Mark.kind, Mark.id)
)


def _effective_milli(conn: Any, response_id: int) -> list[tuple[str, int]]:
    return [(k.value, v) for k, v in conn.execute(_EFFECTIVE_KINDS, {"response_id": response_id})]


def _with_new_mark(before: list[tuple[str, int]], kind: MarkKind, milli: int) -> list[int]:
    """The response's marks in (kind, id) order once the new mark (the highest id) is in."""
    position = sum(1 for k, _v in before if k <= kind.value)
    values = [int(v) for _k, v in before]
    return [*values[:position], milli, *values[position:]]


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
    db.execute(update(Response).where(Response.id == response_id).values(held=Response.held - 1))
    db.flush()


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

    Raises NotFound for a response of another session and LeaseLost unless it is held."""
    if exam.state is not SessionState.MARKING:
        raise StateError(f"session {exam.code} is {exam.state.value}, not open for marking")
    now = now or utcnow()
    lease = held_lease(db, exam, examiner, response_id, now=now)
    response = db.get(Response, response_id, with_for_update=True)
    assert response is not None
    lease.state = LeaseState.RELEASED
    response.held -= 1
    response.state = ResponseState.ANOMALY
    anomaly = Anomaly(
        session_id=exam.id,
        response_id=response_id,
        examiner_id=examiner.id,
        kind=kind,
        note=note.strip()[:2000],
        created_at=now,
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


def open_counts(db: Session, exam: ExamSession) -> dict[str, int]:
    """Responses by state for the session (examiner-marked ones only)."""
    rows = db.execute(
        select(Response.state, func.count())
        .join(Script, Script.id == Response.script_id)
        .where(Script.session_id == exam.id, Response.group_id.is_not(None))
        .group_by(Response.state)
    ).all()
    return {state.value: count for state, count in rows}


__all__ = [
    "DEFAULT_LEASE",
    "Claimed",
    "InvalidMark",
    "LeaseLost",
    "Submitted",
    "claim",
    "expire_leases",
    "flag",
    "release",
    "submit_mark",
]
