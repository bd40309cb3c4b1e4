"""A report and a mark of one held response sent at once by one examiner's two logins
(R4): one of them wins, the other is told the response is no longer theirs; never a
deadlock (a 500 to the examiner, the mark lost).

A mark's statement locks the examiner's ledger lane and then the lease. A report locked the
lease, then the lane when it wrote its ledger entry: with the mark between the two, each
waited for the other and PostgreSQL broke the deadlock by failing one. A tester met it over
HTTP twice in 39 tries. Now a report takes the lane first, as a mark does.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from marking.people.accounts import get_account
from marking.queue import handback
from marking.queue.claims import claim
from marking.queue.leases import LeaseLost
from marking.queue.marks import submit_mark
from marking.setup.sessions import get_session
from marking.store import schema
from marking.store.db import transaction
from marking.store.models import Anomaly, AnomalyKind
from tests.conftest import FreshDatabase
from tests.integration import factory as f
from tests.integration.interleave import interleaved


def test_a_report_and_a_mark_at_once_never_deadlock(
    fresh_db: FreshDatabase, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if fresh_db.schema is None:
        pytest.skip("PostgreSQL's row locks: SQLite has one writer, so no two steps interleave")
    schema.upgrade(fresh_db.engine)
    with transaction(fresh_db.engine) as db:
        tiny = f.tiny_session(db, tmp_path, "RR-1", n=1, examiners=("e1", "e2"))
        [item] = claim(db, tiny.exam, get_account(db, "e1"), size=1)
        target = item.response_id

    def report(db: Session) -> Any:
        exam = get_session(db, "RR-1")
        e1 = get_account(db, "e1")
        return handback.flag(
            db, exam, e1, response_id=target, kind=AnomalyKind.ILLEGIBLE, note="看不清"
        )

    def mark(db: Session) -> Any:
        exam = get_session(db, "RR-1")
        return submit_mark(db, exam, get_account(db, "e1"), response_id=target, value=Decimal(1))

    # The report stops right after it locked the lease, until the mark waits on a lock.
    results = interleaved(fresh_db, monkeypatch, (handback, "held_lease"), report, mark)
    assert isinstance(results["first"], Anomaly), results["first"]
    assert isinstance(results["second"], LeaseLost), results["second"]
