"""An examiner's marking requests answer at one steady pace (web/pacing.py, DESIGN §13): a
check's answer comes no sooner and no later than live work's, whatever each costs, and the
wait holds no database connection."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.web.conftest import World
from tests.web.test_checks_web import is_check, set_rates
from tests.web.test_examiner_and_lead import API, claim, mark

FLOOR = 0.25


@pytest.fixture
def paced(world: World) -> Iterator[World]:
    world.app.config["EXAMINER_PACE"] = FLOOR
    try:
        yield world
    finally:
        world.app.config["EXAMINER_PACE"] = 0


def timed(call: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    answer = call()
    return answer, time.perf_counter() - start


def test_checks_and_live_work_answer_no_sooner_than_the_floor(paced: World) -> None:
    world = paced
    world.session("PACE-1", n=40, examiners=("e1", "e2"))
    set_rates(world, "PACE-1", remark="0.5")
    e1: FlaskClient = world.client("e1")
    world.app.config["EXAMINER_PACE"] = 0  # quickly to a batch holding a check and live work
    for _ in range(40):
        batch = [item["response"] for item in claim(e1, "PACE-1", size=5)]
        checks = [h for h in batch if is_check(world, "PACE-1", h)]
        if checks and len(checks) < len(batch):
            break
        for handle in batch:
            assert mark(e1, "PACE-1", handle, "1").status_code == 200
    else:
        raise AssertionError("no batch held a check beside live work")
    world.app.config["EXAMINER_PACE"] = FLOOR

    held, took = timed(lambda: e1.get(f"{API}/PACE-1/held"))
    assert held.status_code == 200 and took >= FLOOR
    check, *_ = checks
    live = next(h for h in batch if h not in checks)
    for handle in (check, live):
        # Refused (a value out of range), then marked: every answer, a refusal too, waits
        # for the floor.
        refused, took = timed(lambda h=handle: mark(e1, "PACE-1", h, "99"))
        assert refused.status_code == 422 and took >= FLOOR
        done, took = timed(lambda h=handle: mark(e1, "PACE-1", h, "1"))
        assert done.status_code == 200 and took >= FLOOR
    for handle in [h for h in batch if h not in (check, live)]:
        back, took = timed(lambda h=handle: e1.post(f"{API}/PACE-1/responses/{h}/release"))
        assert back.status_code == 200 and took >= FLOOR
    again, took = timed(lambda: e1.post(f"{API}/PACE-1/claim", json={"size": 3}))
    assert again.status_code == 200 and took >= FLOOR


def test_the_wait_holds_no_connection(paced: World, monkeypatch: pytest.MonkeyPatch) -> None:
    world = paced
    world.session("PACE-2", n=4, examiners=("e1", "e2"))
    e1 = world.client("e1")
    engine = world.database.engine
    waits: list[tuple[float, int]] = []
    real_sleep = time.sleep

    def sleep(seconds: float) -> None:
        waits.append((seconds, engine.pool.checkedout()))  # type: ignore[attr-defined]
        real_sleep(seconds)

    monkeypatch.setattr("web.pacing.time.sleep", sleep)
    batch = claim(e1, "PACE-2", size=2)
    assert mark(e1, "PACE-2", batch[0]["response"], "1").status_code == 200
    assert e1.get(f"{API}/PACE-2/held").json[0]["response"] == batch[1]["response"]
    # Three paced answers, each waiting most of the floor with no connection checked out:
    # the mark was committed before the wait, as the held list read after it shows.
    assert len(waits) == 3
    assert all(0 < seconds <= FLOOR and out == 0 for seconds, out in waits)
    # Only the examiner's work is held back: not their account, nor the lead's pages, nor a
    # request without a login (flooding the server would be cheap if it held a thread).
    assert e1.get("/api/v1/me").status_code == 200
    assert world.client(None).post(f"{API}/PACE-2/claim", json={"size": 1}).status_code == 401
    assert len(waits) == 3
