"""Two office accounts opening a revision of one session at once (第七条(七) 复核): one
revision opens, the other is told one is open, as it is when the two come one after the
other; never an unexplained error."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from marking.errors import StateError
from marking.publication.revisions import open_revision
from marking.setup.sessions import get_session
from marking.store import schema
from marking.store.db import transaction
from marking.store.models import Revision
from tests.conftest import FreshDatabase
from tests.integration.test_correction_race import _race
from tests.integration.test_revisions import _published


def test_two_revisions_opened_at_once_open_one(tmp_path: Path) -> None:
    database = FreshDatabase(tmp_path)
    try:
        schema.upgrade(database.engine)
        with transaction(database.engine) as db:
            tiny = _published(db, tmp_path, "RR-1")
            c1, c2 = (c.exam_no for c in tiny.candidates[:2])

        def opening(exam_no: str):  # type: ignore[no-untyped-def]
            def step(db):  # type: ignore[no-untyped-def]
                exam = get_session(db, "RR-1")
                return open_revision(db, exam, by="office", candidates=[exam_no], reason="appeal")

            return step

        results = _race(database, "RR-1", opening(c1), opening(c2))
        assert not isinstance(results["first"], BaseException), results
        assert isinstance(results["second"], StateError), results
        assert results["second"].code == "revision_already_open"
        with transaction(database.engine) as db:
            assert [r.number for r in db.scalars(select(Revision))] == [2]
    finally:
        database.drop()
