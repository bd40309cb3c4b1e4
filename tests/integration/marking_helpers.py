"""Shared helpers of the marking engine's integration tests (test_marking_*.py)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from marking.queue.claims import Claimed
from marking.queue.statements import takeable_by
from marking.store.models import (
    Account,
    Assignment,
    ExamSession,
    Mark,
    MarkingGroup,
    MarkKind,
    Response,
)
from tests.integration import factory as f

T0 = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


def account(db: Session, username: str) -> Account:
    found = db.scalar(select(Account).where(Account.username == username))
    assert found is not None
    return found


def team(db: Session, group: MarkingGroup) -> set[str]:
    return set(
        db.scalars(
            select(Account.username)
            .join(Assignment, Assignment.examiner_id == Account.id)
            .where(Assignment.group_id == group.id)
        )
    )


def marks_on(db: Session, response_id: int) -> list[tuple[str, Decimal, MarkKind]]:
    """(examiner, value, kind) of every mark on a response, in the order given."""
    return [
        (u, v, k)
        for u, v, k in db.execute(
            select(Account.username, Mark.value, Mark.kind)
            .join(Account, Account.id == Mark.examiner_id)
            .where(Mark.response_id == response_id)
            .order_by(Mark.id)
        )
    ]


def count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def by_text(table: dict[tuple[str, str], str]) -> Callable[[Claimed, str], Decimal]:
    """Marks by (response text, examiner); anything not in the table gets half marks."""
    return lambda item, user: Decimal(table.get((item.text, user), str(f.middle(item))))


def ids(items: list[Claimed]) -> set[int]:
    return {item.response_id for item in items}


def takeable(db: Session, exam: ExamSession, who: Account, key: str) -> int:
    """How many responses of group ``key`` a claim could hand ``who`` now (the queue's own
    condition; the examiner is shown no such count)."""
    group_id = next(g.id for g in exam.groups if g.key == key)
    return int(
        db.scalar(
            select(func.count())
            .select_from(Response)
            .where(Response.group_id == group_id, *takeable_by(literal(who.id)))
        )
        or 0
    )
