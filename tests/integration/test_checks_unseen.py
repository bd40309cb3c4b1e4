"""Seeds and 回评 stay indistinguishable from live work (DESIGN §13) at the claim's edges:
an expired check, recusal, a chosen group, the hold limit's refusal."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from marking.queue.claims import claim
from marking.queue.leases import DEFAULT_LEASE
from marking.queue.marks import submit_mark
from marking.store.models import utcnow
from tests.integration import factory as f
from tests.integration.marking_helpers import account
from tests.integration.test_checks import MIN, group, one_seed


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
