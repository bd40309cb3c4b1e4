"""Races on qualification (issue 13): the examiner opening the set twice at once (two tabs,
a double click) gets one attempt, not a server error."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

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


def at_once(
    fresh_db: FreshDatabase, act: Callable[[Session], list[Claimed]]
) -> dict[str, list[Claimed]]:
    """``act`` in two transactions at once, the second sent while the first holds its locks
    (it must wait, then run on what the first committed); each one's result by name."""
    make = session_factory(fresh_db.engine)
    first, second = make(), make()
    got: dict[str, list[Claimed]] = {}
    errors: list[BaseException] = []
    go_on = threading.Event()

    def run(db: Session, name: str, hold: bool) -> None:
        try:
            with db.begin():
                got[name] = act(db)
                if hold:
                    go_on.wait(30)
        except BaseException as exc:
            errors.append(exc)

    one = threading.Thread(target=run, args=(first, "one", True))
    two = threading.Thread(target=run, args=(second, "two", False))
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
    return got


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

    def start(db: Session) -> list[Claimed]:
        exam = get_session(db, code)
        group = next(g for g in exam.groups if g.key == "short")
        return qualification.start_qualification(db, exam, get_account(db, "e1"), group=group)

    got = at_once(fresh_db, start)
    assert {c.check_id for c in got["one"]} == {c.check_id for c in got["two"]}
    with transaction(fresh_db.engine) as db:
        assert db.scalar(select(func.count()).select_from(CheckMark)) == 2
