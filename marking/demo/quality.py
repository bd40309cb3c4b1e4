"""The simulation's calls into quality control (DESIGN §13), all in one place.

The services live in ``marking.quality``: ``checks`` and ``qualification`` (checks handed
out in claims, ``submit_check``, the qualification set) and ``items`` (the lead's
qualification items and seeds). The simulation calls them by the names and signatures
fixed for issue 13, looked up when first used: a build without them simulates without
checks, as before.

TODO(issue 13 merge): once ``marking.quality`` and ``Claimed.check_id`` are on main, import
them at the top of the modules that use them, drop ``_service``/``checks_on``/``items_on``
and the ``getattr`` in ``check_id``, so mypy checks these calls again.
"""

from __future__ import annotations

import importlib
from decimal import Decimal
from types import ModuleType
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

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


def _service(name: str) -> ModuleType | None:
    """``marking.quality.<name>``, or None when this build has no such module (only that:
    an error inside the module is raised as it is)."""
    module = f"marking.quality.{name}"
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name in (module, "marking.quality"):
            return None
        raise


def checks_on() -> bool:
    """Whether this build hands out checks (seeds, 回评, qualification) to examiners."""
    return _service("checks") is not None and _service("qualification") is not None


def items_on() -> bool:
    """Whether this build lets the lead make qualification items and seeds."""
    return _service("items") is not None


def _call(module: str, function: str, *args: Any, **kwargs: Any) -> Any:
    service = _service(module)
    assert service is not None, f"marking.quality.{module} is not in this build"
    return getattr(service, function)(*args, **kwargs)


def check_id(item: Claimed) -> int | None:
    """The check a claimed item is (None: a live response)."""
    value = getattr(item, "check_id", None)
    return int(value) if value is not None else None


def submit_check(
    db: Session, exam: ExamSession, examiner: Account, *, check_id: int, value: Decimal
) -> None:
    _call("checks", "submit_check", db, exam, examiner, check_id=check_id, value=value)


def start_qualification(
    db: Session, exam: ExamSession, examiner: Account, *, group: MarkingGroup
) -> list[Claimed]:
    """The examiner's qualification attempt in the group (the open one, or a new one)."""
    return list(_call("qualification", "start_qualification", db, exam, examiner, group=group))


def qualification_state(
    db: Session, exam: ExamSession, examiner: Account, group: MarkingGroup
) -> Any:
    """``QualificationState``: required, qualified, attempt, open, last_passed, within, of."""
    return _call("qualification", "qualification_state", db, exam, examiner, group)


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
    item = _call(
        "items",
        "add_item",
        db,
        exam,
        lead,
        response_id=response_id,
        purpose=purpose,
        value=value,
        note=note,
    )
    assert isinstance(item, CheckItem)
    return item


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
