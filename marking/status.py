"""What a session looks like right now: intake, progress per marking group, what is open."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anonymizer.keys import public_key_fingerprint
from marking.models import (
    Component,
    ExamSession,
    Exclusion,
    IntakeBatch,
    MarkingGroup,
    Question,
    Response,
    Script,
)


@dataclass(frozen=True)
class GroupProgress:
    key: str
    name: str
    marks_required: int
    questions: int
    responses: int
    marks_needed: int
    marks_given: int


@dataclass(frozen=True)
class SessionStatus:
    code: str
    occupation: str
    level: int
    date: str
    station: str
    state: str
    custody: str
    batches: int
    candidates: int
    scripts: dict[str, int]
    objective_scored: int
    exclusions: int
    groups: list[GroupProgress]
    open_anomalies: int


def session_status(db: Session, exam: ExamSession) -> SessionStatus:
    """Counts only: nothing here names a candidate."""
    batches = db.execute(
        select(func.count(), func.coalesce(func.sum(IntakeBatch.candidate_count), 0)).where(
            IntakeBatch.session_id == exam.id, IntakeBatch.withdrawn_at.is_(None)
        )
    ).one()
    scripts = {
        key: count
        for key, count in db.execute(
            select(Component.key, func.count(Script.id))
            .select_from(Component)
            .outerjoin(Script, Script.component_id == Component.id)
            .where(Component.session_id == exam.id)
            .group_by(Component.key, Component.position)
            .order_by(Component.position)
        )
    }
    objective = db.scalar(
        select(func.count())
        .select_from(Response)
        .join(Script, Script.id == Response.script_id)
        .where(Script.session_id == exam.id, Response.key_score.is_not(None))
    )
    exclusions = db.scalar(
        select(func.count())
        .select_from(Exclusion)
        .join(Script, Script.id == Exclusion.script_id)
        .where(Script.session_id == exam.id)
    )
    groups = []
    for group in db.scalars(
        select(MarkingGroup).where(MarkingGroup.session_id == exam.id).order_by(MarkingGroup.id)
    ):
        questions = db.scalar(
            select(func.count()).select_from(Question).where(Question.group_id == group.id)
        )
        responses = db.scalar(
            select(func.count())
            .select_from(Response)
            .join(Question, Question.id == Response.question_id)
            .where(Question.group_id == group.id)
        )
        groups.append(
            GroupProgress(
                key=group.key,
                name=group.name,
                marks_required=group.marks_required,
                questions=questions or 0,
                responses=responses or 0,
                marks_needed=(responses or 0) * group.marks_required,
                marks_given=0,
            )
        )
    return SessionStatus(
        code=exam.code,
        occupation=exam.occupation,
        level=exam.level,
        date=exam.date.isoformat(),
        station=exam.station,
        state=exam.state.value,
        custody=(
            "none yet (run `blindmark keys init`)"
            if exam.public_key is None or exam.custody is None
            else f"{exam.custody.value}, {exam.threshold} of {exam.custodians}, key "
            f"{public_key_fingerprint(exam.public_key)}"
        ),
        batches=batches[0],
        candidates=int(batches[1]),
        scripts=scripts,
        objective_scored=objective or 0,
        exclusions=exclusions or 0,
        groups=groups,
        open_anomalies=0,
    )


def _pad(text: str, width: int) -> str:
    """Left-align for a terminal, counting wide (CJK) characters as two columns."""
    shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(1, width - shown)


def render_status(s: SessionStatus) -> str:
    lines = [
        f"session {s.code}  {s.occupation}  level {s.level}  {s.date}  station {s.station}",
        f"state: {s.state}    key custody: {s.custody}",
        f"intake: {s.batches} batch(es), {s.candidates} candidates, scripts "
        + ", ".join(f"{k} {v}" for k, v in s.scripts.items()),
        f"objective responses scored from the key: {s.objective_scored}",
        f"exclusions (recusal): {s.exclusions}",
        "",
        f"{_pad('group', 12)}{_pad('name', 14)}{'N':>3}{'questions':>11}{'responses':>11}"
        f"{'marks':>18}",
    ]
    for g in s.groups:
        pct = 100 * g.marks_given / g.marks_needed if g.marks_needed else 0.0
        marks = f"{g.marks_given}/{g.marks_needed} {pct:5.1f}%"
        lines.append(
            f"{_pad(g.key, 12)}{_pad(g.name, 14)}{g.marks_required:>3}{g.questions:>11}"
            f"{g.responses:>11}"
            f"{marks:>18}"
        )
    lines.append("")
    lines.append(f"open anomalies: {s.open_anomalies}")
    return "\n".join(lines)
