"""The queue is fair (DESIGN §4): a bounded hold per examiner and group, a random order fixed
at intake and entered at a random point, and an examiner's progress that tells them nothing
of how their marks reconciled."""

from __future__ import annotations

import dataclasses
import random
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.domain.definition import parse_session_definition
from marking.errors import InputErrors
from marking.people.accounts import get_account
from marking.queue.claims import QUEUE_KEYS, HoldLimit, claim
from marking.queue.handback import release
from marking.queue.marks import submit_mark
from marking.read import views
from marking.setup.assignment import get_group
from marking.store.models import Lease, LeaseState, Response, Script
from tests.integration import factory as f


def test_one_examiner_cannot_take_a_whole_session_by_claiming_again_and_again(
    db: Session, tmp_path: Path
) -> None:
    tiny = f.tiny_session(db, tmp_path, "FAIR-1", n=30)  # 30 responses in each of two groups
    exam, e1 = tiny.exam, get_account(db, "e1")
    taken = []
    for _ in range(4):
        taken += claim(db, exam, e1, size=10)
    with pytest.raises(HoldLimit, match=r"简答题 \(20\)、实操题 \(20\); mark or hand back") as full:
        claim(db, exam, e1, size=10)
    assert full.value.code == "hold_limit"  # worded in the reader's language on a screen

    assert [sum(1 for i in taken if i.group == g) for g in ("short", "prac")] == [20, 20]
    held = db.scalars(
        select(Lease.id).where(Lease.examiner_id == e1.id, Lease.state == LeaseState.HELD)
    ).all()
    assert len(held) == 40
    # The same holds for a claim of a hundred at once.
    assert len(claim(db, exam, get_account(db, "e2"), size=100)) == 40

    # Marking or handing back makes room again, one for one.
    short = [i for i in taken if i.group == "short"]
    submit_mark(db, exam, e1, response_id=short[0].response_id, value=f.middle(short[0]))
    release(db, exam, e1, response_id=short[1].response_id)
    again = claim(db, exam, e1, size=100)
    assert [i.group for i in again] == ["short", "short"]


def test_a_group_may_set_its_own_hold_limit(db: Session, tmp_path: Path) -> None:
    toml = f.tiny_toml("FAIR-2").replace(
        'name = "简答题"\nmarks_required = 2', 'name = "简答题"\nmarks_required = 2\nmax_held = 3'
    )
    definition = parse_session_definition(toml)
    assert {g.key: g.max_held for g in definition.groups} == {"short": 3, "prac": 20}
    for bad in ("0", "101", '"5"'):
        with pytest.raises(InputErrors, match="max_held"):
            parse_session_definition(toml.replace("max_held = 3", f"max_held = {bad}"))

    f.add_staff(db)
    f.add_examiners(db, tmp_path, "e1")
    exam, _keys = f.new_session(db, tmp_path, toml)
    roster = f.people(6)
    f.take_in(db, exam, tmp_path / "batch", roster, f.tiny_rows(roster))
    f.open_marking(db, exam, {"short": ["e1"], "prac": ["e1"]})
    assert get_group(db, exam, "short").max_held == 3

    got = claim(db, exam, get_account(db, "e1"), size=100)
    assert sorted(i.group for i in got).count("short") == 3
    assert sorted(i.group for i in got).count("prac") == 6


def queue_of(db: Session, exam: object, group: str) -> list[tuple[int, int]]:
    """(queue key, response id) of a group's responses, in queue order."""
    return sorted(
        (key, rid)
        for key, rid in db.execute(
            select(Response.queue_key, Response.id)
            .join(Script, Script.id == Response.script_id)
            .where(Script.session_id == exam.id, Response.group_id == get_group(db, exam, group).id)  # type: ignore[attr-defined]
        )
    )


def test_the_queue_order_is_random_and_fixed_at_intake(db: Session, tmp_path: Path) -> None:
    tiny = f.tiny_session(db, tmp_path, "FAIR-3", n=40)
    order = queue_of(db, tiny.exam, "short")
    keys = [k for k, _r in order]
    ids = [r for _k, r in order]
    assert len(set(keys)) == 40 and all(0 <= k < QUEUE_KEYS for k in keys)
    # Not the order of the rows (which follows scripts, and so batches): drawn at random.
    assert ids != sorted(ids) and ids != sorted(ids, reverse=True)
    f.mark_all(db, tiny.exam, ["e1", "e2"], size=7)
    assert queue_of(db, tiny.exam, "short") == order  # fixed: marking does not reorder it


class Fixed(random.Random):
    """A random source that starts every claim at one given point of the queue."""

    def __init__(self, start: int) -> None:
        super().__init__(0)
        self.start = start

    def randrange(self, *_args: object, **_kwargs: object) -> int:  # type: ignore[override]
        return self.start


def test_a_claim_reads_the_queue_from_a_random_point_and_wraps_around(
    db: Session, tmp_path: Path
) -> None:
    tiny = f.tiny_session(db, tmp_path, "FAIR-4", n=12, examiners=("e1",))
    order = queue_of(db, tiny.exam, "short")
    start = order[8][0]  # four from the end of the queue

    got = claim(db, tiny.exam, get_account(db, "e1"), size=6, rng=Fixed(start))

    # From the start onward to the end of the queue, then from its beginning (a batch is
    # shown in queue order).
    assert [i.response_id for i in got] == [rid for _k, rid in order[:2] + order[8:]]


def test_two_examiners_claiming_together_do_not_get_the_same_responses(
    db: Session, tmp_path: Path
) -> None:
    """Two examiners who agree to claim at the same moment, hoping to be each other's
    second marker: before, the queue handed both the same batch, in the same order."""
    tiny = f.tiny_session(db, tmp_path, "FAIR-5", n=40)
    exam = tiny.exam
    first = claim(db, exam, get_account(db, "e1"), size=5, rng=random.Random(1))
    second = claim(db, exam, get_account(db, "e2"), size=5, rng=random.Random(2))
    overlap = {i.response_id for i in first} & {i.response_id for i in second}
    assert len(overlap) < 5


def test_an_examiners_progress_does_not_tell_whether_their_mark_agreed(
    db: Session, tmp_path: Path
) -> None:
    """e1 marks; then e2 marks the same response within tolerance (final) in one session and
    beyond it (third mark needed) in the other. e1's view never moves either way."""
    seen = {}
    for code, second in (("FAIR-6", Decimal(2)), ("FAIR-7", Decimal(6))):
        tiny = f.tiny_session(db, tmp_path, code, n=1)
        exam = tiny.exam
        e1, e2 = get_account(db, "e1"), get_account(db, "e2")
        mine = next(i for i in claim(db, exam, e1, size=100) if i.group == "short")
        submit_mark(db, exam, e1, response_id=mine.response_id, value=Decimal(2))
        before = views.examiner_groups(db, exam, e1)
        for item in claim(db, exam, e2, size=100):
            if item.response_id == mine.response_id:
                submit_mark(db, exam, e2, response_id=item.response_id, value=second)
            else:
                release(db, exam, e2, response_id=item.response_id)
        after = views.examiner_groups(db, exam, e1)
        assert after == before, code
        seen[code] = [dataclasses.replace(g, key="", name="") for g in after]
    assert seen["FAIR-6"] == seen["FAIR-7"]
    assert "final" not in {fld.name for fld in dataclasses.fields(views.ExaminerGroup)}
