"""A published session's archive made as a background job, watched through its
``ReportRun`` (kind ``archive``) like the notices: its reports alone take minutes for a
large session (bench figures in the README), too long for a request."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import TYPE_CHECKING

from marking.errors import MarkingError
from marking.jobs.notices import LANGUAGES, renderers, run_claimed
from marking.read.archive import finish_archive, require_archivable, start_archive
from marking.store.db import transaction
from marking.store.models import ExamSession, ReportRun, RunState, utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from marking.jobs.library import Jobs

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

    def make(progress: Callable[[int, int], None]) -> bytes:
        out = io.BytesIO()
        # The database part in one short transaction; the reports, the slow part, after it:
        # the heartbeats write to the run while they render (on SQLite a transaction held
        # open would keep them waiting).
        with transaction(jobs.engine) as db:
            run = db.get_one(ReportRun, run_id)
            lang = run.lang
            pending = start_archive(db, db.get_one(ExamSession, run.session_id), out)
        finish_archive(pending, lang=lang, workers=renderers(), progress=progress)
        return out.getvalue()

    run_claimed(jobs, run_id, make)
