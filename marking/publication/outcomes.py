"""Each candidate's result: component scores from the finals, the interview panel's verdict
and the outcome, as rows ready to be written (DESIGN §6)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marking.domain.rules import component_scores, interview_result, outcome
from marking.publication.preconditions import PublicationRefused, senior_examiners
from marking.publication.records_check import CheckedRecords
from marking.publication.unsealing import Candidate
from marking.store.models import Component, ExamSession, Question, Response, Script


@dataclass
class _Facts:
    """What every candidate's row is computed from, read once for the session."""

    components: list[str]
    score_of: dict[int, int]  # script id -> component score in tenths of a point
    codes: dict[int, str]  # script id -> script code
    voided: set[str]  # exam numbers
    panels: dict[str, list[tuple[str, int]]]  # exam number -> (examiner, score in milli)
    seniors: set[str]


def component_keys(db: Session, exam: ExamSession) -> list[str]:
    """The session's components, in their order."""
    return [
        c.key
        for c in db.scalars(
            select(Component).where(Component.session_id == exam.id).order_by(Component.position)
        )
    ]


def candidate_rows(
    db: Session,
    exam: ExamSession,
    roster: list[Candidate],
    components: list[str],
    *,
    records: CheckedRecords,
) -> list[dict[str, Any]]:
    """One row per candidate, by exam number: the published columns, and the stored ones
    (``_components``, ``_institution``, ``_interview``), from the checked records
    (``records_check.check_records``). Raises PublicationRefused when an interview panel is
    too small (R7)."""
    seniors = set(senior_examiners(db))
    score_of, codes = _script_scores(db, exam, roster, components)
    facts = _Facts(components, score_of, codes, records.voided, records.panels, seniors)
    interview_problems: list[str] = []
    rows = [
        _candidate_row(exam, c, facts, interview_problems)
        for c in sorted(roster, key=lambda c: c.exam_no)
    ]
    if interview_problems:
        raise PublicationRefused(
            "interview panels too small (R7):\n  " + "\n  ".join(interview_problems)
        )
    return rows


def component_totals(db: Session, exam: ExamSession) -> tuple[dict[str, int], dict[int, int]]:
    """Component maxima (milli) and each script's sum of finals (milli)."""
    maxima: dict[str, int] = {}
    for key, total in db.execute(
        select(Component.key, func.sum(Question.max))
        .join(Question, Question.component_id == Component.id)
        .where(Component.session_id == exam.id)
        .group_by(Component.key)
    ):
        maxima[key] = int(Decimal(total) * 1000) if isinstance(total, Decimal) else int(total)
    sums = {
        script_id: int((total or 0) * 1000)
        for script_id, total in db.execute(
            select(Response.script_id, func.coalesce(func.sum(Response.final), 0))
            .join(Script, Script.id == Response.script_id)
            .where(Script.session_id == exam.id)
            .group_by(Response.script_id)
        )
    }
    return maxima, sums


def _script_scores(
    db: Session, exam: ExamSession, roster: list[Candidate], components: list[str]
) -> tuple[dict[int, int], dict[int, str]]:
    """Every script's component score (tenths of a point) and its code."""
    maxima, sums = component_totals(db, exam)
    codes = {
        sid: code
        for sid, code in db.execute(
            select(Script.id, Script.code).where(Script.session_id == exam.id)
        )
    }
    # Component scores for every script at once, exactly (tenths of a point).
    score_of: dict[int, int] = {}
    for key_ in components:
        ids = [sid for c in roster if (sid := c.scripts.get(key_)) is not None]
        totals = np.fromiter((sums.get(sid, 0) for sid in ids), dtype=np.int64, count=len(ids))
        tenths = component_scores(totals, maxima[key_]) if ids else np.zeros(0, dtype=np.int64)
        score_of.update(zip(ids, (int(t) for t in tenths), strict=True))
    return score_of, codes


def _candidate_row(
    exam: ExamSession, c: Candidate, facts: _Facts, interview_problems: list[str]
) -> dict[str, Any]:
    """One candidate's row; a panel too small is added to ``interview_problems``."""
    row: dict[str, Any] = {"exam_no": c.exam_no, "name": c.name, "id_number": c.id_number}
    comp_json: dict[str, Any] = {}
    passed, absent = _component_cells(c, facts, row, comp_json)
    interview_passed: bool | None = None
    interview_score: Decimal | None = None
    if exam.level <= 2:
        panel = facts.panels.get(c.exam_no, [])
        result = interview_result(
            [score for _u, score in panel], [u in facts.seniors for u, _s in panel]
        )
        if result.problem and panel:
            interview_problems.append(f"candidate {c.exam_no}: {result.problem}")
        interview_score, interview_passed = result.score, result.passed
        row["interview_score"] = "" if interview_score is None else f"{interview_score:.1f}"
        if interview_score is None:
            absent = True
    decided = outcome(
        voided=c.exam_no in facts.voided,
        absent_any=absent,
        components_passed=passed,
        interview_passed=interview_passed,
        needs_interview=exam.level <= 2,
    )
    row["outcome"] = decided
    row["_components"] = comp_json
    row["_institution"] = c.institution
    row["_interview"] = interview_score
    row["_interview_passed"] = interview_passed  # what a later revision decides with
    return row


def _component_cells(
    c: Candidate, facts: _Facts, row: dict[str, Any], comp_json: dict[str, Any]
) -> tuple[list[bool], bool]:
    """Fill the candidate's code and score per component into ``row`` and ``comp_json``;
    returns which components they passed, and whether they missed any."""
    passed: list[bool] = []
    absent = False
    for key_ in facts.components:
        sid = c.scripts.get(key_)
        if sid is None:
            absent = True
            row[f"{key_}_code"], row[f"{key_}_score"] = "", ""
            comp_json[key_] = {"code": None, "score": None}
        else:
            points = facts.score_of[sid]
            score = f"{Decimal(points).scaleb(-1):.1f}"
            passed.append(points >= 600)
            row[f"{key_}_code"], row[f"{key_}_score"] = facts.codes[sid], score
            comp_json[key_] = {"code": facts.codes[sid], "score": score}
    return passed, absent
