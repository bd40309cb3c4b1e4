"""The examiner's counts on their home page (DESIGN §13): they move alike whether a batch
holds a check or not, so none of them says which batch did."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from marking.quality import checks
from marking.queue.claims import claim
from marking.queue.marks import submit_mark
from marking.read.views import examiner_groups
from marking.store.models import Account, ExamSession
from tests.integration import factory as f
from tests.integration.marking_helpers import account
from tests.integration.test_checks import one_seed


def counts(db: Session, exam: ExamSession, who: Account) -> tuple[int, int, int]:
    [row] = [g for g in examiner_groups(db, exam, who) if g.key == "short"]
    return row.held, row.available, row.my_marks


def test_the_available_count_moves_alike_with_a_check_in_the_batch(
    db: Session, tmp_path: Path
) -> None:
    exam, _source = one_seed(db, tmp_path, "EC-1", ("e1", "e2", "e3"))  # in the next batch
    e3 = account(db, "e3")
    held, available, mine = counts(db, exam, e3)
    assert (held, mine) == (0, 0) and available >= 3
    batch = claim(db, exam, e3, size=3)
    assert len(batch) == 3 and sum(i.check_id is not None for i in batch) == 1
    # As an all-live batch of 3 would: 3 held, 3 fewer available (not 2).
    assert counts(db, exam, e3) == (3, available - 3, 0)
    for n, item in enumerate(batch, start=1):
        if item.check_id is not None:
            checks.submit_check(db, exam, e3, check_id=item.check_id, value=f.middle(item))
        else:
            submit_mark(db, exam, e3, response_id=item.response_id, value=f.middle(item))
        assert counts(db, exam, e3) == (3 - n, available - 3, n)  # a mark moves no other count
