"""The notices of a whole session (or of the candidates the office chose) rendered as a
background job, watched through its ``ReportRun``: submitted by the office, claimed by one
worker under a lease renewed at every chunk, written once when done (or failed, with the
reason), queued again when the worker holding it died."""

from __future__ import annotations

import datetime as dt
import logging
import multiprocessing
import os
import socket
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, Update, select, update
from sqlalchemy.orm import Session

from marking.errors import MarkingError, NotFound
from marking.read.reportdata import gather, require_published
from marking.read.reporting import produce
from marking.store.db import transaction
from marking.store.models import ExamSession, ReportRun, Result, RunState, utcnow

if TYPE_CHECKING:
    from marking.jobs.library import Jobs

log = logging.getLogger("blindmark.jobs")

RENDER_NOTICES = "render_notices"
LANGUAGES = ("zh", "en")
_LIVE = (RunState.QUEUED, RunState.RUNNING)


class LeaseLost(Exception):
    """This worker's hold on a run lapsed and another worker may have it: stop quietly."""


def changed(db: Session, statement: Update) -> int:
    """How many rows a conditional UPDATE changed: how one worker (or one sweep) wins a
    race with the others, on both databases."""
    result = db.execute(statement.execution_options(synchronize_session=False))
    return cast(CursorResult[Any], result).rowcount


def worker_name() -> str:
    """Who holds a lease: machine, process and thread (several workers share one queue)."""
    return f"{socket.gethostname()[:80]}:{os.getpid()}:{threading.get_ident()}"


def submit_notices(
    jobs: Jobs,
    db: Session,
    exam: ExamSession,
    *,
    requested_by: str,
    lang: str = "zh",
    exam_nos: Sequence[str] | None = None,
) -> ReportRun:
    """Ask for the score notices of every candidate of ``exam``, or of those whose exam
    numbers ``exam_nos`` lists; a worker renders them once ``db`` commits. Raises StateError
    before publication (as the report itself would), MarkingError for a language the
    reports do not have, and MarkingError (coded) for an empty choice or exam numbers with
    no published result, naming them."""
    if lang not in LANGUAGES:
        raise MarkingError(f"reports are in {' or '.join(LANGUAGES)}, not {lang!r}")
    require_published(exam, "score notice")
    chosen = None if exam_nos is None else chosen_candidates(db, exam, exam_nos)
    run = ReportRun(
        session_id=exam.id,
        kind="notices",
        exam_nos=chosen,
        lang=lang,
        state=RunState.QUEUED,
        progress=0,
        total=0,
        requested_by=requested_by,
        lease_until=utcnow() + jobs.lease,
    )
    db.add(run)
    db.flush()
    jobs.after_commit(db, RENDER_NOTICES, run.id)
    return run


def chosen_candidates(db: Session, exam: ExamSession, exam_nos: Sequence[str]) -> list[str]:
    """``exam_nos`` as asked (spaces dropped, each once, in the order given), every one a
    candidate with a published result in ``exam``. Raises MarkingError (coded) for an empty
    choice, and for exam numbers without a published result, naming them."""
    asked = list(dict.fromkeys(n.strip() for n in exam_nos if n.strip()))
    if not asked:
        raise MarkingError.coded("notices_none_chosen", "choose at least one candidate")
    known = set(db.scalars(select(Result.exam_no).where(Result.session_id == exam.id)))
    unknown = [n for n in asked if n not in known]
    if unknown:
        shown = ", ".join(unknown[:20]) + (" ..." if len(unknown) > 20 else "")
        raise MarkingError.coded(
            "notices_unknown",
            "no published result in session %(session)s for exam number(s): %(numbers)s",
            session=exam.code,
            numbers=shown,
        )
    return asked


def get_run(db: Session, exam: ExamSession, run_id: int, *, kind: str = "notices") -> ReportRun:
    """The run ``run_id`` of ``exam``, of this kind (notices, archive); NotFound if it is
    another session's, another kind's or none."""
    run = db.get(ReportRun, run_id)
    if run is None or run.session_id != exam.id or run.kind != kind:
        raise NotFound(f"no report run {run_id} in session {exam.code}")
    return run


def recent_runs(
    db: Session, exam: ExamSession, *, limit: int = 10, kind: str = "notices"
) -> list[ReportRun]:
    """The session's latest report runs of this kind, newest first."""
    query = (
        select(ReportRun)
        .where(ReportRun.session_id == exam.id, ReportRun.kind == kind)
        .order_by(ReportRun.id.desc())
        .limit(limit)
    )
    return list(db.scalars(query))


def render_notices(jobs: Jobs, run_id: int) -> None:
    """The task: claim the run, render its notices with progress, store the PDF (or the
    reason it could not be made). Does nothing for a run another worker holds or one
    already finished, so a run queued twice is rendered once."""

    def make(progress: Callable[[int, int], None]) -> bytes:
        with transaction(jobs.engine) as db:
            run = db.get_one(ReportRun, run_id)
            lang, exam_nos = run.lang, run.exam_nos
            data = gather(db, db.get_one(ExamSession, run.session_id), "notices")
        return produce(
            "notices", data, lang=lang, exam_nos=exam_nos, workers=renderers(), progress=progress
        )

    run_claimed(jobs, run_id, make)


def renderers() -> int | None:
    """How many processes the renderer may start: one in a daemonic worker process
    (huey's), which may not start processes of its own; else the renderer's choice."""
    return 1 if multiprocessing.current_process().daemon else None


def run_claimed(
    jobs: Jobs, run_id: int, make: Callable[[Callable[[int, int], None]], bytes]
) -> None:
    """Claim report run ``run_id`` and store what ``make`` (given the progress callback)
    returns, or the reason it failed: a refusal's message, or an internal error (raised
    again, for the worker's log). A lost lease leaves the run to the worker holding it."""
    owner = worker_name()
    if not _claim(jobs, run_id, owner):
        return
    try:
        content = make(lambda done, total: _heartbeat(jobs, run_id, owner, done, total))
    except LeaseLost:
        log.warning("report run %d: lease lost, left to the worker that holds it", run_id)
        return
    except MarkingError as exc:
        _finish(jobs, run_id, owner, error=str(exc))
        return
    except Exception as exc:
        _finish(jobs, run_id, owner, error=f"internal error ({type(exc).__name__})")
        raise
    _finish(jobs, run_id, owner, content=content)


def _claim(jobs: Jobs, run_id: int, owner: str) -> bool:
    with transaction(jobs.engine) as db:
        claim = (
            update(ReportRun)
            .where(ReportRun.id == run_id, ReportRun.state == RunState.QUEUED)
            .values(state=RunState.RUNNING, lease_owner=owner, lease_until=utcnow() + jobs.lease)
        )
        return changed(db, claim) == 1


def _heartbeat(jobs: Jobs, run_id: int, owner: str, done: int, total: int) -> None:
    with transaction(jobs.engine) as db:
        renew = (
            update(ReportRun)
            .where(ReportRun.id == run_id, ReportRun.lease_owner == owner)
            .where(ReportRun.state == RunState.RUNNING)
            .values(progress=done, total=total, lease_until=utcnow() + jobs.lease)
        )
        kept = changed(db, renew)
    if kept != 1:
        raise LeaseLost(run_id)


def _finish(
    jobs: Jobs, run_id: int, owner: str, *, content: bytes | None = None, error: str | None = None
) -> None:
    state = RunState.FAILED if error is not None else RunState.DONE
    with transaction(jobs.engine) as db:
        finish = (
            update(ReportRun)
            .where(ReportRun.id == run_id, ReportRun.lease_owner == owner)
            .where(ReportRun.state == RunState.RUNNING)
            .values(
                state=state,
                content=content,
                error=error,
                finished_at=utcnow(),
                lease_owner=None,
                lease_until=None,
            )
        )
        if changed(db, finish) != 1:
            log.warning(
                "report run %d: lease lost before it was stored; left to its holder", run_id
            )


def stalled_runs(jobs: Jobs, now: dt.datetime) -> list[tuple[int, str]]:
    """Queue again (state ``queued``, a fresh lease) the runs whose lease lapsed: their
    worker died, or their task was lost before a worker claimed it. Each is taken back by
    one conditional UPDATE, so two workers resuming at once queue it once. Returns (id,
    kind) of each, so each is queued to its own task."""
    with transaction(jobs.engine) as db:
        lapsed = db.execute(
            select(ReportRun.id, ReportRun.kind).where(
                ReportRun.state.in_(_LIVE), ReportRun.lease_until < now
            )
        ).all()
        taken: list[tuple[int, str]] = []
        for run_id, kind in lapsed:
            take_back = (
                update(ReportRun)
                .where(ReportRun.id == run_id, ReportRun.state.in_(_LIVE))
                .where(ReportRun.lease_until < now)
                .values(state=RunState.QUEUED, lease_owner=None, lease_until=now + jobs.lease)
            )
            if changed(db, take_back) == 1:
                taken.append((run_id, kind))
    return taken
