"""Handing back held work unmarked (logout, a scheme approval withdrawn, a suspension): one
function, one lock order, and only a suspension takes back an open qualification attempt."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from marking.people.accounts import get_account
from marking.quality.items import add_item
from marking.quality.qualification import start_qualification
from marking.quality.suspension import suspend
from marking.queue.claims import claim
from marking.queue.handback import release_all
from marking.setup.assignment import approve_scheme, get_group, withdraw_scheme_approval
from marking.store.models import CheckMark, CheckPurpose, CheckState, Lease, LeaseState, Response
from tests.integration.factory import ACTOR, assign, tiny_session


@contextmanager
def lease_locks(engine: Engine) -> Iterator[list[str]]:
    """The statements that read held leases to hand them back, as sent to the database."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM lease" in statement:
            seen.append(" ".join(statement.split()))

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_logout_and_withdrawal_lock_held_leases_in_response_order(
    db: Session, engine: Engine, tmp_path: Path
) -> None:
    """A claim locks responses in id order; a hand-back locking leases in another order could
    deadlock with it on PostgreSQL."""
    exam = tiny_session(db, tmp_path, "HB-1", n=8).exam
    e1, e2 = get_account(db, "e1"), get_account(db, "e2")
    assert claim(db, exam, e1, size=6) and claim(db, exam, e2, size=6)
    with lease_locks(engine) as seen:
        assert release_all(db, e1) > 0
        assert withdraw_scheme_approval(
            db, exam, get_group(db, exam, "short"), by="lead", reason="改"
        )
    assert len(seen) == 2
    for statement in seen:
        assert "ORDER BY lease.response_id" in statement
        if engine.dialect.name == "postgresql":
            assert "FOR UPDATE OF lease" in statement
    assert not db.scalars(
        select(Lease).where(Lease.examiner_id == e1.id, Lease.state == LeaseState.HELD)
    ).all()


def test_logout_keeps_an_open_qualification_attempt_and_a_suspension_takes_it_back(
    db: Session, tmp_path: Path
) -> None:
    tiny = tiny_session(db, tmp_path, "HB-2", n=6, examiners=("e1", "e2"), open_groups=False)
    exam = tiny.exam
    short, prac = get_group(db, exam, "short"), get_group(db, exam, "prac")
    for g in (short, prac):
        assign(db, exam, g, ["e1", "e2"], actor=ACTOR, lead="lead" if g is short else None)
    short.qualification_size, short.qualification_within = 2, Decimal("0.5")
    lead = get_account(db, "lead")
    for rid in db.scalars(
        select(Response.id).where(Response.group_id == short.id).order_by(Response.id).limit(2)
    ):
        add_item(db, exam, lead, response_id=rid, purpose=CheckPurpose.QUALIFICATION, value=2)
    approve_scheme(db, exam, short, by="lead")
    approve_scheme(db, exam, prac, by="lead")
    e1 = get_account(db, "e1")
    live = claim(db, exam, e1, size=3)
    attempt = start_qualification(db, exam, e1, group=short)

    def held_checks() -> int:
        return len(
            db.scalars(
                select(CheckMark).where(
                    CheckMark.examiner_id == e1.id,
                    CheckMark.state == CheckState.HELD,
                    CheckMark.purpose == CheckPurpose.QUALIFICATION,
                )
            ).all()
        )

    assert release_all(db, e1) == len(live) > 0  # the live work goes back ...
    assert held_checks() == len(attempt) == 2  # ... the attempt waits for them
    suspend(db, exam, lead, examiner=e1, group=short, reason="标准不一", keep_marks=True)
    assert held_checks() == 0
