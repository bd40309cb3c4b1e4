"""Checks keep their secrets (DESIGN §13): a response shown to an examiner as a check never
comes to them live (a qualification item whose definitive mark they saw, a seed whose
source was reopened), the lead is told when that leaves a response short of examiners; a
retry draws items not yet seen; the set in use is never retired below its size."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.errors import StateError
from marking.quality import checks, decisions, items, qualification, suspension
from marking.queue.claims import claim
from marking.queue.corrections import correct_mark
from marking.queue.handback import release
from marking.setup.assignment import approve_scheme
from marking.store.models import (
    Account,
    ExamSession,
    Mark,
    MarkingGroup,
    Response,
    ResponseState,
)
from marking.store.models.checks import CheckPurpose
from tests.integration import factory as f
from tests.integration.marking_helpers import account
from tests.integration.test_checks import (
    group,
    one_seed,
    qualification_set,
    rates,
)


def short_ids(db: Session, exam: ExamSession, who: Account, *, size: int = 20) -> set[int]:
    """The live short-group responses a claim gives ``who`` (everything handed back after)."""
    got = claim(db, exam, who, size=size)
    for item in got:
        if item.check_id is None:
            release(db, exam, who, response_id=item.response_id)
        else:
            checks.release_check(db, exam, who, check_id=item.check_id)
    return {i.response_id for i in got if i.group == "short" and i.check_id is None}


def with_a_set(db: Session, tmp_path: Path, code: str, size: int, pool: int) -> ExamSession:
    """A tiny session whose short group asks for a set of ``size`` (all within tolerance to
    pass) and has ``pool`` items of definitive mark 2, its scheme approved."""
    tiny = f.tiny_session(db, tmp_path, code, n=6, examiners=("e1", "e2", "e3"), open_groups=False)
    exam = tiny.exam
    for g in exam.groups:
        lead = "lead" if g.key == "short" else None
        f.assign(db, exam, g, ["e1", "e2", "e3"], actor=f.ACTOR, lead=lead)
    short = group(exam, "short")
    short.qualification_size, short.qualification_within = size, Decimal(1)
    rates(db, exam)
    qualification_set(db, exam, "short", pool)
    for g in exam.groups:
        approve_scheme(db, exam, g, by="lead")
    return exam


def attempt(db: Session, exam: ExamSession, who: Account, value: str) -> list[int]:
    """``who`` takes the short group's set, every item marked ``value``; the responses."""
    batch = qualification.start_qualification(db, exam, who, group=group(exam, "short"))
    for item in batch:
        assert item.check_id is not None
        checks.submit_check(db, exam, who, check_id=item.check_id, value=value)
    return [i.response_id for i in batch]


def not_items(db: Session, g: MarkingGroup) -> list[int]:
    """The group's responses no item was made of, in id order."""
    return list(
        db.scalars(
            select(Response.id)
            .where(Response.group_id == g.id, ~Response.check_source)
            .order_by(Response.id)
        )
    )


def reopen(db: Session, exam: ExamSession, source: int) -> None:
    """The lead corrects a mark on ``source`` 2 apart from the other: open for a third mark."""
    marker = db.scalars(
        select(Account)
        .join(Mark, Mark.examiner_id == Account.id)
        .where(Mark.response_id == source)
        .order_by(Account.username)
    ).first()
    assert marker is not None
    value = db.scalar(select(Mark.value).where(Mark.response_id == source))
    assert value is not None
    correct_mark(
        db,
        exam,
        account(db, "lead"),
        response_id=source,
        examiner=marker,
        value=value + 2 if value + 2 <= 6 else value - 2,
        reason="复核",
    )
    assert db.get(Response, source).state is ResponseState.OPEN  # type: ignore[union-attr]


def override(db: Session, exam: ExamSession, who: Account) -> None:
    decisions.override_qualification(
        db, exam, account(db, "lead"), examiner=who, group=group(exam, "short"), reason="经验丰富"
    )


# --- 1. a qualification item whose definitive mark was shown --------------------------------


def test_an_examiner_shown_a_definitive_mark_never_gets_that_response_live(
    db: Session, tmp_path: Path
) -> None:
    exam = with_a_set(db, tmp_path, "HO-1", size=1, pool=1)
    e1, e2, e3 = (account(db, u) for u in ("e1", "e2", "e3"))
    [item] = attempt(db, exam, e1, "6")  # failed: the review shows e1 the definitive 2
    assert qualification.review(db, exam, e1, group(exam, "short"))[0].definitive == 2
    override(db, exam, e1)
    assert attempt(db, exam, e2, "2") == [item]  # passed: shown nothing
    mine, theirs = short_ids(db, exam, e1), short_ids(db, exam, e2)
    assert len(mine) == 5 and item not in mine  # every other short response, not that one
    assert item in theirs

    # With e3 shown it too, e2 alone is left to give it two marks: the lead is told.
    assert suspension.short_groups(db, exam) == {}
    attempt(db, exam, e3, "6")
    override(db, exam, e3)
    assert suspension.short_groups(db, exam) == {"short": (3, 1)}


# --- 2. a retry draws items not seen ------------------------------------------------------------


def test_a_retry_draws_the_items_the_examiner_has_not_been_shown(
    db: Session, tmp_path: Path
) -> None:
    exam = with_a_set(db, tmp_path, "HO-2", size=2, pool=3)  # more items than one attempt
    short = group(exam, "short")
    pool = [i.response_id for i in qualification.active_items(db, short)]
    e1 = account(db, "e1")
    first = attempt(db, exam, e1, "6")
    assert first == pool[:2]
    assert not qualification.fresh_retry(db, short)  # 3 items: a retry repeats one
    second = qualification.start_qualification(db, exam, e1, group=short)
    assert [i.response_id for i in second] == [pool[2], pool[0]]  # the unseen one first

    lead = account(db, "lead")
    extra = not_items(db, short)[0]
    items.add_item(db, exam, lead, response_id=extra, purpose=CheckPurpose.QUALIFICATION, value=2)
    assert qualification.fresh_retry(db, short)
    e2 = account(db, "e2")
    attempt(db, exam, e2, "6")
    again = qualification.start_qualification(db, exam, e2, group=short)
    assert {i.response_id for i in again}.isdisjoint(pool[:2])


# --- 3. the set in use is not retired below its size -------------------------------------------


def test_a_set_in_use_is_not_retired_below_its_size(db: Session, tmp_path: Path) -> None:
    tiny = f.tiny_session(db, tmp_path, "HO-3", n=4, examiners=("e1", "e2"), open_groups=False)
    exam = tiny.exam
    short = group(exam, "short")
    f.assign(db, exam, short, ["e1", "e2"], actor=f.ACTOR, lead="lead")
    short.qualification_size = 2
    made = qualification_set(db, exam, "short", 2)
    lead = account(db, "lead")
    # Not in use yet: the lead may rearrange it; approval asks for it whole again.
    items.retire_item(db, exam, lead, item_id=made[0].id)
    with pytest.raises(StateError, match="qualification set of 2"):
        approve_scheme(db, exam, short, by="lead")
    spare = not_items(db, short)
    items.add_item(
        db, exam, lead, response_id=spare[0], purpose=CheckPurpose.QUALIFICATION, value=2
    )
    approve_scheme(db, exam, short, by="lead")
    in_force = qualification.active_items(db, short)
    with pytest.raises(StateError) as refused:
        items.retire_item(db, exam, lead, item_id=in_force[0].id)
    assert refused.value.code == "qualification_retire_short"
    assert len(qualification.active_items(db, short)) == 2
    items.add_item(
        db, exam, lead, response_id=spare[1], purpose=CheckPurpose.QUALIFICATION, value=2
    )
    items.retire_item(db, exam, lead, item_id=in_force[0].id)  # one more first: then it goes
    assert len(qualification.active_items(db, short)) == 2


# --- 4. a seed whose source is reopened --------------------------------------------------------


def test_a_reopened_seed_source_never_goes_live_to_an_examiner_shown_it(
    db: Session, tmp_path: Path
) -> None:
    exam, source = one_seed(db, tmp_path, "HO-4", ("e1", "e2", "e3", "e4"))
    short = group(exam, "short")
    e3 = account(db, "e3")
    shown = claim(db, exam, e3, size=1)
    assert [(i.response_id, i.check_id is not None) for i in shown] == [(source, True)]
    assert shown[0].check_id is not None
    checks.submit_check(db, exam, e3, check_id=shown[0].check_id, value="3")
    short.seed_rate = Decimal(0)
    db.flush()

    reopen(db, exam, source)
    assert db.get(Response, source).state is ResponseState.OPEN  # type: ignore[union-attr]
    assert source not in short_ids(db, exam, e3, size=40)
    assert source in short_ids(db, exam, account(db, "e4"), size=40)
