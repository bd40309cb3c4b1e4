"""Attacks on checks handed out inside claims and on the group chosen to mark (issue 13):
a group of another session or not open to the examiner gives nothing; the queue's counters
stay consistent with the leases after checks displace live responses; a claim that fails
after its checks were handed out leaves nothing behind; a seed handed back unmarked still
keeps its source from that examiner live once it reopens."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from marking.audit.verify import verify
from marking.errors import MarkingError, NotFound, StateError
from marking.quality import checks
from marking.queue import claims as claims_module
from marking.queue.claims import Claimed, claim
from marking.queue.handback import release
from marking.read.views import examiner_groups
from marking.setup.sessions import get_session
from marking.store import schema
from marking.store.db import transaction
from marking.store.models import (
    Account,
    Assignment,
    ExamSession,
    Lease,
    LeaseState,
    Response,
    Script,
)
from marking.store.models.checks import CheckMark, CheckState
from tests.conftest import FreshDatabase
from tests.integration import factory as f
from tests.integration.marking_helpers import T0, account, takeable
from tests.integration.test_attack13_race import at_once
from tests.integration.test_checks import (
    group,
    mark_turn,
    one_seed,
    rates,
)
from tests.integration.test_quality_held_out import reopen, short_ids
from web.actions import examiner as screens
from web.actions.common import addressed


def holdings(db: Session, exam: ExamSession, who: Account) -> tuple[int, int]:
    """(live leases held, checks held) by ``who`` in the session."""
    leases = db.scalar(
        select(func.count())
        .select_from(Lease)
        .join(Response, Response.id == Lease.response_id)
        .join(Script, Script.id == Response.script_id)
        .where(
            Script.session_id == exam.id,
            Lease.examiner_id == who.id,
            Lease.state == LeaseState.HELD,
        )
    )
    held_checks = db.scalar(
        select(func.count())
        .select_from(CheckMark)
        .where(
            CheckMark.session_id == exam.id,
            CheckMark.examiner_id == who.id,
            CheckMark.state == CheckState.HELD,
        )
    )
    return int(leases or 0), int(held_checks or 0)


def counters_match_leases(db: Session, exam: ExamSession) -> list[int]:
    """Responses whose ``held`` counter differs from their held leases and the held seeds and
    回评 that displaced them, each keeping its slot (none, when sound)."""
    held_leases = (
        select(func.count())
        .select_from(Lease)
        .where(Lease.response_id == Response.id, Lease.state == LeaseState.HELD)
        .scalar_subquery()
    )
    held_checks = (
        select(func.count())
        .select_from(CheckMark)
        .where(CheckMark.displaced_id == Response.id, CheckMark.state == CheckState.HELD)
        .scalar_subquery()
    )
    return list(
        db.scalars(
            select(Response.id)
            .join(Script, Script.id == Response.script_id)
            .where(Script.session_id == exam.id, Response.held != held_leases + held_checks)
        )
    )


# --- the group chosen to mark -----------------------------------------------------------------


def test_a_group_key_of_another_session_is_not_found_and_nothing_is_held(
    db: Session, tmp_path: Path
) -> None:
    mine = f.tiny_session(db, tmp_path, "AB-1", n=6).exam
    other = f.tiny_session(db, tmp_path, "AB-2", n=6).exam
    group(other, "prac").key = "elsewhere"  # a key only the other session has
    db.flush()
    e1 = account(db, "e1")
    with pytest.raises(NotFound):
        claim(db, mine, e1, size=5, group="elsewhere")
    assert holdings(db, mine, e1) == (0, 0)
    assert holdings(db, other, e1) == (0, 0)
    # The key the examiner may use there gives the other session's work, not this one's.
    got = claim(db, other, e1, size=5, group="elsewhere")
    assert got and {i.group for i in got} == {"elsewhere"}
    assert holdings(db, mine, e1) == (0, 0)


def test_a_group_not_open_to_the_examiner_gives_nothing_live(db: Session, tmp_path: Path) -> None:
    exam = f.tiny_session(db, tmp_path, "AB-3", n=6, examiners=("e1", "e2", "e3")).exam
    e1, e2, e3 = (account(db, u) for u in ("e1", "e2", "e3"))
    short, prac = group(exam, "short"), group(exam, "prac")
    # e1: not assigned to prac; e2: suspended in prac; e3: prac asks for a set not passed.
    db.execute(
        delete(Assignment).where(Assignment.group_id == prac.id, Assignment.examiner_id == e1.id)
    )
    db.execute(
        update(Assignment)
        .where(Assignment.group_id == prac.id, Assignment.examiner_id == e2.id)
        .values(suspended_at=T0)
    )
    prac.qualification_size = 1
    db.execute(
        update(Assignment)
        .where(Assignment.group_id == prac.id, Assignment.examiner_id != e3.id)
        .values(qualified_at=T0)
    )
    db.flush()
    db.expire_all()
    for who in (e1, e2, e3):
        with pytest.raises((MarkingError, StateError)):
            claim(db, exam, who, size=5, group="prac")
        assert holdings(db, exam, who) == (0, 0), who.username
        # Their open group still gives its work, and only its own.
        got = claim(db, exam, who, size=3, group="short")
        assert got and {i.group for i in got} == {short.key}
    assert not counters_match_leases(db, exam)


# --- checks displacing live responses ---------------------------------------------------------


def remark_session(db: Session, tmp_path: Path, code: str) -> ExamSession:
    """A session where e3 has marked enough for 回评, one due in every 2 places."""
    exam = f.tiny_session(db, tmp_path, code, n=40, examiners=("e1", "e2", "e3")).exam
    rates(db, exam, remark="0.5")
    e3 = account(db, "e3")
    for _ in range(4):
        mark_turn(db, exam, e3, size=5)
    return exam


def test_checks_in_batches_keep_counters_leases_and_hold_limit_consistent(
    db: Session, tmp_path: Path
) -> None:
    exam = remark_session(db, tmp_path, "AB-4")
    short = group(exam, "short")
    short.max_held = 3
    db.flush()
    e3 = account(db, "e3")
    seen_check = False
    for _ in range(4):
        batch = claim(db, exam, e3, size=10, group="short")
        seen_check |= any(i.check_id is not None for i in batch)
        assert len(batch) <= 3
        leases, held = holdings(db, exam, e3)
        assert leases + held == len(batch)  # the limit counts checks as the live they replaced
        assert not counters_match_leases(db, exam)
        # Full: the same refusal whether a check is among them or not.
        if len(batch) == 3:
            with pytest.raises(claims_module.HoldLimit):
                claim(db, exam, e3, size=1, group="short")
        for item in batch:
            if item.check_id is not None:
                checks.release_check(db, exam, e3, check_id=item.check_id)
            else:
                release(db, exam, e3, response_id=item.response_id)
        assert holdings(db, exam, e3) == (0, 0)
    assert seen_check
    assert not counters_match_leases(db, exam)
    assert not verify(db, exam).problems


def test_a_claim_that_fails_after_its_checks_leaves_nothing(
    fresh_db: FreshDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker killed after the hand-out (here: an error once the checks are mixed in):
    the claim's transaction rolls back whole: no check, no lease, no count moved."""
    schema.upgrade(fresh_db.engine)
    with transaction(fresh_db.engine) as db:
        exam = remark_session(db, tmp_path, "AB-5")
        code = exam.code

    def snapshot() -> tuple[object, ...]:
        with transaction(fresh_db.engine) as db:
            return (
                db.scalar(select(func.count()).select_from(CheckMark)),
                db.scalar(select(func.count()).select_from(Lease)),
                db.scalar(select(func.sum(Response.held))),
                tuple(db.execute(select(Assignment.id, Assignment.handed, Assignment.remark_due))),
            )

    before = snapshot()
    handed_out: list[int] = []
    real_mix_in = checks.mix_in

    def crash_after(*args: object, **kwargs: object) -> object:
        mixed = real_mix_in(*args, **kwargs)  # type: ignore[arg-type]
        handed_out.extend(i.check_id for i in mixed if i.check_id is not None)
        raise RuntimeError("worker killed")

    monkeypatch.setattr(checks, "mix_in", crash_after)
    for _ in range(3):  # until a batch had a check in it
        with pytest.raises(RuntimeError), transaction(fresh_db.engine) as db:
            claim(db, get_session(db, code), account(db, "e3"), size=4, group="short")
        if handed_out:
            break
    assert handed_out
    assert snapshot() == before
    with transaction(fresh_db.engine) as db:
        assert not counters_match_leases(db, get_session(db, code))


# --- a seed handed back unmarked -------------------------------------------------------------


def test_a_seed_handed_back_unmarked_never_comes_live_once_its_source_reopens(
    db: Session, tmp_path: Path
) -> None:
    exam, source = one_seed(db, tmp_path, "AB-6", ("e1", "e2", "e3", "e4"))
    short = group(exam, "short")
    e3 = account(db, "e3")
    shown = claim(db, exam, e3, size=1, group="short")
    assert [(i.response_id, i.check_id is not None) for i in shown] == [(source, True)]
    assert shown[0].check_id is not None
    checks.release_check(db, exam, e3, check_id=shown[0].check_id)  # read, never marked
    short.seed_rate = Decimal(0)
    db.flush()
    reopen(db, exam, source)
    assert source not in short_ids(db, exam, e3, size=40)
    assert source in short_ids(db, exam, account(db, "e4"), size=40)


# --- two claims at once -------------------------------------------------------------------------


def test_two_claims_at_once_with_checks_due_keep_the_hold_limit(
    fresh_db: FreshDatabase, tmp_path: Path
) -> None:
    """Two tabs claim at once while 回评 are due: together they never hold more than the
    group's limit, and every displaced response's counter matches its leases."""
    schema.upgrade(fresh_db.engine)
    with transaction(fresh_db.engine) as db:
        exam = remark_session(db, tmp_path, "AB-7")
        group(exam, "short").max_held = 4
        code = exam.code

    def take(db: Session) -> list[Claimed]:
        return claim(db, get_session(db, code), account(db, "e3"), size=3, group="short")

    got = at_once(fresh_db, take)
    with transaction(fresh_db.engine) as db:
        exam = get_session(db, code)
        e3 = account(db, "e3")
        leases, held = holdings(db, exam, e3)
        assert leases + held == len(got["one"]) + len(got["two"]) <= 4
        assert len(got["one"]) == 3 and len(got["two"]) == 1  # the second got the room left
        assert any(i.check_id is not None for i in got["one"] + got["two"])
        assert not counters_match_leases(db, exam)
        assert not verify(db, exam).problems


# --- counts after a report on a check -------------------------------------------------------


def test_reporting_a_check_moves_the_counts_as_reporting_live_work_does(
    db: Session, tmp_path: Path
) -> None:
    exam, _source = one_seed(db, tmp_path, "AB-8", ("e1", "e2", "e3"))
    e3 = account(db, "e3")

    def counts() -> tuple[int, int, int]:
        [row] = [g for g in examiner_groups(db, exam, e3) if g.key == "short"]
        return row.held, takeable(db, exam, e3, "short"), row.my_marks

    batch = claim(db, exam, e3, size=3, group="short")
    assert sum(i.check_id is not None for i in batch) == 1
    held, available, mine = counts()
    for n, item in enumerate(batch, start=1):  # each reported as illegible, as the screen does
        screens.flag(db, exam, e3, addressed(exam, item)["response"], "illegible", "看不清")
        assert counts() == (held - n, available, mine), item.check_id is not None
