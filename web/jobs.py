"""The web's handle on the background jobs: one ``marking.jobs.Jobs`` per application,
on the application's own database and engine (``JOBS_IMMEDIATE``: run them in the
request instead, for tests; ``SCAN_READER``: a page reader other than the OMR's, for
tests that scan without pixels)."""

from __future__ import annotations

from flask import current_app

from marking.jobs import Jobs


def get_jobs() -> Jobs:
    jobs = current_app.extensions.get("blindmark.jobs")
    if jobs is None:
        jobs = Jobs(
            current_app.config["DATABASE_URL"],
            engine=current_app.extensions["blindmark.engine"],
            immediate=bool(current_app.config.get("JOBS_IMMEDIATE")),
            reader=current_app.config.get("SCAN_READER"),
        )
        current_app.extensions["blindmark.jobs"] = jobs
    return jobs
