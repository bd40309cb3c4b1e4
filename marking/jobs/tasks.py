"""The task registry: every task blindmark runs in the background, registered on a
``Jobs``' huey instance under a fixed name (the queue stores names, so they must not change
between versions that share a queue), and ``resume_stalled``, the periodic sweep that
queues again what a dead worker held."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from huey import crontab
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from marking.jobs import archive, monitoring, notices
from marking.paper.scanning import process_file
from marking.store.db import transaction
from marking.store.models import ScanFile, ScanFileState, utcnow

if TYPE_CHECKING:
    from marking.jobs.library import Jobs

log = logging.getLogger("blindmark.jobs")

RENDER_NOTICES = notices.RENDER_NOTICES
RENDER_ARCHIVE = archive.RENDER_ARCHIVE
PROCESS_SCAN_FILE = "process_scan_file"
RESUME_STALLED = "resume_stalled"
REFRESH_MONITORING = monitoring.REFRESH_MONITORING


def register(jobs: Jobs) -> dict[str, Any]:
    """Register the tasks on ``jobs.huey``; returns them by name (call one to queue it)."""
    huey = jobs.huey

    @huey.task(name=RENDER_NOTICES)  # type: ignore[untyped-decorator]
    def render_notices(run_id: int) -> None:
        notices.render_notices(jobs, run_id)

    @huey.task(name=RENDER_ARCHIVE)  # type: ignore[untyped-decorator]
    def render_archive(run_id: int) -> None:
        archive.render_archive(jobs, run_id)

    @huey.task(name=PROCESS_SCAN_FILE)  # type: ignore[untyped-decorator]
    def scan_file(file_id: int) -> None:
        process_scan_file(jobs, file_id)

    # Every worker's scheduler runs it each minute; the conditional UPDATEs make that safe.
    @huey.periodic_task(crontab(minute="*"), name=RESUME_STALLED)  # type: ignore[untyped-decorator]
    def resume() -> None:
        resume_stalled(jobs)

    # Each minute, the monitoring figures of the sessions marked since their last snapshot.
    @huey.periodic_task(crontab(minute="*"), name=REFRESH_MONITORING)  # type: ignore[untyped-decorator]
    def refresh_monitoring() -> None:
        monitoring.refresh_stale(jobs)

    return {
        RENDER_NOTICES: render_notices,
        RENDER_ARCHIVE: render_archive,
        PROCESS_SCAN_FILE: scan_file,
        RESUME_STALLED: resume,
        REFRESH_MONITORING: refresh_monitoring,
    }


def resume_stalled(jobs: Jobs) -> int:
    """Queue again every job whose lease lapsed (report runs, scan files); returns how many."""
    now = utcnow()
    runs = notices.stalled_runs(jobs, now)
    for run_id, kind in runs:
        jobs.enqueue(RENDER_ARCHIVE if kind == archive.KIND else RENDER_NOTICES, run_id)
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
    process_file(
        jobs.sessions(),
        file_id,
        owner=notices.worker_name(),
        lease=jobs.lease,
        reader=jobs.reader,
    )


def _stalled_scan_files(jobs: Jobs, now: Any) -> list[int]:
    """Scan files still to read whose lease lapsed (or that never had one), taken back by
    a conditional UPDATE each (a fresh lease, no owner) so that one sweep queues each;
    ``process_file`` takes a file whose lease has no owner."""
    scan_file = ScanFile
    live = (ScanFileState.QUEUED, ScanFileState.READING)
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
    bytes must be visible to a worker on another machine first). The file is leased to no
    one for a lease's time, so the sweep does not queue it again while it waits its turn."""
    db.execute(
        update(ScanFile)
        .where(ScanFile.id == file_id, ScanFile.lease_owner.is_(None))
        .values(lease_until=utcnow() + jobs.lease)
    )
    jobs.after_commit(db, PROCESS_SCAN_FILE, file_id)
