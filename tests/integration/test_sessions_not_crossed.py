"""Sessions cannot be crossed in the engine: every operation on a response, lease, anomaly or
arbitration addressed through one session refuses what belongs to another (NotFound),
stores nothing, and leaves both sessions' ledgers verifying.

The review's case: an examiner assigned to two sessions claims in B and marks or flags
through A. Before, the mark landed: B's response got a mark recorded in A's ledger, and
neither session verified (or could ever publish)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from marking.audit.verify import verify
from marking.errors import NotFound
from marking.people.accounts import get_account
from marking.queue.claims import claim
from marking.queue.handback import flag, release
from marking.queue.lead import arbitrate, arbitration_tasks, open_anomalies, resolve_anomaly
from marking.queue.leases import held_lease
from marking.queue.marks import submit_mark
from marking.read import views
from marking.store.models import AnomalyKind, AnomalyResolution, ResponseState, utcnow
from tests.integration import factory as f


def assert_both_verify(db: Session, *exams: Any) -> None:
    for exam in exams:
        report = verify(db, exam)
        assert report.ok, (exam.code, report.problems)


@pytest.fixture
def two(db: Session, tmp_path: Path) -> tuple[f.Tiny, f.Tiny]:
    """Sessions A and B with the same examiners and the same lead."""
    a = f.tiny_session(db, tmp_path, "CROSS-A", n=2)
    b = f.tiny_session(db, tmp_path, "CROSS-B", n=2)
    return a, b


EXAMINER_OPERATIONS: dict[str, Callable[..., Any]] = {
    "mark": lambda db, exam, who, rid: submit_mark(
        db, exam, who, response_id=rid, value=Decimal(2)
    ),
    "release": lambda db, exam, who, rid: release(db, exam, who, response_id=rid),
    "flag": lambda db, exam, who, rid: flag(
        db, exam, who, response_id=rid, kind=AnomalyKind.ILLEGIBLE, note="看不清"
    ),
    "held lease": lambda db, exam, who, rid: held_lease(db, exam, who, rid, now=utcnow()),
}


@pytest.mark.parametrize("operation", EXAMINER_OPERATIONS, ids=list(EXAMINER_OPERATIONS))
def test_an_examiner_cannot_act_through_one_session_on_what_they_hold_in_another(
    db: Session, two: tuple[f.Tiny, f.Tiny], operation: str
) -> None:
    a, b = two
    e1 = get_account(db, "e1")
    held_in_b = claim(db, b.exam, e1, size=100)
    target = held_in_b[0].response_id
    before = f.stored_state(db)

    with pytest.raises(NotFound, match="not in session CROSS-A"):
        EXAMINER_OPERATIONS[operation](db, a.exam, e1, target)

    assert f.stored_state(db) == before
    assert_both_verify(db, a.exam, b.exam)
    # Through its own session the same call goes through.
    EXAMINER_OPERATIONS[operation](db, b.exam, e1, target)
    assert_both_verify(db, a.exam, b.exam)


def test_the_lead_cannot_arbitrate_through_one_session_what_awaits_in_another(
    db: Session, two: tuple[f.Tiny, f.Tiny]
) -> None:
    a, b = two
    given = {"e1": Decimal(0), "e3": Decimal(3)}
    f.mark_all(db, b.exam, ["e1", "e2", "e3"], lambda item, user: given.get(user, item.max))
    task = arbitration_tasks(db, b.exam)[0]
    lead = get_account(db, "lead")
    before = f.stored_state(db)

    with pytest.raises(NotFound, match="not in session CROSS-A"):
        arbitrate(db, a.exam, lead, response_id=task.response_id, value=Decimal(2))

    assert f.stored_state(db) == before
    assert_both_verify(db, a.exam, b.exam)
    arbitrate(db, b.exam, lead, response_id=task.response_id, value=Decimal(2))
    assert_both_verify(db, a.exam, b.exam)


def test_the_lead_cannot_resolve_through_one_session_an_anomaly_of_another(
    db: Session, two: tuple[f.Tiny, f.Tiny]
) -> None:
    a, b = two
    e1, lead = get_account(db, "e1"), get_account(db, "lead")
    item = claim(db, b.exam, e1, size=1)[0]
    anomaly = flag(db, b.exam, e1, response_id=item.response_id, kind=AnomalyKind.BLANK, note="")
    before = f.stored_state(db)

    for resolution, value in (
        (AnomalyResolution.FINAL, Decimal(0)),
        (AnomalyResolution.REQUEUE, None),
    ):
        with pytest.raises(NotFound, match="not in session CROSS-A"):
            resolve_anomaly(
                db,
                a.exam,
                lead,
                anomaly_id=anomaly.id,
                resolution=resolution,
                note="空白",
                value=value,
            )

    assert f.stored_state(db) == before
    assert open_anomalies(db, a.exam) == []
    assert [x.id for x in open_anomalies(db, b.exam)] == [anomaly.id]
    assert_both_verify(db, a.exam, b.exam)
    resolve_anomaly(
        db, b.exam, lead, anomaly_id=anomaly.id, resolution=AnomalyResolution.REQUEUE, note="可评"
    )
    assert f.response_of(db, b.exam, item.text).state is ResponseState.OPEN
    assert_both_verify(db, a.exam, b.exam)


def test_a_response_and_its_image_are_found_only_through_their_session(
    db: Session, two: tuple[f.Tiny, f.Tiny]
) -> None:
    a, b = two
    e1 = get_account(db, "e1")
    item = claim(db, b.exam, e1, size=1)[0]
    with pytest.raises(NotFound, match="not in session CROSS-A"):
        views.session_response(db, a.exam, item.response_id)
    assert views.session_response(db, b.exam, item.response_id).id == item.response_id
    now = utcnow()
    assert not views.holds(db, a.exam, e1, item.response_id, now=now)
    assert views.holds(db, b.exam, e1, item.response_id, now=now)
