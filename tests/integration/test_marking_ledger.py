"""The marking engine through its services: the ledger and `verify` (DESIGN §7)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from marking.audit.verify import verify
from marking.queue.claims import claim
from marking.queue.handback import flag, release
from marking.queue.lead import arbitrate, resolve_anomaly
from marking.queue.marks import InvalidMark, submit_mark
from marking.store.models import (
    Account,
    AnomalyKind,
    AnomalyResolution,
    Component,
    ExamSession,
    Lease,
    LeaseState,
    LedgerEntry,
    Mark,
    MarkKind,
    Question,
    Response,
    Script,
)
from tests.integration import factory as f
from tests.integration.marking_helpers import MINUTE, T0, account, by_text, count, marks_on

# --- the ledger and `verify` (DESIGN §7) --------------------------------------------------------


def _marked_session(db: Session, tmp_path: Path) -> ExamSession:
    """Three candidates marked by e1 and e2; the lead arbitrates c3's theory answer and
    gives c3's skills answer (flagged by e1) its final."""
    exam = f.tiny_session(db, tmp_path, "L-01", n=3).exam
    e1, lead = account(db, "e1"), account(db, "lead")
    flagged = f.response_id(db, exam, "c3 skills")
    for item in claim(db, exam, e1, size=100):
        if item.response_id != flagged:
            release(db, exam, e1, response_id=item.response_id)
    anomaly = flag(db, exam, e1, response_id=flagged, kind=AnomalyKind.BLANK, note="空白")
    table = {("c3 theory", "e1"): "1", ("c3 theory", "e2"): "5", ("c3 theory", "e3"): "3"}
    f.mark_all(db, exam, ["e1", "e2"], by_text(table))
    f.mark_all(db, exam, ["e3"], by_text(table))
    disputed = f.response_id(db, exam, "c3 theory")
    arbitrate(db, exam, lead, response_id=disputed, value=Decimal("3.5"), reason="按要点")
    resolve_anomaly(
        db,
        exam,
        lead,
        anomaly_id=anomaly.id,
        resolution=AnomalyResolution.FINAL,
        note="组长评定",
        value=Decimal(6),
    )
    return exam


def _lane(db: Session, exam: ExamSession, lane: str) -> list[LedgerEntry]:
    return list(
        db.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.session_id == exam.id, LedgerEntry.lane == lane)
            .order_by(LedgerEntry.seq)
        )
    )


def _mark_of(db: Session, exam: ExamSession, username: str) -> Mark:
    return db.scalars(
        select(Mark)
        .join(Account, Account.id == Mark.examiner_id)
        .where(Account.username == username)
        .order_by(Mark.id)
        .limit(1)
    ).one()


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (Decimal("1E-1000030"), "at most three decimals"),
        (Decimal("1E+999999999"), "at most 12 characters"),
        (Decimal("0.0005"), "at most three decimals"),
        ("1e-1000030", "plain decimal number"),
        ("1e999999999", "plain decimal number"),
    ],
    ids=["tiny exponent", "huge exponent", "finer than 0.001", "tiny text", "huge text"],
)
def test_a_mark_is_short_exact_thousandths_and_the_ledger_records_what_is_stored(
    db: Session, tmp_path: Path, value: Decimal | str, reason: str
) -> None:
    """Issue 9 item 6: 1E-1000030 was taken (stored 0, a 1 MB ledger string, verify broken)
    and 1E+999999999 made a 1 GB message. Both are refused in a few words; a mark that is
    taken is recorded in the ledger as exactly the text of what is stored."""
    exam = f.tiny_session(db, tmp_path, "Q-06b", n=1).exam
    e1 = account(db, "e1")
    target = f.response_id(db, exam, "c1 skills")  # max 8, step 0.5
    claim(db, exam, e1, size=100)
    entries = count(db, LedgerEntry)

    with pytest.raises(InvalidMark, match=reason) as refused:
        submit_mark(db, exam, e1, response_id=target, value=value)

    assert len(str(refused.value)) < 120
    assert marks_on(db, target) == [] and count(db, LedgerEntry) == entries
    assert verify(db, exam).ok
    submit_mark(db, exam, e1, response_id=target, value=Decimal("7.50"))
    stored = _mark_of(db, exam, "e1").value
    recorded = [e.payload["value"] for e in _lane(db, exam, "e1") if e.kind == "mark"]
    assert recorded == [f"{stored:f}"] == ["7.5"]
    assert verify(db, exam).ok


def test_verify_is_ok_after_marking(db: Session, tmp_path: Path) -> None:
    exam = _marked_session(db, tmp_path)
    report = verify(db, exam)
    assert report.ok, report.problems
    kinds = {
        lane: Counter(e.kind for e in _lane(db, exam, lane))
        for lane in ("office", "lead", "e1", "e2", "e3")
    }
    assert kinds["e1"] == {"flag": 1, "mark": 5}
    assert kinds["e2"] == {"mark": 5}
    assert kinds["e3"] == {"mark": 1}
    assert kinds["lead"] == {"scheme_approved": 2, "arbitration": 1, "resolve": 1}
    assert kinds["office"]["intake"] == 1 and kinds["office"]["assignment"] == 2
    assert report.lanes == 5
    assert report.entries == count(db, LedgerEntry) == sum(map(Counter.total, kinds.values()))
    assert re.fullmatch(r"[0-9a-f]{64}", report.head)


def _change_mark(db: Session, exam: ExamSession) -> str:
    mark = _mark_of(db, exam, "e1")
    db.execute(update(Mark).where(Mark.id == mark.id).values(value=mark.value + 1))
    return f"mark {mark.id}: the database holds"


def _delete_mark(db: Session, exam: ExamSession) -> str:
    mark = _mark_of(db, exam, "e2")
    db.execute(delete(Mark).where(Mark.id == mark.id))
    return f"mark {mark.id} is in the ledger but not in the database"


def _insert_mark(db: Session, exam: ExamSession) -> str:
    e3 = account(db, "e3")
    target = f.response_id(db, exam, "c2 skills")
    lease_id = db.execute(
        insert(Lease).values(
            response_id=target,
            examiner_id=e3.id,
            state=LeaseState.SUBMITTED,
            created_at=T0,
            expires_at=T0 + MINUTE,
        )
    ).inserted_primary_key[0]
    mark_id = db.execute(
        insert(Mark).values(
            response_id=target,
            examiner_id=e3.id,
            group_id=db.scalar(select(Response.group_id).where(Response.id == target)),
            kind=MarkKind.THIRD,
            value=Decimal(8),
            lease_id=lease_id,
            created_at=T0,
        )
    ).inserted_primary_key[0]
    return f"mark {mark_id} is in the database but not in the ledger"


def _change_payload(db: Session, exam: ExamSession) -> str:
    entry = _lane(db, exam, "e1")[2]
    db.execute(
        update(LedgerEntry)
        .where(LedgerEntry.id == entry.id)
        .values(payload={**entry.payload, "value": "6"})
    )
    return f"lane 'e1', seq 3 (entry {entry.id}): its content was changed after it was written"


def _delete_entry(db: Session, exam: ExamSession) -> str:
    lane = _lane(db, exam, "e2")
    db.execute(delete(LedgerEntry).where(LedgerEntry.id == lane[1].id))
    return f"lane 'e2', seq 3 (entry {lane[2].id}): sequence jumps from 1 to 3: an entry is missing"


def _cut_lane_end(db: Session, exam: ExamSession) -> str:
    # The last mark and its entry both gone: the chain left behind is intact, but the
    # lane's recorded tip still says where it ended.
    last = _lane(db, exam, "e2")[-1]
    db.execute(delete(Mark).where(Mark.id == last.payload["mark"]))
    db.execute(delete(LedgerEntry).where(LedgerEntry.id == last.id))
    return (
        f"lane 'e2', seq {last.seq - 1}: the lane's tip is seq {last.seq}: "
        "entries after this one were deleted"
    )


def _swap_entries(db: Session, exam: ExamSession) -> str:
    lane = _lane(db, exam, "e1")
    second, third = lane[1], lane[2]
    db.execute(update(LedgerEntry).where(LedgerEntry.id == second.id).values(seq=-1))
    db.execute(update(LedgerEntry).where(LedgerEntry.id == third.id).values(seq=2))
    db.execute(update(LedgerEntry).where(LedgerEntry.id == second.id).values(seq=3))
    return f"lane 'e1', seq 2 (entry {third.id}): does not chain to the entry before it"


def _set_final(db: Session, exam: ExamSession, text: str, value: str) -> int:
    rid = f.response_id(db, exam, text)
    db.execute(update(Response).where(Response.id == rid).values(final=Decimal(value)))
    return rid


def _change_final(db: Session, exam: ExamSession) -> str:
    rid = _set_final(db, exam, "c1 theory", "4")  # the marks (3, 3) give 3
    return f"response {rid}: the queue recorded final 4 but reconciling its marks gives 3"


def _change_arbitrated_final(db: Session, exam: ExamSession) -> str:
    rid = _set_final(db, exam, "c3 theory", "5")
    return (
        f"response {rid}: the queue recorded final 5 (arbitration) "
        "but the lead's ruling on record is 3.5"
    )


def _change_lead_final(db: Session, exam: ExamSession) -> str:
    rid = _set_final(db, exam, "c3 skills", "2")
    return f"response {rid}: the queue recorded final 2 (lead) but the lead's ruling on record is 6"


def _change_key_final(db: Session, exam: ExamSession) -> str:
    rid = db.scalars(
        select(Response.id)
        .join(Script, Script.id == Response.script_id)
        .where(Script.session_id == exam.id, Response.text == "A")
        .limit(1)
    ).one()
    db.execute(update(Response).where(Response.id == rid).values(final=Decimal(0)))
    return f"response {rid}: final 0 but its score from the key is 2"


def _change_key_score_and_final(db: Session, exam: ExamSession) -> str:
    # Both columns at once, consistently: only recomputing the score from the key shows it.
    rid = db.scalars(
        select(Response.id)
        .join(Script, Script.id == Response.script_id)
        .where(Script.session_id == exam.id, Response.text == "A")
        .limit(1)
    ).one()
    db.execute(
        update(Response).where(Response.id == rid).values(final=Decimal(0), key_score=Decimal(0))
    )
    return f"response {rid} (question theory/1): scored 0, final 0, but its key gives 2"


def _change_key(db: Session, exam: ExamSession) -> str:
    question = db.scalars(
        select(Question)
        .join(Component, Component.id == Question.component_id)
        .where(Component.session_id == exam.id, Question.answer.is_not(None))
        .order_by(Question.id)
        .limit(1)
    ).one()
    db.execute(update(Question).where(Question.id == question.id).values(answer=["D"]))
    return f"the key of question theory/{question.number} is ['D'], the ledger set"


@pytest.mark.parametrize(
    "tamper",
    [
        _change_mark,
        _delete_mark,
        _insert_mark,
        _change_payload,
        _delete_entry,
        _cut_lane_end,
        _swap_entries,
        _change_final,
        _change_arbitrated_final,
        _change_lead_final,
        _change_key_final,
        _change_key_score_and_final,
        _change_key,
    ],
    ids=lambda fn: fn.__name__.strip("_"),
)
def test_verify_names_what_was_tampered_with(
    db: Session, tmp_path: Path, tamper: Callable[[Session, ExamSession], str]
) -> None:
    exam = _marked_session(db, tmp_path)
    assert verify(db, exam).ok

    expected = tamper(db, exam)
    db.expire_all()
    report = verify(db, exam)

    assert not report.ok
    assert any(expected in problem for problem in report.problems), report.problems
