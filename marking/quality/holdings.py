"""The claim lock a hand-back waits on (``marking.queue.handback.release_held`` hands back
what a suspended or deactivated examiner holds): a claim in flight finishes first."""

from __future__ import annotations

from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from marking.queue.statements import CLAIM_LOCK_CLASS


def wait_for_claims(db: Session, *, examiner_id: int) -> None:
    """On PostgreSQL, take the examiner's claim lock (the advisory lock each of their claims
    takes first) until commit: a claim already running finishes before the suspension reads
    what they hold, and a claim that starts later waits and then sees the suspension. Without
    it a claim in flight could hand them responses just after their suspension took theirs
    back. (SQLite has one writer at a time: nothing to wait for.)"""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(select(func.pg_advisory_xact_lock(literal(CLAIM_LOCK_CLASS), examiner_id)))
