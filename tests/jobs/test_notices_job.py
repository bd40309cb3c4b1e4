"""The notices of a whole session as a background job, run in-process (huey's immediate
mode): queued only when the request commits, rendered once with its progress, failed runs
say why, and a run whose worker vanished is queued again by ``resume_stalled``."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import update

from marking.errors import MarkingError, StateError
from marking.jobs import Jobs, render_notices, resume_stalled, submit_notices
from marking.setup.sessions import get_session
from marking.store.db import transaction
from marking.store.models import ReportRun, RunState, utcnow
from tests.integration import factory as f
from tests.jobs.conftest import CANDIDATES, Published


def in_process(published: Published) -> Jobs:
    return Jobs(published.database.url, engine=published.database.engine, immediate=True)


def run_of(published: Published, run_id: int) -> ReportRun:
    with transaction(published.database.engine) as db:
        run = db.get_one(ReportRun, run_id)
        _ = run.content  # deferred: load it before the session closes
        return run


def test_the_notices_are_rendered_once_the_request_commits(published: Published) -> None:
    jobs = in_process(published)
    with transaction(published.database.engine) as db:
        run = submit_notices(jobs, db, get_session(db, published.code), requested_by="office")
        run_id = run.id
        # Not before the commit: a worker elsewhere could not see the run yet.
        assert run.state is RunState.QUEUED and jobs.huey.pending_count() == 0
    done = run_of(published, run_id)
    assert done.state is RunState.DONE and done.error is None
    assert (done.progress, done.total) == (CANDIDATES, CANDIDATES)
    assert done.lease_owner is None and done.finished_at is not None
    assert done.content is not None
    assert len(PdfReader(io.BytesIO(done.content)).pages) == CANDIDATES

    # Queued a second time (a sweep and the original both queue it): rendered once.
    render_notices(jobs, run_id)
    assert run_of(published, run_id).finished_at == done.finished_at


def test_a_rolled_back_request_queues_nothing(published: Published) -> None:
    jobs = in_process(published)
    with pytest.raises(RuntimeError), transaction(published.database.engine) as db:
        submit_notices(jobs, db, get_session(db, published.code), requested_by="office")
        raise RuntimeError("the request failed after submitting")
    with transaction(published.database.engine) as db:
        assert db.query(ReportRun).filter_by(state=RunState.QUEUED).count() == 0


def test_refusals_come_before_anything_is_queued(published: Published, tmp_path: Path) -> None:
    jobs = in_process(published)
    with transaction(published.database.engine) as db:
        with pytest.raises(MarkingError, match="reports are in zh or en"):
            submit_notices(jobs, db, get_session(db, published.code), requested_by="o", lang="fr")
        tiny = f.tiny_session(db, tmp_path, "JOB-UNPUB", n=2)
        with pytest.raises(StateError, match="after publication"):
            submit_notices(jobs, db, tiny.exam, requested_by="office")
        db.rollback()


def test_a_run_whose_worker_died_is_queued_again_and_finished(published: Published) -> None:
    """A worker killed mid-run leaves it 'running' under a lease nobody renews; once the
    lease lapses the sweep queues it again and another worker renders it whole."""
    jobs = Jobs(published.database.url, engine=published.database.engine, immediate=True)
    with transaction(published.database.engine) as db:
        exam = get_session(db, published.code)
        run = ReportRun(
            session_id=exam.id,
            kind="notices",
            lang="en",
            state=RunState.RUNNING,
            progress=5,
            total=CANDIDATES,
            requested_by="office",
            lease_owner="dead-machine:1:1",
            lease_until=utcnow() + dt.timedelta(minutes=5),
        )
        db.add(run)
        db.flush()
        run_id = run.id
    assert resume_stalled(jobs) == 0  # its lease still holds: the worker may be alive
    assert run_of(published, run_id).state is RunState.RUNNING
    with transaction(published.database.engine) as db:
        db.execute(
            update(ReportRun)
            .where(ReportRun.id == run_id)
            .values(lease_until=utcnow() - dt.timedelta(seconds=1))
        )
    assert resume_stalled(jobs) == 1
    done = run_of(published, run_id)
    assert done.state is RunState.DONE and done.progress == CANDIDATES
    assert done.content is not None and b"%PDF" in done.content[:8]
