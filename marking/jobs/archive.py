"""A published session's archive made as a background job, watched through its
``ReportRun`` (kind ``archive``) like the notices: its reports alone take minutes for a
large session (bench figures in the README), too long for a request."""

from __future__ import annotations

import io
import logging
import multiprocessing
from typing import TYPE_CHECKING

from marking.errors import MarkingError
from marking.jobs.notices import LANGUAGES, LeaseLost, _claim, _finish, _heartbeat, worker_name
from marking.read.archive import finish_archive, require_archivable, start_archive
from marking.store.db import transaction
from marking.store.models import ExamSession, ReportRun, RunState, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from marking.jobs.library import Jobs

log = logging.getLogger("blindmark.jobs")

RENDER_ARCHIVE = "render_archive"
KIND = "archive"


def submit_archive(
    jobs: Jobs, db: Session, exam: ExamSession, *, requested_by: str, lang: str = "zh"
) -> ReportRun:
    """Ask for the archive of ``exam``; a worker makes it once ``db`` commits. Raises
    StateError (``archive_unpublished``) before publication, MarkingError for a language
    the reports do not have."""
    if lang not in LANGUAGES:
        raise MarkingError(f"reports are in {' or '.join(LANGUAGES)}, not {lang!r}")
    require_archivable(exam)
    run = ReportRun(
        session_id=exam.id,
        kind=KIND,
        lang=lang,
        state=RunState.QUEUED,
        progress=0,
        total=0,
        requested_by=requested_by,
        lease_until=utcnow() + jobs.lease,
    )
    db.add(run)
    db.flush()
    jobs.after_commit(db, RENDER_ARCHIVE, run.id)
    return run


def render_archive(jobs: Jobs, run_id: int) -> None:
    """The task: claim the run, write the archive with progress (the reports' rendering:
    a step a report, a step a candidate's notice), store the zip or the reason it could
    not be made. A run queued twice is made once."""
    owner = worker_name()
    if not _claim(jobs, run_id, owner):
        return
    out = io.BytesIO()
    try:
        # A daemonic worker process (huey's) may not start the renderer's own processes.
        workers = 1 if multiprocessing.current_process().daemon else None
        # The database part in one short transaction; the reports, the slow part, after it:
        # the heartbeats write to the run while they render (on SQLite a transaction held
        # open would keep them waiting).
        with transaction(jobs.engine) as db:
            run = db.get_one(ReportRun, run_id)
            lang = run.lang
            pending = start_archive(db, db.get_one(ExamSession, run.session_id), out)
        finish_archive(
            pending,
            lang=lang,
            workers=workers,
            progress=lambda done, total: _heartbeat(jobs, run_id, owner, done, total),
        )
    except LeaseLost:
        log.warning("archive run %d: lease lost, left to the worker that holds it", run_id)
        return
    except MarkingError as exc:
        _finish(jobs, run_id, owner, error=str(exc))
        return
    except Exception as exc:
        _finish(jobs, run_id, owner, error=f"internal error ({type(exc).__name__})")
        raise
    _finish(jobs, run_id, owner, content=out.getvalue())
