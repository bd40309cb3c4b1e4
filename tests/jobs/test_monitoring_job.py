"""The background refresh of monitoring snapshots: each stale session once, none when fresh."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from marking.jobs import Jobs
from marking.jobs.monitoring import refresh_stale
from marking.read import monitoring
from marking.setup.sessions import get_session
from marking.store import schema
from marking.store.db import transaction
from marking.store.models import MonitoringSnapshot
from tests.conftest import FreshDatabase
from tests.integration.monitoring_support import build


def test_stale_snapshots_are_refreshed_once(fresh_db: FreshDatabase, tmp_path: Path) -> None:
    schema.upgrade(fresh_db.engine)
    with Session(fresh_db.engine) as db:
        exam_id = build(db, tmp_path, "MON-JOB").id
        db.commit()
    jobs = Jobs(fresh_db.url, engine=fresh_db.engine, immediate=True)
    try:
        assert refresh_stale(jobs) == [exam_id]
        assert refresh_stale(jobs) == []  # nothing marked since
        with transaction(fresh_db.engine) as db:
            snapshot = db.get(MonitoringSnapshot, exam_id)
            assert snapshot is not None
            stored = monitoring.from_json(snapshot.data)
            fresh = monitoring.compute(db, get_session(db, "MON-JOB"))
            assert stored.rows == fresh.rows
    finally:
        jobs.close()
