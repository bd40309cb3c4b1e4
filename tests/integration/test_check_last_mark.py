"""The examiner's "correct my last mark" after a seed or 回评 (DESIGN §13): a check answers
as the live response it displaced would have, so the box says nothing of which item was
the check."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from marking.errors import MarkingError
from marking.quality import checks
from marking.quality import corrections as checks_corrections
from marking.quality.corrections import last_mark
from marking.queue.claims import Claimed, claim
from marking.queue.corrections import correct_mark
from marking.queue.marks import InvalidMark, submit_mark
from marking.store.models import ExamSession
from tests.integration import factory as f
from tests.integration.marking_helpers import account
from tests.integration.test_checks import group, one_seed


def e3_batch_after_e1(db: Session, tmp_path: Path, code: str) -> tuple[ExamSession, list[Claimed]]:
    """A session with one seed, e1's first mark (the middle) on every response of the short
    group left, and e3's batch of 4 from it: the seed and 3 live responses."""
    exam, _source = one_seed(db, tmp_path, code, ("e1", "e2", "e3"))
    e1 = account(db, "e1")
    while batch := claim(db, exam, e1, size=20, group="short"):
        for item in batch:
            assert item.check_id is None  # e1 marked the seed's source: never shown it
            submit_mark(db, exam, e1, response_id=item.response_id, value=f.middle(item))
    batch = claim(db, exam, account(db, "e3"), size=4, group="short")
    assert len(batch) == 4 and sum(i.check_id is not None for i in batch) == 1
    return exam, batch


def boxes_after_each(
    db: Session, exam: ExamSession, batch: list[Claimed], value: dict[bool, Decimal | None]
) -> list[tuple[bool, bool]]:
    """e3 marks the batch in its order (a check with ``value[True]``, live work with
    ``value[False]``, the middle for None); after each, (was it the check, is the last-mark
    box showing anything)."""
    e3 = account(db, "e3")
    seen = []
    for item in batch:
        is_check = item.check_id is not None
        given = value[is_check]
        v = f.middle(item) if given is None else given
        if item.check_id is not None:
            checks.submit_check(db, exam, e3, check_id=item.check_id, value=v)
        else:
            submit_mark(db, exam, e3, response_id=item.response_id, value=v)
        seen.append((is_check, last_mark(db, exam, e3) is not None))
    return seen


def test_a_check_marked_as_the_last_mark_needed_is_no_more_correctable_than_live_work(
    db: Session, tmp_path: Path
) -> None:
    exam, batch = e3_batch_after_e1(db, tmp_path, "LM-1")
    # Every live item's second mark agrees with e1's and makes it final: the box shows
    # nothing after it; so after the check, which stands for such a response.
    seen = boxes_after_each(db, exam, batch, {True: None, False: None})
    assert seen.count((True, False)) == 1 and seen.count((False, False)) == 3, seen


def test_a_check_whose_mark_would_have_called_for_a_third_stays_correctable(
    db: Session, tmp_path: Path
) -> None:
    exam, batch = e3_batch_after_e1(db, tmp_path, "LM-2")
    # Marks far from e1's: a live response then waits for a third mark and its mark stays
    # correctable, and so does the check's.
    seen = boxes_after_each(db, exam, batch, {True: Decimal(0), False: Decimal(0)})
    assert seen == [(i.check_id is not None, True) for i in batch]


def test_a_check_stays_correctable_while_the_response_it_stands_for_is_not_final(
    db: Session, tmp_path: Path
) -> None:
    """A tester marked on and then corrected each earlier item: live work stayed correctable
    until its response was final (others' marks), a check closed at the next mark. Now a
    check closes when the response it displaced is final, as the live mark would have."""
    exam, _source = one_seed(db, tmp_path, "LM-3", ("e1", "e2", "e3"))
    e3 = account(db, "e3")
    batch = claim(db, exam, e3, size=4, group="short")
    assert sum(i.check_id is not None for i in batch) == 1
    for item in batch:  # 0, far from any mark given before (the middle): none final
        if item.check_id is not None:
            checks.submit_check(db, exam, e3, check_id=item.check_id, value=Decimal(0))
        else:
            submit_mark(db, exam, e3, response_id=item.response_id, value=Decimal(0))

    def correct(item: Claimed) -> BaseException:
        with pytest.raises(MarkingError) as refused:
            if item.check_id is not None:
                checks_corrections.correct_check(
                    db, exam, e3, check_id=item.check_id, value="999", reason="复核"
                )
            else:
                correct_mark(db, exam, e3, response_id=item.response_id, value="999", reason="复核")
        return refused.value

    # Every one still open to a correction: refused only for the value, alike.
    first = [correct(item) for item in batch]
    assert {type(c) for c in first} == {InvalidMark}, [str(c) for c in first]
    # Others finish the group (the displaced response with it): all closed, alike.
    group(exam, "short").seed_rate = Decimal(0)
    for who in ("e1", "e2"):
        while more := claim(db, exam, account(db, who), size=20, group="short"):
            for item in more:
                submit_mark(
                    db, exam, account(db, who), response_id=item.response_id, value=f.middle(item)
                )
    closed = [correct(item) for item in batch]
    assert {getattr(c, "code", None) for c in closed} == {"correction_final"}, closed
    assert last_mark(db, exam, e3) is None


def test_a_check_is_not_correctable_in_an_appeal_revision(db: Session, tmp_path: Path) -> None:
    """Checks are of the first marking: in a revision, which re-marks only the responses it
    sends, a check's mark is closed as a live mark given before it is, and "correct my last
    mark" offers neither (it offered the check, whose displaced response was reopened)."""
    from marking.store.models import SessionState

    exam, _source = one_seed(db, tmp_path, "LM-4", ("e1", "e2", "e3"))
    e3 = account(db, "e3")
    [check] = [i for i in claim(db, exam, e3, size=3, group="short") if i.check_id is not None]
    assert check.check_id is not None
    checks.submit_check(db, exam, e3, check_id=check.check_id, value=Decimal(0))
    exam.state, exam.open_revision = SessionState.PUBLISHED, 2  # an appeal revision open
    db.flush()
    with pytest.raises(MarkingError) as refused:
        checks_corrections.correct_check(
            db, exam, e3, check_id=check.check_id, value="1", reason="复核"
        )
    assert getattr(refused.value, "code", None) == "correction_outside_revision"
    assert last_mark(db, exam, e3) is None or last_mark(db, exam, e3).check_id is None  # type: ignore[union-attr]
