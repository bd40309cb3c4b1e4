"""The task registry: every task blindmark runs in the background, registered on a
``Jobs``' huey instance under a fixed name (the queue stores names, so they must not change
between versions that share a queue), and ``resume_stalled``, the periodic sweep that
queues again what a dead worker held."""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Any

from huey import crontab
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from marking.jobs import notices
from marking.store.db import transaction
from marking.store.models import utcnow

if TYPE_CHECKING:
    from marking.jobs.library import Jobs

log = logging.getLogger("blindmark.jobs")

RENDER_NOTICES = notices.RENDER_NOTICES
PROCESS_SCAN_FILE = "process_scan_file"
RESUME_STALLED = "resume_stalled"


def register(jobs: Jobs) -> dict[str, Any]:
    """Register the tasks on ``jobs.huey``; returns them by name (call one to queue it)."""
    huey = jobs.huey

    @huey.task(name=RENDER_NOTICES)  # type: ignore[untyped-decorator]
    def render_notices(run_id: int) -> None:
        notices.render_notices(jobs, run_id)

    @huey.task(name=PROCESS_SCAN_FILE)  # type: ignore[untyped-decorator]
    def scan_file(file_id: int) -> None:
        process_scan_file(jobs, file_id)

    # Every worker's scheduler runs it each minute; the conditional UPDATEs make that safe.
    @huey.periodic_task(crontab(minute="*"), name=RESUME_STALLED)  # type: ignore[untyped-decorator]
    def resume() -> None:
        resume_stalled(jobs)

    return {RENDER_NOTICES: render_notices, PROCESS_SCAN_FILE: scan_file, RESUME_STALLED: resume}


def resume_stalled(jobs: Jobs) -> int:
    """Queue again every job whose lease lapsed (report runs, scan files); returns how many."""
    now = utcnow()
    runs = notices.stalled_runs(jobs, now)
    for run_id in runs:
        jobs.enqueue(RENDER_NOTICES, run_id)
    files = _stalled_scan_files(jobs, now)
    for file_id in files:
        jobs.enqueue(PROCESS_SCAN_FILE, file_id)
    if runs or files:
        log.info("queued again: report runs %s, scan files %s", runs, files)
    return len(runs) + len(files)


def process_scan_file(jobs: Jobs, file_id: int) -> None:
    """Read one scanned file (``marking.paper.scanning.process_file``: takes the file's
    lease, resumes at ``pages_done``, one transaction per page, so a killed run leaves no
    half sheet)."""
    scanning = _scan_engine()
    if scanning is None:
        log.error("scan file %d: this build has no scan engine (marking.paper.scanning)", file_id)
        return
    scanning.process_file(jobs.sessions(), file_id, owner=notices.worker_name())


def _scan_engine() -> Any:
    """The scan engine's module, or None. Imported by name while it is being written on
    another branch (integration: import it plainly once it is on main)."""
    try:
        return importlib.import_module("marking.paper.scanning")
    except ImportError:
        return None


def _stalled_scan_files(jobs: Jobs, now: Any) -> list[int]:
    """Scan files still to read whose lease lapsed (or that never had one), taken back by
    a conditional UPDATE each (a fresh lease, no owner) so that one sweep queues each.

    Integration: relies on ScanFile's ``state`` (queued/reading), ``lease_owner`` and
    ``lease_until``, and on ``process_file`` accepting a file whose lease has no owner."""
    models = importlib.import_module("marking.store.models")
    scan_file = getattr(models, "ScanFile", None)
    if scan_file is None or _scan_engine() is None:
        return []
    live = ("queued", "reading")
    lapsed = or_(scan_file.lease_until.is_(None), scan_file.lease_until < now)
    with transaction(jobs.engine) as db:
        ids = db.scalars(select(scan_file.id).where(scan_file.state.in_(live), lapsed)).all()
        taken: list[int] = []
        for file_id in ids:
            take_back = (
                update(scan_file)
                .where(scan_file.id == file_id, scan_file.state.in_(live), lapsed)
                .values(lease_owner=None, lease_until=now + jobs.lease)
            )
            if notices.changed(db, take_back) == 1:
                taken.append(file_id)
    return taken


def submit_scan_file(jobs: Jobs, db: Session, file_id: int) -> None:
    """Queue the reading of scan file ``file_id`` once ``db`` commits (the file's row and
    bytes must be visible to a worker on another machine first)."""
    jobs.after_commit(db, PROCESS_SCAN_FILE, file_id)
