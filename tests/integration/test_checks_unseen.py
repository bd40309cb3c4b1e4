"""Seeds and 回评 stay indistinguishable from live work (DESIGN §13) at the claim's edges:
an expired check, recusal, a chosen group, the hold limit's refusal."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from marking.errors import MarkingError, StateError
from marking.quality import checks, qualification, reports
from marking.queue.claims import claim
from marking.queue.handback import release
from marking.queue.leases import DEFAULT_LEASE, LeaseLost
from marking.queue.marks import submit_mark
from marking.setup.assignment import approve_scheme
from marking.store.models import AnomalyKind, ExamSession, Exclusion, Response, utcnow
from tests.integration import factory as f
from tests.integration.marking_helpers import account
from tests.integration.test_checks import MIN, group, one_seed, qualification_set


def test_room_an_expired_check_frees_is_refilled_in_the_same_claim(
    db: Session, tmp_path: Path
) -> None:
    exam, _source = one_seed(db, tmp_path, "CU-1", ("e1", "e2", "e3"))
    group(exam, "short").max_held = 4
    db.flush()
    e3 = account(db, "e3")
    now = utcnow()
    first = claim(db, exam, e3, size=4, group="short", now=now)
    assert len(first) == 4 and sum(i.check_id is not None for i in first) == 1
    for item in first:  # the live ones marked, the seed left until it expires
        if item.check_id is None:
            submit_mark(db, exam, e3, response_id=item.response_id, value=f.middle(item), now=now)
    later = now + DEFAULT_LEASE + MIN
    # As after leaving a live response unmarked: a full batch, not one short.
    again = claim(db, exam, e3, size=4, group="short", now=later)
    assert len(again) == 4


def test_an_expired_check_filling_the_hold_limit_is_no_refusal(db: Session, tmp_path: Path) -> None:
    exam, _source = one_seed(db, tmp_path, "CU-2", ("e1", "e2", "e3"))
    group(exam, "short").max_held = 1
    db.flush()
    e3 = account(db, "e3")
    now = utcnow()
    (only,) = claim(db, exam, e3, size=1, group="short", now=now)
    assert only.check_id is not None  # the seed, in the one place the limit allows
    later = now + DEFAULT_LEASE + MIN
    # Expired, it holds nothing: the claim gives a response, as after a live one expired.
    assert len(claim(db, exam, e3, size=1, group="short", now=later)) == 1


def test_another_examiners_check_is_refused_as_their_live_work_is(
    db: Session, tmp_path: Path
) -> None:
    """Two examiners comparing handles: one's check, tried by the other, gets the refusal a
    live response of theirs gets (by what the prober did with the response shown), not a
    'not in this session' that would single it out; and nothing of it moves."""
    exam, source = one_seed(db, tmp_path, "CU-OTHER", ("e1", "e2", "e3", "e4"))
    e1, e3, e4 = account(db, "e1"), account(db, "e3"), account(db, "e4")
    batch = claim(db, exam, e3, size=4, group="short")
    (seed,) = [i for i in batch if i.check_id is not None]
    live = next(i for i in batch if i.check_id is None)
    assert seed.check_id is not None

    def refusal(call: Callable[[], object]) -> str | None:
        with pytest.raises(LeaseLost) as refused:
            call()
        return refused.value.code

    # e4 never claimed either response: the same refusal for both.
    assert refusal(lambda: release(db, exam, e4, response_id=live.response_id)) == "lease_none"
    assert refusal(lambda: checks.release_check(db, exam, e4, check_id=seed.check_id)) == (
        "lease_none"
    )
    # e1 marked the seed's source: told so, as for that response's own handle.
    assert refusal(lambda: release(db, exam, e1, response_id=source)) == "lease_marked"
    assert refusal(
        lambda: checks.submit_check(db, exam, e1, check_id=seed.check_id, value="1")
    ) == ("lease_marked")
    # e3 still holds the seed, unmarked.
    assert [i.check_id for i in checks.held_checks(db, exam, e3)] == [seed.check_id]


# --- recusal (R10) ------------------------------------------------------------------------------


def test_no_seed_of_a_script_the_examiner_is_excluded_from(db: Session, tmp_path: Path) -> None:
    exam, source = one_seed(db, tmp_path, "CU-3", ("e1", "e2", "e3", "e4"))
    script_id = db.get(Response, source).script_id  # type: ignore[union-attr]
    e3, e4 = account(db, "e3"), account(db, "e4")
    db.add(Exclusion(script_id=script_id, examiner_id=e3.id))  # e.g. a relative's script
    db.flush()
    for _ in range(3):  # the seed is due at every place: never to e3 ...
        batch = claim(db, exam, e3, size=4, group="short")
        assert batch and all(i.check_id is None for i in batch)
    # ... while e4, not excluded, gets it in the first batch that can take it: about 1 run
    # in 25 (the queue's order is random) the first could not, and the seed stayed owed.
    got = [claim(db, exam, e4, size=4, group="short") for _ in range(3)]
    assert any(i.check_id is not None for batch in got for i in batch)


def _qualifying(db: Session, tmp_path: Path, code: str, items: int) -> tuple[ExamSession, int]:
    """A session whose short group asks for a qualification set of 3 and has ``items``; e1
    excluded from the first item's script. Returns the session and that item's response."""
    exam = f.tiny_session(db, tmp_path, code, n=6, examiners=("e1", "e2"), open_groups=False).exam
    short = group(exam, "short")
    f.assign(db, exam, short, ["e1", "e2"], actor=f.ACTOR, lead="lead")
    short.qualification_size, short.qualification_within = 3, Decimal("0.6")
    db.flush()
    made = qualification_set(db, exam, "short", items)
    approve_scheme(db, exam, short, by="lead")
    script_id = db.get(Response, made[0].response_id).script_id  # type: ignore[union-attr]
    db.add(Exclusion(script_id=script_id, examiner_id=account(db, "e1").id))
    db.flush()
    return exam, made[0].response_id


def test_a_qualification_attempt_draws_around_recusal_and_stays_whole(
    db: Session, tmp_path: Path
) -> None:
    exam, withheld = _qualifying(db, tmp_path, "CU-4", 4)
    short = group(exam, "short")
    attempt = qualification.start_qualification(db, exam, account(db, "e1"), group=short)
    assert len(attempt) == 3 and withheld not in {i.response_id for i in attempt}
    other = qualification.start_qualification(db, exam, account(db, "e2"), group=short)
    assert withheld in {i.response_id for i in other}  # the lead's order, for everyone else
    assert qualification.short_for(db, short) == 0


def test_recusal_leaving_too_few_items_refuses_the_attempt_and_tells_the_lead(
    db: Session, tmp_path: Path
) -> None:
    exam, _withheld = _qualifying(db, tmp_path, "CU-5", 3)
    short = group(exam, "short")
    with pytest.raises(StateError, match="too few responses you may mark") as refused:
        qualification.start_qualification(db, exam, account(db, "e1"), group=short)
    assert refused.value.code == "qualification_set_short"
    assert qualification.short_for(db, short) == 1  # the lead's page asks for items
    assert len(qualification.start_qualification(db, exam, account(db, "e2"), group=short)) == 3


def test_a_qualification_item_is_not_reported_into_no_ones_inbox(
    db: Session, tmp_path: Path
) -> None:
    """A report on a qualification item was stored where no lead's page reads it."""
    exam, _withheld = _qualifying(db, tmp_path, "CU-7", 4)
    e2 = account(db, "e2")
    (first, *_rest) = qualification.start_qualification(db, exam, e2, group=group(exam, "short"))
    assert first.check_id is not None
    with pytest.raises(StateError) as refused:
        reports.report_check(
            db, exam, e2, check_id=first.check_id, kind=AnomalyKind.ILLEGIBLE, note="看不清"
        )
    assert refused.value.code == "report_qualification"
    still = qualification.held_set(db, exam, e2, group(exam, "short"))
    assert first.check_id in {i.check_id for i in still}  # held still, to be marked


# --- a chosen group -----------------------------------------------------------------------------


def test_a_claim_for_a_chosen_group_refuses_for_that_groups_reason(
    db: Session, tmp_path: Path
) -> None:
    exam, _withheld = _qualifying(db, tmp_path, "CU-6", 3)  # prac: not assigned, not approved
    e2 = account(db, "e2")
    with pytest.raises(StateError, match="资格测试") as waits:
        claim(db, exam, e2, size=5, group="short")
    assert waits.value.params == {"groups": group(exam, "short").name}
    # Asking for prac: short's set is not why prac gives nothing; not told to take it.
    with pytest.raises(MarkingError, match="no open marking group") as refused:
        claim(db, exam, e2, size=5, group="prac")
    assert refused.value.code != "qualification_required"
