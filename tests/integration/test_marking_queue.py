"""The marking engine through its services: the assembly-line queue (DESIGN §4)."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marking.demo import synthetic
from marking.intake.batch import intake_batch
from marking.queue.claims import Claimed, claim
from marking.queue.handback import flag, release
from marking.queue.leases import LeaseLost
from marking.queue.marks import InvalidMark, submit_mark
from marking.store.models import (
    AnomalyKind,
    Exclusion,
    Lease,
    LeaseState,
    LedgerEntry,
    Mark,
    MarkKind,
    Response,
    ResponseState,
    Script,
)
from tests.integration import factory as f
from tests.integration.marking_helpers import MINUTE, T0, account, count, ids, marks_on

# --- the queue (DESIGN §4) -----------------------------------------------------------------------


def test_claim_never_gives_what_was_marked_held_excluded_flagged_or_in_arbitration(
    db: Session, tmp_path: Path
) -> None:
    tiny = f.tiny_session(db, tmp_path, "Q-01", n=6, examiners=("e1", "e2", "e3", "e4"))
    exam = tiny.exam
    e1, e2, e3, e4 = (account(db, u) for u in ("e1", "e2", "e3", "e4"))
    everything = ids(claim(db, exam, e2, size=100))
    assert len(everything) == 12  # 6 candidates × one marked question in each group
    flagged, disputed = f.response_id(db, exam, "c4 theory"), f.response_id(db, exam, "c5 theory")
    flag(db, exam, e2, response_id=flagged, kind=AnomalyKind.ILLEGIBLE, note="字迹模糊")
    submit_mark(db, exam, e2, response_id=disputed, value=Decimal(0))
    for rid in everything - {flagged, disputed}:
        release(db, exam, e2, response_id=rid)
    for examiner, value in ((e3, Decimal(6)), (e4, Decimal(3))):  # 0, 6, then 3: arbitration
        for item in claim(db, exam, examiner, size=100):
            if item.response_id == disputed:
                submit_mark(db, exam, examiner, response_id=disputed, value=value)
            else:
                release(db, exam, examiner, response_id=item.response_id)
    assert f.response_of(db, exam, "c4 theory").state is ResponseState.ANOMALY
    assert f.response_of(db, exam, "c5 theory").state is ResponseState.ARBITRATION

    [held] = ids(claim(db, exam, e1, size=1))
    [marked] = ids(claim(db, exam, e1, size=1))
    assert marked != held
    submit_mark(db, exam, e1, response_id=marked, value=Decimal(2))
    excluded = next(
        rid
        for text in ("c1 theory", "c2 theory", "c3 theory", "c6 theory")
        if (rid := f.response_id(db, exam, text)) not in (held, marked)
    )
    script_id = db.get(Response, excluded).script_id  # type: ignore[union-attr]
    db.add(Exclusion(script_id=script_id, examiner_id=e1.id))
    db.flush()

    rest = ids(claim(db, exam, e1, size=100))
    assert rest == everything - {held, marked, excluded, flagged, disputed}
    assert claim(db, exam, e1, size=100) == []


def test_every_response_gets_exactly_its_marks_from_distinct_examiners(
    db: Session, tmp_path: Path
) -> None:
    f.add_staff(db)
    team_ = ["e1", "e2", "e3", "e4"]
    f.add_examiners(db, tmp_path, *team_)
    toml = synthetic.session_toml("Q-02", questions_per_component=4)
    exam, _ = f.new_session(db, tmp_path, toml)
    synthetic.write_batch(tmp_path / "b", f.people(10), synthetic.paper(4), seed=3)
    intake_batch(db, exam, tmp_path / "b", actor=f.ACTOR)
    f.open_marking(db, exam, {g.key: team_ for g in exam.groups})
    required = {g.id: g.marks_required for g in exam.groups}
    assert sorted(required.values()) == [2, 2, 2, 3]  # practical is marked three times

    marked = f.mark_all(db, exam, team_, size=2)

    rows = db.execute(
        select(Response.id, Response.group_id, Response.state, Response.held, Response.marks_done)
        .join(Script, Script.id == Response.script_id)
        .where(Script.session_id == exam.id, Response.group_id.is_not(None))
    ).all()
    assert len(rows) > 30
    for rid, group_id, state, held, done in rows:
        examiners = [u for u, _v, _k in marks_on(db, rid)]
        assert len(examiners) == required[group_id] == done, rid
        assert len(set(examiners)) == len(examiners), rid
        assert state is ResponseState.FINAL and held == 0
    assert sum(len(v) for v in marked.values()) == sum(required[g] for _r, g, *_ in rows)
    assert all(marked.values())  # the work was shared, not done by one examiner
    assert db.scalar(select(func.count()).where(Lease.state == LeaseState.HELD)) == 0
    # Every mark records its response's group (a 回评 is drawn from a group's marks by it).
    groups = db.execute(
        select(Mark.group_id, Response.group_id).join(Response, Response.id == Mark.response_id)
    ).all()
    assert groups and all(recorded == group for recorded, group in groups)


def test_what_an_examiner_sees_has_no_candidate_and_no_other_marks(
    db: Session, tmp_path: Path
) -> None:
    tiny = f.tiny_session(db, tmp_path, "Q-03")
    exam = tiny.exam
    f.mark_all(db, exam, ["e1"], lambda _item, _u: Decimal("2.5"))

    seen = claim(db, exam, account(db, "e2"), size=100, now=T0)

    assert [fld.name for fld in dataclasses.fields(Claimed)] == [
        "response_id",
        "script_code",
        "component",
        "question",
        "question_type",
        "text",
        "image_sha256",
        "max",
        "step",
        "group",
        "reference",
        "scheme",
        "expires_at",
        "blank",  # a scanned box with no ink: about the box, not its writer
        "check_id",  # a check's own row (DESIGN §13); the screens see a handle instead
    ]
    assert len(seen) == 8
    shown = repr(seen)
    for c in tiny.candidates:
        for secret in (c.exam_no, c.name, c.id_number, c.institution):
            assert secret not in shown
    assert "2.5" not in shown and "e1" not in shown  # e1's marks and name stay hidden
    theory = next(item for item in seen if item.text == "c1 theory")
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{12}", theory.script_code)
    assert (theory.component, theory.question, theory.question_type, theory.group) == (
        "theory",
        "2",
        "short_answer",
        "short",
    )
    assert (theory.max, theory.step, theory.reference) == (
        Decimal(6),
        Decimal("0.5"),
        "断电、验电、挂接地线",
    )
    assert theory.expires_at == T0 + 20 * MINUTE


def test_an_expired_lease_goes_back_to_the_queue_and_its_mark_is_refused(
    db: Session, tmp_path: Path
) -> None:
    tiny = f.tiny_session(db, tmp_path, "Q-04", n=2)
    exam = tiny.exam
    e1, e2, e3 = (account(db, u) for u in ("e1", "e2", "e3"))
    first = ids(claim(db, exam, e1, size=100, now=T0))
    assert ids(claim(db, exam, e2, size=100, now=T0 + 10 * MINUTE)) == first
    assert claim(db, exam, e3, size=100, now=T0 + 15 * MINUTE) == []  # both slots taken

    # e1's claims ran out at 09:20; e2's run to 09:30.
    assert ids(claim(db, exam, e3, size=100, now=T0 + 21 * MINUTE)) == first
    target = f.response_id(db, exam, "c1 theory")
    entries, marks = count(db, LedgerEntry), count(db, Mark)
    with pytest.raises(LeaseLost) as lost:
        submit_mark(db, exam, e1, response_id=target, value=Decimal(3), now=T0 + 22 * MINUTE)
    # In the session's time (Asia/Shanghai, UTC+8), as every time an examiner reads.
    assert str(lost.value) == (
        "your claim on this response expired at 17:20:00 and it went back to the "
        "queue; your mark was not recorded. Claim a new batch to go on."
    )
    assert (count(db, LedgerEntry), count(db, Mark)) == (entries, marks)

    # A lease past its time is dead even before anyone claims again.
    other = f.response_id(db, exam, "c2 theory")
    with pytest.raises(LeaseLost, match="this response expired at 17:30:00 and"):
        submit_mark(db, exam, e2, response_id=other, value=Decimal(3), now=T0 + 31 * MINUTE)
    assert (count(db, LedgerEntry), count(db, Mark)) == (entries, marks)

    submit_mark(db, exam, e2, response_id=target, value=Decimal(3), now=T0 + 25 * MINUTE)
    done = submit_mark(db, exam, e3, response_id=target, value=Decimal(3), now=T0 + 26 * MINUTE)
    assert (done.state, done.final) == (ResponseState.FINAL, Decimal(3))
    assert [u for u, _v, _k in marks_on(db, target)] == ["e2", "e3"]


def test_a_second_submission_and_an_unclaimed_one_are_refused(db: Session, tmp_path: Path) -> None:
    tiny = f.tiny_session(db, tmp_path, "Q-05", n=2)
    exam = tiny.exam
    e1 = account(db, "e1")
    target = f.response_id(db, exam, "c1 theory")
    with pytest.raises(LeaseLost, match="you have not claimed this response; claim a batch first"):
        submit_mark(db, exam, e1, response_id=target, value=Decimal(3))
    claim(db, exam, e1, size=100)
    submit_mark(db, exam, e1, response_id=target, value=Decimal(3))

    with pytest.raises(LeaseLost, match="you have already marked this response"):
        submit_mark(db, exam, e1, response_id=target, value=Decimal(4))

    assert marks_on(db, target) == [("e1", Decimal(3), MarkKind.DOUBLE)]
    assert f.response_of(db, exam, "c1 theory").marks_done == 1


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("-0.5", "a mark cannot be negative: '-0.5'"),
        ("8.5", "a mark lies between 0 and 8; 8.5 is outside"),
        ("7.3", "marks on this question go in steps of 0.5; 7.3 is not one"),
        ("7.25", "marks on this question go in steps of 0.5; 7.25 is not one"),
        ("NaN", "a mark is a plain decimal number such as 7, 7.5 or 0.125; 'NaN' is not one"),
        (
            "Infinity",
            "a mark is a plain decimal number such as 7, 7.5 or 0.125; 'Infinity' is not one",
        ),
    ],
)
def test_an_invalid_mark_is_refused_with_its_reason_and_nothing_is_stored(
    db: Session, tmp_path: Path, value: str, reason: str
) -> None:
    tiny = f.tiny_session(db, tmp_path, "Q-06", n=1)
    exam = tiny.exam
    e1 = account(db, "e1")
    target = f.response_id(db, exam, "c1 skills")  # max 8, step 0.5
    claim(db, exam, e1, size=100)
    entries = count(db, LedgerEntry)

    with pytest.raises(InvalidMark) as refused:
        submit_mark(db, exam, e1, response_id=target, value=Decimal(value))

    assert str(refused.value) == reason
    assert marks_on(db, target) == [] and count(db, LedgerEntry) == entries
    # The claim is still held: the examiner corrects the mark and goes on.
    submit_mark(db, exam, e1, response_id=target, value=Decimal("7.5"))
    assert marks_on(db, target) == [("e1", Decimal("7.5"), MarkKind.DOUBLE)]


def test_the_schema_refuses_a_second_mark_by_one_examiner_on_one_response(
    db: Session, tmp_path: Path
) -> None:
    tiny = f.tiny_session(db, tmp_path, "Q-07", n=1)
    exam = tiny.exam
    e1 = account(db, "e1")
    target = f.response_id(db, exam, "c1 theory")
    claim(db, exam, e1, size=100)
    submit_mark(db, exam, e1, response_id=target, value=Decimal(3))

    with pytest.raises(IntegrityError) as refused, db.begin_nested():
        lease_id = db.execute(
            insert(Lease).values(
                response_id=target,
                examiner_id=e1.id,
                state=LeaseState.SUBMITTED,
                created_at=T0,
                expires_at=T0 + 20 * MINUTE,
            )
        ).inserted_primary_key[0]
        db.execute(
            insert(Mark).values(
                response_id=target,
                examiner_id=e1.id,
                group_id=db.scalar(select(Response.group_id).where(Response.id == target)),
                kind=MarkKind.DOUBLE,
                value=Decimal(5),
                lease_id=lease_id,
                created_at=T0,
            )
        )
    assert "response_id" in str(refused.value) and "examiner_id" in str(refused.value)
    assert marks_on(db, target) == [("e1", Decimal(3), MarkKind.DOUBLE)]
