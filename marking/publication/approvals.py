"""The director's approval of a publication (R16: four eyes), recorded before publishing.

An approval is of something: when nothing is open, the director approves the session as it
stands, and the approval records a SHA-256 over everything its results are computed from
(``publication_digest``). Any later intake, withdrawal, ruling, correction, sealed record
(or its withdrawal) or the guidance centre's approval of a collective decision changes that
digest, and so does, for a session with an interview, a change to who is a senior examiner
(publication counts only seniors on a panel, R7); the approval is then
void: publication recomputes it and refuses, naming what changed, until a director
approves again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import BigInteger, case, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from marking.audit import ledger
from marking.errors import MarkingError, StateError
from marking.publication.preconditions import PublicationRefused, open_work, senior_examiners
from marking.store.db import integer_columns
from marking.store.models import (
    Account,
    Anomaly,
    Arbitration,
    CollectiveDecision,
    Component,
    ExamSession,
    IntakeBatch,
    KeyCorrection,
    Mark,
    MarkCorrection,
    MarkWithdrawal,
    PublicationApproval,
    Question,
    RecordWithdrawal,
    Response,
    ResponseState,
    Role,
    RulingWithdrawal,
    Script,
    SealedKind,
    SealedRecord,
    SessionState,
    utcnow,
)

#: The parts of what a director approves, each digested on its own so a refusal can say
#: what changed; in the order they are combined. The names are the payload's keys.
PARTS: dict[str, str] = {
    "definition": "the session definition",
    "intake": "the intake batches",
    "finals": "the responses' finals",
    "withdrawals": "the withdrawn marks",
    "corrections": "the mark corrections",
    "rulings": "the lead's rulings",
    "key_corrections": "the key corrections",
    "records": "the violation and interview records",
    "collectives": "the guidance centre's approvals of collective decisions",
    "panels": "the examiner grades interview panels rely on",
    "revision": "the revision's candidates, components and reason",
}
# "panels" is there only for a session with an interview (levels 1-2): publication counts
# only the senior examiners of the register as it is then on each candidate's panel (R7).
# "revision" only for an appeal revision's approval (revision_publish.revision_digest).
# A response's rule as a number, so millions of finals hash straight from numpy.
_RULES = ("agreed", "third_one", "third_both", "all_within", "arbitration", "lead", "key")


def _sha(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def _rows(db: Session, statement: Any) -> list[list[Any]]:
    return [[_plain(v) for v in row] for row in db.execute(statement)]


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, int | str | bool | list | dict) or value is None:
        return value
    return str(value)  # Decimal marks, enums


def _finals(db: Session, exam: ExamSession) -> str:
    """SHA-256 over (response id, final in thousandths or -1, rule) of every response."""
    table = integer_columns(
        db,
        select(
            Response.id,
            func.coalesce(type_coerce(Response.final, BigInteger), -1),
            case(
                *((Response.final_rule == rule, n) for n, rule in enumerate(_RULES, start=1)),
                (Response.final_rule.is_(None), 0),
                else_=-1,
            ),
        )
        .join(Script, Script.id == Response.script_id)
        .where(Script.session_id == exam.id),
    )
    table = table[np.argsort(table[:, 0], kind="stable")] if len(table) else table
    return hashlib.sha256(np.ascontiguousarray(table, dtype="<i8").tobytes()).hexdigest()


def _of_session(exam: ExamSession) -> Any:
    """The ids of the session's responses, as a subquery."""
    return (
        select(Response.id)
        .join(Script, Script.id == Response.script_id)
        .where(Script.session_id == exam.id)
    )


def _intake(db: Session, exam: ExamSession) -> str:
    """SHA-256 over every intake batch: its digest, its size, whether it was withdrawn."""
    return _sha(
        _rows(
            db,
            select(
                IntakeBatch.id,
                IntakeBatch.digest,
                IntakeBatch.candidate_count,
                IntakeBatch.withdrawn_at.is_not(None),
            )
            .where(IntakeBatch.session_id == exam.id)
            .order_by(IntakeBatch.id),
        )
    )


def _withdrawals(db: Session, exam: ExamSession) -> str:
    """SHA-256 over the ids of the session's withdrawn marks."""
    return _sha(
        _rows(
            db,
            select(MarkWithdrawal.mark_id)
            .join(Mark, Mark.id == MarkWithdrawal.mark_id)
            .where(Mark.response_id.in_(_of_session(exam)))
            .order_by(MarkWithdrawal.mark_id),
        )
    )


def _corrections(db: Session, exam: ExamSession) -> str:
    """SHA-256 over the session's mark corrections: which mark, which in its chain, the value
    and who (R6: any correction voids an approval, DESIGN §14)."""
    return _sha(
        _rows(
            db,
            select(
                MarkCorrection.id,
                MarkCorrection.mark_id,
                MarkCorrection.seq,
                MarkCorrection.value,
                MarkCorrection.by_id,
            )
            .join(Mark, Mark.id == MarkCorrection.mark_id)
            .where(Mark.response_id.in_(_of_session(exam)))
            .order_by(MarkCorrection.id),
        )
    )


_NO_CORRECTIONS = _sha([])


def _rulings(db: Session, exam: ExamSession) -> str:
    """SHA-256 over the lead's arbitrations, anomaly resolutions and withdrawn rulings."""
    of_session = _of_session(exam)
    return _sha(
        [
            _rows(
                db,
                select(
                    Arbitration.id,
                    Arbitration.response_id,
                    Arbitration.value,
                    Arbitration.lead_id,
                )
                .where(Arbitration.response_id.in_(of_session))
                .order_by(Arbitration.id),
            ),
            _rows(
                db,
                select(
                    Anomaly.id,
                    Anomaly.response_id,
                    Anomaly.resolution,
                    Anomaly.final_value,
                    Anomaly.resolved_by,
                )
                .where(Anomaly.session_id == exam.id)
                .order_by(Anomaly.id),
            ),
            # Rulings withdrawn (a late conflict): recorded beside the rulings themselves.
            _rows(
                db,
                select(
                    RulingWithdrawal.id,
                    RulingWithdrawal.arbitration_id,
                    RulingWithdrawal.anomaly_id,
                )
                .outerjoin(Arbitration, Arbitration.id == RulingWithdrawal.arbitration_id)
                .outerjoin(Anomaly, Anomaly.id == RulingWithdrawal.anomaly_id)
                .where(
                    or_(
                        Arbitration.response_id.in_(of_session),
                        Anomaly.session_id == exam.id,
                    )
                )
                .order_by(RulingWithdrawal.id),
            ),
        ]
    )


def _key_corrections(db: Session, exam: ExamSession) -> str:
    """SHA-256 over the questions' answers from the key and every correction to them."""
    questions = (
        select(Component.key, Question.number, Question.id, Question.answer)
        .join(Component, Component.id == Question.component_id)
        .where(Component.session_id == exam.id)
        .order_by(Component.position, Question.position)
    )
    return _sha(
        [
            _rows(db, questions),
            _rows(
                db,
                select(KeyCorrection.id, KeyCorrection.question_id, KeyCorrection.new_answer)
                .where(KeyCorrection.question_id.in_(questions.with_only_columns(Question.id)))
                .order_by(KeyCorrection.id),
            ),
        ]
    )


def _records(db: Session, exam: ExamSession) -> str:
    """SHA-256 over the sealed violation, interview and absence records (their ciphertexts'
    hashes) and their withdrawals: any record entered or withdrawn changes it."""
    withdrawn = {
        w.record_id: [w.id, w.withdrawn_by, w.reason]
        for w in db.scalars(
            select(RecordWithdrawal)
            .join(SealedRecord, SealedRecord.id == RecordWithdrawal.record_id)
            .where(SealedRecord.session_id == exam.id)
        )
    }
    return _sha(
        [
            [r.id, r.kind.value, hashlib.sha256(r.ciphertext).hexdigest(), withdrawn.get(r.id)]
            for r in db.scalars(
                select(SealedRecord)
                .where(
                    SealedRecord.session_id == exam.id,
                    SealedRecord.kind.in_(
                        [SealedKind.VIOLATION, SealedKind.INTERVIEW, SealedKind.INTERVIEW_ABSENT]
                    ),
                )
                .order_by(SealedRecord.id)
            )
        ]
    )


def _collectives(db: Session, exam: ExamSession) -> str:
    """SHA-256 over the collective decisions and the centre's approvals of them."""
    return _sha(
        _rows(
            db,
            select(
                CollectiveDecision.id,
                CollectiveDecision.record_id,
                CollectiveDecision.label,
                CollectiveDecision.candidates,
                CollectiveDecision.approved_by,
                CollectiveDecision.approved_at.is_not(None),
            )
            .where(CollectiveDecision.session_id == exam.id)
            .order_by(CollectiveDecision.id),
        )
    )


def publication_digest(db: Session, exam: ExamSession) -> dict[str, str]:
    """One SHA-256 per part (``PARTS``) of what the session's results are computed from."""
    parts = {
        "definition": _sha([exam.definition, exam.level]),
        "intake": _intake(db, exam),
        "finals": _finals(db, exam),
        "withdrawals": _withdrawals(db, exam),
        "rulings": _rulings(db, exam),
        "key_corrections": _key_corrections(db, exam),
        "records": _records(db, exam),
        "collectives": _collectives(db, exam),
    }
    corrections = _corrections(db, exam)
    if corrections != _NO_CORRECTIONS:  # a session without any keeps its approvals' parts
        parts["corrections"] = corrections
    if exam.level <= 2:  # publication decides interviews by who is a senior examiner now
        parts["panels"] = _sha(senior_examiners(db))
    return parts


def combined(parts: dict[str, str]) -> str:
    """The approval's one digest: SHA-256 over its parts in ``PARTS`` order."""
    return hashlib.sha256(
        "".join(f"{k}\0{parts[k]}\n" for k in PARTS if k in parts).encode()
    ).hexdigest()


def changed_parts(approved: dict[str, str] | None, now: dict[str, str]) -> list[str]:
    """The parts (keys of ``PARTS``) that differ; every part for an approval without them."""
    return [k for k in PARTS if approved is None or approved.get(k) != now.get(k)]


@dataclass
class ApprovalStatus:
    """The approval in force, if any, and what changed since it was given ([] = current)."""

    approval: PublicationApproval | None = None
    director: str | None = None
    changed: list[str] = field(default_factory=list)

    @property
    def current(self) -> bool:
        return self.approval is not None and not self.changed

    def describe(self) -> str:
        return describe(self.changed)


def describe(parts: Iterable[str]) -> str:
    return ", ".join(PARTS[k] for k in parts)


def current_approval(
    db: Session, exam: ExamSession, *, revision: int = 1
) -> PublicationApproval | None:
    """The approval given last and not withdrawn, if any (void or not: see approval_status),
    of the session's publication (``revision`` 1) or of an appeal revision."""
    return db.scalar(
        select(PublicationApproval)
        .where(
            PublicationApproval.session_id == exam.id,
            PublicationApproval.revision == revision,
            PublicationApproval.withdrawn_at.is_(None),
        )
        .order_by(PublicationApproval.id.desc())
        .limit(1)
    )


def approval_status(db: Session, exam: ExamSession) -> ApprovalStatus:
    """The approval in force and whether the session still is what the director approved."""
    approval = current_approval(db, exam)
    if approval is None:
        return ApprovalStatus()
    director = db.get(Account, approval.director_id)
    assert director is not None
    if exam.state is SessionState.PUBLISHED:
        return ApprovalStatus(approval, director.username)  # what was published, approved
    return ApprovalStatus(
        approval, director.username, changed_parts(approval.parts, publication_digest(db, exam))
    )


class ReviewOutdated(StateError):
    """The session changed after the director was shown it: nothing was approved."""


def approve_publication(
    db: Session,
    exam: ExamSession,
    director: Account,
    *,
    note: str = "",
    expected: str | None = None,
    now: dt.datetime | None = None,
) -> PublicationApproval:
    """A director approves the session's publication as it stands now.

    ``expected`` is the digest (``combined``) of the session as the director reviewed it
    (the review page, the API, ``blindmark approve``); when given, the session must still
    be that, or ReviewOutdated is raised and nothing is approved.
    Raises MarkingError for a non-director account, StateError when the session is not in
    marking or reconciled, when anything is still open (``publish.open_work``), or when it
    is already approved as it stands. An approval made void by a later change is replaced.
    """
    now = now or utcnow()
    if director.role is not Role.DIRECTOR or not director.active:
        raise MarkingError("approving a publication needs an active director account (R16)")
    if exam.state not in (SessionState.MARKING, SessionState.RECONCILED):
        raise StateError(f"session {exam.code} is {exam.state.value}: nothing to approve")
    problems = open_work(db, exam, now=now)
    if problems:
        raise StateError(
            f"session {exam.code} cannot be approved while work is open:\n  "
            + "\n  ".join(problems)
        )
    parts = publication_digest(db, exam)
    digest = combined(parts)
    if expected is not None and expected.strip().lower() != digest:
        raise ReviewOutdated(
            f"session {exam.code} is no longer what was reviewed (digest "
            f"{expected.strip()[:16]}…, now {digest[:16]}…): nothing was approved; "
            "review the session again and approve what it shows now"
        )
    before = current_approval(db, exam)
    if before is not None and not changed_parts(before.parts, parts):
        raise StateError(f"session {exam.code}'s publication is already approved")
    return record_approval(db, exam, director, parts=parts, before=before, note=note, now=now)


def record_approval(
    db: Session,
    exam: ExamSession,
    director: Account,
    *,
    parts: dict[str, str],
    before: PublicationApproval | None,
    note: str,
    now: dt.datetime,
    revision: int = 1,
) -> PublicationApproval:
    """The director's approval of what ``parts`` digest (of the publication, or of appeal
    revision ``revision``), replacing ``before`` (void since), in the ledger."""
    if before is not None:  # void: the session changed since; this one replaces it
        before.withdrawn_at = now
    approval = PublicationApproval(
        session_id=exam.id,
        revision=revision,
        director_id=director.id,
        note=note.strip(),
        created_at=now,
        digest=combined(parts),
        parts=parts,
    )
    db.add(approval)
    db.flush()
    payload: dict[str, Any] = {"revision": revision} if revision > 1 else {}
    payload |= {
        "approval": approval.id,
        "digest": approval.digest,
        "parts": parts,
        "replaces": before.id if before else None,
    }
    ledger.append(
        db,
        exam,
        kind="revision_approved" if revision > 1 else "publication_approved",
        actor=director.username,
        payload=payload,
        now=now,
    )
    return approval


def require_current_approval(
    db: Session, exam: ExamSession, director: Account
) -> PublicationApproval:
    """The approval ``director`` gave to the session as it stands, for publication.

    Raises PublicationRefused when there is none, when it is another director's, or when
    the session changed since it was given (naming what changed)."""
    status = approval_status(db, exam)
    if status.approval is None or status.director != director.username:
        if status.director:
            raise PublicationRefused.coded(
                "approval_by_another",
                "session %(session)s has no recorded approval by %(director)s (the approval on "
                "record is by %(other)s): the director approves first, on the director's page "
                "or with `blindmark approve --session %(session)s --by %(director)s` (R16)",
                session=exam.code,
                director=director.username,
                other=status.director,
            )
        raise PublicationRefused.coded(
            "no_approval",
            "session %(session)s has no recorded approval by %(director)s: the director "
            "approves first, on the director's page or with "
            "`blindmark approve --session %(session)s --by %(director)s` (R16)",
            session=exam.code,
            director=director.username,
        )
    if status.changed:
        raise PublicationRefused(
            f"the approval by {director.username} no longer matches: {status.describe()} "
            "changed since; the director must review the session and approve it again"
        )
    return status.approval


def review_summary(db: Session, exam: ExamSession) -> dict[str, int]:
    """What the director looks at before approving: counts only, nothing naming anyone."""
    batches, candidates = db.execute(
        select(func.count(), func.coalesce(func.sum(IntakeBatch.candidate_count), 0)).where(
            IntakeBatch.session_id == exam.id, IntakeBatch.withdrawn_at.is_(None)
        )
    ).one()
    withdrawn = db.scalar(
        select(func.count()).where(
            IntakeBatch.session_id == exam.id, IntakeBatch.withdrawn_at.is_not(None)
        )
    )
    scripts = db.scalar(select(func.count()).where(Script.session_id == exam.id))
    responses, final = db.execute(
        select(func.count(), func.count().filter(Response.state == ResponseState.FINAL))
        .select_from(Response)
        .join(Script, Script.id == Response.script_id)
        .where(Script.session_id == exam.id)
    ).one()
    records = {
        kind: count
        for kind, count in db.execute(
            select(SealedRecord.kind, func.count())
            .where(SealedRecord.session_id == exam.id)
            .group_by(SealedRecord.kind)
        )
    }
    return {
        "batches": batches,
        "withdrawn_batches": withdrawn or 0,
        "candidates": int(candidates),
        "scripts": scripts or 0,
        "responses": responses,
        "responses_final": final,
        "violation_records": records.get(SealedKind.VIOLATION, 0),
        "interview_records": records.get(SealedKind.INTERVIEW, 0),
        "interview_absence_records": records.get(SealedKind.INTERVIEW_ABSENT, 0),
    }


def withdraw_approval(
    db: Session, exam: ExamSession, director: Account, *, now: dt.datetime | None = None
) -> PublicationApproval:
    """The approving director withdraws it before publication."""
    approval = current_approval(db, exam)
    if approval is None:
        raise StateError(f"session {exam.code} has no approval to withdraw")
    if exam.state is SessionState.PUBLISHED:
        raise StateError(f"session {exam.code} is published; its approval stands")
    return end_approval(db, exam, director, approval, now=now)


def end_approval(
    db: Session,
    exam: ExamSession,
    director: Account,
    approval: PublicationApproval,
    *,
    now: dt.datetime | None = None,
) -> PublicationApproval:
    """``approval`` (of the publication, or of an appeal revision) withdrawn by the director
    who gave it, in the ledger; MarkingError for anyone else."""
    if approval.director_id != director.id:
        raise MarkingError("only the director who approved may withdraw the approval")
    approval.withdrawn_at = now or utcnow()
    db.flush()
    payload: dict[str, Any] = {"approval": approval.id}
    if approval.revision > 1:
        payload["revision"] = approval.revision
    ledger.append(
        db, exam, kind="approval_withdrawn", actor=director.username, payload=payload, now=now
    )
    return approval
