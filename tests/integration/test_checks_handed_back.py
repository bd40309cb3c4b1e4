"""A seed or 回评 handed back, or left to expire, comes back as live work does (DESIGN §13):
as itself, when the live response it displaced would have, and handing back brings no check
nearer. Found by a tester: handles that came back were live work and the ones seen once were
the checks, and a loop of hand-backs used up a group's seeds without a mark."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from marking.errors import MarkingError, StateError
from marking.publication.preconditions import open_items
from marking.quality import checks, reports, suspension
from marking.quality.items import retire_item
from marking.queue.claims import Claimed, claim
from marking.queue.handback import flag, release
from marking.queue.leases import DEFAULT_LEASE, LeaseLost
from marking.queue.marks import submit_mark
from marking.queue.statements import takeable_by
from marking.read import views
from marking.read.status import session_status
from marking.store.models import (
    Account,
    AnomalyKind,
    Assignment,
    ExamSession,
    Exclusion,
    Lease,
    LeaseState,
    Mark,
    Response,
    SessionState,
    utcnow,
)
from marking.store.models.checks import CheckItem, CheckMark
from tests.integration import factory as f
from tests.integration.marking_helpers import account, takeable
from tests.integration.test_attack13b import counters_match_leases
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


# --- what keeps a check's displaced response away (found by a tester) ------------------------


def test_a_held_or_reported_check_keeps_its_displaced_response_away_as_live_work_would(
    db: Session, tmp_path: Path
) -> None:
    """Holding the whole group, an examiner handed back one item at a time and claimed all: a
    live item came straight back, a check did not (its displaced response came live
    instead). Now the displaced response is theirs while the check is held or reported, as
    the response itself would be, and a check handed back comes straight back."""
    exam, _source = one_seed(db, tmp_path, "HB-5", ("e1", "e2", "e3"))
    e3 = account(db, "e3")
    batch = claim(db, exam, e3, size=20, group="short")  # all e3 may take
    (seed,) = [i for i in batch if i.check_id is not None]
    assert claim(db, exam, e3, size=20, group="short") == []  # nothing more: not its response
    for item in batch:  # each handed back alone comes back alone, as itself
        _hand_back(db, exam, e3, [item])
        (again,) = claim(db, exam, e3, size=20, group="short")
        assert _shown(again) == _shown(item)
    assert seed.check_id is not None
    displaced = db.get(CheckMark, seed.check_id).displaced_id  # type: ignore[union-attr]
    reports.report_check(
        db, exam, e3, check_id=seed.check_id, kind=AnomalyKind.ILLEGIBLE, note="看不清"
    )
    # Reported, it stands in for that response until the lead deals with it, as a reported
    # live response stays on hold: the claim gives nothing, as it would then.
    assert claim(db, exam, e3, size=20, group="short") == []
    assert displaced not in {i.response_id for i in views.held_by(db, exam, e3)}


def test_a_held_checks_place_is_kept_while_others_mark_so_it_comes_back_as_live_work_does(
    db: Session, tmp_path: Path
) -> None:
    """Holding the whole group while others marked the rest, an examiner handed back one item
    at a time: each live one came straight back (its other slot marked, theirs kept), the
    check never did (others had taken and finished the response it displaced, whose slot
    had gone back to the queue). Now a held check keeps that slot, as the response held
    live would, and comes back as the others do."""
    exam, _source = one_seed(db, tmp_path, "HB-9", ("e1", "e2", "e3", "e4", "e5"))
    e3, e4, e5 = account(db, "e3"), account(db, "e4"), account(db, "e5")
    batch = claim(db, exam, e3, size=20, group="short")  # all e3 may take
    (seed,) = [i for i in batch if i.check_id is not None]
    assert seed.check_id is not None
    displaced = db.get(CheckMark, seed.check_id).displaced_id  # type: ignore[union-attr]
    # The queue counts the check's place on its displaced response, as e3's own lease would.
    assert db.scalar(select(Response.held).where(Response.id == displaced)) == 1
    assert not counters_match_leases(db, exam)
    group(exam, "short").seed_rate = Decimal(0)  # no checks for the others: live work only
    db.flush()
    for who in (e4, e5):  # the others mark every place left
        for item in claim(db, exam, who, size=20, group="short"):
            submit_mark(db, exam, who, response_id=item.response_id, value=f.middle(item))
    assert claim(db, exam, e4, size=20, group="short") == []
    group(exam, "short").seed_rate = Decimal(1)
    db.flush()
    for item in batch:  # each handed back alone comes back alone, as itself
        _hand_back(db, exam, e3, [item])
        (again,) = claim(db, exam, e3, size=20, group="short")
        assert _shown(again) == _shown(item)
    assert not counters_match_leases(db, exam)
    # Marked, the check gives the place back: others may finish that response now.
    checks.submit_check(db, exam, e3, check_id=seed.check_id, value=f.middle(seed))
    assert db.scalar(select(Response.held).where(Response.id == displaced)) == 0
    group(exam, "short").seed_rate = Decimal(0)
    db.flush()
    marked = set(db.scalars(select(Mark.examiner_id).where(Mark.response_id == displaced)))
    other = next(who for who in (e4, e5) if who.id not in marked)  # its slot was e3's
    assert [i.response_id for i in claim(db, exam, other, size=20, group="short")] == [displaced]
    assert not counters_match_leases(db, exam)


def test_an_expired_check_waits_for_the_sweep_as_its_batch_does(
    db: Session, tmp_path: Path
) -> None:
    """A batch left to expire: its live responses stay blocked until a claim comes up short
    and sweeps them; the check came back before them. Now all come back together."""
    exam, _source = one_seed(db, tmp_path, "HB-6", ("e1", "e2", "e3"))
    e3 = account(db, "e3")
    now = utcnow()
    first = claim(db, exam, e3, size=5, group="short", now=now)
    (seed,) = [i.check_id for i in first if i.check_id is not None]
    later = now + DEFAULT_LEASE + MIN
    # Claims that do not come up short sweep nothing: none of the batch comes back.
    for _ in range(2):
        again = claim(db, exam, e3, size=2, group="short", now=later)
        assert len(again) == 2
        assert not {_shown(i) for i in again} & {_shown(i) for i in first}
        _hand_back(db, exam, e3, again)
    # One that does sweeps them, and the check comes back with its batch.
    everything = claim(db, exam, e3, size=20, group="short", now=later)
    assert {_shown(i) for i in first} <= {_shown(i) for i in everything}
    assert [i.check_id for i in everything if i.check_id is not None] == [seed]
    # Its place was counted off once, at the sweep: the schedule counts what e3 holds.
    handed = db.scalar(
        select(Assignment.handed).where(
            Assignment.examiner_id == e3.id, Assignment.group_id == group(exam, "short").id
        )
    )
    assert handed == len(everything)


def test_each_held_item_shows_its_own_batchs_expiry(db: Session, tmp_path: Path) -> None:
    """Reloaded, every live response showed the earliest expiry of all the examiner held and
    each check its own batch's: a check claimed after the first batch stood out."""
    exam, _source = one_seed(db, tmp_path, "HB-7", ("e1", "e2", "e3"))
    e3 = account(db, "e3")
    now = utcnow()
    claim(db, exam, e3, size=1, group="prac", now=now)  # an earlier batch, no check in it
    later = now + MIN
    batch = claim(db, exam, e3, size=5, group="short", now=later)
    assert any(i.check_id is not None for i in batch)
    held = [*views.held_by(db, exam, e3), *checks.held_checks(db, exam, e3)]
    by_batch = {i.expires_at for i in held if i.group == "short"}
    assert by_batch == {later + DEFAULT_LEASE}
    assert {i.expires_at for i in held if i.group == "prac"} == {now + DEFAULT_LEASE}


def test_a_suspended_examiner_is_told_so_for_live_work_and_checks_alike(
    db: Session, tmp_path: Path
) -> None:
    """Suspended while marking, the examiner was told "you handed this back", then that they
    had no open group: now both answers say the lead suspended them there, and why."""
    exam, _source = one_seed(db, tmp_path, "HB-9", ("e1", "e2", "e3"))
    e3, lead = account(db, "e3"), account(db, "lead")
    batch = claim(db, exam, e3, size=4, group="short")
    (seed,) = [i for i in batch if i.check_id is not None]
    live = next(i for i in batch if i.check_id is None)
    suspension.suspend(
        db, exam, lead, examiner=e3, group=group(exam, "short"), reason="偏严", keep_marks=True
    )
    refusals = []
    for attempt in (
        lambda: submit_mark(db, exam, e3, response_id=live.response_id, value=f.middle(live)),
        lambda: checks.submit_check(db, exam, e3, check_id=seed.check_id, value=f.middle(seed)),  # type: ignore[arg-type]
    ):
        with pytest.raises(LeaseLost) as refused:
            attempt()
        refusals.append((refused.value.code, refused.value.params))
    assert (
        refusals[0]
        == refusals[1]
        == (
            "lease_suspended",
            {"group": group(exam, "short").name, "reason": "偏严"},
        )
    )
    with pytest.raises(MarkingError) as refused:
        claim(db, exam, e3, size=4, group="short")
    assert refused.value.code == "claim_suspended"
    assert "偏严" in str(refused.value) and group(exam, "short").name in str(refused.value)


def test_a_check_is_not_reported_once_marking_is_closed_as_live_work_is_not(
    db: Session, tmp_path: Path
) -> None:
    """A tester found a report on a held check accepted after marking had closed, where a
    report on a held live response is refused: the answer told the check apart."""
    exam, _source = one_seed(db, tmp_path, "HB-10", ("e1", "e2", "e3"))
    e3 = account(db, "e3")
    batch = claim(db, exam, e3, size=5, group="short")
    (seed,) = [i for i in batch if i.check_id is not None]
    live = next(i for i in batch if i.check_id is None)
    assert seed.check_id is not None
    exam.state = SessionState.RECONCILED
    db.flush()
    refusals = []
    with pytest.raises(StateError) as refused:
        flag(db, exam, e3, response_id=live.response_id, kind=AnomalyKind.ILLEGIBLE, note="看不清")
    refusals.append(refused.value)
    with pytest.raises(StateError) as refused:
        reports.report_check(
            db, exam, e3, check_id=seed.check_id, kind=AnomalyKind.ILLEGIBLE, note="看不清"
        )
    refusals.append(refused.value)
    assert [(r.code, str(r)) for r in refusals[1:]] == [(r.code, str(r)) for r in refusals[:1]]
    assert refusals[0].code == "not_marking"
    assert not db.scalar(select(func.count()).where(CheckMark.reported))


def test_a_held_check_keeps_the_session_from_publication_as_a_held_response_does(
    db: Session, tmp_path: Path
) -> None:
    """Publication counted held live responses only: with the response a check displaced
    finished otherwise, a session could be published while an examiner held the check."""
    exam, _source = one_seed(db, tmp_path, "HB-11", ("e1", "e2", "e3"))
    e3 = account(db, "e3")
    batch = claim(db, exam, e3, size=5, group="short")
    for item in batch:
        if item.check_id is None:
            release(db, exam, e3, response_id=item.response_id)
    held = [i for i in open_items(db, exam) if i.code == "open_held"]
    assert [str(i) for i in held] == ["1 response(s) are still held by examiners"]
    (seed,) = [i for i in batch if i.check_id is not None]
    checks.release_check(db, exam, e3, check_id=seed.check_id)  # type: ignore[arg-type]
    assert not [i for i in open_items(db, exam) if i.code == "open_held"]


def test_a_reported_check_takes_its_displaced_response_from_everyone_as_a_live_report_does(
    db: Session, tmp_path: Path
) -> None:
    """A live report takes its response out of the queue for everyone, so what a colleague
    could claim falls (by one if they could have taken it); a report on a check freed the
    slot it kept, so it stayed or rose. Now both move alike, and the response comes back when
    the lead deals with the report."""
    exam, _source = one_seed(db, tmp_path, "HB-12", ("e1", "e2", "e3", "e4"))
    e3, e4 = account(db, "e3"), account(db, "e4")
    lead = db.get(Account, exam.lead_id)
    assert lead is not None

    def available(who: Account) -> int:
        return takeable(db, exam, who, "short")

    batch = claim(db, exam, e3, size=5, group="short")
    (seed,) = [i for i in batch if i.check_id is not None]
    live = next(i for i in batch if i.check_id is None)
    assert seed.check_id is not None
    displaced = db.get(CheckMark, seed.check_id).displaced_id  # type: ignore[union-attr]
    open_to_e4 = set(
        db.scalars(
            select(Response.id).where(
                Response.group_id == group(exam, "short").id, *takeable_by(literal(e4.id))
            )
        )
    )
    before = available(e4)
    flag(db, exam, e3, response_id=live.response_id, kind=AnomalyKind.ILLEGIBLE, note="看不清")
    after_live = before - (live.response_id in open_to_e4)
    assert available(e4) == after_live
    reports.report_check(
        db, exam, e3, check_id=seed.check_id, kind=AnomalyKind.ILLEGIBLE, note="看不清"
    )
    assert available(e4) == after_live - (displaced in open_to_e4)
    assert displaced not in {i.response_id for i in claim(db, exam, e4, size=20, group="short")}
    open_reports = [i for i in open_items(db, exam) if i.code == "open_anomaly_reports"]
    assert [str(i) for i in open_reports] == ["2 anomaly report(s) are not resolved"]
    assert session_status(db, exam).open_anomalies == 2  # the progress pages say so too
    # The lead keeps the seed: the response comes back to the queue, for e4 too.
    check = db.get(CheckMark, seed.check_id)
    assert check is not None
    reports.close_reports(db, exam, lead, response_id=check.response_id, purpose=check.purpose)
    assert displaced in {i.response_id for i in claim(db, exam, e4, size=20, group="short")}
