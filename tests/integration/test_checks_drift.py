"""Drift alarms (DESIGN §13): seeds marked off the definitive mark raise one alarm per kind
with its evidence, and the rule sees exactly the examiner's last seeds in the group, on
PostgreSQL read with the seed's own first statement."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marking.audit.verify import verify
from marking.domain.rules import drift
from marking.quality import checks
from marking.quality.alarms import recent_seeds
from marking.queue.claims import claim
from marking.queue.marks import submit_mark
from marking.store.models import ExamSession, LedgerEntry
from marking.store.models.checks import AlarmKind, CheckAlarm, CheckMark
from tests.integration import factory as f
from tests.integration.marking_helpers import account
from tests.integration.test_checks import finals_of, finish_some, group, make_seeds, rates


def seeded_short(db: Session, tmp_path: Path, code: str, finals: int) -> ExamSession:
    """80 candidates; ``finals`` short responses finished by e1 and e2 and made seeds; a seed
    in every other place of the short group."""
    exam = f.tiny_session(db, tmp_path, code, n=80, examiners=("e1", "e2", "e3")).exam
    rates(db, exam)
    finish_some(db, exam, ("e1", "e2"), "short", finals)
    make_seeds(db, exam, "short", finals_of(db, exam, "short"))
    group(exam, "short").seed_rate = Decimal("0.5")
    db.flush()
    return exam


def test_the_drift_rule_reads_the_seeds_just_marked_and_the_ones_before(
    db: Session, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a seed's first statement reads the seeds marked before it, for the
    drift rule (a seed's mark then costs what a live one does): the rule must see exactly the
    examiner's last seeds in the group, the one just marked first, as a read after it would."""
    exam = seeded_short(db, tmp_path, "CK-9", 14)
    e3 = account(db, "e3")
    seen: list[list[drift.SeedMark] | None] = []
    real = checks.raise_alarms

    def spy(*args: Any, **kwargs: Any) -> Any:
        seen.append(kwargs.get("seeds"))
        return real(*args, **kwargs)

    monkeypatch.setattr(checks, "raise_alarms", spy)
    compared = 0
    for n in range(14):
        for item in claim(db, exam, e3, size=4, group="short"):
            if item.check_id is None:
                submit_mark(db, exam, e3, response_id=item.response_id, value=f.middle(item))
                continue
            value = Decimal(n % 3)  # some within tolerance, some beyond
            checks.submit_check(db, exam, e3, check_id=item.check_id, value=value)
            fed = seen[-1]
            if fed is not None:  # PostgreSQL's read (SQLite reads after the mark, in the rule)
                assert fed == recent_seeds(db, e3.id, group(exam, "short").id)
                assert fed[0].check_id == item.check_id and fed[0].given == value
                compared += 1
    if db.get_bind().dialect.name == "postgresql":
        assert compared >= 11  # past the rule's window of 10
    else:
        assert seen and all(s is None for s in seen)


def test_seed_marks_off_the_definitive_raise_one_alarm_with_evidence(
    db: Session, tmp_path: Path
) -> None:
    exam = seeded_short(db, tmp_path, "CK-10", 12)
    e3 = account(db, "e3")
    seeds_marked = 0
    for _ in range(15):
        for item in claim(db, exam, e3, size=4):
            if item.check_id is not None:
                check = db.get(CheckMark, item.check_id)
                assert check is not None
                off = Decimal(6) if check.expected < 3 else Decimal(0)  # 3+ beyond tolerance 1
                checks.submit_check(db, exam, e3, check_id=item.check_id, value=off)
                seeds_marked += 1
            else:
                submit_mark(db, exam, e3, response_id=item.response_id, value=f.middle(item))
    assert seeds_marked >= 3
    alarms = db.scalars(select(CheckAlarm).where(CheckAlarm.examiner_id == e3.id)).all()
    kinds = [a.kind for a in alarms]
    assert kinds.count(AlarmKind.SEEDS_OFF) == 1  # one open alarm per kind, not one per seed
    evidence = next(a for a in alarms if a.kind is AlarmKind.SEEDS_OFF).evidence
    assert evidence["beyond"] >= 3 and len(evidence["seeds"]) <= 10
    assert db.scalar(
        select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "alarm")
    ) == len(alarms)
    # The steady examiners raised none.
    assert not db.scalars(select(CheckAlarm).where(CheckAlarm.examiner_id != e3.id)).all()
    # The ledger with its check_mark and alarm entries verifies (`blindmark verify`).
    report = verify(db, exam)
    assert not report.problems, report.problems
