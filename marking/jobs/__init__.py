"""Long work in the background (DESIGN §12): scanned bundles read and whole-session
reports rendered by `blindmark worker`, on huey, a well-kept job library (MIT), never a
home-made queue.

The queue lives with the database the application uses (the same URL, from
``--db``/``BLINDMARK_DATABASE_URL``): on SQLite in a file beside it, on PostgreSQL in the
same database, where workers on any number of machines share it (``library``). What a job
is doing and what it made are kept in the domain (``ReportRun``, ``ScanFile``), with a
lease: huey forgets a task a worker took, so a job lost with its worker is found again by
its lapsed lease and queued again by ``resume_stalled`` (``tasks``), every minute on each
worker and whenever a worker starts. Jobs are idempotent: a run queued twice is done once.

Who submits: the web (the office's notices button) and the command line. The core's other
rooms never import this one; the scan engine gets its sessions and its lease owner from
here, not the job library.
"""

from marking.jobs.archive import RENDER_ARCHIVE, render_archive, submit_archive
from marking.jobs.library import DEFAULT_LEASE_SECONDS, LEASE_ENV, Jobs, jobs_file, make_huey
from marking.jobs.notices import get_run, recent_runs, render_notices, submit_notices
from marking.jobs.tasks import (
    PROCESS_SCAN_FILE,
    RENDER_NOTICES,
    RESUME_STALLED,
    process_scan_file,
    resume_stalled,
    submit_scan_file,
)

__all__ = [
    "DEFAULT_LEASE_SECONDS",
    "LEASE_ENV",
    "PROCESS_SCAN_FILE",
    "RENDER_ARCHIVE",
    "RENDER_NOTICES",
    "RESUME_STALLED",
    "Jobs",
    "get_run",
    "jobs_file",
    "make_huey",
    "process_scan_file",
    "recent_runs",
    "render_archive",
    "render_notices",
    "resume_stalled",
    "submit_archive",
    "submit_notices",
    "submit_scan_file",
]
