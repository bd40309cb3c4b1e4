"""Publication of a session as one batch (DESIGN §6): the one place that unseals identities.

Everything happens in the caller's single transaction: unseal, check, total, decide,
write results, record the publication. Any failure raises, and nothing is published.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import BigInteger, case, delete, exists, func, insert, select, type_coerce
from sqlalchemy.orm import Session

from anonymizer.seal import associated_data
from anonymizer.unseal import SessionKey
from marking.audit import ledger
from marking.domain.rules import (
    Status,
    component_scores,
    interview_result,
    outcome,
    reconcile_many,
)
from marking.errors import MarkingError, StateError
from marking.intake.recusal import excluded_clause, id_digest
from marking.people.accounts import require_role
from marking.queue.marks import apply_reconciliation, effective_marks
from marking.store.db import integer_columns
from marking.store.models import (
    Account,
    Anomaly,
    AnomalyResolution,
    Arbitration,
    Component,
    Examiner,
    ExamSession,
    Exclusion,
    Grade,
    IntakeBatch,
    Lease,
    LeaseState,
    Mark,
    MarkingGroup,
    MarkKind,
    MarkWithdrawal,
    PendingConflict,
    Publication,
    Question,
    Response,
    ResponseState,
    Result,
    Role,
    RulingWithdrawal,
    Script,
    SealedKind,
    SealedRecord,
    SessionState,
    utcnow,
)


class PublicationRefused(MarkingError):
    """Publication cannot go ahead; the message lists what is still to be done."""

    exit_code = 4


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


def open_key(
    *,
    key_file: Path | None = None,
    passphrase: str | None = None,
    shares: Sequence[Path] = (),
    expected_public_key: bytes,
) -> SessionKey:
    """Rebuild the session's private key from its key file or from k shares."""
    if key_file is not None:
        if passphrase is None:
            raise MarkingError("the key file needs its passphrase")
        return SessionKey.from_key_file(
            key_file, passphrase, expected_public_key=expected_public_key
        )
    if not shares:
        raise MarkingError("publication needs the key: --key-file F, or --share F for k shares")
    return SessionKey.from_share_files(list(shares), expected_public_key=expected_public_key)


def open_uploaded_key(
    *,
    key_file: tuple[str, bytes] | None = None,
    passphrase: str | None = None,
    shares: Sequence[tuple[str, bytes]] = (),
    expected_public_key: bytes,
) -> SessionKey:
    """As ``open_key``, from uploaded files given as (file name, content): nothing is written
    to disk, and errors name the files as their sender called them."""
    if key_file is not None:
        if passphrase is None:
            raise MarkingError("the key file needs its passphrase")
        name, data = key_file
        return SessionKey.from_key_bytes(
            data, passphrase, name=name, expected_public_key=expected_public_key
        )
    if not shares:
        raise MarkingError("publication needs the key: the key file, or k share files")
    return SessionKey.from_named_shares(shares, expected_public_key=expected_public_key)


# --- preconditions ---------------------------------------------------------------------------


def senior_examiners(db: Session) -> list[str]:
    """The usernames of the senior examiners, sorted: who counts on an interview panel (R7).

    What publication reads of the examiner register; the director's approval of a session
    with an interview digests it, so a grade changed after the approval voids it."""
    return list(
        db.scalars(
            select(Account.username)
            .join(Examiner, Examiner.account_id == Account.id)
            .where(Examiner.grade == Grade.SENIOR)
            .order_by(Account.username)
        )
    )


def open_work(
    db: Session,
    exam: ExamSession,
    *,
    now: dt.datetime | None = None,
    skip_scripts: Sequence[int] = (),
) -> list[str]:
    """What still stands between the session and publication; [] when nothing does.

    ``skip_scripts`` are scripts of withdrawn batches: their work no longer counts.
    """
    now = now or utcnow()
    problems: list[str] = []
    query = (
        select(MarkingGroup.key, Response.state, func.count())
        .join(Response, Response.group_id == MarkingGroup.id)
        .where(MarkingGroup.session_id == exam.id, Response.state != ResponseState.FINAL)
        .group_by(MarkingGroup.key, Response.state)
        .order_by(MarkingGroup.key)
    )
    if skip_scripts:
        query = query.where(Response.script_id.not_in(list(skip_scripts)))
    rows = db.execute(query).all()
    words = {
        ResponseState.OPEN: "still need marks",
        ResponseState.ANOMALY: "are on hold for an anomaly",
        ResponseState.ARBITRATION: "await the lead's arbitration",
    }
    for group, state, count in rows:
        problems.append(f"group {group}: {count} response(s) {words[state]}")
    anomalies = db.scalar(
        select(func.count())
        .select_from(Anomaly)
        .where(Anomaly.session_id == exam.id, Anomaly.resolution.is_(None))
    )
    if anomalies:
        problems.append(f"{anomalies} anomaly report(s) are not resolved")
    unruled = _rulings_nobody_may_give(db, exam)
    if unruled:
        problems.append(
            f"{unruled} response(s) wait for a ruling the lead is excluded from and no deputy "
            f"lead may give: name one (`blindmark assign --session {exam.code} --deputy U`)"
        )
    leases = db.scalar(
        select(func.count())
        .select_from(Lease)
        .join(Response, Response.id == Lease.response_id)
        .join(Script, Script.id == Response.script_id)
        .where(Script.session_id == exam.id, Lease.state == LeaseState.HELD, Lease.expires_at > now)
    )
    if leases:
        problems.append(f"{leases} response(s) are still held by examiners")
    unapproved = db.scalars(
        select(MarkingGroup.key).where(
            MarkingGroup.session_id == exam.id, MarkingGroup.approved_at.is_(None)
        )
    ).all()
    if unapproved:
        problems.append("marking scheme not approved for group(s): " + ", ".join(unapproved))
    batches = db.scalar(
        select(func.count())
        .select_from(IntakeBatch)
        .where(IntakeBatch.session_id == exam.id, IntakeBatch.withdrawn_at.is_(None))
    )
    if not batches:
        problems.append("no intake batch")
    return problems


def _rulings_nobody_may_give(db: Session, exam: ExamSession) -> int:
    """Responses awaiting arbitration or an anomaly ruling that neither the lead nor the
    deputy may give (the lead excluded, the deputy missing or excluded too)."""
    if exam.lead_id is None:
        return 0
    nobody = excluded_clause(exam.lead_id, Response.script_id)
    if exam.deputy_id is not None:
        nobody = nobody & excluded_clause(exam.deputy_id, Response.script_id)
    return (
        db.scalar(
            select(func.count())
            .select_from(Response)
            .join(Script, Script.id == Response.script_id)
            .where(
                Script.session_id == exam.id,
                Response.state.in_([ResponseState.ARBITRATION, ResponseState.ANOMALY]),
                nobody,
            )
        )
        or 0
    )


# --- unsealing -------------------------------------------------------------------------------


@dataclass
class Candidate:
    exam_no: str
    name: str
    id_number: str
    institution: str
    scripts: dict[str, int]
    batch_id: int


def unseal_roster(db: Session, exam: ExamSession, key: SessionKey) -> list[Candidate]:
    """Every candidate of every batch not withdrawn; duplicates across batches refused."""
    roster: list[Candidate] = []
    by_exam_no: dict[str, Candidate] = {}
    by_id: dict[str, Candidate] = {}
    duplicates: list[str] = []
    for batch in db.scalars(
        select(IntakeBatch)
        .where(IntakeBatch.session_id == exam.id, IntakeBatch.withdrawn_at.is_(None))
        .order_by(IntakeBatch.id)
    ):
        aad = associated_data("intake_batch", exam.id, batch.id)
        records = json.loads(key.unseal(batch.sealed_key, batch.identities, aad))
        for item in records["candidates"]:
            c = Candidate(
                exam_no=item["exam_no"],
                name=item["name"],
                id_number=item["id_number"],
                institution=item["institution"],
                scripts=dict(item["scripts"]),
                batch_id=batch.id,
            )
            for index, value, what in (
                (by_exam_no, c.exam_no, "exam number"),
                (by_id, c.id_number, "ID number"),
            ):
                other = index.get(value)
                if other is not None:
                    duplicates.append(
                        f"{what} {value} is in batch {other.batch_id} and in batch {c.batch_id}"
                    )
                index[value] = c
            roster.append(c)
    if duplicates:
        raise PublicationRefused(
            "the same candidate was taken in twice; withdraw one batch (the office's session "
            "page lists the batches by number; or `blindmark withdraw --session C --batch N "
            "--reason R`) and publish again:\n  " + "\n  ".join(duplicates)
        )
    return roster


def withdrawn_scripts(db: Session, exam: ExamSession, key: SessionKey) -> list[int]:
    """Scripts of batches the office withdrew (known only by unsealing those batches)."""
    scripts: list[int] = []
    for batch in db.scalars(
        select(IntakeBatch).where(
            IntakeBatch.session_id == exam.id, IntakeBatch.withdrawn_at.is_not(None)
        )
    ):
        aad = associated_data("intake_batch", exam.id, batch.id)
        records = json.loads(key.unseal(batch.sealed_key, batch.identities, aad))
        for item in records["candidates"]:
            scripts.extend(item["scripts"].values())
    return scripts


def sealed_items(
    db: Session, exam: ExamSession, key: SessionKey, kind: SealedKind
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for record in db.scalars(
        select(SealedRecord)
        .where(SealedRecord.session_id == exam.id, SealedRecord.kind == kind)
        .order_by(SealedRecord.id)
    ):
        aad = associated_data("sealed_record", exam.id, record.id)
        for item in json.loads(key.unseal(record.sealed_key, record.ciphertext, aad)):
            item["record"] = record.id
            items.append(item)
    return items


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
) -> int:
    """Withdraw marks (late-declared conflicts) and the lead's rulings named in ``rulings``,
    exclude their authors from those scripts (and the further ``exclusions``), and send
    the responses back to be marked and reconciled again. Recorded in the ledger.

    A ruling goes with the marks it rested on: an arbitration (or an anomaly's final mark)
    on a response that loses a mark is withdrawn too (recorded, R6), for the response's
    remaining marks may need no arbitration, or another one. Without that, the response
    kept a final that its marks no longer called for, and no publication could pass the
    session-wide check (DESIGN §5). ``settled`` are waiting declarations (PendingConflict)
    the exclusions fulfil: they leave the waiting table now. Returns how many marks.
    """
    touched: set[int] = set()
    excluded: set[tuple[int, int]] = set(exclusions)
    for mark_id, script_id in hits:
        mark = db.get(Mark, mark_id)
        assert mark is not None
        db.add(MarkWithdrawal(mark_id=mark_id, reason=reason, by=actor))
        excluded.add((script_id, mark.examiner_id))
        touched.add(mark.response_id)
    for hit in rulings:
        excluded.add((hit.script_id, hit.account_id))
        touched.add(hit.response_id)
    db.flush()
    withdrawn: dict[str, list[int]] = {"arbitration": [], "anomaly": []}
    for kind, ruling_id, _response in _rulings_in_force(db, sorted(touched)):
        column = "arbitration_id" if kind == "arbitration" else "anomaly_id"
        db.add(RulingWithdrawal(**{column: ruling_id}, reason=reason, by=actor))
        withdrawn[kind].append(ruling_id)
    db.flush()
    for response_id in sorted(touched):
        response = db.get(Response, response_id, with_for_update=True)
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


# --- numpy pass ------------------------------------------------------------------------------


def _milli(column: Any) -> Any:
    """A Marks column read as its stored integer (milli): no Decimal per row. Same SQL."""
    return type_coerce(column, BigInteger)


def _decimal(milli: int | None) -> Decimal | None:
    """What the Marks column type reads for a stored integer (for messages)."""
    return None if milli is None else Decimal(milli) / 1000


_RULE_CODES = {"arbitration": 1, "lead": 2}


def check_reconciliation(db: Session, exam: ExamSession) -> int:
    """Reconcile every examiner-marked response again, at once, with numpy, and compare with
    what the queue decided mark by mark. Raises PublicationRefused naming the first response
    where they differ. Returns the number of responses checked.

    Millions of rows at publication: read as integer columns straight into numpy
    (db.integer_columns), sorted there rather than by the database, and compared there;
    only a response that fails is looked at one by one, to say why."""
    conn = db.connection()
    marks = integer_columns(
        db,
        select(
            Mark.response_id,
            # The rule reads the N independent marks first, then the third (rules.reconcile).
            case((Mark.kind == MarkKind.THIRD, 1), else_=0),
            Mark.id,
            _milli(Mark.value),
        )
        .join(Response, Response.id == Mark.response_id)
        .join(Script, Script.id == Response.script_id)
        .where(
            Script.session_id == exam.id,
            ~exists().where(MarkWithdrawal.mark_id == Mark.id),
        ),
    )
    responses = integer_columns(
        db,
        select(
            Response.id,
            # Finals are never negative: -1 stands for "no final".
            func.coalesce(_milli(Response.final), -1),
            case(
                *((Response.final_rule == rule, code) for rule, code in _RULE_CODES.items()),
                else_=0,
            ),
            _milli(Question.tolerance),
            _milli(Question.step),
            MarkingGroup.marks_required,
        )
        .join(Question, Question.id == Response.question_id)
        .join(MarkingGroup, MarkingGroup.id == Response.group_id)
        .join(Script, Script.id == Response.script_id)
        .where(Script.session_id == exam.id),
    )
    # Objective responses: the final is the score from the key, nothing else.
    off_key = conn.execute(
        select(Response.id, Response.final, Response.key_score)
        .join(Script, Script.id == Response.script_id)
        .where(
            Script.session_id == exam.id,
            Response.group_id.is_(None),
            Response.final.is_(None) | (Response.final != Response.key_score),
        )
        .limit(1)
    ).first()
    if off_key is not None:
        raise PublicationRefused(
            f"response {off_key.id}: final {off_key.final} but its score from the key is "
            f"{off_key.key_score}; publication stopped"
        )
    if not len(responses):
        return 0
    responses = responses[np.argsort(responses[:, 0], kind="stable")]
    rid, recorded, rule_code, tol, stp, req = (responses[:, k].copy() for k in range(6))
    del responses
    n = len(rid)
    order = np.lexsort((marks[:, 2], marks[:, 1], marks[:, 0]))
    mark_rid, mark_val = marks[order, 0], marks[order, 3]
    del marks, order
    row = np.searchsorted(rid, mark_rid)
    counts = np.bincount(row, minlength=n).astype(np.int64)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    col = np.arange(len(mark_rid)) - starts[row]
    width = int(counts.max()) if len(mark_rid) else 1
    grid = np.zeros((n, max(width, 1)), dtype=np.int64)
    grid[row, col] = mark_val
    del mark_rid, mark_val, row, col, starts
    try:
        finals, status = reconcile_many(grid, counts, tolerance=tol, step=stp, required=req)
    except ValueError as exc:  # e.g. more effective marks than the rule allows
        raise PublicationRefused(f"marks cannot be reconciled: {exc}") from exc
    rule_of = {code: rule for rule, code in _RULE_CODES.items()}
    # The lead's finals must be the rulings on record, not whatever the response row says.
    ruled: dict[str, dict[int, int | None]] = {
        "arbitration": {
            rid_: value
            for rid_, value in conn.execute(
                select(Arbitration.response_id, _milli(Arbitration.value))
                .join(Response, Response.id == Arbitration.response_id)
                .join(Script, Script.id == Response.script_id)
                .where(
                    Script.session_id == exam.id,
                    ~exists().where(RulingWithdrawal.arbitration_id == Arbitration.id),
                )
            )
        },
        "lead": {
            rid_: value
            for rid_, value in conn.execute(
                select(Anomaly.response_id, _milli(Anomaly.final_value)).where(
                    Anomaly.session_id == exam.id,
                    Anomaly.resolution == AnomalyResolution.FINAL,
                    ~exists().where(RulingWithdrawal.anomaly_id == Anomaly.id),
                )
            )
        },
    }
    arbitrated = rule_code == _RULE_CODES["arbitration"]
    by_lead = rule_code == _RULE_CODES["lead"]
    # Whatever the rule, a final off the ruling on record; for arbitrated responses, marks
    # that reconcile without the lead; for the others, a final the marks do not give.
    suspect = np.zeros(n, dtype=np.bool_)
    for i in np.flatnonzero(arbitrated | by_lead).tolist():
        got = ruled[rule_of[int(rule_code[i])]].get(int(rid[i]))
        suspect[i] = (-1 if got is None else got) != recorded[i]
    suspect |= arbitrated & (status != Status.NEEDS_ARBITRATION)
    computed = np.where(status == Status.FINAL, finals, -1)
    suspect |= ~(arbitrated | by_lead) & (computed != recorded)
    if suspect.any():
        i = int(np.argmax(suspect))
        _refuse(
            int(rid[i]),
            None if recorded[i] < 0 else int(recorded[i]),
            db.scalar(select(Response.final_rule).where(Response.id == int(rid[i]))),
            ruled,
            Status(int(status[i])),
            None if computed[i] < 0 else int(computed[i]),
        )
    return n


def _refuse(
    response_id: int,
    final: int | None,
    rule: str | None,
    ruled: dict[str, dict[int, int | None]],
    status: Status,
    got: int | None,
) -> None:
    """Raise PublicationRefused saying why this response fails the session-wide check."""
    if rule in ruled and final != ruled[rule].get(response_id):
        raise PublicationRefused(
            f"response {response_id}: the queue recorded final {_decimal(final)} ({rule}) but "
            f"the lead's ruling on record is {_decimal(ruled[rule].get(response_id))}; "
            "publication stopped"
        )
    if rule == "arbitration":
        raise PublicationRefused(
            f"response {response_id}: arbitrated, but its marks reconcile without "
            "arbitration; the queue and the session-wide check disagree"
        )
    raise PublicationRefused(
        f"response {response_id}: the queue recorded final {_decimal(final)} but reconciling "
        f"its marks gives {_decimal(got)} (status {status.name}); publication stopped"
    )


# --- totals and outcomes ---------------------------------------------------------------------


@dataclass
class PublicationReport:
    candidates: int
    outcomes: dict[str, int]
    results_sha256: str
    ledger_head: str
    responses_checked: int
    timings: dict[str, float] = field(default_factory=dict)


def _component_totals(db: Session, exam: ExamSession) -> tuple[dict[str, int], dict[int, int]]:
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


def results_digest(rows: list[dict[str, Any]], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row[c] for c in columns])
    return hashlib.sha256(buffer.getvalue().encode()).hexdigest()


def result_columns(exam: ExamSession, component_keys: Sequence[str]) -> list[str]:
    columns = ["exam_no", "name", "id_number", "outcome"]
    for key in component_keys:
        columns += [f"{key}_code", f"{key}_score"]
    if exam.level <= 2:
        columns.append("interview_score")
    return columns


def publish(
    db: Session,
    exam: ExamSession,
    *,
    by: str,
    approved_by: str,
    key: SessionKey,
    now: dt.datetime | None = None,
) -> PublicationReport:
    """Publish the session's results as one batch (DESIGN §6).

    ``by`` is an office account, ``approved_by`` a different director account whose
    recorded approval still matches the session (R16, marking/publication/approvals.py).
    Raises PublicationRefused listing what is open or why the approval does not hold,
    LateConflicts when marks must be withdrawn first (see ``withdraw_marks``), StateError
    after publication.
    """
    now = now or utcnow()
    if exam.state is SessionState.PUBLISHED:
        raise StateError(f"session {exam.code} is already published; it is read-only")
    if exam.state not in (SessionState.MARKING, SessionState.RECONCILED):
        raise StateError(f"session {exam.code} is {exam.state.value}: nothing to publish yet")
    office = require_role(db, by, Role.OFFICE, what="publishing")
    director = require_role(db, approved_by, Role.DIRECTOR, what="approving publication")
    if office.id == director.id:
        raise MarkingError("the approver must be a second person (R16)")
    if exam.public_key is None or key.public_key != exam.public_key:
        raise MarkingError("that key does not belong to this session")
    roster = unseal_roster(db, exam, key)
    problems = open_work(db, exam, now=now, skip_scripts=withdrawn_scripts(db, exam, key))
    if problems:
        raise PublicationRefused("publication refused; still open:\n  " + "\n  ".join(problems))
    # R16: the director approved this session as it stands now, not as it stood then.
    from marking.publication.approvals import (
        require_current_approval,  # approvals builds on this module
    )

    approval = require_current_approval(db, exam, director)
    late = late_findings(db, exam, roster, sealed_items(db, exam, key, SealedKind.CONFLICT))
    if late.marks or late.rulings:
        raise LateConflicts(late.marks, late)
    checked = check_reconciliation(db, exam)

    components = [
        c.key
        for c in db.scalars(
            select(Component).where(Component.session_id == exam.id).order_by(Component.position)
        )
    ]
    by_exam_no = {c.exam_no: c for c in roster}
    voided: set[str] = set()
    unknown: list[str] = []
    for v in sealed_items(db, exam, key, SealedKind.VIOLATION):
        if v["exam_no"] not in by_exam_no:
            unknown.append(
                f"violations record {v['record']}, row {v['row']}: "
                f"exam number {v['exam_no']} is in no batch"
            )
        elif v["action"] in ("void", "terminated"):
            voided.add(v["exam_no"])
    panels: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for s in sealed_items(db, exam, key, SealedKind.INTERVIEW):
        if s["exam_no"] not in by_exam_no:
            unknown.append(
                f"interview record {s['record']}, row {s['row']}: "
                f"exam number {s['exam_no']} is in no batch"
            )
        else:
            panels[s["exam_no"]].append((s["username"], int(Decimal(s["score"]) * 1000)))
    if unknown:
        raise PublicationRefused("records name unknown candidates:\n  " + "\n  ".join(unknown))
    seniors = set(senior_examiners(db))

    maxima, sums = _component_totals(db, exam)
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

    interview_problems: list[str] = []
    rows: list[dict[str, Any]] = []
    for c in sorted(roster, key=lambda c: c.exam_no):
        row: dict[str, Any] = {"exam_no": c.exam_no, "name": c.name, "id_number": c.id_number}
        passed: list[bool] = []
        absent = False
        comp_json: dict[str, Any] = {}
        for key_ in components:
            sid = c.scripts.get(key_)
            if sid is None:
                absent = True
                row[f"{key_}_code"], row[f"{key_}_score"] = "", ""
                comp_json[key_] = {"code": None, "score": None}
            else:
                points = score_of[sid]
                score = f"{Decimal(points).scaleb(-1):.1f}"
                passed.append(points >= 600)
                row[f"{key_}_code"], row[f"{key_}_score"] = codes[sid], score
                comp_json[key_] = {"code": codes[sid], "score": score}
        interview_passed: bool | None = None
        interview_score: Decimal | None = None
        if exam.level <= 2:
            panel = panels.get(c.exam_no, [])
            result = interview_result(
                [score for _u, score in panel], [u in seniors for u, _s in panel]
            )
            if result.problem and panel:
                interview_problems.append(f"candidate {c.exam_no}: {result.problem}")
            interview_score, interview_passed = result.score, result.passed
            row["interview_score"] = "" if interview_score is None else f"{interview_score:.1f}"
            if interview_score is None:
                absent = True
        decided = outcome(
            voided=c.exam_no in voided,
            absent_any=absent,
            components_passed=passed,
            interview_passed=interview_passed,
            needs_interview=exam.level <= 2,
        )
        row["outcome"] = decided
        row["_components"] = comp_json
        row["_institution"] = c.institution
        row["_interview"] = interview_score
        rows.append(row)
    if interview_problems:
        raise PublicationRefused(
            "interview panels too small (R7):\n  " + "\n  ".join(interview_problems)
        )

    columns = result_columns(exam, components)
    digest = results_digest(rows, columns)
    db.execute(
        insert(Result),
        [
            {
                "session_id": exam.id,
                "exam_no": r["exam_no"],
                "name": r["name"],
                "id_number": r["id_number"],
                "institution": r["_institution"],
                "outcome": r["outcome"],
                "components": r["_components"],
                "interview_score": r["_interview"],
            }
            for r in rows
        ],
    )
    outcomes: dict[str, int] = defaultdict(int)
    for r in rows:
        outcomes[r["outcome"]] += 1
    ledger.append(
        db,
        exam,
        kind="publication",
        actor=office.username,
        payload={
            "approved_by": director.username,
            "approval": approval.id,
            "approval_digest": approval.digest,
            "candidates": len(rows),
            "outcomes": dict(sorted(outcomes.items())),
            "results_sha256": digest,
            "ledger_head_before": ledger.head(db, exam),
        },
        now=now,
    )
    head = ledger.head(db, exam)
    db.add(
        Publication(
            session_id=exam.id,
            published_by=office.id,
            approved_by=director.id,
            results_sha256=digest,
            ledger_head=head,
            candidates=len(rows),
            created_at=now,
        )
    )
    exam.state = SessionState.PUBLISHED
    # No intake can come any more: declarations still waiting for one have done their job.
    db.execute(delete(PendingConflict).where(PendingConflict.session_id == exam.id))
    db.flush()
    return PublicationReport(
        candidates=len(rows),
        outcomes=dict(outcomes),
        results_sha256=digest,
        ledger_head=head,
        responses_checked=checked,
    )
