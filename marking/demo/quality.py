"""The simulation's calls into quality control (DESIGN §13), all in one place.

The services live in ``marking.quality``: ``checks`` and ``qualification`` (checks handed
out in claims, ``submit_check``, the qualification set) and ``items`` (the lead's
qualification items and seeds).
"""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.quality import checks, items, qualification
from marking.quality.qualification import QualificationState
from marking.queue.claims import Claimed
from marking.store.models import (
    Account,
    CheckAlarm,
    CheckItem,
    CheckMark,
    CheckPurpose,
    ExamSession,
    MarkingGroup,
)


def check_id(item: Claimed) -> int | None:
    """The check a claimed item is (None: a live response)."""
    return item.check_id


def submit_check(
    db: Session, exam: ExamSession, examiner: Account, *, check_id: int, value: Decimal
) -> None:
    checks.submit_check(db, exam, examiner, check_id=check_id, value=value)


def start_qualification(
    db: Session, exam: ExamSession, examiner: Account, *, group: MarkingGroup
) -> list[Claimed]:
    """The examiner's qualification attempt in the group (the open one, or a new one)."""
    return list(qualification.start_qualification(db, exam, examiner, group=group))


def qualification_state(
    db: Session, exam: ExamSession, examiner: Account, group: MarkingGroup
) -> QualificationState:
    return qualification.qualification_state(db, exam, examiner, group)


def add_item(
    db: Session,
    exam: ExamSession,
    lead: Account,
    *,
    response_id: int,
    purpose: CheckPurpose,
    value: Decimal,
    note: str,
) -> CheckItem:
    return items.add_item(
        db, exam, lead, response_id=response_id, purpose=purpose, value=value, note=note
    )


# Reading what the services wrote: the schema is on main already.


def check_mark(db: Session, check_id: int) -> CheckMark:
    found = db.get(CheckMark, check_id)
    assert found is not None, f"check {check_id} handed out but not found"
    return found


def alarms_since(
    db: Session, *, examiner_id: int, group_id: int, after_id: int
) -> list[CheckAlarm]:
    """The examiner's alarms in the group raised after alarm ``after_id``, oldest first."""
    return list(
        db.scalars(
            select(CheckAlarm)
            .where(
                CheckAlarm.examiner_id == examiner_id,
                CheckAlarm.group_id == group_id,
                CheckAlarm.id > after_id,
            )
            .order_by(CheckAlarm.id)
        )
    )
