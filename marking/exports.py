"""CSV exports of DESIGN §11, as header + rows; the CLI and web write them out."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.models import Component, ExamSession, MarkingGroup, Question

PAPER_COLUMNS = (
    "component",
    "question",
    "bank_item",
    "type",
    "max",
    "step",
    "tolerance",
    "group",
    "marks_required",
)


def paper_rows(db: Session, exam: ExamSession) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """The paper as the session defines it: one row per question, in paper order."""
    rows = db.execute(
        select(Component.key, Question, MarkingGroup.key, MarkingGroup.marks_required)
        .join(Question, Question.component_id == Component.id)
        .outerjoin(MarkingGroup, MarkingGroup.id == Question.group_id)
        .where(Component.session_id == exam.id)
        .order_by(Component.position, Question.position)
    ).all()
    return PAPER_COLUMNS, [
        (
            component,
            q.number,
            q.bank_item,
            q.type.value,
            _num(q.max),
            _num(q.step),
            _num(q.tolerance),
            group or "",
            str(required) if required is not None else "",
        )
        for component, q, group, required in rows
    ]


def _num(value: object) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
