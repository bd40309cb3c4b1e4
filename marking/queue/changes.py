"""A correction checked before anything is stored (R6, DESIGN §14): a live mark's and a
seed's or 回评's alike. A correction needs a reason, a value valid for the question, and a
change from the value in force; it takes the next place in the mark's chain of corrections.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from marking.errors import MarkingError
from marking.queue.marks import validate_mark
from marking.store.models import CheckCorrection, MarkCorrection, Question


def required_reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise MarkingError.coded(
            "correction_reason", "a correction needs a reason (R6: a correction is signed)"
        )
    return text


def in_force(
    db: Session,
    history: type[MarkCorrection] | type[CheckCorrection],
    of: ColumnElement[bool],
    *,
    given: Decimal,
) -> tuple[Decimal, int]:
    """A mark's value in force (its latest correction's in ``history``, the rows ``of`` it,
    or the value ``given``) and how many corrections it has had."""
    latest = db.execute(
        select(history.value, history.seq).where(of).order_by(history.seq.desc()).limit(1)
    ).first()
    return (given, 0) if latest is None else (latest[0], latest[1])


@dataclass(frozen=True)
class Change:
    """A correction checked before anything is stored: its reason, the value in force it
    replaces, the new value, and the new correction's place in the mark's chain (``seq``)."""

    reason: str
    old: Decimal
    new: Decimal
    seq: int

    @classmethod
    def of(
        cls,
        db: Session,
        history: type[MarkCorrection] | type[CheckCorrection],
        of: ColumnElement[bool],
        *,
        given: Decimal,
        question: Question,
        value: object,
        reason: str,
    ) -> Change:
        """Refused (MarkingError ``correction_reason``, InvalidMark, MarkingError
        ``correction_unchanged``) without a reason, for a value off the question's range or
        step, or for the value already in force."""
        reason = required_reason(reason)
        new = validate_mark(value, maximum=question.max, step=question.step)
        old, seq = in_force(db, history, of, given=given)
        if new == old:
            raise MarkingError.coded(
                "correction_unchanged", "the mark is %(value)s already", value=f"{old:f}"
            )
        return cls(reason, old, new, seq + 1)

    def recorded(self) -> dict[str, str]:
        """The change as the ledger records it: the value replaced, the new one, why."""
        return {"old": f"{self.old:f}", "new": f"{self.new:f}", "reason": self.reason}
