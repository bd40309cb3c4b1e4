"""A seed or 回评 handed back, or left to expire, comes back as live work does (DESIGN §13):
as itself, when the live response it displaced would have, and handing back brings no check
nearer. Found by a tester: handles that came back were live work and the ones seen once were
the checks, and a loop of hand-backs used up a group's seeds without a mark."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marking.quality import checks
from marking.quality.items import retire_item
from marking.queue.claims import Claimed, claim
from marking.queue.handback import release
from marking.queue.leases import DEFAULT_LEASE
from marking.queue.marks import submit_mark
from marking.store.models import (
    Account,
    ExamSession,
    Exclusion,
    Lease,
    LeaseState,
    Response,
    utcnow,
)
from marking.store.models.checks import CheckItem, CheckMark
from tests.integration import factory as f
from tests.integration.marking_helpers import account
from tests.integration.test_checks import (
    MIN,
    finals_of,
    finish_some,
    group,
    make_seeds,
    one_seed,
    rates,
)


def _hand_back(db: Session, exam: ExamSession, who: Account, batch: list[Claimed]) -> None:
    for item in batch:
        if item.check_id is None:
            release(db, exam, who, response_id=item.response_id)
        else:
            checks.release_check(db, exam, who, check_id=item.check_id)


def _shown(item: Claimed) -> tuple[str, int]:
    """What tells one item of a batch from another: its handle's target."""
    return ("check", item.check_id) if item.check_id is not None else ("live", item.response_id)


def test_a_check_handed_back_comes_back_as_itself_with_its_batch(
    db: Session, tmp_path: Path
) -> None:
    """The whole group fits in one batch, so every live response handed back comes back in
    the next: the check must too, under the same handle, with the same text; never a fresh
    check, never the response it displaced."""
    exam, _source = one_seed(db, tmp_path, "HB-1", ("e1", "e2", "e3"))
    e3 = account(db, "e3")
    # All the short group's responses e3 may take (the hold limit is 20): not the finals.
    first = claim(db, exam, e3, size=20, group="short")
    everything = len(first)
    assert 10 <= everything < 20
    (seed,) = [i for i in first if i.check_id is not None]
    rounds = [first]
    for _ in range(4):
        _hand_back(db, exam, e3, rounds[-1])
        rounds.append(claim(db, exam, e3, size=everything, group="short"))
    # Every item shown came back in every round: no handle is seen once.
    seen = Counter(_shown(item) for batch in rounds for item in batch)
    assert set(seen.values()) == {len(rounds)}
    for batch in rounds[1:]:
        (again,) = [i for i in batch if i.check_id is not None]
        assert again == replace(seed, expires_at=again.expires_at)  # handle, text, all
    # One check made, for the one seed, however often handed back.
    made = db.scalar(select(func.count()).where(CheckMark.examiner_id == e3.id))
    assert made == 1
    # It is held, and marked as any check, while the response it displaced is not held.
    checks.submit_check(db, exam, e3, check_id=seed.check_id, value=f.middle(seed))  # type: ignore[arg-type]
    held = db.scalar(
        select(func.count()).where(Lease.examiner_id == e3.id, Lease.state == LeaseState.HELD)
    )
    assert held == everything - 1
    assert sum(r.held for r in db.scalars(select(Response))) == everything - 1


def test_an_expired_check_comes_back_as_itself(db: Session, tmp_path: Path) -> None:
    exam, _source = one_seed(db, tmp_path, "HB-2", ("e1", "e2", "e3"))
    e3 = account(db, "e3")
    now = utcnow()
    first = claim(db, exam, e3, size=20, group="short", now=now)
    assert len(first) < 20  # all it could take
    (seed,) = [i.check_id for i in first if i.check_id is not None]
    later = now + DEFAULT_LEASE + MIN  # all of it left to expire
    again = claim(db, exam, e3, size=20, group="short", now=later)
    assert [i.check_id for i in again if i.check_id is not None] == [seed]
    assert {_shown(i) for i in again} == {_shown(i) for i in first}
    checks.submit_check(db, exam, e3, check_id=seed, value="1", now=later)


def test_handing_back_and_claiming_again_uses_up_no_seeds(db: Session, tmp_path: Path) -> None:
    """A loop of claim and hand back, marking nothing: at most the first window's check is
    made (the places given up are counted off the schedule); then marking brings one seed
    in every 10 places, as it would have without the loop."""
    exam = f.tiny_session(db, tmp_path, "HB-3", n=80, examiners=("e1", "e2", "e3")).exam
    rates(db, exam)
    finish_some(db, exam, ("e1", "e2"), "short", 12)
    make_seeds(db, exam, "short", finals_of(db, exam, "short"))
    group(exam, "short").seed_rate = Decimal("0.1")  # W = 10
    db.flush()
    e3 = account(db, "e3")
    shown: set[int] = set()
    for _ in range(20):  # 80 places handed out and back: 8 seeds before the fix
        batch = claim(db, exam, e3, size=4, group="short")
        shown |= {i.check_id for i in batch if i.check_id is not None}
        _hand_back(db, exam, e3, batch)
    assert len(shown) <= 1
    made = db.scalar(select(func.count()).where(CheckMark.examiner_id == e3.id))
    assert made == len(shown)
    # Marking now: a check in each block of 10 places kept (the first block's check was made
    # in the loop, if it fell in its first 4 places: it comes back with its displaced
    # response, wherever the queue brings that).
    places: list[bool] = []
    while len(places) < 40:
        for item in claim(db, exam, e3, size=4, group="short"):
            places.append(item.check_id is not None)
            if item.check_id is not None:
                checks.submit_check(db, exam, e3, check_id=item.check_id, value=f.middle(item))
            else:
                submit_mark(db, exam, e3, response_id=item.response_id, value=f.middle(item))
    blocks = [sum(places[i : i + 10]) for i in range(0, 40, 10)]
    assert all(n >= 1 for n in blocks[1:]) and sum(blocks) <= 4 + len(shown), blocks


def test_a_check_handed_back_stays_away_once_it_may_not_be_shown(
    db: Session, tmp_path: Path
) -> None:
    """Its seed retired by the lead, or its script one the examiner is now excluded from: the
    response it displaced comes back live, the check never."""
    exam, source = one_seed(db, tmp_path, "HB-4", ("e1", "e2", "e3", "e4"))
    e3, e4, lead = account(db, "e3"), account(db, "e4"), account(db, "lead")
    lost = {}
    for who in (e3, e4):
        batch = claim(db, exam, who, size=20, group="short")
        (check,) = [i for i in batch if i.check_id is not None]
        lost[who.id] = db.get(CheckMark, check.check_id)
        _hand_back(db, exam, who, batch)
    item = db.scalar(select(CheckItem).where(CheckItem.response_id == source))
    assert item is not None
    retire_item(db, exam, lead, item_id=item.id)  # e3's seed goes out of use
    script_id = db.get(Response, source).script_id  # type: ignore[union-attr]
    db.add(Exclusion(script_id=script_id, examiner_id=e4.id))  # e4 may no longer see it
    db.flush()
    for who in (e3, e4):
        again = claim(db, exam, who, size=20, group="short")
        assert all(i.check_id is None for i in again)
        displaced = lost[who.id].displaced_id
        assert displaced in {i.response_id for i in again}  # back as live work
        _hand_back(db, exam, who, again)  # and free for the next examiner to take
