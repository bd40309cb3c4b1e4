"""Two guidance-centre accounts approving one collective decision at once (R13, 第七条(五)):
one approval is recorded, the other is told it is already approved."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from marking.errors import StateError
from marking.people.accounts import add_user, get_account
from marking.setup.sessions import get_session
from marking.store import schema
from marking.store.db import transaction
from marking.store.models import CollectiveDecision, LedgerEntry, Role
from tests.conftest import FreshDatabase
from tests.integration import factory as f
from tests.integration.test_correction_race import _race
from tests.integration.test_records import violations_csv
from web.actions.records import centre_approve


def test_two_centre_approvals_at_once_record_one(tmp_path: Path) -> None:
    """第七条(五): the centre consents once; a second approval racing the first is refused
    (not a second ledger entry, nor the approver overwritten)."""
    from marking.intake.records import record_violations

    database = FreshDatabase(tmp_path)
    try:
        schema.upgrade(database.engine)
        with transaction(database.engine) as db:
            tiny = f.tiny_session(db, tmp_path, "CR-1", n=2, examiners=("e1", "e2"))
            f.mark_all(db, tiny.exam, ["e1", "e2"])
            add_user(db, "centre1", role=Role.CENTRE)
            add_user(db, "centre2", role=Role.CENTRE)
            rows = [(c.exam_no, "theory", "void", "作弊", "lead", "G1") for c in tiny.candidates]
            record_violations(db, tiny.exam, violations_csv(tmp_path, rows), actor="office")
            decision = db.scalars(select(CollectiveDecision.id)).one()

        def approve(username: str):  # type: ignore[no-untyped-def]
            return lambda db: centre_approve(db, get_account(db, username), "CR-1", decision, "")

        results = _race(database, "CR-1", approve("centre1"), approve("centre2"))
        assert not isinstance(results["first"], BaseException), results
        assert isinstance(results["second"], StateError), results
        with transaction(database.engine) as db:
            exam = get_session(db, "CR-1")
            kinds = db.scalars(
                select(LedgerEntry.actor).where(
                    LedgerEntry.session_id == exam.id, LedgerEntry.kind == "collective_approved"
                )
            ).all()
            assert kinds == ["centre1"]
            assert db.get_one(CollectiveDecision, decision).approved_by == (
                get_account(db, "centre1").id
            )
    finally:
        database.drop()
