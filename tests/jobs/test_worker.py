"""`blindmark worker` for real, in its own process group, on the pass's database (SQLite,
or PostgreSQL when BLINDMARK_TEST_DATABASE_URL is set): it takes a queued notices job and
finishes it; killed (SIGKILL, as when a machine dies) mid-job, it leaves no half report,
and a worker started later finishes the job."""

from __future__ import annotations

import io
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader

from marking.jobs import Jobs, submit_notices
from marking.setup.sessions import get_session
from marking.store.db import transaction
from marking.store.models import ReportRun, RunState, utcnow
from tests.jobs.conftest import CANDIDATES, Published
from tests.jobs.workers import Workers


@pytest.fixture
def workers(published: Published, tmp_path: Path) -> Iterator[Workers]:
    started = Workers(published.database.url, tmp_path)
    try:
        yield started
    finally:
        started.stop_all()


def submit(published: Published) -> int:
    jobs = Jobs(published.database.url, engine=published.database.engine)
    with transaction(published.database.engine) as db:
        run = submit_notices(jobs, db, get_session(db, published.code), requested_by="office")
        run_id = run.id
    jobs.huey.storage.close()
    return run_id


def wait_for(
    published: Published, run_id: int, ok: Callable[[ReportRun], bool], workers: Workers
) -> ReportRun:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        with transaction(published.database.engine) as db:
            run = db.get_one(ReportRun, run_id)
            _ = run.content
        if ok(run):
            return run
        time.sleep(0.05)
    raise AssertionError(f"report run {run_id} stuck at {run.state}; workers:\n{workers.logs()}")


def assert_whole(run: ReportRun) -> None:
    assert run.state is RunState.DONE and run.error is None, run.error
    assert (run.progress, run.total) == (CANDIDATES, CANDIDATES)
    assert run.content is not None
    assert len(PdfReader(io.BytesIO(run.content)).pages) == CANDIDATES


def test_a_worker_takes_a_queued_notices_job_and_finishes_it(
    published: Published, workers: Workers
) -> None:
    run_id = submit(published)  # queued with no worker running: kept until one starts
    proc = workers.start()
    assert_whole(wait_for(published, run_id, lambda r: r.state is RunState.DONE, workers))
    workers.kill(proc, signal.SIGINT)  # a graceful stop
    assert proc.returncode == 0, workers.logs()


def test_a_job_whose_worker_was_killed_is_finished_by_a_worker_started_later(
    published: Published, workers: Workers
) -> None:
    run_id = submit(published)
    first = workers.start()
    running = wait_for(published, run_id, lambda r: r.state is RunState.RUNNING, workers)
    workers.kill(first, signal.SIGKILL)
    assert running.lease_owner is not None and running.lease_until is not None
    left = wait_for(published, run_id, lambda r: True, workers)
    assert left.state is RunState.RUNNING and left.content is None  # no half report
    # The new worker resumes it once the dead one's lease has lapsed (when it starts, or
    # in its minute sweep).
    assert left.lease_until is not None
    time.sleep(max(0.0, (left.lease_until - utcnow()).total_seconds()) + 0.2)
    workers.start()
    done = wait_for(published, run_id, lambda r: r.state is RunState.DONE, workers)
    assert_whole(done)
    assert done.finished_at is not None and done.finished_at > left.lease_until
