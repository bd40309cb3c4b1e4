"""`blindmark verify`: recompute the ledger's chains and check the tables against them.

A chain alone proves the ledger was not edited; the cross-checks prove the marks, the
arbitrations, the withdrawals and the published results are what the ledger recorded,
so a mark changed, deleted or slipped into its table directly is caught as well.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from marking.audit import ledger, verify_quality
from marking.errors import MarkingError
from marking.intake.questions import make_scorer_for
from marking.publication.reconciliation import check_reconciliation
from marking.publication.results import results_digest
from marking.read.exports import results_rows
from marking.store.models import (
    Account,
    Anomaly,
    Arbitration,
    CollectiveDecision,
    Component,
    Examiner,
    ExamSession,
    IssuedSheet,
    LedgerEntry,
    Mark,
    MarkCorrection,
    MarkWithdrawal,
    Publication,
    Question,
    RecordWithdrawal,
    Response,
    RulingWithdrawal,
    Script,
    SealedRecord,
    SessionState,
    TeamOverride,
)

MAX_PROBLEMS = 20


@dataclass
class VerifyReport:
    entries: int = 0
    lanes: int = 0
    head: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class _Recorded:
    """What the session's ledger recorded, for the cross-checks against the tables."""

    marks: dict[int, tuple[object, ...]] = field(default_factory=dict)
    arbitrations: dict[int, tuple[object, ...]] = field(default_factory=dict)
    corrections: dict[int, tuple[object, ...]] = field(default_factory=dict)
    withdrawn: set[int] = field(default_factory=set)
    rulings_withdrawn: dict[str, set[int]] = field(
        default_factory=lambda: {"arbitration": set(), "anomaly": set()}
    )
    # Per published revision: the results digest and the publication's ledger entry.
    publications: dict[int, tuple[str, LedgerEntry]] = field(default_factory=dict)
    keys: dict[str, list[str]] = field(default_factory=dict)
    sheets: set[tuple[str, str, str]] = field(default_factory=set)  # component, serial, layout
    # Records withdrawn (record id: reason, by), collective decisions approved (decision
    # id: by, note), team overrides (rule, examiner, reason, director: how many).
    records_withdrawn: dict[int, tuple[str, str]] = field(default_factory=dict)
    collectives: dict[int, tuple[str, str]] = field(default_factory=dict)
    overrides: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)
    quality: verify_quality.Decisions = field(default_factory=verify_quality.Decisions)


def verify(db: Session, exam: ExamSession) -> VerifyReport:
    """Recompute the session's chains, then check each table against what they recorded."""
    report = VerifyReport()
    report.entries, broken = ledger.verify_chains(db, exam)
    report.lanes = len(ledger.lane_tips(db, exam))
    report.head = ledger.head(db, exam)
    if broken is not None:
        report.problems.append(f"ledger chain broken at {broken}")
        return report  # the cross-checks would only repeat the damage
    recorded = _read_ledger(db, exam)
    _check_marks(db, exam, recorded, report)
    _check_arbitrations(db, exam, recorded, report)
    _check_corrections(db, exam, recorded, report)
    _check_withdrawals(db, exam, recorded, report)
    _check_keys(db, exam, recorded.keys, report)
    _check_sheets(db, exam, recorded, report)
    _check_governance(db, exam, recorded, report)
    verify_quality.check(
        db, exam, recorded.quality, lambda what, r, a: _compare(what, r, a, report)
    )
    try:
        check_reconciliation(db, exam)
    except MarkingError as exc:
        report.problems.append(f"finals do not follow from the marks: {exc}")
    if exam.state is SessionState.PUBLISHED:
        _check_publication(db, exam, recorded, report)
    return report


def _read_ledger(db: Session, exam: ExamSession) -> _Recorded:
    """Walk the session's ledger entries and gather what they recorded."""
    recorded = _Recorded()
    corrections: list[tuple[dt.datetime, str, int, str, list[str]]] = []
    for e in ledger.entries(db, exam):
        p = e.payload
        if e.kind == "session_created":
            recorded.keys.update(p.get("keys", {}))
        elif e.kind == "key_correction":
            corrections.append((e.created_at, e.lane, e.seq, p["question"], p["new"]))
        elif e.kind == "mark":
            recorded.marks[p["mark"]] = (
                p["response"],
                Decimal(p["value"]),
                p["kind"],
                e.actor,
                p.get("revision", 1),
            )
        elif e.kind == "arbitration":
            recorded.arbitrations[p["arbitration"]] = (
                p["response"],
                Decimal(p["value"]),
                p.get("revision", 1),
            )
        elif e.kind == "mark_corrected":
            recorded.corrections[p["correction"]] = (p["mark"], Decimal(p["new"]), e.actor)
            if "arbitration_withdrawn" in p:
                recorded.rulings_withdrawn["arbitration"].add(p["arbitration_withdrawn"])
        elif e.kind == "arbitration_corrected":
            # (Corrections are refused during an appeal revision: a corrected ruling is of
            # the revision its response is in, 1 unless the payload says otherwise.)
            recorded.arbitrations[p["arbitration"]] = (
                p["response"],
                Decimal(p["new"]),
                p.get("revision", 1),
            )
            recorded.rulings_withdrawn["arbitration"].add(p["replaces"])
        elif e.kind == "withdrawal":
            recorded.withdrawn.update(p["marks"])
            recorded.rulings_withdrawn["arbitration"].update(p.get("arbitrations", ()))
            recorded.rulings_withdrawn["anomaly"].update(p.get("anomalies", ()))
        elif e.kind in ("publication", "revision_published"):
            recorded.publications[p.get("revision", 1)] = (p["results_sha256"], e)
        elif e.kind == "sheets_issued":
            recorded.sheets.update((p["component"], s, p["layout"]) for s in p["serials"])
        elif not verify_quality.read(recorded.quality, e):
            _read_governance(recorded, e)
    # Entries come lane by lane; corrections apply over the keys set, in time order.
    for *_when, question, answer in sorted(corrections):
        recorded.keys[question] = answer
    return recorded


def _check_marks(db: Session, exam: ExamSession, recorded: _Recorded, report: VerifyReport) -> None:
    """Every mark in the table is the one the ledger recorded, and none is missing."""
    actual_marks = {
        mid: (rid, value, kind.value, username, revision)
        for mid, rid, value, kind, username, revision in db.execute(
            select(
                Mark.id,
                Mark.response_id,
                Mark.value,
                Mark.kind,
                _username(Mark.examiner_id),
                Mark.revision,
            )
            .join(Response, Response.id == Mark.response_id)
            .join(Script, Script.id == Response.script_id)
            .where(Script.session_id == exam.id)
        )
    }
    _compare("mark", recorded.marks, actual_marks, report)


def _check_arbitrations(
    db: Session, exam: ExamSession, recorded: _Recorded, report: VerifyReport
) -> None:
    """Every arbitration in the table is the one the ledger recorded, and none is missing."""
    actual_arb = {
        aid: (rid, value, revision)
        for aid, rid, value, revision in db.execute(
            select(Arbitration.id, Arbitration.response_id, Arbitration.value, Arbitration.revision)
            .join(Response, Response.id == Arbitration.response_id)
            .join(Script, Script.id == Response.script_id)
            .where(Script.session_id == exam.id)
        )
    }
    _compare("arbitration", recorded.arbitrations, actual_arb, report)


def _check_corrections(
    db: Session, exam: ExamSession, recorded: _Recorded, report: VerifyReport
) -> None:
    """Every mark correction in the table is the one the ledger recorded (R6)."""
    actual = {
        cid: (mid, value, username)
        for cid, mid, value, username in db.execute(
            select(
                MarkCorrection.id,
                MarkCorrection.mark_id,
                MarkCorrection.value,
                _username(MarkCorrection.by_id),
            )
            .join(Mark, Mark.id == MarkCorrection.mark_id)
            .join(Response, Response.id == Mark.response_id)
            .join(Script, Script.id == Response.script_id)
            .where(Script.session_id == exam.id)
        )
    }
    _compare("mark correction", recorded.corrections, actual, report)


def _check_withdrawals(
    db: Session, exam: ExamSession, recorded: _Recorded, report: VerifyReport
) -> None:
    """The withdrawn marks and rulings in the tables are those the ledger recorded."""
    actual_withdrawn = set(
        db.scalars(
            select(MarkWithdrawal.mark_id)
            .join(Mark, Mark.id == MarkWithdrawal.mark_id)
            .join(Response, Response.id == Mark.response_id)
            .join(Script, Script.id == Response.script_id)
            .where(Script.session_id == exam.id)
        )
    )
    for mid in sorted(recorded.withdrawn ^ actual_withdrawn)[:MAX_PROBLEMS]:
        report.problems.append(f"withdrawal of mark {mid} disagrees between ledger and table")
    for kind, actual in _withdrawn_rulings(db, exam).items():
        for rid in sorted(recorded.rulings_withdrawn[kind] ^ actual)[:MAX_PROBLEMS]:
            what = "arbitration" if kind == "arbitration" else "anomaly ruling"
            report.problems.append(f"withdrawal of {what} {rid} disagrees between ledger and table")


def _check_sheets(
    db: Session, exam: ExamSession, recorded: _Recorded, report: VerifyReport
) -> None:
    """The answer-sheet serials issued are those the ledger recorded, for the same component
    and layout: a serial slipped into the table (a forged sheet let in) or deleted shows."""
    actual = {
        (component, serial, layout)
        for component, serial, layout in db.execute(
            select(Component.key, IssuedSheet.serial, IssuedSheet.layout)
            .join(Component, Component.id == IssuedSheet.component_id)
            .where(IssuedSheet.session_id == exam.id)
        )
    }
    for component, serial, layout in sorted(recorded.sheets ^ actual)[:MAX_PROBLEMS]:
        where = "table only" if (component, serial, layout) in actual else "ledger only"
        report.problems.append(
            f"issued sheet {serial} ({component}, layout {layout}) disagrees between ledger "
            f"and table ({where})"
        )


def _read_governance(recorded: _Recorded, e: LedgerEntry) -> None:
    """The records' and the team's entries: withdrawals of sealed records, the centre's
    approvals of collective decisions, the director's team overrides."""
    p = e.payload
    if e.kind == "record_withdrawn":
        recorded.records_withdrawn[p["record"]] = (p["reason"], e.actor)
    elif e.kind == "collective_approved":
        recorded.collectives[p["decision"]] = (e.actor, p.get("note", ""))
    elif e.kind == "team_override":
        recorded.overrides[(p["rule"], p.get("examiner") or "", p["reason"], e.actor)] += 1


def _check_governance(
    db: Session, exam: ExamSession, recorded: _Recorded, report: VerifyReport
) -> None:
    """Withdrawn sealed records, approved collective decisions and team overrides are those
    the ledger recorded: a row written to its table directly (a record quietly left out of
    publication, a collective decision approved without the centre, an override no director
    gave) is named."""
    withdrawn = {
        rid: (reason, by)
        for rid, reason, by in db.execute(
            select(
                RecordWithdrawal.record_id, RecordWithdrawal.reason, RecordWithdrawal.withdrawn_by
            )
            .join(SealedRecord, SealedRecord.id == RecordWithdrawal.record_id)
            .where(SealedRecord.session_id == exam.id)
        )
    }
    _compare("withdrawal of record", recorded.records_withdrawn, withdrawn, report)
    approved = {
        did: (by or "", note)
        for did, by, note in db.execute(
            select(
                CollectiveDecision.id,
                _username(CollectiveDecision.approved_by),
                CollectiveDecision.approval_note,
            ).where(
                CollectiveDecision.session_id == exam.id,
                CollectiveDecision.approved_at.is_not(None),
            )
        )
    }
    _compare("approval of collective decision", recorded.collectives, approved, report)
    overrides: Counter[tuple[str, str, str, str]] = Counter(
        (rule.value, examiner or "", reason, director)
        for rule, examiner, reason, director in db.execute(
            select(
                TeamOverride.rule,
                _username(TeamOverride.examiner_id),
                TeamOverride.reason,
                TeamOverride.director,
            ).where(TeamOverride.session_id == exam.id)
        )
    )
    for key in sorted(set(overrides) | set(recorded.overrides)):
        if overrides[key] == recorded.overrides[key]:
            continue
        rule, examiner, _reason, director = key
        where = "table only" if overrides[key] > recorded.overrides[key] else "ledger only"
        whom = f" for {examiner}" if examiner else ""
        report.problems.append(
            f"team override of {rule}{whom} by {director} disagrees between ledger and table "
            f"({where})"
        )


def _check_publication(
    db: Session, exam: ExamSession, recorded: _Recorded, report: VerifyReport
) -> None:
    """Every publication (revision 1 and each appeal revision): its results still hash to
    what was recorded, and the ledger head printed for it is the one its entry closes."""
    publications = list(
        db.scalars(
            select(Publication)
            .where(Publication.session_id == exam.id)
            .order_by(Publication.revision)
        )
    )
    if not publications or 1 not in recorded.publications:
        report.problems.append("the session is published but its publication record is gone")
        return
    for publication in publications:
        revision = publication.revision
        name = "published results" if revision == 1 else f"revision {revision}'s results"
        columns, rows = results_rows(db, exam, revision)
        digest = results_digest([dict(zip(columns, r, strict=True)) for r in rows], columns)
        if revision not in recorded.publications:
            report.problems.append(f"revision {revision} is published but not in the ledger")
            continue
        recorded_digest, entry = recorded.publications[revision]
        if not (digest == publication.results_sha256 == recorded_digest):
            report.problems.append(
                f"{name} changed since publication: their SHA-256 is {digest}, the "
                f"publication recorded {recorded_digest}"
            )
        elif publication.ledger_head != _head_at(db, exam, entry, report.head):
            report.problems.append(
                f"the ledger head printed for revision {revision} ({publication.ledger_head}) "
                "is not the one its publication entry closes in the chain"
            )
    for revision in sorted(set(recorded.publications) - {p.revision for p in publications}):
        report.problems.append(f"revision {revision} is in the ledger but its record is gone")


def _head_at(db: Session, exam: ExamSession, entry: LedgerEntry, head_now: str) -> str:
    """The ledger head right after a publication entry: every lane's tip as the entry
    recorded them (``lanes``), with the entry itself as its lane's tip. An entry written
    before lanes were recorded: the head now if nothing came after it, else the tips of
    the entries written before it."""
    lanes: dict[str, int] | None = entry.payload.get("lanes")
    if lanes is None:
        later = db.scalar(
            select(LedgerEntry.id)
            .where(LedgerEntry.session_id == exam.id, LedgerEntry.id > entry.id)
            .limit(1)
        )
        if later is None:
            return head_now
        lanes = {
            lane: seq
            for lane, seq in db.execute(
                select(LedgerEntry.lane, func.max(LedgerEntry.seq))
                .where(LedgerEntry.session_id == exam.id, LedgerEntry.id <= entry.id)
                .group_by(LedgerEntry.lane)
            )
        }
    wanted = {lane: seq for lane, seq in lanes.items() if lane != entry.lane}
    tips = {entry.lane: (entry.seq, entry.hash)}
    if wanted:
        for lane, seq, digest in db.execute(
            select(LedgerEntry.lane, LedgerEntry.seq, LedgerEntry.hash).where(
                LedgerEntry.session_id == exam.id,
                or_(
                    *(
                        and_(LedgerEntry.lane == ln, LedgerEntry.seq == sq)
                        for ln, sq in wanted.items()
                    )
                ),
            )
        ):
            tips[lane] = (seq, digest)
    return ledger.head_of(tips)


def _withdrawn_rulings(db: Session, exam: ExamSession) -> dict[str, set[int]]:
    """The session's withdrawn rulings as the table holds them, by kind."""
    arbitrations = set(
        db.scalars(
            select(RulingWithdrawal.arbitration_id)
            .join(Arbitration, Arbitration.id == RulingWithdrawal.arbitration_id)
            .join(Response, Response.id == Arbitration.response_id)
            .join(Script, Script.id == Response.script_id)
            .where(Script.session_id == exam.id)
        )
    )
    anomalies = set(
        db.scalars(
            select(RulingWithdrawal.anomaly_id)
            .join(Anomaly, Anomaly.id == RulingWithdrawal.anomaly_id)
            .where(Anomaly.session_id == exam.id)
        )
    )
    return {
        "arbitration": {a for a in arbitrations if a is not None},
        "anomaly": {a for a in anomalies if a is not None},
    }


def _check_keys(
    db: Session, exam: ExamSession, keys: dict[str, list[str]], report: VerifyReport
) -> None:
    """Each objective key is the one the ledger set, and each key score follows from it."""
    questions = db.execute(
        select(Component.key, Question)
        .join(Question, Question.component_id == Component.id)
        .where(Component.session_id == exam.id, Question.answer.is_not(None))
    ).all()
    for component, question in questions:
        name = f"{component}/{question.number}"
        if question.answer != keys.get(name):
            report.problems.append(
                f"the key of question {name} is {question.answer}, the ledger set {keys.get(name)}"
            )
            continue
        scorer = make_scorer_for(question)
        assert scorer is not None
        for rid, text, score, final in db.execute(
            select(Response.id, Response.text, Response.key_score, Response.final).where(
                Response.question_id == question.id
            )
        ):
            expected = scorer(text)
            if score != expected or final != expected:
                report.problems.append(
                    f"response {rid} (question {name}): scored {score}, final {final}, but "
                    f"its key gives {expected}"
                )
                if len(report.problems) >= MAX_PROBLEMS:
                    return


def _username(column: Any) -> Any:
    return select(Account.username).where(Account.id == column).scalar_subquery()


def _compare(
    what: str,
    recorded: Mapping[Any, object],
    actual: Mapping[Any, object],
    report: VerifyReport,
) -> None:
    for key in sorted(set(recorded) | set(actual)):
        if len(report.problems) >= MAX_PROBLEMS:
            return
        if key not in actual:
            report.problems.append(f"{what} {key} is in the ledger but not in the database")
        elif key not in recorded:
            report.problems.append(f"{what} {key} is in the database but not in the ledger")
        elif recorded[key] != actual[key]:
            report.problems.append(
                f"{what} {key}: the database holds {actual[key]}, "
                f"the ledger recorded {recorded[key]}"
            )


def verify_accounts(db: Session) -> VerifyReport:
    """Recompute the account ledger's chain and check every account's role and state
    against the changes it recorded: an account made, promoted or re-enabled by writing to
    its table directly, or a recorded change that is not in the table, shows."""
    report = VerifyReport()
    report.entries, broken = ledger.verify_account_chain(db)
    report.lanes = 1 if report.entries else 0
    report.head = ledger.account_head(db)
    if broken is not None:
        report.problems.append(f"account ledger chain broken at {broken}")
        return report
    recorded: dict[str, tuple[str, bool]] = {}
    for e in ledger.account_entries(db):
        p = e.payload
        if e.kind == "accounts_baseline":
            recorded.update({a["username"]: (a["role"], a["active"]) for a in p["accounts"]})
        elif e.kind == "account_created":
            recorded[p["username"]] = (p["role"], True)
        elif e.kind == "examiners_created":
            recorded.update({u: (p["role"], True) for u in p["usernames"]})
        elif e.kind == "role_changed" and p["username"] in recorded:
            recorded[p["username"]] = (p["role"], recorded[p["username"]][1])
        elif e.kind in ("account_enabled", "account_disabled") and p["username"] in recorded:
            recorded[p["username"]] = (recorded[p["username"]][0], e.kind == "account_enabled")
    actual = {
        username: (role.value, active)
        for username, role, active in db.execute(
            select(Account.username, Account.role, Account.active)
        )
    }
    _compare("account", _described(recorded), _described(actual), report)
    _check_examiner_status(db, report)
    return report


def _check_examiner_status(db: Session, report: VerifyReport) -> None:
    """Each examiner's status (active, suspended, revoked: 第八条) as the last recorded
    entry of their misconduct record left it; active when none changed it."""
    recorded: dict[str, str] = {}
    for e in ledger.account_entries(db):
        if e.kind.startswith("examiner_") and "status" in e.payload:
            recorded[e.payload["username"]] = e.payload["status"]
    for username, status in db.execute(
        select(Account.username, Examiner.status).join(Examiner, Examiner.account_id == Account.id)
    ):
        expected = recorded.get(username, "active")
        if status.value != expected:
            report.problems.append(
                f"examiner {username!r}: the database holds status {status.value}, "
                f"the ledger recorded {expected}"
            )


def _described(accounts: Mapping[str, tuple[str, bool]]) -> dict[str, str]:
    """{'username': "role R, active|disabled"}, for _compare's messages."""
    return {
        f"{username!r}": f"role {role}, {'active' if active else 'disabled'}"
        for username, (role, active) in accounts.items()
    }
