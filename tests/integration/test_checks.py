"""Checks in claims (DESIGN §13): seeds and 回评 by schedule, qualification before live work,
drift alarms, and nothing checked reaching a final."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from marking.audit.verify import verify
from marking.errors import MarkingError, NotFound, StateError
from marking.quality import checks, qualification
from marking.quality.items import add_item
from marking.quality.remarks import REMARK_RECENT
from marking.queue.claims import Claimed, claim
from marking.queue.leases import LeaseLost
from marking.queue.marks import InvalidMark, submit_mark
from marking.setup.assignment import approve_scheme
from marking.store.models import (
    Account,
    Assignment,
    ExamSession,
    Lease,
    LeaseState,
    LedgerEntry,
    Mark,
    MarkingGroup,
    Response,
    ResponseState,
    Script,
)
from marking.store.models.checks import (
    CheckItem,
    CheckMark,
    CheckPurpose,
    CheckState,
)
from tests.integration import factory as f
from tests.integration.marking_helpers import T0, account

MIN = dt.timedelta(minutes=1)


def group(exam: ExamSession, key: str) -> MarkingGroup:
    return next(g for g in exam.groups if g.key == key)


def rates(db: Session, exam: ExamSession, *, seed: str = "0", remark: str = "0") -> None:
    """Both groups' check rates (the paper's session.toml has the defaults)."""
    for g in exam.groups:
        g.seed_rate, g.remark_rate = Decimal(seed), Decimal(remark)
    db.flush()


def mark_turn(
    db: Session,
    exam: ExamSession,
    who: Account,
    *,
    size: int = 5,
    value: Decimal | None = None,
    now: dt.datetime | None = None,
) -> list[Claimed]:
    """One claim, everything in it marked (checks through submit_check); returns the batch."""
    batch = claim(db, exam, who, size=size, now=now)
    for item in batch:
        v = f.middle(item) if value is None else value
        if item.check_id is not None:
            checks.submit_check(db, exam, who, check_id=item.check_id, value=v, now=now)
        else:
            submit_mark(db, exam, who, response_id=item.response_id, value=v, now=now)
    return batch


def finals_of(db: Session, exam: ExamSession, key: str) -> list[int]:
    return list(
        db.scalars(
            select(Response.id)
            .join(Script, Script.id == Response.script_id)
            .where(
                Script.session_id == exam.id,
                Response.group_id == group(exam, key).id,
                Response.state == ResponseState.FINAL,
            )
            .order_by(Response.id)
        )
    )


def make_seeds(db: Session, exam: ExamSession, key: str, response_ids: list[int]) -> None:
    """Seeds as the lead makes them (H2's items.add_item), written here directly."""
    lead = account(db, "lead")
    for rid in response_ids:
        final = db.get(Response, rid).final  # type: ignore[union-attr]
        assert final is not None
        add_item(db, exam, lead, response_id=rid, purpose=CheckPurpose.SEED, value=final)
    db.flush()


def finish_some(db: Session, exam: ExamSession, users: tuple[str, ...], key: str, n: int) -> None:
    """Examiners mark until at least ``n`` responses of the group are final."""
    while len(finals_of(db, exam, key)) < n:
        for u in users:
            mark_turn(db, exam, account(db, u))


def one_seed(
    db: Session, tmp_path: Path, code: str, examiners: tuple[str, ...]
) -> tuple[ExamSession, int]:
    """A tiny session (20 candidates) whose short group has one seed, a response e1 and e2
    made final, and a check due at every place while it lasts (seed_rate 1): the session,
    and the seed's source."""
    exam = f.tiny_session(db, tmp_path, code, n=20, examiners=examiners).exam
    rates(db, exam)
    finish_some(db, exam, ("e1", "e2"), "short", 1)
    source = finals_of(db, exam, "short")[0]
    make_seeds(db, exam, "short", [source])
    group(exam, "short").seed_rate = Decimal(1)
    db.flush()
    return exam, source


# --- seeds --------------------------------------------------------------------------------------


def test_seeds_come_in_every_window_and_never_to_a_marker_of_their_source(
    db: Session, tmp_path: Path
) -> None:
    # 120 candidates: e1 marks most of the short group's responses that finish_some did not
    # finish (queue order is random each run); with 80, about 1 run in 40 left e1 no live
    # short response to put the owed seed in the place of.
    exam = f.tiny_session(db, tmp_path, "CK-1", n=120, examiners=("e1", "e2", "e3")).exam
    rates(db, exam)
    finish_some(db, exam, ("e1", "e2"), "short", 12)
    sources = finals_of(db, exam, "short")
    make_seeds(db, exam, "short", sources)
    group(exam, "short").seed_rate = Decimal("0.1")  # W = 10
    group(exam, "short").remark_rate = Decimal(0)
    db.flush()

    e3 = account(db, "e3")
    sequence: list[str] = []  # e3's short-group places in the order shown: live or seed
    for _ in range(12):
        for item in mark_turn(db, exam, e3, size=4):
            if item.group == "short":
                sequence.append("live" if item.check_id is None else "seed")
    assert len(sequence) >= 30
    # Exactly one seed in each block of 10 places handed out (a seed takes a live one's).
    blocks = [sequence[i : i + 10] for i in range(0, len(sequence), 10)]
    for block in blocks:
        assert block.count("seed") == 1 if len(block) == 10 else block.count("seed") <= 1

    # e1 marked every source so far: none comes to e1 (the seed stays owed) ...
    e1, e2 = account(db, "e1"), account(db, "e2")
    for _ in range(4):
        mark_turn(db, exam, e1, size=4)
    assert not db.scalars(select(CheckMark).where(CheckMark.examiner_id == e1.id)).all()
    # ... until responses e2 and e3 finished become seeds too: e1 gets those only.
    for _ in range(4):
        mark_turn(db, exam, e2, size=4)
    mine = set(db.scalars(select(Mark.response_id).where(Mark.examiner_id == e1.id)))
    others = [r for r in finals_of(db, exam, "short") if r not in mine and r not in sources]
    assert others
    make_seeds(db, exam, "short", others)
    sources += others
    # The owed seed goes with e1's next batch that has a short place (on PostgreSQL a batch
    # may hold only the other group's work).
    for _ in range(12):
        batch = mark_turn(db, exam, e1, size=4)
        if any(i.check_id is not None for i in batch):
            break
    e1_seeds = db.scalars(
        select(CheckMark.response_id).where(
            CheckMark.examiner_id == e1.id, CheckMark.purpose == CheckPurpose.SEED
        )
    ).all()
    assert e1_seeds and set(e1_seeds) <= set(others)
    # And no seed was handed twice to one examiner, nor one still open.
    for who in (e1, e3):
        got = db.scalars(
            select(CheckMark.response_id).where(
                CheckMark.examiner_id == who.id, CheckMark.purpose == CheckPurpose.SEED
            )
        ).all()
        assert len(got) == len(set(got)) and set(got) <= set(sources)


def test_a_seed_due_when_none_is_eligible_stays_owed(db: Session, tmp_path: Path) -> None:
    exam = f.tiny_session(db, tmp_path, "CK-2", n=40, examiners=("e1", "e2", "e3")).exam
    rates(db, exam, seed="0.1")
    e3 = account(db, "e3")
    for _ in range(5):
        mark_turn(db, exam, e3, size=5)
    assert db.scalar(select(func.count()).select_from(CheckMark)) == 0  # no seeds yet
    a = db.scalar(
        select(Assignment).where(
            Assignment.examiner_id == e3.id, Assignment.group_id == group(exam, "short").id
        )
    )
    assert a is not None and a.seed_due is not None and a.seed_due < a.handed  # owed
    due = a.seed_due
    mine = set(db.scalars(select(Mark.response_id).where(Mark.examiner_id == e3.id)))
    finish_some(db, exam, ("e1", "e2"), "short", len(mine) + 3)
    make_seeds(db, exam, "short", [r for r in finals_of(db, exam, "short") if r not in mine])
    # The owed seed goes with a batch of the short group. (Claiming any group until one
    # came, e3 reached the other group's hold limit on PostgreSQL in a CI run.)
    batch = claim(db, exam, e3, size=5, group="short")
    seeds = [i for i in batch if i.check_id is not None]
    assert seeds and seeds[0].group == "short"
    # The owed seed went first, before the batch's first live response of the group.
    first_short = next(n for n, i in enumerate(batch) if i.group == "short")
    assert batch[first_short].check_id is not None
    db.refresh(a)
    assert a.seed_due is not None and a.seed_due > due


def test_a_claim_without_seeds_or_remarks_writes_nothing_of_checks(
    db: Session, tmp_path: Path
) -> None:
    exam = f.tiny_session(db, tmp_path, "CK-3", n=10).exam
    rates(db, exam)
    f.mark_all(db, exam, ["e1", "e2"])
    handed = db.scalars(select(Assignment.handed)).all()
    assert set(handed) == {0}  # the counters are not touched where checks are off
    assert db.scalar(select(func.count()).select_from(CheckMark)) == 0


# --- 回评 ----------------------------------------------------------------------------------------


def test_remarks_are_the_examiners_own_earlier_marks_shown_blind(
    db: Session, tmp_path: Path
) -> None:
    exam = f.tiny_session(db, tmp_path, "CK-4", n=60, examiners=("e1", "e2")).exam
    rates(db, exam, remark="0.1")
    e1 = account(db, "e1")
    remarks: list[Claimed] = []
    for _ in range(14):
        batch = claim(db, exam, e1, size=5)
        for item in batch:
            if item.check_id is not None:
                remarks.append(item)
                check = db.get(CheckMark, item.check_id)
                assert check is not None and check.purpose is CheckPurpose.REMARK
                first = db.get(Mark, check.mark_id)
                assert first is not None and first.examiner_id == e1.id
                assert first.response_id == check.response_id == item.response_id
                assert check.expected == first.value
                # Not one of their last 10 marks in the group when handed out.
                newer = db.scalar(
                    select(func.count())
                    .select_from(Mark)
                    .join(Response, Response.id == Mark.response_id)
                    .where(
                        Mark.examiner_id == e1.id,
                        Mark.id > first.id,
                        Response.group_id == check.group_id,
                    )
                )
                assert newer is not None and newer >= REMARK_RECENT
                # Blind: what is shown is the response, nothing of the first mark.
                assert "value" not in Claimed.__dataclass_fields__
                checks.submit_check(
                    db, exam, e1, check_id=item.check_id, value=Decimal(0), now=None
                )
            else:
                submit_mark(db, exam, e1, response_id=item.response_id, value=f.middle(item))
    assert remarks
    # Never the same response twice.
    again = [r.response_id for r in remarks]
    assert len(again) == len(set(again))
    # The first marks are as they were: a 回评 of 0 changed none of them.
    assert db.scalar(select(func.count()).select_from(Mark).where(Mark.value == 0)) == 0


# --- nothing checked counts ---------------------------------------------------------------------


def test_nothing_checked_changes_a_final(db: Session, tmp_path: Path) -> None:
    """Property: whatever the checks are marked, finals are those of the live marks alone,
    and the ``mark`` table holds the live marks only."""
    exam = f.tiny_session(db, tmp_path, "CK-5", n=24, examiners=("e1", "e2", "e3")).exam
    rates(db, exam)
    finish_some(db, exam, ("e1", "e2"), "short", 3)
    make_seeds(db, exam, "short", finals_of(db, exam, "short"))
    rates(db, exam, seed="0.5", remark="0.2")

    @settings(
        max_examples=5,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.lists(st.integers(0, 12), min_size=1, max_size=20))
    def run(check_values: list[int]) -> None:
        nested = db.begin_nested()
        try:
            given_checks = 0
            while True:
                progressed = False
                for u in ("e1", "e2", "e3"):
                    who = account(db, u)
                    for item in claim(db, exam, who, size=3):
                        progressed = True
                        if item.check_id is not None:
                            k = check_values[given_checks % len(check_values)]
                            value = min(item.max, item.step * k)
                            checks.submit_check(db, exam, who, check_id=item.check_id, value=value)
                            given_checks += 1
                        else:
                            submit_mark(
                                db, exam, who, response_id=item.response_id, value=f.middle(item)
                            )
                if not progressed:
                    break
            responses = db.scalars(
                select(Response)
                .join(Script, Script.id == Response.script_id)
                .where(Script.session_id == exam.id, Response.group_id.is_not(None))
            ).all()
            for r in responses:
                assert r.state is ResponseState.FINAL
                live = db.scalars(select(Mark.value).where(Mark.response_id == r.id)).all()
                assert len(live) == r.marks_done == 2
                assert r.final == live[0] == live[1]  # every live mark is the middle
            assert given_checks > 0
            assert db.scalar(
                select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "mark")
            ) == db.scalar(select(func.count()).select_from(Mark))
        finally:
            nested.rollback()

    run()


# --- submit_check's refusals --------------------------------------------------------------------


def a_remark(db: Session, exam: ExamSession, who: Account) -> Claimed:
    for _ in range(40):
        for item in claim(db, exam, who, size=5, now=T0):
            if item.check_id is not None:
                return item
            submit_mark(db, exam, who, response_id=item.response_id, value=f.middle(item), now=T0)
    raise AssertionError("no 回评 came")


def test_submit_check_refuses_as_a_mark_would(db: Session, tmp_path: Path) -> None:
    tiny = f.tiny_session(db, tmp_path, "CK-6", n=40, examiners=("e1", "e2"))
    exam = tiny.exam
    rates(db, exam, remark="0.5")
    e1, e2 = account(db, "e1"), account(db, "e2")
    item = a_remark(db, exam, e1)
    assert item.check_id is not None
    with pytest.raises(InvalidMark):
        checks.submit_check(db, exam, e1, check_id=item.check_id, value="99", now=T0)
    with pytest.raises(InvalidMark):
        checks.submit_check(db, exam, e1, check_id=item.check_id, value="0.3", now=T0)
    with pytest.raises(LeaseLost):  # another examiner's check: as their live work would be
        checks.submit_check(db, exam, e2, check_id=item.check_id, value="1", now=T0)
    other = f.tiny_session(db, tmp_path / "b", "CK-6B", n=1, examiners=("e1", "e2")).exam
    with pytest.raises(NotFound):  # through another session
        checks.submit_check(db, other, e1, check_id=item.check_id, value="1", now=T0)
    late = item.expires_at + MIN
    with pytest.raises(StateError, match="expired"):
        checks.submit_check(db, exam, e1, check_id=item.check_id, value="1", now=late)
    assert db.get(CheckMark, item.check_id).state is CheckState.EXPIRED  # type: ignore[union-attr]
    assert (
        db.scalar(
            select(func.count()).select_from(LedgerEntry).where(LedgerEntry.kind == "check_mark")
        )
        == 0
    )


def test_a_check_handed_back_is_lost_and_expired_ones_are_swept(
    db: Session, tmp_path: Path
) -> None:
    exam = f.tiny_session(db, tmp_path, "CK-7", n=40, examiners=("e1", "e2")).exam
    rates(db, exam, remark="0.5")
    e1 = account(db, "e1")
    item = a_remark(db, exam, e1)
    assert item.check_id is not None
    checks.release_check(db, exam, e1, check_id=item.check_id, now=T0)
    with pytest.raises(StateError, match="handed this response back"):
        checks.submit_check(db, exam, e1, check_id=item.check_id, value="1", now=T0)
    other = a_remark(db, exam, e1)
    assert checks.expire_checks(db, exam, now=other.expires_at + MIN) >= 1
    assert checks.held_checks(db, exam, e1, now=T0) == []


# --- qualification ------------------------------------------------------------------------------


def qualification_set(db: Session, exam: ExamSession, key: str, size: int) -> list[CheckItem]:
    """A set of ``size`` items (the lead's, H2's items.add_item) with definitive mark 2."""
    g = group(exam, key)
    rids = db.scalars(
        select(Response.id)
        .join(Script, Script.id == Response.script_id)
        .where(Script.session_id == exam.id, Response.group_id == g.id)
        .order_by(Response.id)
        .limit(size)
    ).all()
    lead = account(db, "lead")
    made = [
        add_item(
            db,
            exam,
            lead,
            response_id=rid,
            purpose=CheckPurpose.QUALIFICATION,
            value=Decimal(2),
            note=f"要点 {n}",
        )
        for n, rid in enumerate(rids)
    ]
    db.flush()
    return made


def test_no_live_work_before_qualifying_then_pass_after_a_failed_attempt(
    db: Session, tmp_path: Path
) -> None:
    tiny = f.tiny_session(db, tmp_path, "CK-8", n=6, examiners=("e1", "e2"), open_groups=False)
    exam = tiny.exam
    short, prac = group(exam, "short"), group(exam, "prac")
    for g in (short, prac):
        f.assign(db, exam, g, ["e1", "e2"], actor=f.ACTOR, lead="lead" if g is short else None)
    short.qualification_size, short.qualification_within = 3, Decimal("0.6")
    db.flush()
    with pytest.raises(StateError, match="qualification set of 3"):
        approve_scheme(db, exam, short, by="lead")  # R5: approval needs a complete set
    qualification_set(db, exam, "short", 3)
    approve_scheme(db, exam, short, by="lead")
    e1 = account(db, "e1")
    with pytest.raises(StateError, match="资格测试"):
        claim(db, exam, e1, size=10, now=T0)  # nothing live before qualifying
    approve_scheme(db, exam, prac, by="lead")
    assert {i.group for i in claim(db, exam, e1, size=10, now=T0)} == {"prac"}

    state = qualification.qualification_state(db, exam, e1, short)
    assert state.required and not state.qualified and state.attempt == 0
    first = qualification.start_qualification(db, exam, e1, group=short, now=T0)
    assert len(first) == 3 and all(i.check_id is not None for i in first)
    assert qualification.start_qualification(db, exam, e1, group=short, now=T0) == first  # resumes
    with pytest.raises(StateError):
        qualification.review(db, exam, e1, short)  # nothing to review yet
    for item, value in zip(first, ("2", "6", "0"), strict=True):  # one within tolerance 1
        assert item.check_id is not None
        done = checks.submit_check(db, exam, e1, check_id=item.check_id, value=value, now=T0)
    assert done.qualified is False
    state = qualification.qualification_state(db, exam, e1, short)
    assert (state.last_passed, state.within, state.of, state.open) == (False, 1, 3, False)
    review = qualification.review(db, exam, e1, short)
    assert [(r.given, r.definitive, r.within) for r in review] == [
        (Decimal(2), Decimal(2), True),
        (Decimal(6), Decimal(2), False),
        (Decimal(0), Decimal(2), False),
    ]
    assert review[0].note == "要点 0" and review[0].item.scheme
    assert {i.group for i in claim(db, exam, e1, size=10, now=T0)} <= {"prac"}

    second = qualification.start_qualification(db, exam, e1, group=short, now=T0)
    assert len(second) == 3 and {i.check_id for i in second}.isdisjoint({i.check_id for i in first})
    for item in second:
        assert item.check_id is not None
        done = checks.submit_check(db, exam, e1, check_id=item.check_id, value="2.5", now=T0)
    assert done.qualified is True
    assert db.scalar(select(LedgerEntry).where(LedgerEntry.kind == "qualified")) is not None
    assert "short" in {i.group for i in claim(db, exam, e1, size=20, now=T0)}
    with pytest.raises(StateError, match="already"):
        qualification.start_qualification(db, exam, e1, group=short, now=T0)
    # Nothing of the qualification reached the marks.
    assert db.scalar(select(func.count()).select_from(Mark)) == 0


def test_a_suspended_examiner_gets_nothing(db: Session, tmp_path: Path) -> None:
    exam = f.tiny_session(db, tmp_path, "CK-9", n=20, examiners=("e1", "e2")).exam
    rates(db, exam, remark="0.5", seed="0.5")
    e1 = account(db, "e1")
    db.execute(update(Assignment).where(Assignment.examiner_id == e1.id).values(suspended_at=T0))
    with pytest.raises(MarkingError, match="no open marking group"):  # no lead's reason here
        claim(db, exam, e1, size=10, now=T0)
    assert db.scalar(select(func.count()).select_from(CheckMark)) == 0


def test_a_check_takes_a_live_places_so_batch_and_holdings_keep_their_size(
    db: Session, tmp_path: Path
) -> None:
    """Neither the batch's length nor the count held may say that a check is in it: the check
    takes the place of a live response, whose slot it keeps while held."""
    exam = f.tiny_session(db, tmp_path, "CK-SIZE", n=40, examiners=("e1", "e2", "e3")).exam
    rates(db, exam, remark="0.5")  # 回评: one in every 2 places once e3 has marks
    e3 = account(db, "e3")
    for _ in range(4):
        mark_turn(db, exam, e3, size=5)
    short = group(exam, "short")
    short.max_held = 4
    db.flush()
    with_checks = 0
    for _ in range(6):
        batch = claim(db, exam, e3, size=4, group="short")
        held_live = [i for i in batch if i.check_id is None]
        with_checks += len(batch) - len(held_live)
        assert len(batch) == 4  # as asked, and within the hold limit of 4
        assert all(i.group == "short" for i in batch)
        # Holding 4 of "short", a check among them or not: nothing more of it now, as for a
        # batch of live responses alone (the check counts under the limit).
        assert not [i for i in claim(db, exam, e3, size=1) if i.group == "short"]
        # What the queue counts as held is the whole batch, checks in their places.
        assert db.scalar(
            select(func.sum(Response.held)).where(Response.group_id == short.id)
        ) == len(batch) + db.scalar(
            select(func.count())
            .select_from(Lease)
            .join(Response, Response.id == Lease.response_id)
            .where(
                Lease.state == LeaseState.HELD,
                Lease.examiner_id != e3.id,
                Response.group_id == short.id,
            )
        )
        for item in batch:
            if item.check_id is not None:
                checks.submit_check(db, exam, e3, check_id=item.check_id, value=f.middle(item))
            else:
                submit_mark(db, exam, e3, response_id=item.response_id, value=f.middle(item))
    assert with_checks >= 3  # the rule put checks in; none lengthened its batch
    # Nothing displaced was lost: every short response still gets its marks.
    assert not verify(db, exam).problems
