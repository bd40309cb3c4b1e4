"""Races on qualification (issue 13): the examiner opening the set twice at once (two tabs,
a double click) gets one attempt, not a server error."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select

from marking.people.accounts import get_account
from marking.quality import qualification
from marking.queue.claims import Claimed
from marking.setup.assignment import approve_scheme, assign
from marking.setup.sessions import get_session
from marking.store import schema
from marking.store.db import session_factory, transaction
from marking.store.models.checks import CheckMark
from tests.conftest import FreshDatabase
from tests.integration import factory as f
from tests.integration.test_checks import qualification_set
from tests.integration.test_queue_race import _wait_until_blocked


def test_two_starts_at_once_open_one_attempt(fresh_db: FreshDatabase, tmp_path: Path) -> None:
    schema.upgrade(fresh_db.engine)
    with transaction(fresh_db.engine) as db:
        tiny = f.tiny_session(db, tmp_path, "AR-1", n=6, examiners=("e1", "e2"), open_groups=False)
        exam = tiny.exam
        short = next(g for g in exam.groups if g.key == "short")
        assign(db, exam, short, ["e1", "e2"], actor=f.ACTOR, lead="lead")
        short.qualification_size, short.qualification_within = 2, Decimal("1")
        db.flush()
        qualification_set(db, exam, "short", 2)
        approve_scheme(db, exam, short, by="lead")
        code = exam.code

    make = session_factory(fresh_db.engine)
    first, second = make(), make()
    got: dict[str, list[Claimed]] = {}
    errors: list[BaseException] = []
    go_on = threading.Event()

    def start(db: object, name: str, hold: bool) -> None:
        try:
            with db.begin():  # type: ignore[attr-defined]
                exam = get_session(db, code)  # type: ignore[arg-type]
                group = next(g for g in exam.groups if g.key == "short")
                got[name] = qualification.start_qualification(
                    db,  # type: ignore[arg-type]
                    exam,
                    get_account(db, "e1"),  # type: ignore[arg-type]
                    group=group,
                )
                if hold:
                    go_on.wait(30)
        except BaseException as exc:
            errors.append(exc)

    one = threading.Thread(target=start, args=(first, "one", True))
    two = threading.Thread(target=start, args=(second, "two", False))
    one.start()
    for _ in range(3000):  # a loaded machine: up to 30 s for the first to hold its lock
        if got or errors:
            break
        time.sleep(0.01)
    assert not errors, errors
    two.start()
    _wait_until_blocked(fresh_db, time.monotonic() + 20)
    go_on.set()
    one.join(30)
    two.join(30)
    first.close()
    second.close()
    assert not errors, errors
    assert {c.check_id for c in got["one"]} == {c.check_id for c in got["two"]}
    with transaction(fresh_db.engine) as db:
        assert db.scalar(select(func.count()).select_from(CheckMark)) == 2
