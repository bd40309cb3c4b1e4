"""What a suspended examiner holds goes back at once: their leases (the responses return
to the queue for others) and their held checks (released, never submitted)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, literal, select, update
from sqlalchemy.orm import Session

from marking.queue.statements import CLAIM_LOCK_CLASS
from marking.store.models import CheckMark, CheckState, Lease, LeaseState, Response


def wait_for_claims(db: Session, *, examiner_id: int) -> None:
    """On PostgreSQL, take the examiner's claim lock (the advisory lock each of their claims
    takes first) until commit: a claim already running finishes before the suspension reads
    what they hold, and a claim that starts later waits and then sees the suspension. Without
    it a claim in flight could hand them responses just after their suspension took theirs
    back. (SQLite has one writer at a time: nothing to wait for.)"""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(select(func.pg_advisory_xact_lock(literal(CLAIM_LOCK_CLASS), examiner_id)))


def release_holdings(db: Session, *, examiner_id: int, group_ids: Sequence[int]) -> tuple[int, int]:
    """Release the examiner's held leases on responses of these groups and their held
    checks there; returns (leases, checks). Rows locked in response order, as a claim
    locks them, so a concurrent claim or mark waits instead of deadlocking."""
    if not group_ids:
        return 0, 0
    held = db.execute(
        select(Lease.id, Lease.response_id)
        .join(Response, Response.id == Lease.response_id)
        .where(
            Lease.examiner_id == examiner_id,
            Lease.state == LeaseState.HELD,
            Response.group_id.in_(list(group_ids)),
        )
        .order_by(Lease.response_id)
        .with_for_update(of=Lease)
    ).all()
    for lease_id, response_id in held:
        db.execute(update(Lease).where(Lease.id == lease_id).values(state=LeaseState.RELEASED))
        db.execute(
            update(Response).where(Response.id == response_id).values(held=Response.held - 1)
        )
    checks = db.execute(
        update(CheckMark)
        .where(
            CheckMark.examiner_id == examiner_id,
            CheckMark.state == CheckState.HELD,
            CheckMark.group_id.in_(list(group_ids)),
        )
        .values(state=CheckState.RELEASED)
    )
    db.flush()
    return len(held), int(checks.rowcount or 0)  # type: ignore[attr-defined]
