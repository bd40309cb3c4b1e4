"""A lead examiner suspended mid-marking (第八条) rules on nothing until reinstated: no
arbitration, no correction; the office sees why, and reinstatement (or another lead)
lets the session finish."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from marking.errors import MarkingError
from marking.people.register import record_misconduct
from marking.queue.corrections import correct_mark
from marking.queue.lead import arbitrate
from marking.store.models import MisconductKind, ResponseState
from tests.integration import factory as f
from tests.integration.marking_helpers import account
from tests.integration.test_marking_corrections import Q, mark_as


def test_a_suspended_lead_rules_on_nothing_until_reinstated(db: Session, tmp_path: Path) -> None:
    """第八条: a suspended examiner does no examining work; the lead is an examiner too
    (DESIGN §14), so the suspension stops their rulings and corrections, not only the
    queue's handing them answers."""
    exam = f.tiny_session(db, tmp_path, "SL-1", n=1).exam
    mark_as(db, exam, "e1", {Q: "1"})
    mark_as(db, exam, "e2", {Q: "5"})
    mark_as(db, exam, "e3", {Q: "3"})
    lead = account(db, "lead")
    rid = f.response_id(db, exam, Q)
    record_misconduct(db, "lead", MisconductKind.SUSPENSION, reason="inquiry", actor="office")
    with pytest.raises(MarkingError) as refused:
        arbitrate(db, exam, lead, response_id=rid, value=Decimal("3.5"))
    assert refused.value.code == "examiner_suspended"
    e1 = account(db, "e1")
    with pytest.raises(MarkingError) as correcting:
        correct_mark(db, exam, lead, response_id=rid, examiner=e1, value="2", reason="笔误")
    assert correcting.value.code == "examiner_suspended"

    record_misconduct(db, "lead", MisconductKind.REINSTATEMENT, reason="cleared", actor="office")
    arbitrate(db, exam, lead, response_id=rid, value=Decimal("3.5"))
    assert f.response_of(db, exam, Q).state is ResponseState.FINAL
