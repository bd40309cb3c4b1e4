"""`verify`'s cross-check of the lead's quality decisions (DESIGN §13): the qualification
items and seeds, suspensions and reinstatements, qualification overrides and closed
alarms in the tables are those the ledger recorded. A row written to its table directly
(an examiner suspended or qualified with no one's decision on record, a seed's mark
changed after the fact) is named."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.store.models import (
    Account,
    CheckAlarm,
    CheckItem,
    CheckMark,
    ExamSession,
    GroupSuspension,
    LedgerEntry,
    MarkingGroup,
    QualificationOverride,
)

Compare = Callable[[str, Mapping[Any, object], Mapping[Any, object]], None]


@dataclass
class Decisions:
    """What the ledger recorded of them."""

    items: dict[int, tuple[object, ...]] = field(default_factory=dict)
    retired: set[int] = field(default_factory=set)
    suspensions: dict[int, tuple[object, ...]] = field(default_factory=dict)
    reinstated: set[int] = field(default_factory=set)
    overrides: dict[int, tuple[object, ...]] = field(default_factory=dict)
    alarms_closed: set[int] = field(default_factory=set)
    reported: set[int] = field(default_factory=set)  # seeds and 回评 reported as anomalies
    reports_closed: set[int] = field(default_factory=set)


def read(found: Decisions, e: LedgerEntry) -> bool:
    """Take in one ledger entry if it is a quality decision; returns whether it was."""
    p = e.payload
    if e.kind == "check_item":
        found.items[p["item"]] = (p["response"], p["purpose"], Decimal(p["value"]), e.actor)
    elif e.kind == "check_item_retired":
        found.retired.add(p["item"])
    elif e.kind == "suspension":
        found.suspensions[p["suspension"]] = (p["examiner"], p["group"], p["keep_marks"], e.actor)
        found.alarms_closed.update(p.get("alarms_closed", ()))
    elif e.kind == "reinstatement":
        found.reinstated.add(p["suspension"])
    elif e.kind == "qualification_override":
        found.overrides[p["override"]] = (p["examiner"], p["group"], e.actor)
    elif e.kind == "alarm_closed":
        found.alarms_closed.add(p["alarm"])
    elif e.kind == "check_reported":
        found.reported.add(p["check"])
    elif e.kind == "check_reports_closed":
        found.reports_closed.update(p["checks"])
    else:
        return False
    return True


def _name(column: Any) -> Any:
    return select(Account.username).where(Account.id == column).scalar_subquery()


def _group_key(column: Any) -> Any:
    return select(MarkingGroup.key).where(MarkingGroup.id == column).scalar_subquery()


def _rows(db: Session, exam: ExamSession, model: Any, *columns: Any) -> dict[int, tuple[Any, ...]]:
    """The session's rows of ``model`` by id, each as the tuple of ``columns``."""
    return {
        row[0]: tuple(row[1:])
        for row in db.execute(select(model.id, *columns).where(model.session_id == exam.id))
    }


def _stamped(db: Session, exam: ExamSession, model: Any, stamp: Any) -> dict[int, bool]:
    """The session's rows of ``model`` whose ``stamp`` is set (retired, reinstated, closed)."""
    found = db.scalars(select(model.id).where(model.session_id == exam.id, stamp.is_not(None)))
    return dict.fromkeys(found, True)


def check(db: Session, exam: ExamSession, recorded: Decisions, compare: Compare) -> None:
    """Compare the tables with ``recorded``; ``compare(what, recorded, actual)`` names
    each difference."""
    items = {
        i: (r, p.value, v, by)
        for i, (r, p, v, by) in _rows(
            db,
            exam,
            CheckItem,
            CheckItem.response_id,
            CheckItem.purpose,
            CheckItem.value,
            _name(CheckItem.created_by),
        ).items()
    }
    compare("check item", recorded.items, items)
    suspensions = _rows(
        db,
        exam,
        GroupSuspension,
        _name(GroupSuspension.examiner_id),
        _group_key(GroupSuspension.group_id),
        GroupSuspension.keep_marks,
        _name(GroupSuspension.by_id),
    )
    compare("suspension", recorded.suspensions, suspensions)
    overrides = _rows(
        db,
        exam,
        QualificationOverride,
        _name(QualificationOverride.examiner_id),
        _group_key(QualificationOverride.group_id),
        _name(QualificationOverride.by_id),
    )
    compare("qualification override", recorded.overrides, overrides)
    for what, ids, model, stamp in (
        ("retired check item", recorded.retired, CheckItem, CheckItem.retired_at),
        (
            "reinstatement of suspension",
            recorded.reinstated,
            GroupSuspension,
            GroupSuspension.reinstated_at,
        ),
        ("closed alarm", recorded.alarms_closed, CheckAlarm, CheckAlarm.closed_at),
        ("reported check", recorded.reported, CheckMark, CheckMark.reported_at),
        ("closed check report", recorded.reports_closed, CheckMark, CheckMark.report_closed_at),
    ):
        compare(what, dict.fromkeys(ids, True), _stamped(db, exam, model, stamp))
