"""CSV exports of DESIGN §11, as header + rows; the CLI and web write them out.

``table`` is the one way out for both, and where R8 holds: before publication nobody gets
scores or marking details, so ``marks`` and ``finals`` (every mark and final by script)
are refused like ``results`` until the session is published. The office follows progress
in counts (``marking.read.status``); the lead's statistics name examiners, never a script.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from marking.errors import MarkingError, StateError
from marking.read.published import pick_revision
from marking.store.models import (
    Account,
    Anomaly,
    Arbitration,
    Component,
    ExamSession,
    Mark,
    MarkCorrection,
    MarkingGroup,
    MarkWithdrawal,
    Question,
    Response,
    Result,
    RevisedResponse,
    Revision,
    RulingWithdrawal,
    Script,
    SessionState,
    latest_corrections,
)

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
            _num(q.tolerance) if q.group_id is not None else "",
            group or "",
            str(required) if required is not None else "",
        )
        for component, q, group, required in rows
    ]


def _num(value: object) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


MARKS_COLUMNS = ("script_code", "component", "question", "examiner", "mark", "kind", "created_at")
FINALS_COLUMNS = ("script_code", "component", "question", "final")


def mark_in_force_at(revision: int) -> Any:
    """A mark counted in published revision ``revision``: given for it or before, and not
    withdrawn then (a mark an appeal revision superseded still counts for the earlier ones;
    ``MarkWithdrawal.revision``). For the latest revision: every mark not withdrawn."""
    return (Mark.revision <= revision) & ~exists().where(
        MarkWithdrawal.mark_id == Mark.id,
        MarkWithdrawal.revision.is_(None) | (MarkWithdrawal.revision <= revision),
    )


def ruling_in_force_at(ruling: Any, revision: int) -> Any:
    """As ``mark_in_force_at``, for an Arbitration or an Anomaly's final mark."""
    column = (
        RulingWithdrawal.arbitration_id if ruling is Arbitration else RulingWithdrawal.anomaly_id
    )
    return (ruling.revision <= revision) & ~exists().where(
        column == ruling.id,
        RulingWithdrawal.revision.is_(None) | (RulingWithdrawal.revision <= revision),
    )


def marks_rows(
    db: Session, exam: ExamSession, revision: int | None = None
) -> Iterator[tuple[str, ...]]:
    """Every effective mark: key scores, examiners' marks (withdrawn ones left out, a
    corrected one with its latest correction's value and time), arbitrations and the lead's
    finals on anomalies; no candidate anywhere. ``revision``: those in force in that
    published revision (default the latest)."""
    shown = pick_revision(db, exam, revision)
    base = (
        select(Script.code, Component.key, Question.number, Question.position)
        .join(Response, Response.script_id == Script.id)
        .join(Question, Question.id == Response.question_id)
        .join(Component, Component.id == Question.component_id)
        .where(Script.session_id == exam.id)
    )
    rows: list[tuple[Any, ...]] = []
    for code, comp, number, pos, score in db.execute(
        base.add_columns(Response.key_score).where(Response.key_score.is_not(None))
    ):
        rows.append((code, comp, pos, 0, number, "", _num(score), "key", "", 0))
    # A corrected mark shows its correction: the value in force, and when it was given (R6).
    last = (
        select(MarkCorrection.mark_id, func.max(MarkCorrection.created_at).label("at"))
        .group_by(MarkCorrection.mark_id)
        .subquery("last_corrected")
    )
    latest = latest_corrections()
    for code, comp, number, pos, username, value, kind, at, mid in db.execute(
        base.add_columns(
            Account.username,
            func.coalesce(latest.c.value, Mark.value, type_=Mark.value.type),
            Mark.kind,
            func.coalesce(last.c.at, Mark.created_at, type_=Mark.created_at.type),
            Mark.id,
        )
        .join(Mark, Mark.response_id == Response.id)
        .outerjoin(latest, latest.c.mark_id == Mark.id)
        .outerjoin(last, last.c.mark_id == Mark.id)
        .join(Account, Account.id == Mark.examiner_id)
        .where(mark_in_force_at(shown))
    ):
        rows.append((code, comp, pos, 1, number, username, _num(value), kind.value, _iso(at), mid))
    for code, comp, number, pos, username, value, at in db.execute(
        base.add_columns(Account.username, Arbitration.value, Arbitration.created_at)
        .join(Arbitration, Arbitration.response_id == Response.id)
        .join(Account, Account.id == Arbitration.lead_id)
        .where(ruling_in_force_at(Arbitration, shown))
    ):
        rows.append((code, comp, pos, 2, number, username, _num(value), "arbitration", _iso(at), 0))
    for code, comp, number, pos, username, value, at in db.execute(
        base.add_columns(Account.username, Anomaly.final_value, Anomaly.resolved_at)
        .join(Anomaly, Anomaly.response_id == Response.id)
        .join(Account, Account.id == Anomaly.resolved_by)
        .where(Anomaly.final_value.is_not(None), ruling_in_force_at(Anomaly, shown))
    ):
        rows.append((code, comp, pos, 2, number, username, _num(value), "arbitration", _iso(at), 0))
    # By time to the second, then as given (ids): no join order decides between two marks
    # given in one second (PostgreSQL returns them in any order).
    rows.sort(key=lambda r: (r[0], r[1], r[2], r[3], r[8], r[9]))
    for code, comp, _pos, _order, number, examiner, value, kind, at, _id in rows:
        yield (code, comp, number, examiner, value, kind, at)


def finals_rows(
    db: Session, exam: ExamSession, revision: int | None = None
) -> Iterator[tuple[str, ...]]:
    """The final mark of every response that has one, in script and paper order, as
    published in ``revision`` (default the latest): a response a later revision reopened
    shows the final it had then (``RevisedResponse.prior_final``)."""
    at = pick_revision(db, exam, revision)
    earlier = finals_before_revisions(db, exam, at)
    for rid, code, comp, number, final in db.execute(
        select(Response.id, Script.code, Component.key, Question.number, Response.final)
        .join(Response, Response.script_id == Script.id)
        .join(Question, Question.id == Response.question_id)
        .join(Component, Component.id == Question.component_id)
        .where(Script.session_id == exam.id)
        .order_by(Script.code, Component.position, Question.position)
    ):
        final = earlier.get(rid, final)
        if final is not None:
            yield (code, comp, number, _num(final))


def finals_before_revisions(db: Session, exam: ExamSession, revision: int) -> dict[int, Any]:
    """{response id: final in ``revision``} of the responses later revisions reopened: the
    final each had before the first revision after ``revision`` that reopened it."""
    out: dict[int, Any] = {}
    for rid, prior in db.execute(
        select(RevisedResponse.response_id, RevisedResponse.prior_final)
        .join(Revision, Revision.id == RevisedResponse.revision_id)
        .where(Revision.session_id == exam.id, Revision.number > revision)
        .order_by(Revision.number.desc())
    ):
        out[rid] = prior  # the lowest revision number after ``revision`` is read last
    return out


def results_rows(
    db: Session, exam: ExamSession, revision: int | None = None
) -> tuple[list[str], list[tuple[str, ...]]]:
    """Published results, one row per candidate (DESIGN §11), of ``revision`` (default the
    latest published; NotFound for one not published). Refused before publication."""
    if exam.state is not SessionState.PUBLISHED:
        raise StateError(
            f"session {exam.code} is not published: results exist only after publication (R8)"
        )
    at = pick_revision(db, exam, revision)
    components = [
        c.key
        for c in db.scalars(
            select(Component).where(Component.session_id == exam.id).order_by(Component.position)
        )
    ]
    columns = ["exam_no", "name", "id_number", "outcome"]
    for key in components:
        columns += [f"{key}_code", f"{key}_score"]
    interview = exam.level <= 2
    if interview:
        columns.append("interview_score")
    out: list[tuple[str, ...]] = []
    for r in db.scalars(
        select(Result)
        .where(Result.session_id == exam.id, Result.revision == at)
        .order_by(Result.exam_no)
    ):
        row = [r.exam_no, r.name, r.id_number, r.outcome]
        for key in components:
            part = r.components.get(key) or {}
            row += [part.get("code") or "", part.get("score") or ""]
        if interview:
            row.append("" if r.interview_score is None else f"{r.interview_score:.1f}")
        out.append(tuple(row))
    return columns, out


def _iso(value: dt.datetime | None) -> str:
    return "" if value is None else value.astimezone(dt.UTC).isoformat(timespec="seconds")


EXPORTS = ("paper", "marks", "finals", "results")


def table(
    db: Session, exam: ExamSession, what: str, revision: int | None = None
) -> tuple[Sequence[str], Iterable[Sequence[str]]]:
    """An export's header and rows (marks, finals and results: of published ``revision``,
    default the latest). StateError for marks, finals and results before the session is
    published (R8); MarkingError for an unknown export; NotFound for an unknown revision."""
    if what == "paper":
        return paper_rows(db, exam)
    if what not in EXPORTS:
        raise MarkingError(f"no export {what!r}; exports are {', '.join(EXPORTS)}")
    if exam.state is not SessionState.PUBLISHED:
        raise StateError(
            f"session {exam.code} is not published: the {what} export holds scores by script, "
            "and scores go to no one before the session is published as a whole (R8)"
        )
    if what == "marks":
        return MARKS_COLUMNS, marks_rows(db, exam, revision)
    if what == "finals":
        return FINALS_COLUMNS, finals_rows(db, exam, revision)
    return results_rows(db, exam, revision)
