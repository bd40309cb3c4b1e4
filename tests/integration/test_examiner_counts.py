"""The examiner's counts on their home page (DESIGN §13): they move alike whether a batch
holds a check or not, so none of them says which batch did; and there is no count of what
is left to take, which a check would move (``marking.read.views.ExaminerGroup``)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from sqlalchemy.orm import Session

from marking.quality import checks
from marking.queue.claims import claim
from marking.queue.marks import submit_mark
from marking.read.views import ExaminerGroup, examiner_groups
from marking.store.models import Account, ExamSession
from tests.integration import factory as f
from tests.integration.marking_helpers import account, takeable
from tests.integration.test_checks import one_seed


def counts(db: Session, exam: ExamSession, who: Account) -> tuple[int, int]:
    [row] = [g for g in examiner_groups(db, exam, who) if g.key == "short"]
    return row.held, row.my_marks


def test_the_counts_move_alike_with_a_check_in_the_batch(db: Session, tmp_path: Path) -> None:
    exam, _source = one_seed(db, tmp_path, "EC-1", ("e1", "e2", "e3"))  # in the next batch
    e3 = account(db, "e3")
    assert counts(db, exam, e3) == (0, 0)
    batch = claim(db, exam, e3, size=3)
    assert len(batch) == 3 and sum(i.check_id is not None for i in batch) == 1
    assert counts(db, exam, e3) == (3, 0)  # as an all-live batch of 3: 3 held (not 2)
    for n, item in enumerate(batch, start=1):
        if item.check_id is not None:
            checks.submit_check(db, exam, e3, check_id=item.check_id, value=f.middle(item))
        else:
            submit_mark(db, exam, e3, response_id=item.response_id, value=f.middle(item))
        assert counts(db, exam, e3) == (3 - n, n)


def test_no_count_of_what_is_left_is_shown_since_a_marked_check_would_move_it(
    db: Session, tmp_path: Path
) -> None:
    """What a claim could hand the examiner rises by one when they mark a seed (the live
    response it displaced is theirs to take again) and stays when they mark live work: a
    count of it on their screen would name the seed. So the screen has none."""
    exam, _source = one_seed(db, tmp_path, "EC-2", ("e1", "e2", "e3"))
    e3 = account(db, "e3")
    batch = claim(db, exam, e3, size=3)
    rises = []
    for item in batch:
        before = takeable(db, exam, e3, "short")
        if item.check_id is not None:
            checks.submit_check(db, exam, e3, check_id=item.check_id, value=f.middle(item))
        else:
            submit_mark(db, exam, e3, response_id=item.response_id, value=f.middle(item))
        rises.append((item.check_id is not None, takeable(db, exam, e3, "short") - before))
    assert sorted(rises) == [(False, 0), (False, 0), (True, 1)]
    shown = {field.name for field in dataclasses.fields(ExaminerGroup)}
    assert shown == {"key", "name", "approved", "suspended", "my_marks", "held", "qualifying"}
