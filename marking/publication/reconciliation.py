"""The session-wide check before publication: every examiner-marked response reconciled
again at once with numpy, and compared with what the queue decided mark by mark."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
from sqlalchemy import BigInteger, case, exists, func, select, type_coerce
from sqlalchemy.orm import Session

from marking.domain.rules import Status, reconcile_many
from marking.publication.preconditions import PublicationRefused
from marking.store.db import integer_columns
from marking.store.models import (
    Anomaly,
    AnomalyResolution,
    Arbitration,
    ExamSession,
    Mark,
    MarkingGroup,
    MarkKind,
    MarkWithdrawal,
    Question,
    Response,
    RulingWithdrawal,
    Script,
    latest_corrections,
)

_Ints: TypeAlias = npt.NDArray[np.int64]
_Bools: TypeAlias = npt.NDArray[np.bool_]


def _milli(column: Any) -> Any:
    """A Marks column read as its stored integer (milli): no Decimal per row. Same SQL."""
    return type_coerce(column, BigInteger)


def _decimal(milli: int | None) -> Decimal | None:
    """What the Marks column type reads for a stored integer (for messages)."""
    return None if milli is None else Decimal(milli) / 1000


_RULE_CODES = {"arbitration": 1, "lead": 2}


def check_reconciliation(db: Session, exam: ExamSession) -> int:
    """Reconcile every examiner-marked response again, at once, with numpy, and compare with
    what the queue decided mark by mark. Raises PublicationRefused naming the first response
    where they differ. Returns the number of responses checked.

    Millions of rows at publication: read as integer columns straight into numpy
    (db.integer_columns), sorted there rather than by the database, and compared there;
    only a response that fails is looked at one by one, to say why."""
    marks = _effective_marks(db, exam)
    responses = _responses(db, exam)
    _check_objective(db, exam)
    if not len(responses):
        return 0
    # Each big array is dropped as soon as the next one is built: millions of rows.
    responses = responses[np.argsort(responses[:, 0], kind="stable")]
    rid, recorded, rule_code, tol, stp, req = (responses[:, k].copy() for k in range(6))
    del responses
    order = np.lexsort((marks[:, 2], marks[:, 1], marks[:, 0]))
    mark_rid, mark_val = marks[order, 0], marks[order, 3]
    del marks, order
    grid, counts = _grid(rid, mark_rid, mark_val)
    del mark_rid, mark_val
    try:
        finals, status = reconcile_many(grid, counts, tolerance=tol, step=stp, required=req)
    except ValueError as exc:  # e.g. more effective marks than the rule allows
        raise PublicationRefused(f"marks cannot be reconciled: {exc}") from exc
    ruled = _rulings_on_record(db, exam)
    computed = np.where(status == Status.FINAL, finals, -1)
    suspect = _suspects(rid, recorded, rule_code, ruled, status, computed)
    if suspect.any():
        i = int(np.argmax(suspect))
        _refuse(
            int(rid[i]),
            None if recorded[i] < 0 else int(recorded[i]),
            db.scalar(select(Response.final_rule).where(Response.id == int(rid[i]))),
            ruled,
            Status(int(status[i])),
            None if computed[i] < 0 else int(computed[i]),
        )
    return len(rid)


def _effective_marks(db: Session, exam: ExamSession) -> _Ints:
    """(response id, third or not, mark id, value in force in milli) of every mark not
    withdrawn: a corrected mark with its latest correction's value (R6)."""
    latest = latest_corrections()
    marks: _Ints = integer_columns(
        db,
        select(
            Mark.response_id,
            # The rule reads the N independent marks first, then the third (rules.reconcile).
            case((Mark.kind == MarkKind.THIRD, 1), else_=0),
            Mark.id,
            _milli(func.coalesce(latest.c.value, Mark.value)),
        )
        .outerjoin(latest, latest.c.mark_id == Mark.id)
        .join(Response, Response.id == Mark.response_id)
        .join(Script, Script.id == Response.script_id)
        .where(
            Script.session_id == exam.id,
            ~exists().where(MarkWithdrawal.mark_id == Mark.id),
        ),
    )
    return marks


def _responses(db: Session, exam: ExamSession) -> _Ints:
    """(id, final or -1, rule code, tolerance, step, marks required) of every response."""
    responses: _Ints = integer_columns(
        db,
        select(
            Response.id,
            # Finals are never negative: -1 stands for "no final".
            func.coalesce(_milli(Response.final), -1),
            case(
                *((Response.final_rule == rule, code) for rule, code in _RULE_CODES.items()),
                else_=0,
            ),
            _milli(Question.tolerance),
            _milli(Question.step),
            MarkingGroup.marks_required,
        )
        .join(Question, Question.id == Response.question_id)
        .join(MarkingGroup, MarkingGroup.id == Response.group_id)
        .join(Script, Script.id == Response.script_id)
        .where(Script.session_id == exam.id),
    )
    return responses


def _check_objective(db: Session, exam: ExamSession) -> None:
    """Objective responses: the final is the score from the key, nothing else."""
    off_key = (
        db.connection()
        .execute(
            select(Response.id, Response.final, Response.key_score)
            .join(Script, Script.id == Response.script_id)
            .where(
                Script.session_id == exam.id,
                Response.group_id.is_(None),
                Response.final.is_(None) | (Response.final != Response.key_score),
            )
            .limit(1)
        )
        .first()
    )
    if off_key is not None:
        raise PublicationRefused(
            f"response {off_key.id}: final {off_key.final} but its score from the key is "
            f"{off_key.key_score}; publication stopped"
        )


def _grid(rid: _Ints, mark_rid: _Ints, mark_val: _Ints) -> tuple[_Ints, _Ints]:
    """Each response's marks (sorted by response, in reading order) as one row of a grid,
    padded with zeros, and how many marks each row holds."""
    n = len(rid)
    row = np.searchsorted(rid, mark_rid)
    counts = np.bincount(row, minlength=n).astype(np.int64)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    col = np.arange(len(mark_rid)) - starts[row]
    width = int(counts.max()) if len(mark_rid) else 1
    grid = np.zeros((n, max(width, 1)), dtype=np.int64)
    grid[row, col] = mark_val
    return grid, counts


def _rulings_on_record(db: Session, exam: ExamSession) -> dict[str, dict[int, int | None]]:
    """The lead's rulings not withdrawn, by rule: {response id: value in milli}."""
    conn = db.connection()
    return {
        "arbitration": {
            rid_: value
            for rid_, value in conn.execute(
                select(Arbitration.response_id, _milli(Arbitration.value))
                .join(Response, Response.id == Arbitration.response_id)
                .join(Script, Script.id == Response.script_id)
                .where(
                    Script.session_id == exam.id,
                    ~exists().where(RulingWithdrawal.arbitration_id == Arbitration.id),
                )
            )
        },
        "lead": {
            rid_: value
            for rid_, value in conn.execute(
                select(Anomaly.response_id, _milli(Anomaly.final_value)).where(
                    Anomaly.session_id == exam.id,
                    Anomaly.resolution == AnomalyResolution.FINAL,
                    ~exists().where(RulingWithdrawal.anomaly_id == Anomaly.id),
                )
            )
        },
    }


def _suspects(
    rid: _Ints,
    recorded: _Ints,
    rule_code: _Ints,
    ruled: dict[str, dict[int, int | None]],
    status: npt.NDArray[Any],
    computed: _Ints,
) -> _Bools:
    """Which responses fail the check (a boolean per response)."""
    rule_of = {code: rule for rule, code in _RULE_CODES.items()}
    arbitrated = rule_code == _RULE_CODES["arbitration"]
    by_lead = rule_code == _RULE_CODES["lead"]
    # Whatever the rule, a final off the ruling on record; for arbitrated responses, marks
    # that reconcile without the lead; for the others, a final the marks do not give.
    suspect = np.zeros(len(rid), dtype=np.bool_)
    for i in np.flatnonzero(arbitrated | by_lead).tolist():
        got = ruled[rule_of[int(rule_code[i])]].get(int(rid[i]))
        suspect[i] = (-1 if got is None else got) != recorded[i]
    suspect |= arbitrated & (status != Status.NEEDS_ARBITRATION)
    suspect |= ~(arbitrated | by_lead) & (computed != recorded)
    return suspect


def _refuse(
    response_id: int,
    final: int | None,
    rule: str | None,
    ruled: dict[str, dict[int, int | None]],
    status: Status,
    got: int | None,
) -> None:
    """Raise PublicationRefused saying why this response fails the session-wide check."""
    if rule in ruled and final != ruled[rule].get(response_id):
        raise PublicationRefused(
            f"response {response_id}: the queue recorded final {_decimal(final)} ({rule}) but "
            f"the lead's ruling on record is {_decimal(ruled[rule].get(response_id))}; "
            "publication stopped"
        )
    if rule == "arbitration":
        raise PublicationRefused(
            f"response {response_id}: arbitrated, but its marks reconcile without "
            "arbitration; the queue and the session-wide check disagree"
        )
    raise PublicationRefused(
        f"response {response_id}: the queue recorded final {_decimal(final)} but reconciling "
        f"its marks gives {_decimal(got)} (status {status.name}); publication stopped"
    )
