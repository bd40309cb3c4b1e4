"""A correction racing a third mark or a claim (R6, DESIGN §4, §5): nothing lost, nothing
duplicated, and the rule always runs on the marks in force.

The second transaction waits for the first one's lock on the response. On PostgreSQL a
mark's statement took its snapshot before the correction was committed: the response's
``corrections`` count, on the locked row, makes it read the corrected values.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from marking.audit.verify import verify
from marking.people.accounts import get_account
from marking.publication.reconciliation import check_reconciliation
from marking.queue.claims import claim
from marking.queue.corrections import correct_mark
from marking.queue.leases import LeaseLost
from marking.queue.marks import submit_mark
from marking.setup.sessions import get_session
from marking.store import schema
from marking.store.db import session_factory, transaction
from marking.store.models import Response, ResponseState
from tests.conftest import FreshDatabase
from tests.integration import factory as f
from tests.integration.interleave import interleaved
from tests.integration.test_marking_corrections import Q, mark_as
from tests.integration.test_queue_race import _wait_until_blocked

Step = Callable[[Session], Any]


def _race(database: FreshDatabase, code: str, first: Step, second: Step) -> dict[str, Any]:
    """``first`` runs and holds its transaction open until ``second`` waits on its lock;
    then both commit. Returns what each returned (or raised)."""
    make = session_factory(database.engine)
    sessions = {"first": make(), "second": make()}
    results: dict[str, Any] = {}
    released = threading.Event()

    def run(name: str, step: Step) -> None:
        db = sessions[name]
        try:
            with db.begin():
                results[name] = step(db)
                if name == "first":
                    released.wait(30)
        except BaseException as exc:  # reported by the test
            results[name] = exc

    one = threading.Thread(target=run, args=("first", first))
    two = threading.Thread(target=run, args=("second", second))
    one.start()
    # The first step done (its lock taken) before the second starts: on a loaded machine a
    # step (a password hashed, a reconciliation) can take seconds, so wait up to 30 s.
    deadline = time.monotonic() + 30
    while "first" not in results and time.monotonic() < deadline:
        time.sleep(0.01)
    two.start()
    _wait_until_blocked(database, time.monotonic() + 20)
    released.set()
    one.join(30)
    two.join(30)
    for db in sessions.values():
        db.close()
    return results


def _session(database: FreshDatabase, tmp_path: Path, code: str) -> int:
    """e1 gave 2 and e2 gave 5 on theory question 2 (tolerance 1): e3 holds the third."""
    schema.upgrade(database.engine)
    with transaction(database.engine) as db:
        exam = f.tiny_session(db, tmp_path, code, n=1)
        mark_as(db, exam.exam, "e1", {Q: "2"})
        mark_as(db, exam.exam, "e2", {Q: "5"})
        claim(db, exam.exam, get_account(db, "e3"), size=50)
        return f.response_id(db, exam.exam, Q)


def _correct(code: str, target: int, value: str) -> Step:
    def step(db: Session) -> Any:
        exam = get_session(db, code)
        e1 = get_account(db, "e1")
        return correct_mark(db, exam, e1, response_id=target, value=value, reason="笔误")

    return step


def _third(code: str, target: int, value: str) -> Step:
    def step(db: Session) -> Any:
        exam = get_session(db, code)
        return submit_mark(
            db, exam, get_account(db, "e3"), response_id=target, value=Decimal(value)
        )

    return step


def _after(database: FreshDatabase, code: str, target: int) -> Response:
    with transaction(database.engine) as db:
        exam = get_session(db, code)
        report = verify(db, exam)
        assert report.ok, report.problems
        check_reconciliation(db, exam)
        response = db.get(Response, target)
        assert response is not None
        db.expunge(response)
        return response


def test_a_third_mark_waiting_on_a_correction_reconciles_on_the_corrected_value(
    fresh_db: FreshDatabase, tmp_path: Path
) -> None:
    """DESIGN §5 on the marks in force: 1 (corrected from 2), 5, then 1.5 gives the mean of
    1 and 1.5 (1.5 on the step), where the stale 2 would have given 2."""
    target = _session(fresh_db, tmp_path, "CR-A")
    results = _race(fresh_db, "CR-A", _correct("CR-A", target, "1"), _third("CR-A", target, "1.5"))
    assert results["first"].state is ResponseState.OPEN, results
    assert results["second"].state is ResponseState.FINAL, results
    response = _after(fresh_db, "CR-A", target)
    assert (response.final, response.final_rule) == (Decimal("1.5"), "third_one")
    assert (response.marks_done, response.held) == (3, 0)


def test_a_correction_into_agreement_hands_the_waiting_third_mark_back(
    fresh_db: FreshDatabase, tmp_path: Path
) -> None:
    """DESIGN §4: the third mark is refused as on any lost lease; nothing else is lost and
    no mark is duplicated."""
    target = _session(fresh_db, tmp_path, "CR-B")
    results = _race(fresh_db, "CR-B", _correct("CR-B", target, "4.5"), _third("CR-B", target, "3"))
    assert results["first"].state is ResponseState.FINAL, results
    assert isinstance(results["second"], LeaseLost), results
    response = _after(fresh_db, "CR-B", target)
    assert (response.final, response.final_rule) == (Decimal(5), "agreed")
    assert (response.marks_done, response.held, response.marks_needed) == (2, 0, 2)


def test_a_correction_waiting_on_a_third_mark_sees_it(
    fresh_db: FreshDatabase, tmp_path: Path
) -> None:
    """The third mark first (3.5: near neither, arbitration): the correction then reconciles
    on all three; the doubles now agree, their mean decides (the third stays on record)."""
    target = _session(fresh_db, tmp_path, "CR-C")
    results = _race(
        fresh_db, "CR-C", _third("CR-C", target, "3.5"), _correct("CR-C", target, "4.5")
    )
    assert results["first"].state is ResponseState.ARBITRATION, results
    assert results["second"].state is ResponseState.FINAL, results
    response = _after(fresh_db, "CR-C", target)
    assert (response.final, response.final_rule, response.marks_done) == (Decimal(5), "agreed", 3)


def test_a_correction_waiting_on_the_third_mark_that_made_it_final_is_refused(
    fresh_db: FreshDatabase, tmp_path: Path
) -> None:
    """DESIGN §14: the third mark (3, near 2) made the response final while the examiner's
    correction waited; the correction is then refused (only the lead corrects now)."""
    target = _session(fresh_db, tmp_path, "CR-E")
    results = _race(fresh_db, "CR-E", _third("CR-E", target, "3"), _correct("CR-E", target, "4.5"))
    assert results["first"].state is ResponseState.FINAL, results
    assert getattr(results["second"], "code", None) == "correction_final", results
    response = _after(fresh_db, "CR-E", target)
    assert (response.final, response.final_rule, response.corrections) == (
        Decimal("2.5"),
        "third_one",
        0,
    )


@pytest.mark.postgres
def test_a_claim_during_a_correction_skips_the_response_and_never_doubles_it(
    fresh_db: FreshDatabase, tmp_path: Path
) -> None:
    """DESIGN §4 (SKIP LOCKED): a claim made while a correction holds the response does not
    wait and does not take it; after the correction made it final, nobody gets it."""
    schema.upgrade(fresh_db.engine)
    with transaction(fresh_db.engine) as db:
        exam = f.tiny_session(db, tmp_path, "CR-D", n=1).exam
        mark_as(db, exam, "e1", {Q: "2"})
        mark_as(db, exam, "e2", {Q: "5"})
        target = f.response_id(db, exam, Q)
    make = session_factory(fresh_db.engine)
    correcting, claiming = make(), make()
    with correcting.begin():
        _correct("CR-D", target, "4.5")(correcting)
        with claiming.begin():
            exam = get_session(claiming, "CR-D")
            got = claim(claiming, exam, get_account(claiming, "e3"), size=50)
            assert target not in {item.response_id for item in got}
    with claiming.begin():
        exam = get_session(claiming, "CR-D")
        got = claim(claiming, exam, get_account(claiming, "e3"), size=50)
        assert target not in {item.response_id for item in got}
    correcting.close()
    claiming.close()
    response = _after(fresh_db, "CR-D", target)
    assert (response.state, response.held, response.marks_done) == (ResponseState.FINAL, 0, 2)


def test_a_correction_and_a_third_mark_at_the_same_moment_never_deadlock(
    fresh_db: FreshDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The correction locked the response and then, making the third mark needless, its
    lease; the third mark locks its lease and then the response. Sent at that moment, each
    waited for the other (a tester met it 5 times in 10). Now a correction locks the held
    leases first: the third mark waits, then is handed back."""
    if fresh_db.schema is None:
        pytest.skip("PostgreSQL's row locks: SQLite has one writer, so no two steps interleave")
    from marking.queue import corrections

    target = _session(fresh_db, tmp_path, "CR-D")
    results = interleaved(
        fresh_db,
        monkeypatch,
        (corrections, "_locked_response"),
        _correct("CR-D", target, "4.5"),
        _third("CR-D", target, "3"),
    )
    assert results["first"].state is ResponseState.FINAL, results
    assert isinstance(results["second"], LeaseLost), results
    response = _after(fresh_db, "CR-D", target)
    assert (response.final, response.marks_done, response.held) == (Decimal(5), 2, 0)
