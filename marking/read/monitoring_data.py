"""Monitoring's reading (``marking.read.monitoring``): the session's marks, checks and
questions as numpy columns, in a few queries whose rows carry no Python objects but numbers
(the figures of a large session rest on millions of marks)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import BigInteger, Float, case, cast, func, or_, select, text, type_coerce
from sqlalchemy.orm import Session

from marking.store.models import (
    Account,
    Component,
    ExamSession,
    Lease,
    Mark,
    MarkingGroup,
    MarkKind,
    MarkWithdrawal,
    Question,
    Response,
    ResponseState,
    latest_corrections,
)
from marking.store.models.checks import CheckMark, CheckPurpose, CheckState


def _milli(column: Any) -> Any:
    """A Marks column read as its stored integer (thousandths), without a Decimal per row."""
    return type_coerce(column, BigInteger)


def _epoch(db: Session, column: Any) -> Any:
    """A timestamp column as seconds since 1970, computed by the database (a datetime object
    per row would cost more than the figures themselves at millions of marks)."""
    if db.get_bind().dialect.name == "postgresql":
        return cast(func.extract("epoch", column), Float)
    return (func.julianday(column) - 2440587.5) * 86400.0


def _seconds(values: Iterable[Any]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """Epoch seconds to the millisecond (SQLite's julianday carries float noise below it)."""
    known = list(values)
    if any(v is None for v in known):
        known = [np.nan if v is None else v for v in known]
    found: np.ndarray[Any, np.dtype[np.float64]] = np.array(known, dtype=np.float64)
    return np.round(found, 3)


CHUNK = 100_000


@dataclass
class Marks:
    """Every mark of the session's groups as columns (withdrawn ones too: they were work)."""

    id: np.ndarray[Any, Any]
    response: np.ndarray[Any, Any]
    examiner: np.ndarray[Any, Any]
    question: np.ndarray[Any, Any]
    group: np.ndarray[Any, Any]
    value: np.ndarray[Any, Any]
    first: np.ndarray[Any, Any]  # a double (first) mark, not a third
    needed_more: np.ndarray[Any, Any]  # its response needed a third mark or arbitration
    live: np.ndarray[Any, Any]  # in force: not withdrawn
    claimed: np.ndarray[Any, Any]
    done: np.ndarray[Any, Any]


def read_marks(db: Session, groups: dict[int, MarkingGroup]) -> Marks:
    """Every mark of ``groups``: plain numbers per row, the flags worked out by the database
    (no enum or Decimal per row: a large session has millions of marks)."""
    latest = latest_corrections()
    needed_more = or_(
        Response.marks_needed > MarkingGroup.marks_required,
        Response.state == ResponseState.ARBITRATION,
        Response.final_rule == "arbitration",
    )
    rows = (
        select(
            Mark.id,
            Mark.response_id,
            Mark.examiner_id,
            Response.question_id,
            Response.group_id,
            _milli(func.coalesce(latest.c.value, Mark.value)),
            case((Mark.kind == MarkKind.DOUBLE, 1), else_=0),
            case((needed_more, 1), else_=0),
            case((MarkWithdrawal.mark_id.is_(None), 1), else_=0),
            _epoch(db, Lease.created_at),
            _epoch(db, Mark.created_at),
        )
        .join(Response, Response.id == Mark.response_id)
        .join(MarkingGroup, MarkingGroup.id == Response.group_id)
        .join(Lease, Lease.id == Mark.lease_id)
        .outerjoin(latest, latest.c.mark_id == Mark.id)
        .outerjoin(MarkWithdrawal, MarkWithdrawal.mark_id == Mark.id)
        .where(Response.group_id.in_(list(groups)))
    )
    if db.get_bind().dialect.name == "postgresql":
        # A server-side cursor is planned for its first tenth of rows (nested loops over
        # millions of marks); all of them are wanted here, so plan for all (hash joins).
        db.execute(text("SET LOCAL cursor_tuple_fraction = 1.0"))
    table = _numbers(db.execute(rows.execution_options(yield_per=CHUNK)), 11)
    ids, rids, eids, qids, gids, values, first, needed, live = (
        table[:, k].astype(np.int64) for k in range(9)
    )
    return Marks(
        id=ids,
        response=rids,
        examiner=eids,
        question=qids,
        group=gids,
        value=values,
        first=first.astype(bool),
        needed_more=needed.astype(bool),
        live=live.astype(bool),
        claimed=np.round(table[:, 9], 3),
        done=np.round(table[:, 10], 3),
    )


def _numbers(result: Any, width: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    """A result of numbers only, as one float64 table read a chunk at a time: no row object
    outlives its chunk (ids and thousandths are far below 2**53, exact as floats)."""
    chunks = [
        # Flattened through fromiter: np.array over Row objects costs 25 times as much.
        np.fromiter((x for row in part for x in row), np.float64, len(part) * width).reshape(
            -1, width
        )
        for part in result.partitions()
    ]
    if not chunks:
        return np.zeros((0, width))
    return np.concatenate(chunks)


@dataclass
class Checks:
    examiner: np.ndarray[Any, Any]
    group: np.ndarray[Any, Any]
    purpose: list[CheckPurpose]
    given: np.ndarray[Any, Any]
    expected: np.ndarray[Any, Any]
    question: np.ndarray[Any, Any]
    claimed: np.ndarray[Any, Any]
    done: np.ndarray[Any, Any]


def read_checks(db: Session, exam: ExamSession) -> Checks:
    rows = db.execute(
        select(
            CheckMark.examiner_id,
            CheckMark.group_id,
            CheckMark.purpose,
            _milli(CheckMark.value),
            _milli(CheckMark.expected),
            Response.question_id,
            _epoch(db, CheckMark.claimed_at),
            _epoch(db, CheckMark.submitted_at),
        )
        .join(Response, Response.id == CheckMark.response_id)
        .where(
            CheckMark.session_id == exam.id,
            CheckMark.state == CheckState.SUBMITTED,
            CheckMark.value.is_not(None),
        )
    ).all()
    columns = list(zip(*rows, strict=True)) if rows else [()] * 8
    eids, gids, purposes, given, expected, qids, claimed, done = columns
    return Checks(
        examiner=np.array(eids, dtype=np.int64),
        group=np.array(gids, dtype=np.int64),
        purpose=list(purposes),
        given=np.array(given, dtype=np.int64),
        expected=np.array(expected, dtype=np.int64),
        question=np.array(qids, dtype=np.int64),
        claimed=_seconds(claimed),
        done=_seconds(done),
    )


@dataclass(frozen=True)
class QuestionFacts:
    component: str  # its component's name (理论知识), never the key
    number: str
    maximum: int
    step: int
    tolerance: int


def questions(db: Session, groups: Sequence[int]) -> dict[int, QuestionFacts]:
    return {
        qid: QuestionFacts(component, number, maximum, step, tolerance)
        for qid, component, number, maximum, step, tolerance in db.execute(
            select(
                Question.id,
                Component.name,
                Question.number,
                _milli(Question.max),
                _milli(Question.step),
                _milli(Question.tolerance),
            )
            .join(Component, Component.id == Question.component_id)
            .where(Question.group_id.in_(list(groups)))
        )
    }


def names(db: Session, ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    return {
        aid: (username, name or username)
        for aid, username, name in db.execute(
            select(Account.id, Account.username, Account.name).where(Account.id.in_(wanted))
        )
    }


def marks_text(milli: int) -> str:
    whole, part = divmod(milli, 1000)
    return f"{whole}" if not part else f"{whole}.{part:03d}".rstrip("0")
