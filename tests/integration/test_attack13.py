"""Attacks on quality control while marking (issue 13): an examiner telling a check from live
work, checks marked twice or raced, qualification gamed, monitoring leaking."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.queue.claims import claim
from marking.store.models import Mark, Response
from tests.integration import factory as f
from tests.integration.marking_helpers import account
from tests.integration.test_checks import finals_of, finish_some, make_seeds, mark_turn, rates


def test_a_batch_with_a_check_in_it_is_no_longer_than_the_batch_asked_for(
    db: Session, tmp_path: Path
) -> None:
    """Claiming one response at a time, a batch of two would say its first is a seed."""
    exam = f.tiny_session(db, tmp_path, "AT-1", n=80, examiners=("e1", "e2", "e3")).exam
    rates(db, exam)
    finish_some(db, exam, ("e1", "e2"), "short", 12)
    make_seeds(db, exam, "short", finals_of(db, exam, "short"))
    for g in exam.groups:
        g.seed_rate = Decimal("0.5")  # W = 2
    db.flush()
    e3 = account(db, "e3")
    mine = set(db.scalars(select(Mark.response_id).where(Mark.examiner_id == e3.id)))
    assert not mine
    seen_check = False
    for size in (1, 1, 1, 1, 1, 1, 3, 3, 3):
        batch = claim(db, exam, e3, size=size)
        assert len(batch) <= size, [i.check_id for i in batch]
        seen_check = seen_check or any(i.check_id is not None for i in batch)
        for item in batch:
            from marking.quality import checks
            from marking.queue.marks import submit_mark

            if item.check_id is not None:
                checks.submit_check(db, exam, e3, check_id=item.check_id, value=f.middle(item))
            else:
                submit_mark(db, exam, e3, response_id=item.response_id, value=f.middle(item))
    assert seen_check
    _ = mark_turn


def test_a_seed_and_a_remark_due_in_a_batch_of_one_stay_owed_and_the_ledger_verifies(
    db: Session, tmp_path: Path
) -> None:
    from marking.audit.verify import verify
    from marking.quality import checks
    from marking.queue.marks import submit_mark
    from marking.store.models import Assignment, Lease
    from marking.store.models.checks import CheckMark, CheckPurpose

    exam = f.tiny_session(db, tmp_path, "AT-2", n=80, examiners=("e1", "e2", "e3")).exam
    rates(db, exam)
    finish_some(db, exam, ("e1", "e2"), "short", 12)
    make_seeds(db, exam, "short", finals_of(db, exam, "short"))
    for g in exam.groups:
        g.seed_rate = g.remark_rate = Decimal("0.5")
    db.flush()
    e3 = account(db, "e3")
    for _ in range(60):
        batch = claim(db, exam, e3, size=1)
        assert len(batch) <= 1
        for item in batch:
            if item.check_id is not None:
                checks.submit_check(db, exam, e3, check_id=item.check_id, value=f.middle(item))
            else:
                submit_mark(db, exam, e3, response_id=item.response_id, value=f.middle(item))
    made = db.scalars(select(CheckMark.purpose).where(CheckMark.examiner_id == e3.id)).all()
    assert CheckPurpose.SEED in made and CheckPurpose.REMARK in made
    # The examiner's count of live responses handed out is what the leases say.
    for a in db.scalars(select(Assignment).where(Assignment.examiner_id == e3.id)):
        leases = db.scalars(
            select(Lease.id)
            .join(Response, Response.id == Lease.response_id)
            .where(Lease.examiner_id == e3.id, Response.group_id == a.group_id)
        ).all()
        assert a.handed == len(leases)
    report = verify(db, exam)
    assert not report.problems, report.problems
