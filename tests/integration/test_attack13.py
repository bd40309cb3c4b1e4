"""Attacks on quality control while marking (issue 13): an examiner telling a check from live
work, checks marked twice or raced, qualification gamed, monitoring leaking."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.queue.claims import claim
from marking.store.models import Mark
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
