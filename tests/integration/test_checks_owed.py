"""A seed or 回评 that goes back unmarked is owed again (DESIGN §13: one in every window of
1/rate places, never a long run without)."""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.quality import checks
from marking.queue import handback
from marking.queue.claims import Claimed, claim
from marking.queue.marks import submit_mark
from marking.store.models import Assignment
from tests.integration import factory as f
from tests.integration.marking_helpers import T0, account
from tests.integration.test_checks import MIN, finals_of, finish_some, group, make_seeds, rates


@pytest.mark.parametrize("how", ["handed back", "expired"])
def test_a_seed_handed_back_or_let_expire_is_owed_again_at_once(
    db: Session, tmp_path: Path, how: str
) -> None:
    """One seed in every window of 1/seed_rate places: a seed the examiner hands back (or
    lets expire) unmarked comes again with their next claim, another seed, instead of
    waiting for the next window (which would leave up to three windows without one)."""
    exam = f.tiny_session(db, tmp_path, "CK-OWE", n=60, examiners=("e1", "e2", "e3")).exam
    rates(db, exam)
    finish_some(db, exam, ("e1", "e2"), "short", 6)
    make_seeds(db, exam, "short", finals_of(db, exam, "short"))
    group(exam, "short").seed_rate = Decimal("0.1")  # W = 10
    db.flush()
    e3, rng = account(db, "e3"), random.Random(7)

    def one(now: dt.datetime) -> Claimed:
        (item,) = claim(db, exam, e3, size=1, group="short", now=now, rng=rng)
        return item

    for _ in range(10):  # one place at a time, marked, until the first window's seed comes
        item = one(T0)
        if item.check_id is not None:
            break
        submit_mark(db, exam, e3, response_id=item.response_id, value=f.middle(item), now=T0)
    assert item.check_id is not None
    schedule = db.scalars(
        select(Assignment).where(
            Assignment.examiner_id == e3.id, Assignment.group_id == group(exam, "short").id
        )
    ).one()
    assert schedule.seed_due is not None and schedule.seed_due >= 10  # the next window's
    later = T0
    if how == "handed back":
        handback.release_held(db, examiner_id=e3.id)
    else:
        later = item.expires_at + MIN
        assert checks.expire_checks(db, exam, now=later) == 1  # the sweep
    again = one(later)
    assert again.check_id is not None and again.response_id != item.response_id
    db.refresh(schedule)
    assert schedule.seed_due >= 10  # and the window after it keeps its own
