"""`blindmark verify` checks the governance records against the ledger as it does marks:
a sealed record's withdrawal (R13, DESIGN §3), the guidance centre's approval of a
collective decision (第七条(五)) and a director's team override (R10, 第七条(四)) written to
their tables without the ledger entry that records them are named."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import update
from sqlalchemy.orm import Session

from marking.audit.verify import verify
from marking.intake.collectives import approve_collective, get_collective
from marking.intake.entries import session_records, withdraw_record
from marking.intake.records import record_violations
from marking.people.accounts import add_user, get_account
from marking.setup.teams import record_override
from marking.store.models import (
    CollectiveDecision,
    ExamSession,
    RecordWithdrawal,
    Role,
    TeamOverride,
    TeamRule,
    utcnow,
)
from tests.integration import factory as f

HEADER = ("exam_no", "component", "action", "reason", "decided_by", "collective")


def governed(db: Session, tmp_path: Path) -> tuple[ExamSession, list[int]]:
    """A tiny session with two violations records (one collective, approved by the centre;
    one withdrawn), a third record left in force, and two team overrides."""
    tiny = f.tiny_session(db, tmp_path, "VG-1", n=3, examiners=("e1", "e2"))
    exam = tiny.exam
    add_user(db, "centre", role=Role.CENTRE)
    c1, c2, c3 = (c.exam_no for c in tiny.candidates)
    files = [
        [
            (c1, "theory", "void", "集体作弊", "lead", "G1"),
            (c2, "theory", "void", "集体作弊", "lead", "G1"),
        ],
        [("999999999999", "theory", "warning", "看错号", "e1", "")],
        [(c3, "skills", "warning", "交头接耳", "e1", "")],
    ]
    for n, rows in enumerate(files):
        record_violations(
            db, exam, f.write_csv(tmp_path / f"v{n}.csv", HEADER, rows), actor="office"
        )
    approve_collective(db, exam, get_collective(db, exam, "G1"), get_account(db, "centre"))
    records = sorted(r.id for r in session_records(db, exam))
    withdraw_record(db, exam, records[1], reason="准考证号录错", actor="office")
    record_override(db, exam, rule=TeamRule.ROTATION, director="director", reason="人手不足")
    record_override(
        db, exam, rule=TeamRule.CONSECUTIVE, director="director", reason="唯一考评员", examiner="e1"
    )
    return exam, records


def test_governance_records_agree_with_the_ledger(db: Session, tmp_path: Path) -> None:
    """R13, 第七条(五), 第七条(四): what the services recorded verifies."""
    exam, _records = governed(db, tmp_path)
    report = verify(db, exam)
    assert report.ok, report.problems


def test_rows_written_without_their_ledger_entry_are_named(db: Session, tmp_path: Path) -> None:
    """A record withdrawn, a collective decision approved, a team override given by writing
    to the tables directly: each is named, as a mark slipped into its table is (DESIGN §7)."""
    exam, records = governed(db, tmp_path)
    db.add(RecordWithdrawal(record_id=records[2], reason="x", withdrawn_by="office"))
    decision = get_collective(db, exam, "G1")
    db.execute(
        update(CollectiveDecision)
        .where(CollectiveDecision.id == decision.id)
        .values(approved_by=get_account(db, "director").id, approved_at=utcnow())
    )
    db.add(
        TeamOverride(
            session_id=exam.id,
            rule=TeamRule.CONSECUTIVE,
            examiner_id=get_account(db, "e2").id,
            reason="no one asked",
            director="director",
        )
    )
    db.flush()
    problems = verify(db, exam).problems
    assert f"withdrawal of record {records[2]} is in the database but not in the ledger" in problems
    assert any(
        p.startswith(
            f"approval of collective decision {decision.id}: the database holds ('director'"
        )
        for p in problems
    ), problems
    assert (
        "team override of consecutive for e2 by director disagrees between ledger and table "
        "(table only)"
    ) in problems
    assert len(problems) == 3, problems
