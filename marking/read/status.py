"""What a session looks like right now: intake, progress per marking group, what is open."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from anonymizer.keys import public_key_fingerprint
from marking.paper.tally import BatchTally, render_tally, tally
from marking.store.models import (
    Anomaly,
    Assignment,
    CheckMark,
    Component,
    ExamSession,
    Exclusion,
    IntakeBatch,
    MarkingGroup,
    Question,
    Response,
    ResponseState,
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
    final: int
    anomaly: int
    arbitration: int
    held: int
    examiners: int
    approved: bool


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
    scan_batches: list[BatchTally]


def session_status(db: Session, exam: ExamSession) -> SessionStatus:
    """Counts only: nothing here names a candidate."""
    batches = db.execute(
        select(func.count(), func.coalesce(func.sum(IntakeBatch.candidate_count), 0)).where(
            IntakeBatch.session_id == exam.id, IntakeBatch.withdrawn_at.is_(None)
        )
    ).one()
    scripts = _scripts_per_component(db, exam)
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
    reported = open_check_reports(db, exam)  # read once: the total and each group's
    groups = _group_progress(db, exam, reported)
    open_anomalies = _live_reports(db, exam) + sum(reported.values())
    return SessionStatus(
        code=exam.code,
        occupation=exam.occupation,
        level=exam.level,
        date=exam.date.isoformat(),
        station=exam.station,
        state=exam.state.value,
        custody=_custody(exam),
        batches=batches[0],
        candidates=int(batches[1]),
        scripts=scripts,
        objective_scored=objective or 0,
        exclusions=exclusions or 0,
        groups=groups,
        open_anomalies=open_anomalies or 0,
        scan_batches=tally(db, exam),
    )


def unresolved_reports(db: Session, exam: ExamSession) -> int:
    """Anomaly reports the lead has not dealt with yet: on live responses (R4), and on seeds
    and 回评, which are the lead's as any and each keep the response their check displaced
    out of the queue until dealt with (``marking.quality.reports``). Publication waits for
    all of them; the progress pages count all of them."""
    return _live_reports(db, exam) + sum(open_check_reports(db, exam).values())


def _live_reports(db: Session, exam: ExamSession) -> int:
    found = select(func.count()).select_from(Anomaly)
    return db.scalar(found.where(Anomaly.session_id == exam.id, Anomaly.resolution.is_(None))) or 0


def open_check_reports(db: Session, exam: ExamSession) -> dict[int, int]:
    """Group id → reports on seeds and 回评 the lead has not dealt with yet (they are on
    the quality pages, not in the anomaly inbox)."""
    return {
        int(gid): int(n)
        for gid, n in db.execute(
            select(CheckMark.group_id, func.count())
            .where(
                CheckMark.session_id == exam.id,
                CheckMark.reported,
                CheckMark.report_closed_at.is_(None),
            )
            .group_by(CheckMark.group_id)
        )
    }


def _scripts_per_component(db: Session, exam: ExamSession) -> dict[str, int]:
    """Scripts stored per component, in the components' order."""
    return {
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


def _group_progress(
    db: Session, exam: ExamSession, reported: dict[int, int]
) -> list[GroupProgress]:
    """Each marking group's progress, from its responses, questions and examiners; its open
    reports on seeds and 回评 (``reported``) counted with its anomalies, as in the total."""
    per_group = _response_counts(db, exam)
    questions_of = {
        gid: n
        for gid, n in db.execute(
            select(Question.group_id, func.count())
            .where(Question.group_id.is_not(None))
            .group_by(Question.group_id)
        )
    }
    examiners_of = {
        gid: n
        for gid, n in db.execute(
            select(Assignment.group_id, func.count())
            .where(Assignment.session_id == exam.id, Assignment.suspended_at.is_(None))
            .group_by(Assignment.group_id)
        )
    }
    groups = []
    for group in db.scalars(
        select(MarkingGroup).where(MarkingGroup.session_id == exam.id).order_by(MarkingGroup.id)
    ):
        count, final, anomaly, arbitration, needed, done, held = per_group.get(
            group.id, (0, 0, 0, 0, 0, 0, 0)
        )
        groups.append(
            GroupProgress(
                key=group.key,
                name=group.name,
                marks_required=group.marks_required,
                questions=questions_of.get(group.id, 0),
                responses=count,
                marks_needed=int(needed or 0),
                marks_given=int(done or 0),
                final=int(final or 0),
                anomaly=int(anomaly or 0) + reported.get(group.id, 0),
                arbitration=int(arbitration or 0),
                held=int(held or 0),
                examiners=examiners_of.get(group.id, 0),
                approved=group.approved_at is not None,
            )
        )
    return groups


def _response_counts(db: Session, exam: ExamSession) -> dict[int, tuple[Any, ...]]:
    """Per group id: (responses, final, anomaly, arbitration, marks needed, marks given,
    held) over the session's examiner-marked responses."""
    return {
        gid: (count, final, anomaly, arbitration, needed, done, held)
        for gid, count, final, anomaly, arbitration, needed, done, held in db.execute(
            select(
                Response.group_id,
                func.count(),
                func.sum(case((Response.state == ResponseState.FINAL, 1), else_=0)),
                func.sum(case((Response.state == ResponseState.ANOMALY, 1), else_=0)),
                func.sum(case((Response.state == ResponseState.ARBITRATION, 1), else_=0)),
                # A response the lead decided needs no more marks than it got.
                func.sum(
                    case(
                        (Response.state == ResponseState.FINAL, Response.marks_done),
                        else_=Response.marks_needed,
                    )
                ),
                func.sum(Response.marks_done),
                func.sum(Response.held),
            )
            .join(Script, Script.id == Response.script_id)
            .where(Script.session_id == exam.id, Response.group_id.is_not(None))
            .group_by(Response.group_id)
        )
    }


def _custody(exam: ExamSession) -> str:
    """How the session's key is held, with its fingerprint, or that it has none yet."""
    return (
        "none yet (run `blindmark keys init`)"
        if exam.public_key is None or exam.custody is None
        else f"{exam.custody.value}, {exam.threshold} of {exam.custodians}, key "
        f"{public_key_fingerprint(exam.public_key)}"
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
        f"{'marks given/needed':>22}{'final':>8}{'held':>6}{'flagged':>9}{'arbitrate':>11}"
        "  examiners",
    ]
    for g in s.groups:
        pct = 100 * g.marks_given / g.marks_needed if g.marks_needed else 0.0
        marks = f"{g.marks_given}/{g.marks_needed} {pct:5.1f}%"
        lines.append(
            f"{_pad(g.key, 12)}{_pad(g.name, 14)}{g.marks_required:>3}{g.questions:>11}"
            f"{g.responses:>11}{marks:>22}{g.final:>8}{g.held:>6}{g.anomaly:>9}"
            f"{g.arbitration:>11}  {g.examiners}{'' if g.approved else ' (scheme not approved)'}"
        )
    lines.append("")
    lines.append(f"open anomalies: {s.open_anomalies}")
    lines.extend(render_tally(s.scan_batches))
    return "\n".join(lines)
