"""The session's paper as intake needs it: each question's id, place, group and key scorer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.domain.definition import QuestionDef
from marking.domain.objective import make_scorer
from marking.store.models import Component, ExamSession, MarkingGroup, Question


@dataclass(frozen=True)
class QuestionInfo:
    question_id: int
    component_index: int
    column: int  # index of the question across the whole paper (for the duplicate bitmap)
    position: int
    scorer: Callable[[str], Decimal] | None
    group_id: int | None
    marks_needed: int


@dataclass(frozen=True)
class Paper:
    """The session's components in order and its questions by (component key, number)."""

    components: list[Component]
    questions: dict[tuple[str, str], QuestionInfo]
    columns: int  # questions across the whole paper


def load_paper(db: Session, exam: ExamSession) -> Paper:
    """The session's components and questions, each question with its scorer and the marks
    its group needs."""
    components = list(
        db.scalars(
            select(Component).where(Component.session_id == exam.id).order_by(Component.position)
        )
    )
    required = {
        gid: n
        for gid, n in db.execute(
            select(MarkingGroup.id, MarkingGroup.marks_required).where(
                MarkingGroup.session_id == exam.id
            )
        )
    }
    questions: dict[tuple[str, str], QuestionInfo] = {}
    column = 0
    for ci, comp in enumerate(components):
        for q in db.scalars(
            select(Question).where(Question.component_id == comp.id).order_by(Question.position)
        ):
            needed = required.get(q.group_id, 0) if q.group_id is not None else 0
            questions[(comp.key, q.number)] = QuestionInfo(
                q.id, ci, column, q.position, make_scorer_for(q), q.group_id, needed
            )
            column += 1
    return Paper(components, questions, column)


def make_scorer_for(
    question: Question, answer: tuple[str, ...] | None = None
) -> Callable[[str], Decimal] | None:
    """The key scorer of an objective question (with its stored key, or ``answer``);
    None for a question examiners mark."""
    key = answer if answer is not None else question.answer
    if key is None:
        return None
    return make_scorer(
        QuestionDef(
            number=question.number,
            bank_item=question.bank_item,
            type=question.type,
            max=question.max,
            step=question.step,
            tolerance=None,
            group=None,
            reference="",
            scheme="",
            answer=tuple(key),
        )
    )
