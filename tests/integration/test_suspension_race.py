"""A claim running while the lead suspends its examiner: the suspension waits for it and
takes back what it handed out, so nothing is left held by a suspended examiner (and a
claim that starts after the suspension gets nothing of the group)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from sqlalchemy import select

from marking.people.accounts import get_account
from marking.quality.suspension import suspend
from marking.queue.claims import Claimed, claim
from marking.setup.sessions import get_session
from marking.store import schema
from marking.store.db import session_factory, transaction
from marking.store.models import Lease, LeaseState, Response
from tests.conftest import FreshDatabase
from tests.integration import factory as f
from tests.integration.test_queue_race import _wait_until_blocked


def test_a_claim_in_flight_does_not_outlive_the_suspension(
    fresh_db: FreshDatabase, tmp_path: Path
) -> None:
    schema.upgrade(fresh_db.engine)
    with transaction(fresh_db.engine) as db:
        tiny = f.tiny_session(db, tmp_path, "SR-1", n=4)
        code = tiny.exam.code
        short_id = next(g.id for g in tiny.exam.groups if g.key == "short")

    make = session_factory(fresh_db.engine)
    claiming, suspending = make(), make()
    claimed: list[Claimed] = []
    errors: list[BaseException] = []
    released = threading.Event()

    def run_claim() -> None:
        try:
            with claiming.begin():
                exam = get_session(claiming, code)
                claimed.extend(claim(claiming, exam, get_account(claiming, "e1"), size=10))
                released.wait(30)
        except BaseException as exc:
            errors.append(exc)

    def run_suspend() -> None:
        try:
            with suspending.begin():
                exam = get_session(suspending, code)
                suspend(
                    suspending,
                    exam,
                    get_account(suspending, "lead"),
                    examiner=get_account(suspending, "e1"),
                    group=next(g for g in exam.groups if g.key == "short"),
                    reason="偏差",
                    keep_marks=True,
                )
        except BaseException as exc:
            errors.append(exc)

    one = threading.Thread(target=run_claim)
    two = threading.Thread(target=run_suspend)
    one.start()
    for _ in range(500):
        if claimed or errors:
            break
        time.sleep(0.01)
    two.start()
    _wait_until_blocked(fresh_db, time.monotonic() + 20)
    released.set()
    one.join(30)
    two.join(30)
    claiming.close()
    suspending.close()
    assert not errors, errors
    assert claimed  # the claim handed out responses of both groups before the suspension
    with transaction(fresh_db.engine) as db:
        held_short = db.scalars(
            select(Lease.id)
            .join(Response, Response.id == Lease.response_id)
            .where(Lease.state == LeaseState.HELD, Response.group_id == short_id)
        ).all()
        assert held_short == []
        assert sum(db.scalars(select(Response.held).where(Response.group_id == short_id))) == 0
        exam = get_session(db, code)
        again = claim(db, exam, get_account(db, "e1"), size=10)
        assert all(c.group != "short" for c in again)
