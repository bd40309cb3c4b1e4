"""The monitoring snapshot kept fresh while marking goes on: every minute a worker
recomputes the figures of each session being marked whose snapshot is older than its newest
mark (``marking.read.monitoring``), one transaction per session, so the lead's page of a
large session reads stored figures (a few milliseconds) instead of computing them (seconds).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from marking.read import monitoring
from marking.store.db import transaction
from marking.store.models import ExamSession

if TYPE_CHECKING:
    from marking.jobs.library import Jobs

log = logging.getLogger("blindmark.jobs")

REFRESH_MONITORING = "refresh_monitoring"


def refresh_stale(jobs: Jobs) -> list[int]:
    """Refresh every stale snapshot; returns the sessions refreshed. Two workers racing on
    one session both write the same figures; the later write stands, harmlessly."""
    with transaction(jobs.engine) as db:
        stale = monitoring.stale_sessions(db)
    done = []
    for session_id in stale:
        with transaction(jobs.engine) as db:
            exam = db.get(ExamSession, session_id)
            if exam is None:
                continue
            figures = monitoring.refresh(db, exam)
        log.info("monitoring of session %s refreshed in %d ms", session_id, figures.took_ms)
        done.append(session_id)
    return done
