"""Writing a publication: the results rows, their SHA-256, the ledger entry and the
publication record with the ledger head printed to the office."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.store.models import (
    Account,
    ExamSession,
    Publication,
    PublicationApproval,
    Result,
)


@dataclass
class PublicationReport:
    """What a publication wrote, for the office: counts, the digest and the ledger head."""

    candidates: int
    outcomes: dict[str, int]
    results_sha256: str
    ledger_head: str
    responses_checked: int
    timings: dict[str, float] = field(default_factory=dict)


def results_digest(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    """SHA-256 of the results as CSV (header, then one line per row, in these columns)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row[c] for c in columns])
    return hashlib.sha256(buffer.getvalue().encode()).hexdigest()


def result_columns(exam: ExamSession, component_keys: Sequence[str]) -> list[str]:
    """The published results' columns, in order."""
    columns = ["exam_no", "name", "id_number", "outcome"]
    for key in component_keys:
        columns += [f"{key}_code", f"{key}_score"]
    if exam.level <= 2:
        columns.append("interview_score")
    return columns


def write_results(
    db: Session,
    exam: ExamSession,
    rows: list[dict[str, Any]],
    *,
    components: Sequence[str],
    office: Account,
    director: Account,
    approval: PublicationApproval,
    checked: int,
    now: dt.datetime,
    revision: int = 1,
) -> PublicationReport:
    """Store the results, record the publication in the ledger and in its table, and say
    what was published; ``checked`` is how many responses the session-wide check read.

    ``revision`` 1 is the session's publication (ledger kind ``publication``), 2, 3, ... an
    appeal revision's (``revision_published``): a complete result set of its own. The
    entry records every lane's tip before it (``lanes``), so ``verify`` can recompute the
    head printed for this publication after later revisions moved the ledger on."""
    digest = results_digest(rows, result_columns(exam, components))
    _store_rows(db, exam, rows, revision=revision)
    outcomes: dict[str, int] = defaultdict(int)
    for r in rows:
        outcomes[r["outcome"]] += 1
    tips = ledger.lane_tips(db, exam)
    payload: dict[str, Any] = {
        "approved_by": director.username,
        "approval": approval.id,
        "approval_digest": approval.digest,
        "candidates": len(rows),
        "outcomes": dict(sorted(outcomes.items())),
        "results_sha256": digest,
        "ledger_head_before": ledger.head_of(tips),
        "lanes": {lane: seq for lane, (seq, _hash) in sorted(tips.items())},
    }
    if revision != 1:
        payload["revision"] = revision
    ledger.append(
        db,
        exam,
        kind="publication" if revision == 1 else "revision_published",
        actor=office.username,
        payload=payload,
        now=now,
    )
    head = ledger.head(db, exam)
    db.add(
        Publication(
            session_id=exam.id,
            revision=revision,
            published_by=office.id,
            approved_by=director.id,
            results_sha256=digest,
            ledger_head=head,
            candidates=len(rows),
            created_at=now,
        )
    )
    return PublicationReport(
        candidates=len(rows),
        outcomes=dict(outcomes),
        results_sha256=digest,
        ledger_head=head,
        responses_checked=checked,
    )


def _store_rows(
    db: Session, exam: ExamSession, rows: list[dict[str, Any]], *, revision: int
) -> None:
    """One Result per candidate row, in one statement."""
    db.execute(
        insert(Result),
        [
            {
                "session_id": exam.id,
                "revision": revision,
                "exam_no": r["exam_no"],
                "name": r["name"],
                "id_number": r["id_number"],
                "institution": r["_institution"],
                "outcome": r["outcome"],
                "components": r["_components"],
                "interview_score": r["_interview"],
                "interview_passed": r.get("_interview_passed"),
            }
            for r in rows
        ],
    )
