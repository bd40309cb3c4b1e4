"""Conflicts declared after intake, found when publication unseals them (R10): the marks and
rulings they break, and withdrawing those so the responses are marked and ruled on again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.errors import MarkingError
from marking.intake.recusal import id_digest
from marking.publication.unsealing import Candidate
from marking.queue.marks import apply_reconciliation, effective_marks
from marking.read import monitoring
from marking.store.models import (
    Account,
    Anomaly,
    AnomalyResolution,
    Arbitration,
    ExamSession,
    Exclusion,
    Mark,
    MarkingGroup,
    MarkWithdrawal,
    PendingConflict,
    Question,
    Response,
    ResponseState,
    RulingWithdrawal,
    SessionState,
)


@dataclass(frozen=True)
class RulingHit:
    """A lead's ruling in force on a candidate the lead (or deputy) declared a conflict with."""

    kind: str  # "arbitration" | "anomaly"
    ruling_id: int
    response_id: int
    script_id: int
    account_id: int


@dataclass
class LateFindings:
    """What publication's unsealing found about conflicts declared after intake."""

    marks: list[tuple[int, int]] = field(default_factory=list)  # (mark id, script id)
    rulings: list[RulingHit] = field(default_factory=list)
    # Every (script id, account id) a late declaration excludes, whether marked or not, and
    # the waiting digests (PendingConflict ids) those declarations leave behind.
    exclusions: list[tuple[int, int]] = field(default_factory=list)
    settled: list[int] = field(default_factory=list)


class LateConflicts(MarkingError):
    """Marks or rulings on candidates their author declared a conflict with after intake."""

    exit_code = 4

    def __init__(self, hits: list[tuple[int, int]], findings: LateFindings | None = None) -> None:
        self.hits = hits  # (mark id, script id)
        self.findings = findings or LateFindings(marks=hits)
        rulings = len(self.findings.rulings)
        message = (
            f"{len(hits)} mark(s) were given by examiners on candidates they declared a "
            "conflict with after intake; withdraw them and have the responses re-marked"
        )
        if rulings:
            message = (
                f"{len(hits)} mark(s) and {rulings} ruling(s) were given on candidates their "
                "author declared a conflict with after intake; withdraw them and have the "
                "responses marked and ruled on again"
            )
        super().__init__(message)


#: Why marks and rulings are withdrawn when publication finds a late-declared conflict.
LATE_CONFLICT = "conflict of interest declared after intake (R10)"


def late_findings(
    db: Session, exam: ExamSession, roster: list[Candidate], conflicts: list[dict[str, Any]]
) -> LateFindings:
    """Marks and rulings in force by an account on a candidate it declared a conflict with,
    and every exclusion those declarations call for (R10; DESIGN §3, §14)."""
    by_id = {c.id_number: c for c in roster}
    usernames = {c["examiner"] for c in conflicts}
    accounts = {
        a.username: a.id for a in db.scalars(select(Account).where(Account.username.in_(usernames)))
    }
    found = LateFindings()
    waiting = {
        (examiner_id, digest): pid
        for pid, examiner_id, digest in db.execute(
            select(
                PendingConflict.id, PendingConflict.examiner_id, PendingConflict.id_digest
            ).where(PendingConflict.session_id == exam.id)
        )
    }
    for declared in conflicts:
        candidate = by_id.get(declared["id_number"])
        account_id = accounts.get(declared["examiner"])
        if candidate is None or account_id is None or not candidate.scripts:
            continue
        settled = waiting.get((account_id, id_digest(exam, candidate.id_number)))
        if settled is not None:
            found.settled.append(settled)
        found.exclusions.extend((sid, account_id) for sid in candidate.scripts.values())
        # The candidate's few responses first, then their marks by (response, examiner): a
        # join let SQLite walk all of the examiner's marks instead (seconds per conflict).
        script_of = {
            response_id: script_id
            for response_id, script_id in db.execute(
                select(Response.id, Response.script_id).where(
                    Response.script_id.in_(list(candidate.scripts.values()))
                )
            )
        }
        if not script_of:
            continue
        for mark_id, response_id in db.execute(
            select(Mark.id, Mark.response_id).where(
                Mark.response_id.in_(list(script_of)),
                Mark.examiner_id == account_id,
                ~exists().where(MarkWithdrawal.mark_id == Mark.id),
            )
        ):
            found.marks.append((mark_id, script_of[response_id]))
        for kind, ruling_id, response_id in _rulings_in_force(db, list(script_of), account_id):
            found.rulings.append(
                RulingHit(kind, ruling_id, response_id, script_of[response_id], account_id)
            )
    found.marks = sorted(set(found.marks))
    found.rulings = sorted(set(found.rulings), key=lambda h: (h.kind, h.ruling_id))
    found.exclusions = sorted(set(found.exclusions))
    found.settled = sorted(set(found.settled))
    return found


def _rulings_in_force(
    db: Session, response_ids: Sequence[int], account_id: int | None = None
) -> list[tuple[str, int, int]]:
    """(kind, ruling id, response id) of the rulings not withdrawn on these responses: the
    arbitrations, and the anomalies resolved with a final mark (by ``account_id`` only,
    when given)."""
    arbitrations = select(Arbitration.id, Arbitration.response_id).where(
        Arbitration.response_id.in_(list(response_ids)),
        ~exists().where(RulingWithdrawal.arbitration_id == Arbitration.id),
    )
    anomalies = select(Anomaly.id, Anomaly.response_id).where(
        Anomaly.response_id.in_(list(response_ids)),
        Anomaly.resolution == AnomalyResolution.FINAL,
        ~exists().where(RulingWithdrawal.anomaly_id == Anomaly.id),
    )
    if account_id is not None:
        arbitrations = arbitrations.where(Arbitration.lead_id == account_id)
        anomalies = anomalies.where(Anomaly.resolved_by == account_id)
    return [("arbitration", rid, resp) for rid, resp in db.execute(arbitrations)] + [
        ("anomaly", aid, resp) for aid, resp in db.execute(anomalies)
    ]


def withdraw_marks(
    db: Session,
    exam: ExamSession,
    hits: list[tuple[int, int]],
    *,
    reason: str,
    actor: str,
    rulings: Sequence[RulingHit] = (),
    exclusions: Sequence[tuple[int, int]] = (),
    settled: Sequence[int] = (),
    exclude_authors: bool = True,
) -> int:
    """Withdraw marks (late-declared conflicts) and the lead's rulings named in ``rulings``,
    exclude their authors from those scripts (and the further ``exclusions``), and send
    the responses back to be marked and reconciled again. Recorded in the ledger.

    A ruling goes with the marks it rested on: an arbitration (or an anomaly's final mark)
    on a response that loses a mark is withdrawn too (recorded, R6), for the response's
    remaining marks may need no arbitration, or another one. Without that, the response
    kept a final that its marks no longer called for, and no publication could pass the
    session-wide check (DESIGN §5). ``settled`` are waiting declarations (PendingConflict)
    the exclusions fulfil: they leave the waiting table now. ``exclude_authors`` false
    (the lead suspending an examiner, DESIGN §13): no exclusion is recorded, for there is
    no conflict; the queue never hands anyone a response they marked anyway. Returns how
    many marks.
    """
    touched: set[int] = set()
    excluded: set[tuple[int, int]] = set(exclusions)
    for mark_id, script_id in hits:
        mark = db.get(Mark, mark_id)
        assert mark is not None
        db.add(MarkWithdrawal(mark_id=mark_id, reason=reason, by=actor))
        if exclude_authors:
            excluded.add((script_id, mark.examiner_id))
        touched.add(mark.response_id)
    for hit in rulings:
        if exclude_authors:
            excluded.add((hit.script_id, hit.account_id))
        touched.add(hit.response_id)
    db.flush()
    monitoring.outdated(db, exam)
    withdrawn: dict[str, list[int]] = {"arbitration": [], "anomaly": []}
    for kind, ruling_id, _response in _rulings_in_force(db, sorted(touched)):
        column = "arbitration_id" if kind == "arbitration" else "anomaly_id"
        db.add(RulingWithdrawal(**{column: ruling_id}, reason=reason, by=actor))
        withdrawn[kind].append(ruling_id)
    db.flush()
    for response_id in sorted(touched):
        response = db.get(Response, response_id, with_for_update=True, populate_existing=True)
        assert response is not None
        group = db.get(MarkingGroup, response.group_id)
        question = db.get(Question, response.question_id)
        assert group is not None and question is not None
        flagged = response.state is ResponseState.ANOMALY
        response.marks_done = len(effective_marks(db, response_id))
        response.marks_needed = group.marks_required
        response.final = None
        response.final_rule = None
        apply_reconciliation(db, response, question, group.marks_required)
        if flagged:  # an open anomaly report holds it until the lead resolves that
            response.state = ResponseState.ANOMALY
            response.final = None
            response.final_rule = None
    for script_id, account_id in sorted(excluded):
        if db.get(Exclusion, (script_id, account_id)) is None:
            db.add(Exclusion(script_id=script_id, examiner_id=account_id))
    if settled:
        db.execute(delete(PendingConflict).where(PendingConflict.id.in_(list(settled))))
    if exam.state is SessionState.RECONCILED:
        exam.state = SessionState.MARKING
    db.flush()
    payload: dict[str, Any] = {"marks": [m for m, _s in hits], "reason": reason}
    if withdrawn["arbitration"] or withdrawn["anomaly"]:
        payload["arbitrations"] = sorted(withdrawn["arbitration"])
        payload["anomalies"] = sorted(withdrawn["anomaly"])
    ledger.append(db, exam, kind="withdrawal", actor=actor, payload=payload)
    return len(hits)


def withdraw_late(db: Session, exam: ExamSession, late: LateConflicts, *, actor: str) -> int:
    """What the office does when publication stops on late conflicts (the command line and
    the browser alike): withdraw what they found, exclude, reopen. Returns the marks."""
    found = late.findings
    return withdraw_marks(
        db,
        exam,
        found.marks,
        reason=LATE_CONFLICT,
        actor=actor,
        rulings=found.rulings,
        exclusions=found.exclusions,
        settled=found.settled,
    )
