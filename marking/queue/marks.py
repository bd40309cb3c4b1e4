"""Marks: validated, recorded under the examiner's lease, reconciled as they arrive (DESIGN §5).

``submit_mark`` is the hot path of marking: on PostgreSQL a mark is two statements
(``marking.queue.statements``), elsewhere the generic path through SQLAlchemy.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import exists, select
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
from marking.errors import MarkingError, not_marking
from marking.queue.leases import held_lease
from marking.queue.statements import (
    EFFECTIVE,
    EFFECTIVE_KINDS,
    FUSED_WRITES,
    HELD,
    HELD_DRIVER,
    INSERT_MARK,
    LEASE_SUBMITTED,
    RESPONSE_UPDATES,
    decimals,
)
from marking.store.db import to_milli
from marking.store.models import (
    Account,
    ExamSession,
    Mark,
    MarkKind,
    MarkWithdrawal,
    Question,
    Response,
    ResponseState,
    effective_value,
    utcnow,
)


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
class Submitted:
    response_id: int
    mark_id: int
    state: ResponseState
    final: Decimal | None


def validate_mark(
    value: object, *, maximum: Decimal | None = None, step: Decimal | None = None
) -> Decimal:
    """The mark as stored and recorded (``rules.parse_mark``), or InvalidMark saying why."""
    try:
        return parse_mark(value, maximum=maximum, step=step)
    except MarkRefused as refused:
        raise InvalidMark(str(refused), reason=refused.reason, params=refused.params) from None


def effective_marks(db: Session, response_id: int) -> list[tuple[int, Decimal]]:
    """(mark id, value in force) of the response's marks not withdrawn, in the order given:
    a corrected mark with its latest correction's value (R6)."""
    return [
        (mid, value)
        for mid, value in db.execute(
            select(Mark.id, effective_value())
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
    if not exam.marking_open:
        raise not_marking(exam.code, exam.state.value)
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
    row = _lock_held(db, conn, exam, examiner, params, now=now, fused=fused)
    limits = (row.max, row.step, row.tolerance)
    maximum, step, tolerance = decimals(limits) if fused else limits
    value = validate_mark(value, maximum=maximum, step=step)
    kind = MarkKind.THIRD if row.marks_done >= row.marks_required else MarkKind.DOUBLE
    mark = {
        "response_id": response_id,
        "examiner_id": examiner.id,
        "group_id": row.group_id,
        "kind": kind,
        "value": value,
        "lease_id": row.id,
        "revision": row.revision,
    }
    mark_id = row.mark_id if fused else _insert_mark(conn, mark, now=now)
    change = _reconciled(
        conn, row, params, kind, value, tolerance=tolerance, step=step, fused=fused
    )
    payload = {"mark": mark_id, "response": response_id, "value": f"{value:f}", "kind": kind.value}
    if row.revision != 1:  # a re-mark for an appeal revision says so (verify reads it)
        payload["revision"] = row.revision
    if fused:
        _write_fused(conn, exam, examiner, row, mark | {"id": mark_id}, change, payload, now)
    else:
        conn.execute(RESPONSE_UPDATES[change.update_key], change.params)
        ledger.append(db, exam, kind="mark", actor=examiner.username, payload=payload, now=now)
    return Submitted(response_id, mark_id, change.state, change.final)


@dataclass
class _Change:
    """What the mark does to its response: which prepared update (by outcome), with which
    parameters, and the state and final the examiner is told."""

    update_key: str
    params: dict[str, Any]
    state: ResponseState = ResponseState.OPEN
    final: Decimal | None = None


def _lock_held(
    db: Session,
    conn: Any,
    exam: ExamSession,
    examiner: Account,
    params: dict[str, Any],
    *,
    now: dt.datetime,
    fused: bool,
) -> Any:
    """The examiner's live lease with the response's counters and rules, both locked, in one
    round trip; otherwise NotFound or LeaseLost saying why."""
    row = HELD_DRIVER.run(conn, params).fetchone() if fused else conn.execute(HELD, params).first()
    if row is None or row.expires_at <= now:
        held_lease(db, exam, examiner, params["response_id"], now=now)  # raises, saying why
        raise AssertionError("unreachable")
    return row


def _insert_mark(conn: Any, mark: dict[str, Any], *, now: dt.datetime) -> int:
    """The generic path: store the mark and mark its lease submitted; returns the mark's id."""
    mark_id: int = conn.execute(INSERT_MARK, {**mark, "created_at": now}).scalar_one()
    conn.execute(LEASE_SUBMITTED, {"lease_id": mark["lease_id"]})
    return mark_id


def _reconciled(
    conn: Any,
    row: Any,
    params: dict[str, Any],
    kind: MarkKind,
    value: Decimal,
    *,
    tolerance: Decimal,
    step: Decimal,
    fused: bool,
) -> _Change:
    """The response counted one mark more and, once enough are in, reconciled (DESIGN §5):
    final, a third mark, or arbitration."""
    done = row.marks_done + 1
    change = _Change("marked", {"r_id": params["response_id"], "r_done": done})
    if done < row.marks_needed:
        return change
    outcome = reconcile(
        _marks_with(conn, row, params, kind, value, fused=fused),
        tolerance=to_int(tolerance),
        step=to_int(step),
        required=row.marks_required,
    )
    if isinstance(outcome, Final):
        change.state, change.final = ResponseState.FINAL, Decimal(outcome.value) / 1000
        change.update_key = "final"
        change.params.update(r_state=change.state, r_final=change.final, r_rule=outcome.rule)
    elif isinstance(outcome, NeedsThird):
        change.update_key = "third"
        change.params["r_needed"] = row.marks_required + 1
    elif isinstance(outcome, NeedsArbitration):
        change.state = ResponseState.ARBITRATION
        change.update_key = "arbitration"
        change.params["r_state"] = change.state
    return change


def _marks_with(
    conn: Any,
    row: Any,
    params: dict[str, Any],
    kind: MarkKind,
    value: Decimal,
    *,
    fused: bool,
) -> list[int]:
    """The response's effective marks in thousandths, in (kind, id) order, this one in."""
    if not fused:
        return [to_int(v) for v in conn.execute(EFFECTIVE, params).scalars()]
    if not row.corrections and len(row.marks_value or ()) == row.marks_done:
        # Read before this mark, in (kind, id) order: this one has the highest id.
        before = list(zip(row.marks_kind or (), row.marks_value or (), strict=True))
        return _with_new_mark(before, kind, to_int(value))
    # Another examiner's mark (or a correction) was committed while this one waited for the
    # lock: the statement's snapshot predates it. A new statement sees it. The array holds
    # marks as given, so a response whose marks were ever corrected (rare) reads them in
    # force here: ``corrections`` is on the locked row, so it is never stale.
    return _with_new_mark(_effective_milli(conn, params["response_id"]), kind, to_int(value))


def _write_fused(
    conn: Any,
    exam: ExamSession,
    examiner: Account,
    row: Any,
    mark: dict[str, Any],
    change: _Change,
    payload: dict[str, Any],
    now: dt.datetime,
) -> None:
    """PostgreSQL: the mark, its lease, the response, the ledger entry and the lane's new
    tip written by one statement, in the driver's plain values."""
    entry = ledger.entry_row(
        session_id=exam.id,
        lane=examiner.username,
        tip=(row.seq, row.hash),
        kind="mark",
        actor=examiner.username,
        payload=payload,
        created_at=now,
    )
    response_params = dict(change.params)
    for key in ("r_state", "r_final"):  # the driver's plain values, as stored
        if key in response_params:
            value_of = response_params[key]
            response_params[key] = (
                to_milli(value_of) if isinstance(value_of, Decimal) else value_of.value
            )
    FUSED_WRITES[change.update_key].run(
        conn,
        {
            **{f"m_{k}": v for k, v in mark.items()},
            "m_kind": mark["kind"].value,
            "m_value": to_milli(mark["value"]),
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


def _effective_milli(conn: Any, response_id: int) -> list[tuple[str, int]]:
    return [(k.value, v) for k, v in conn.execute(EFFECTIVE_KINDS, {"response_id": response_id})]


def _with_new_mark(before: list[tuple[str, int]], kind: MarkKind, milli: int) -> list[int]:
    """The response's marks in (kind, id) order once the new mark (the highest id) is in."""
    position = sum(1 for k, _v in before if k <= kind.value)
    values = [int(v) for _k, v in before]
    return [*values[:position], milli, *values[position:]]
