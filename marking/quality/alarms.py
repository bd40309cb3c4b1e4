"""Drift alarms (DESIGN §13): on each seed marked, the rule (``marking.domain.rules.drift``)
over the examiner's recent seeds in the group, and the alarms it raises opened in the lead's
inbox with their evidence, at most one open per examiner, group and kind (the lead closes
them: ``marking.quality.decisions``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, bindparam, func, literal_column, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.domain.rules import drift
from marking.queue.statements import _DriverStatement, decimals
from marking.store.models import Account, ExamSession, Question, Response, utcnow
from marking.store.models.checks import AlarmKind, CheckAlarm, CheckMark, CheckPurpose, CheckState

_ME = bindparam("me", type_=Integer)
_GROUP = bindparam("g", type_=Integer)


_RECENT_SEEDS = (
    select(CheckMark.id, CheckMark.expected, CheckMark.value, Question.tolerance, Question.step)
    .join(Response, Response.id == CheckMark.response_id)
    .join(Question, Question.id == Response.question_id)
    .where(
        CheckMark.examiner_id == _ME,
        CheckMark.group_id == _GROUP,
        CheckMark.purpose == CheckPurpose.SEED,
        CheckMark.state == CheckState.SUBMITTED,
    )
    .order_by(CheckMark.submitted_at.desc(), CheckMark.id.desc())
    .limit(bindparam("n", type_=Integer))
)
_OPEN_ALARMS = select(CheckAlarm.kind).where(
    CheckAlarm.session_id == bindparam("s_id"),
    CheckAlarm.group_id == _GROUP,
    CheckAlarm.examiner_id == _ME,
    CheckAlarm.closed_at.is_(None),
)


# PostgreSQL: read on every seed marked, as the driver's own SQL (values in thousandths), as
# the rest of a check's marking is (marking.quality.checks).
_RECENT_SEEDS_DRIVER = _DriverStatement(_RECENT_SEEDS)


def recent_seeds(
    db: Session, examiner_id: int, group_id: int, *, limit: int = drift.RECENT
) -> list[drift.SeedMark]:
    """The examiner's last seeds marked in the group, newest first."""
    params = {"me": examiner_id, "g": group_id, "n": limit}
    conn = db.connection()
    rows: Sequence[Any]
    if conn.dialect.name == "postgresql":
        found = _RECENT_SEEDS_DRIVER.run(conn, params)
        rows = [(r[0], *decimals(r[1:])) for r in found if r[2] is not None]
    else:
        rows = conn.execute(_RECENT_SEEDS, params).all()
    return [drift.SeedMark(r[0], r[1], r[2], r[3], r[4]) for r in rows if r[2] is not None]


def prior_seeds(me: Any, group_id: Any, check_id: Any) -> Any:
    """PostgreSQL: the examiner's last seeds marked in the group before the check
    ``check_id``, newest first, as one JSON array of [check, expected, given, tolerance,
    step] (thousandths): read by the statement that locks a seed to mark it, so that a seed's
    mark costs the round trips a live mark does (``marking.quality.checks``)."""
    prior = CheckMark.__table__.alias("prior_seed")
    rows = (
        select(
            prior.c.id,
            prior.c.expected,
            prior.c.value,
            Question.tolerance,
            Question.step,
            prior.c.submitted_at,
        )
        .join(Response, Response.id == prior.c.response_id)
        .join(Question, Question.id == Response.question_id)
        .where(
            prior.c.examiner_id == me,
            prior.c.group_id == group_id,
            prior.c.purpose == literal_column(f"'{CheckPurpose.SEED.value}'"),
            prior.c.state == literal_column(f"'{CheckState.SUBMITTED.value}'"),
            prior.c.id != check_id,
        )
        .order_by(prior.c.submitted_at.desc(), prior.c.id.desc())
        .limit(drift.RECENT - 1)
        .subquery("prior")
    )
    return (
        select(
            func.json_agg(
                aggregate_order_by(
                    func.json_build_array(
                        rows.c.id, rows.c.expected, rows.c.value, rows.c.tolerance, rows.c.step
                    ),
                    rows.c.submitted_at.desc(),
                    rows.c.id.desc(),
                )
            )
        )
        .correlate_except(rows)
        .scalar_subquery()
    )


def open_kinds(me: Any, group_id: Any, session_id: Any) -> Any:
    """PostgreSQL: the kinds of the examiner's open alarms in the group, as an array, read
    with ``prior_seeds`` by the statement that locks a seed to mark it."""
    return (
        select(func.array_agg(CheckAlarm.kind))
        .where(
            CheckAlarm.session_id == session_id,
            CheckAlarm.group_id == group_id,
            CheckAlarm.examiner_id == me,
            CheckAlarm.closed_at.is_(None),
        )
        .scalar_subquery()
    )


def seed_marks(this: drift.SeedMark, prior: Sequence[Sequence[int]] | None) -> list[drift.SeedMark]:
    """The seed just marked and the ones before it (``prior_seeds``), newest first."""
    return [this] + [
        drift.SeedMark(row[0], *decimals(row[1:])) for row in prior or () if row[2] is not None
    ]


def raise_alarms(
    db: Session,
    exam: ExamSession,
    examiner: Account,
    group_id: int,
    *,
    now: dt.datetime | None = None,
    seeds: list[drift.SeedMark] | None = None,
    open_now: Sequence[str] | None = None,
) -> tuple[AlarmKind, ...]:
    """Open the alarms the drift rule raises on the examiner's recent seeds in the group
    (``seeds``, newest first, and the kinds open now, ``open_now``, when the caller read
    them already), at most one open per kind; returns the kinds newly opened."""
    now = now or utcnow()
    opened: list[AlarmKind] = []
    if seeds is None:
        seeds = recent_seeds(db, examiner.id, group_id)
    found = drift.alarms(seeds)
    if not found:
        return ()
    if open_now is None:
        already = set(db.scalars(_OPEN_ALARMS, {"s_id": exam.id, "g": group_id, "me": examiner.id}))
    else:
        already = {AlarmKind(kind) for kind in open_now}
    for alarm in found:
        kind = AlarmKind(alarm.kind)
        if kind in already:
            continue
        row = CheckAlarm(
            session_id=exam.id,
            group_id=group_id,
            examiner_id=examiner.id,
            kind=kind,
            evidence=alarm.evidence,
            raised_at=now,
        )
        db.add(row)
        db.flush()
        ledger.append(
            db,
            exam,
            kind="alarm",
            actor=examiner.username,
            payload={
                "alarm": row.id,
                "kind": kind.value,
                "group": group_id,
                "checks": [s["check"] for s in alarm.evidence["seeds"]],
            },
            now=now,
        )
        opened.append(kind)
    return tuple(opened)
