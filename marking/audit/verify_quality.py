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
    else:
        return False
    return True


def _name(column: Any) -> Any:
    return select(Account.username).where(Account.id == column).scalar_subquery()


def check(db: Session, exam: ExamSession, recorded: Decisions, compare: Compare) -> None:
    """Compare the tables with ``recorded``; ``compare(what, recorded, actual)`` names
    each difference."""
    items = {
        i: (r, p.value, v, by)
        for i, r, p, v, by in db.execute(
            select(
                CheckItem.id,
                CheckItem.response_id,
                CheckItem.purpose,
                CheckItem.value,
                _name(CheckItem.created_by),
            ).where(CheckItem.session_id == exam.id)
        )
    }
    compare("check item", recorded.items, items)
    retired = db.scalars(
        select(CheckItem.id).where(
            CheckItem.session_id == exam.id, CheckItem.retired_at.is_not(None)
        )
    )
    compare(
        "retired check item", dict.fromkeys(recorded.retired, True), dict.fromkeys(retired, True)
    )
    group_key = select(MarkingGroup.key).where(MarkingGroup.id == GroupSuspension.group_id)
    suspensions = {
        i: (who, key, keep, by)
        for i, who, key, keep, by in db.execute(
            select(
                GroupSuspension.id,
                _name(GroupSuspension.examiner_id),
                group_key.scalar_subquery(),
                GroupSuspension.keep_marks,
                _name(GroupSuspension.by_id),
            ).where(GroupSuspension.session_id == exam.id)
        )
    }
    compare("suspension", recorded.suspensions, suspensions)
    reinstated = db.scalars(
        select(GroupSuspension.id).where(
            GroupSuspension.session_id == exam.id, GroupSuspension.reinstated_at.is_not(None)
        )
    )
    compare(
        "reinstatement of suspension",
        dict.fromkeys(recorded.reinstated, True),
        dict.fromkeys(reinstated, True),
    )
    override_key = select(MarkingGroup.key).where(MarkingGroup.id == QualificationOverride.group_id)
    overrides = {
        i: (who, key, by)
        for i, who, key, by in db.execute(
            select(
                QualificationOverride.id,
                _name(QualificationOverride.examiner_id),
                override_key.scalar_subquery(),
                _name(QualificationOverride.by_id),
            ).where(QualificationOverride.session_id == exam.id)
        )
    }
    compare("qualification override", recorded.overrides, overrides)
    closed = db.scalars(
        select(CheckAlarm.id).where(
            CheckAlarm.session_id == exam.id, CheckAlarm.closed_at.is_not(None)
        )
    )
    compare(
        "closed alarm", dict.fromkeys(recorded.alarms_closed, True), dict.fromkeys(closed, True)
    )
