"""Two steps interleaved at a chosen point, for the tests of lock order on PostgreSQL: the
first stops right after ``module.function`` returned (its locks taken) until the second
waits on a lock, then both go on. A wrong lock order shows as a deadlock."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from marking.store.db import session_factory
from tests.conftest import FreshDatabase
from tests.integration.test_queue_race import _wait_until_blocked

Step = Callable[[Session], Any]


def interleaved(
    database: FreshDatabase,
    monkeypatch: pytest.MonkeyPatch,
    where: tuple[Any, str],
    first: Step,
    second: Step,
) -> dict[str, Any]:
    """Run ``first`` until ``where`` (a module and the name of one of its functions) has
    returned, then ``second`` until it waits, then both to their end, each in a transaction
    of its own. Returns what each returned or raised, by "first" and "second"."""
    module, name = where
    locked, go = threading.Event(), threading.Event()
    real = getattr(module, name)

    def pausing(*args: Any, **kwargs: Any) -> Any:
        done = real(*args, **kwargs)
        if threading.current_thread().name == "first":
            locked.set()
            go.wait(30)
        return done

    monkeypatch.setattr(module, name, pausing)
    make = session_factory(database.engine)
    results: dict[str, Any] = {}

    def run(label: str, step: Step) -> None:
        db = make()
        try:
            with db.begin():
                results[label] = step(db)
        except BaseException as exc:  # reported by the test
            results[label] = exc
        finally:
            db.close()

    one = threading.Thread(target=run, args=("first", first), name="first")
    two = threading.Thread(target=run, args=("second", second), name="second")
    one.start()
    assert locked.wait(30), results
    two.start()
    _wait_until_blocked(database, time.monotonic() + 20)
    go.set()
    one.join(30)
    two.join(30)
    return results
