"""The queue's SQL, built once: claims, lease expiry and the two statements of a mark.

Concurrency: a claim locks the response rows it takes (FOR UPDATE SKIP LOCKED on
PostgreSQL; SQLite has one writer at a time) and counts its lease on the row itself
(``held``), so a competing claim rechecks the row after the lock and never sees a
response as free when its slots are taken. The schema backs this up: one held lease per
examiner and response, one mark per examiner and response. On PostgreSQL the hot
statements run as the driver's own SQL (``_DriverStatement``).
"""

from __future__ import annotations

import enum
from decimal import Decimal
from typing import Any

from psycopg.rows import namedtuple_row
from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    and_,
    bindparam,
    case,
    exists,
    func,
    insert,
    literal_column,
    or_,
    select,
    true,
    type_coerce,
    union_all,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by

from marking.audit import ledger
from marking.store.models import (
    Assignment,
    CheckItem,
    CheckMark,
    CheckPurpose,
    CheckState,
    Component,
    Exclusion,
    Lease,
    LeaseState,
    LedgerEntry,
    Mark,
    MarkingGroup,
    MarkWithdrawal,
    Question,
    Response,
    ResponseState,
    Script,
    effective_value,
)


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


_ONLY = bindparam("only", type_=Integer)


def _checks_held_in(group_id: Any) -> Any:
    """The seeds and 回评 the examiner holds in the group: a check takes a live response's
    place in a batch, so it counts under the hold limit as that response would have (else
    a second claim would get one more, telling the examiner a check was in the first).
    Read through the partial index of held checks, a handful in the whole database."""
    return (
        select(func.count())
        .select_from(CheckMark)
        .where(
            _is(CheckMark.state, CheckState.HELD),
            CheckMark.examiner_id == bindparam("me"),
            CheckMark.group_id == group_id,
        )
        .scalar_subquery()
    )


ROOMS = (
    select(
        Assignment.group_id,
        (
            MarkingGroup.max_held
            - _held_in(Assignment.group_id)
            - _checks_held_in(Assignment.group_id)
        ).label("room"),
        MarkingGroup.key,
        MarkingGroup.max_held,
    )
    .join(MarkingGroup, MarkingGroup.id == Assignment.group_id)
    .where(
        Assignment.session_id == bindparam("session_id"),
        Assignment.examiner_id == bindparam("me"),
        Assignment.suspended_at.is_(None),
        MarkingGroup.approved_at.is_not(None),
        # R5: where the group has a qualification set, nothing live before qualifying.
        or_(MarkingGroup.qualification_size.is_(None), Assignment.qualified_at.is_not(None)),
        # The group the examiner chose to mark, or (NULL) all of theirs.
        or_(_ONLY.is_(None), Assignment.group_id == _ONLY),
    )
    .order_by(Assignment.group_id)
)


# Claiming runs for every batch an examiner asks for: its statements are built once.
EXPIRE = (
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
    .returning(Lease.response_id, Lease.examiner_id)
)
FREE = (
    update(Response)
    .where(Response.id == bindparam("r_id"))
    .values(held=Response.held - bindparam("r_count", type_=Response.__table__.c.held.type))
)


# A check that keeps its response from the examiner live: a seed or 回评 they were shown, or a
# qualification item whose definitive mark they saw (``takeable_by``).
HOLDS_OUT = or_(~_is(CheckMark.purpose, CheckPurpose.QUALIFICATION), CheckMark.revealed)


# A seed or 回评 that keeps the live response it displaced out of reach, as holding or
# reporting that response would: held, from its examiner (its time run out or not: an
# expired lease blocks its response too, until swept; its slot is kept meanwhile,
# ``leases.free_slots``); reported and the report not yet dealt with by the lead, from
# everyone, as a reported live response leaves the queue until the lead resolves it (else
# a colleague's count would rise where a live report makes it fall). A marked one does not:
# were the response then kept from its examiner, a group of two examiners could be left
# with a response no one may finish.
def stands_in(examiner_id: Any) -> Any:
    return or_(
        and_(CheckMark.examiner_id == examiner_id, _is(CheckMark.state, CheckState.HELD)),
        and_(CheckMark.reported, CheckMark.report_closed_at.is_(None)),
    )


def takeable_by(examiner_id: Any) -> tuple[Any, ...]:
    """Conditions on a response that the examiner may take now: open, a slot free, and not
    one they marked, hold or are excluded from, nor one a check stands in for
    (``stands_in``), nor one they were shown as a check.

    Shown as a check: as a seed (met unannounced: its text again live would tell them so,
    once its source is reopened by a correction, an appeal or a withdrawal), or as a
    qualification item whose definitive mark they saw after a failed attempt (``revealed``).
    A 回评 is of their own mark, which the first probe finds. Asked only of rows a check
    item was made of (``check_source``): any other row pays one column test, no probe, so
    a claim in a group without checks costs what it did."""
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
        ~exists().where(CheckMark.displaced_id == Response.id, stands_in(examiner_id)),
        or_(
            ~Response.check_source,
            ~exists().where(
                CheckMark.response_id == Response.id,
                CheckMark.examiner_id == examiner_id,
                HOLDS_OUT,
            ),
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
CANDIDATES = _from_start(bindparam("group_id", type_=Integer), _SIZE)
HOLD = (
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
            Response.blank,
            # The group's check rates (``marking.quality.checks``): read with the batch, so
            # that a claim in a group without seeds or 回评 costs nothing more.
            MarkingGroup.id,
            MarkingGroup.seed_rate,
            MarkingGroup.remark_rate,
        )
        .join(Script, Script.id == Response.script_id)
        .join(Question, Question.id == Response.question_id)
        .join(Component, Component.id == Question.component_id)
        .join(MarkingGroup, MarkingGroup.id == Response.group_id)
        .where(which)
        .order_by(Response.queue_key, Response.id)
    )


DESCRIBE = _describe(Response.id.in_(bindparam("ids", expanding=True)))

# PostgreSQL: a claim in one statement. For each open group in turn (with room under its
# hold limit), the responses from a random point of the queue onward are picked and
# locked, then counted as held, leased and described at once (a CTE with FOR UPDATE is
# evaluated exactly once; the LATERAL part runs per group only while the batch is short).
_rooms_cte = ROOMS.cte("rooms")
_room_left = func.least(func.greatest(_rooms_cte.c.room, literal_column("0")), _SIZE)
_per_group = _from_start(_rooms_cte.c.group_id, _room_left, correlate=_rooms_cte).lateral("window")
_picked = (
    select(_per_group.c.id, _rooms_cte.c.group_id)
    .select_from(_rooms_cte)
    .join(_per_group, true())
    .limit(_SIZE)
    .cte("picked")
)
_lease_c = Lease.__table__.c
# The examiner's check schedule (``marking.quality.checks``) counts the live responses handed
# in each group with seeds or 回评 on, here with the claim; the counters come back on the
# batch's rows of that group (NULL elsewhere), so a claim costs no statement more for them.
_counts = (
    select(_picked.c.group_id, func.count().label("n")).group_by(_picked.c.group_id).subquery()
)
_handed = (
    update(Assignment)
    .where(
        Assignment.examiner_id == bindparam("me", type_=Integer),
        Assignment.group_id == _counts.c.group_id,
        MarkingGroup.id == _counts.c.group_id,
        or_(MarkingGroup.seed_rate > 0, MarkingGroup.remark_rate > 0),
    )
    .values(handed=Assignment.handed + _counts.c.n)
    .returning(
        Assignment.group_id,
        Assignment.id,
        Assignment.handed,
        Assignment.seed_due,
        Assignment.remark_due,
    )
    .cte("handed")
)


def lost_check(me: Any) -> Any:
    """A seed or 回评 the examiner ``me`` handed back, or let expire and had swept as an expired
    lease is, unmarked and not reported, that may still be shown to them: its seed in force,
    its 回评's mark not withdrawn, its script not one they are excluded from. It comes back
    when a claim brings them the live response it displaced
    (``marking.quality.handout.come_back``); until then that response is theirs to take
    (``takeable_by``), as a live one handed back would be."""
    shown = Response.__table__.alias("shown")  # the check's own response, not the claim's
    return and_(
        CheckMark.examiner_id == me,
        or_(_is(CheckMark.purpose, CheckPurpose.SEED), _is(CheckMark.purpose, CheckPurpose.REMARK)),
        ~CheckMark.reported,
        or_(_is(CheckMark.state, CheckState.RELEASED), _is(CheckMark.state, CheckState.EXPIRED)),
        or_(
            CheckMark.item_id.is_(None),
            exists().where(CheckItem.id == CheckMark.item_id, CheckItem.retired_at.is_(None)),
        ),
        ~exists().where(MarkWithdrawal.mark_id == CheckMark.mark_id),
        ~exists().where(
            Exclusion.examiner_id == me,
            Exclusion.script_id == shown.c.script_id,
            shown.c.id == CheckMark.response_id,
        ),
    )


# The examiner's first such check standing for each response of the batch, in groups with
# checks on (NULL elsewhere, unread): one probe of ``ix_check_mark_displaced`` per response.
_LOST_HERE = case(
    (
        or_(MarkingGroup.seed_rate > 0, MarkingGroup.remark_rate > 0),
        select(func.min(CheckMark.id))
        .where(
            CheckMark.displaced_id == Response.id,
            lost_check(bindparam("me", type_=Integer)),
        )
        .scalar_subquery(),
    ),
)
_CLAIM_FUSED = (
    _describe(Response.id.in_(select(_picked.c.id)))
    .add_columns(_handed.c.id, _handed.c.handed, _handed.c.seed_due, _handed.c.remark_due)
    .add_columns(_LOST_HERE)
    .outerjoin(_handed, _handed.c.group_id == Response.group_id)
).add_cte(
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


HELD = (
    select(
        Lease.id,
        Lease.expires_at,
        Response.marks_done,
        Response.marks_needed,
        Question.max,
        Question.step,
        Question.tolerance,
        MarkingGroup.marks_required,
        Response.revision,  # the mark is given for the response's revision (appeals)
        Response.corrections,
        Response.group_id,  # recorded with the mark
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
INSERT_MARK = insert(Mark).returning(Mark.id)
LEASE_SUBMITTED = (
    update(Lease).where(Lease.id == bindparam("lease_id")).values(state=LeaseState.SUBMITTED)
)
# The marks in force: a corrected mark counts with its latest correction (R6).
EFFECTIVE = (
    select(effective_value())
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
RESPONSE_UPDATES = {
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
    """One column of the response's marks not withdrawn as an array, in (kind, id) order:
    as given, so only for a response whose marks were never corrected (``corrections``)."""
    return (
        select(func.array_agg(aggregate_order_by(column, Mark.kind, Mark.id)))
        .where(
            Mark.response_id == Response.id,
            ~exists().where(MarkWithdrawal.mark_id == Mark.id),
        )
        .scalar_subquery()
        .label(label)
    )


_HELD_FUSED = HELD.add_columns(
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
                for c in (
                    "id",
                    "response_id",
                    "examiner_id",
                    "group_id",
                    "kind",
                    "value",
                    "lease_id",
                    "revision",
                )
            }
        )
        .values(created_at=bindparam("e_created_at", type_=Mark.__table__.c.created_at.type))
        .cte("new_mark"),
        LEASE_SUBMITTED.cte("submitted"),
        response_update.cte("counted"),
        ledger.ADVANCE_LANE.cte("advanced"),
    )


EFFECTIVE_KINDS = (
    select(Mark.kind, type_coerce(effective_value(), BigInteger))
    .where(
        Mark.response_id == bindparam("response_id"),
        ~exists().where(MarkWithdrawal.mark_id == Mark.id),
    )
    .order_by(Mark.kind, Mark.id)
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


def decimals(milli: Any) -> list[Decimal]:
    """The driver's thousandths (marks, max, step) as the Decimals they stand for."""
    return [Decimal(v) / 1000 for v in milli]


HELD_DRIVER = _DriverStatement(_HELD_FUSED)
CLAIM_DRIVER = _DriverStatement(_CLAIM_FUSED)
CLAIM_LOCK_DRIVER = _DriverStatement(_CLAIM_LOCK)
FUSED_WRITES = {
    outcome: _DriverStatement(_fused_write(u)) for outcome, u in RESPONSE_UPDATES.items()
}
