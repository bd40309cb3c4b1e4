"""The lead takes a scheme approval back while nothing of its group is marked (issue 14):
the group closes, what is held of it goes back, the ledger records it; once anything is
marked the approval stays. A session left with no approved group is back in intake."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.audit.verify import verify
from marking.errors import MarkingError, StateError
from marking.people.accounts import get_account
from marking.queue.claims import claim
from marking.queue.marks import submit_mark
from marking.setup.assignment import approve_scheme, get_group, withdraw_scheme_approval
from marking.store.models import LedgerEntry, Response, SessionState
from tests.integration.factory import tiny_session


def test_withdrawn_before_marking_then_approved_again(db: Session, tmp_path: Path) -> None:
    exam = tiny_session(db, tmp_path, "SW-1").exam
    e1 = get_account(db, "e1")
    held = claim(db, exam, e1, size=20)
    short, prac = get_group(db, exam, "short"), get_group(db, exam, "prac")
    with pytest.raises(MarkingError, match="only the session's lead"):
        withdraw_scheme_approval(db, exam, short, by="e1", reason="改")

    handed = withdraw_scheme_approval(db, exam, short, by="lead", reason="参考答案有误")
    assert handed == sum(1 for i in held if i.group == "short") > 0
    assert short.approved_at is None and exam.state is SessionState.MARKING
    assert all(
        db.get(Response, i.response_id).held == 0  # type: ignore[union-attr]
        for i in held
        if i.group == "short"
    )
    assert all(i.group == "prac" for i in claim(db, exam, get_account(db, "e2"), size=20))
    with pytest.raises(StateError, match="not approved"):
        withdraw_scheme_approval(db, exam, short, by="lead", reason="改")

    # e1 marks a practical answer: that group's approval stays.
    first = next(i for i in held if i.group == "prac")
    submit_mark(db, exam, e1, response_id=first.response_id, value=Decimal(1))
    with pytest.raises(MarkingError, match="has 1 mark"):
        withdraw_scheme_approval(db, exam, prac, by="lead", reason="改")
    assert prac.approved_at is not None

    approve_scheme(db, exam, short, by="lead")
    kinds = db.scalars(select(LedgerEntry.kind).where(LedgerEntry.session_id == exam.id)).all()
    assert kinds.count("scheme_withdrawn") == 1 and kinds.count("scheme_approved") == 3


def test_the_last_approval_withdrawn_puts_the_session_back_in_intake(
    db: Session, tmp_path: Path
) -> None:
    exam = tiny_session(db, tmp_path, "SW-2").exam
    for key in ("short", "prac"):
        withdraw_scheme_approval(db, exam, get_group(db, exam, key), by="lead", reason="细则有误")
    assert exam.state is SessionState.INTAKE
    with pytest.raises(StateError, match="not open for marking"):
        claim(db, exam, get_account(db, "e1"))
    # The move back to intake is a ledger entry of its own, after the last withdrawal.
    entries = db.scalars(
        select(LedgerEntry).where(LedgerEntry.session_id == exam.id).order_by(LedgerEntry.id)
    ).all()
    kinds = [e.kind for e in entries]
    assert kinds[-3:] == ["scheme_withdrawn", "scheme_withdrawn", "session_state"]
    assert entries[-1].actor == "lead"
    assert (entries[-1].payload["from"], entries[-1].payload["to"]) == ("marking", "intake")
    assert not verify(db, exam).problems


@pytest.mark.parametrize(
    ("reason", "code"),
    [
        ("", "scheme_withdrawal_reason"),
        ("   ", "scheme_withdrawal_reason"),
        ("理" * 501, "scheme_withdrawal_reason_long"),
    ],
)
def test_a_withdrawal_without_a_reason_or_with_one_too_long_is_refused(
    db: Session, tmp_path: Path, reason: str, code: str
) -> None:
    exam = tiny_session(db, tmp_path, "SW-3").exam
    short = get_group(db, exam, "short")
    with pytest.raises(MarkingError) as refused:
        withdraw_scheme_approval(db, exam, short, by="lead", reason=reason)
    assert refused.value.code == code
    assert short.approved_at is not None
    assert not db.scalars(select(LedgerEntry).where(LedgerEntry.kind == "scheme_withdrawn")).all()


def test_a_reason_of_the_longest_length_is_kept_whole(db: Session, tmp_path: Path) -> None:
    exam = tiny_session(db, tmp_path, "SW-4").exam
    reason = "理" * 500
    withdraw_scheme_approval(db, exam, get_group(db, exam, "short"), by="lead", reason=reason)
    entry = db.scalars(select(LedgerEntry).where(LedgerEntry.kind == "scheme_withdrawn")).one()
    assert entry.payload["reason"] == reason
    assert exam.state is SessionState.MARKING  # prac stays approved: no state change recorded
    assert not db.scalars(select(LedgerEntry).where(LedgerEntry.kind == "session_state")).all()
