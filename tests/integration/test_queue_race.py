"""Two examiners' marks on one response arriving at the same moment.

The second transaction waits for the first one's lock on the response. On PostgreSQL its
statement's snapshot was taken before the first mark was committed: the queue must still
reconcile on both marks, not on its own alone.
"""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import text

from marking.audit.verify import verify
from marking.people.accounts import get_account
from marking.queue.claims import claim
from marking.queue.marks import Submitted, submit_mark
from marking.setup.sessions import get_session
from marking.store import schema
from marking.store.db import session_factory, transaction
from marking.store.models import Response, ResponseState
from tests.conftest import FreshDatabase
from tests.integration import factory as f


def _wait_until_blocked(database: FreshDatabase, deadline: float) -> None:
    """Until the other transaction is queued behind the first one's lock."""
    if database.schema is None:
        time.sleep(0.5)  # SQLite: the second BEGIN IMMEDIATE waits on the write lock
        return
    with database.engine.connect() as conn:
        while time.monotonic() < deadline:
            waiting = conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            ).scalar_one()
            if waiting:
                return
            # pg_stat_activity is read once per transaction and kept: a new one for each look,
            # or a first look made before the second mark queued would be all it ever saw.
            conn.rollback()
            time.sleep(0.02)
    raise AssertionError("the second mark never waited for the first")


def test_two_marks_at_once_reconcile_on_both(fresh_db: FreshDatabase, tmp_path: Path) -> None:
    schema.upgrade(fresh_db.engine)
    with transaction(fresh_db.engine) as db:
        tiny = f.tiny_session(db, tmp_path, "RACE-1", n=2, examiners=("e1", "e2"))
        code = tiny.exam.code
        for username in ("e1", "e2"):
            claim(db, tiny.exam, get_account(db, username), size=50)
        target = f.response_id(db, tiny.exam, "c1 skills")

    make = session_factory(fresh_db.engine)
    first, second = make(), make()
    results: dict[str, Submitted | BaseException] = {}

    def mark(session_name: str, username: str, value: Decimal) -> None:
        db = first if session_name == "first" else second
        try:
            with db.begin():
                exam = get_session(db, code)
                results[username] = submit_mark(
                    db, exam, get_account(db, username), response_id=target, value=value
                )
                if session_name == "first":
                    released.wait(30)
        except BaseException as exc:  # reported below, in the test's thread
            results[username] = exc

    released = threading.Event()
    one = threading.Thread(target=mark, args=("first", "e1", Decimal("4")))
    two = threading.Thread(target=mark, args=("second", "e2", Decimal("5")))
    one.start()
    for _ in range(500):
        if "e1" in results:
            break
        time.sleep(0.01)
    two.start()
    _wait_until_blocked(fresh_db, time.monotonic() + 20)
    released.set()
    one.join(30)
    two.join(30)
    first.close()
    second.close()

    assert isinstance(results["e1"], Submitted), results["e1"]
    assert isinstance(results["e2"], Submitted), results["e2"]
    assert results["e1"].state is ResponseState.OPEN
    # Within tolerance (1): the mean of 4 and 5, not the second mark alone.
    assert results["e2"].state is ResponseState.FINAL
    assert results["e2"].final == Decimal("4.5")
    with transaction(fresh_db.engine) as db:
        response = db.get(Response, target)
        assert response is not None
        assert (response.marks_done, response.held, response.final) == (2, 0, Decimal("4.5"))
        report = verify(db, get_session(db, code))
        assert report.ok, report.problems
