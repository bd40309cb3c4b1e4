"""The marking engine through its services: reconciliation through the queue (DESIGN §5),
anomalies and the lead's rulings, key corrections (R4, R14)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.audit.verify import verify
from marking.demo import synthetic
from marking.errors import MarkingError, StateError
from marking.queue.claims import claim
from marking.queue.handback import flag
from marking.queue.lead import (
    arbitrate,
    arbitration_tasks,
    correct_key,
    open_anomalies,
    resolve_anomaly,
)
from marking.queue.leases import LeaseLost
from marking.queue.marks import InvalidMark, submit_mark
from marking.read import exports
from marking.store.models import (
    AnomalyKind,
    AnomalyResolution,
    KeyCorrection,
    LedgerEntry,
    MarkKind,
    Response,
    ResponseState,
    Script,
)
from tests.integration import factory as f
from tests.integration.marking_helpers import account, by_text, ids, marks_on

# --- reconciliation through the queue (DESIGN §5) -----------------------------------------------


def test_marks_within_tolerance_give_their_mean_rounded_half_up_to_the_step(
    db: Session, tmp_path: Path
) -> None:
    tiny = f.tiny_session(db, tmp_path, "R-01", n=1)
    exam = tiny.exam
    table = {
        ("c1 theory", "e1"): "2.5",
        ("c1 theory", "e2"): "3",  # mean 2.75: half-up to the step 0.5 gives 3
        ("c1 skills", "e1"): "7",
        ("c1 skills", "e2"): "8",  # exactly the tolerance apart: still agreed
    }
    f.mark_all(db, exam, ["e1", "e2"], by_text(table))

    theory, skills = f.response_of(db, exam, "c1 theory"), f.response_of(db, exam, "c1 skills")
    assert (theory.state, theory.final, theory.final_rule) == (
        ResponseState.FINAL,
        Decimal(3),
        "agreed",
    )
    assert (skills.state, skills.final, skills.final_rule) == (
        ResponseState.FINAL,
        Decimal("7.5"),
        "agreed",
    )
    finals = {(comp, q): final for _code, comp, q, final in exports.finals_rows(db, exam)}
    assert finals == {
        ("theory", "1"): "2",
        ("theory", "2"): "3",
        ("skills", "1"): "2",
        ("skills", "2"): "7.5",
    }


def test_marks_beyond_tolerance_call_a_third_mark_then_a_final_or_the_lead(
    db: Session, tmp_path: Path
) -> None:
    tiny = f.tiny_session(db, tmp_path, "R-02", n=2)
    exam = tiny.exam
    table = {
        ("c1 theory", "e1"): "2",
        ("c1 theory", "e2"): "5",
        ("c1 theory", "e3"): "4.5",  # within 1 of 5 only: mean 4.75 -> 5
        ("c2 theory", "e1"): "1",
        ("c2 theory", "e2"): "5",
        ("c2 theory", "e3"): "3",  # within 1 of neither: the lead arbitrates
    }
    f.mark_all(db, exam, ["e1", "e2"], by_text(table))
    for text in ("c1 theory", "c2 theory"):
        response = f.response_of(db, exam, text)
        assert (response.state, response.marks_needed, response.final) == (
            ResponseState.OPEN,
            3,
            None,
        )
    assert claim(db, exam, account(db, "e1"), size=100) == []
    assert claim(db, exam, account(db, "e2"), size=100) == []

    marked = f.mark_all(db, exam, ["e3"], by_text(table))

    c1, c2 = f.response_of(db, exam, "c1 theory"), f.response_of(db, exam, "c2 theory")
    assert set(marked["e3"]) == {c1.id, c2.id}
    assert (c1.state, c1.final, c1.final_rule) == (ResponseState.FINAL, Decimal(5), "third_one")
    assert marks_on(db, c1.id)[2] == ("e3", Decimal("4.5"), MarkKind.THIRD)
    assert (c2.state, c2.final) == (ResponseState.ARBITRATION, None)
    [task] = arbitration_tasks(db, exam)
    assert (task.response_id, task.marks) == (c2.id, (Decimal(1), Decimal(5), Decimal(3)))

    with pytest.raises(MarkingError, match="only the lead examiner of session R-02"):
        arbitrate(db, exam, account(db, "e3"), response_id=c2.id, value=Decimal(3))
    with pytest.raises(InvalidMark, match=r"steps of 0\.5"):
        arbitrate(db, exam, account(db, "lead"), response_id=c2.id, value=Decimal("3.2"))
    arbitrate(
        db, exam, account(db, "lead"), response_id=c2.id, value=Decimal("3.5"), reason="按要点"
    )

    c2 = f.response_of(db, exam, "c2 theory")
    assert (c2.state, c2.final, c2.final_rule) == (
        ResponseState.FINAL,
        Decimal("3.5"),
        "arbitration",
    )
    with pytest.raises(StateError, match="not awaiting arbitration"):
        arbitrate(db, exam, account(db, "lead"), response_id=c2.id, value=Decimal(4))
    code = db.get(Script, c2.script_id).code  # type: ignore[union-attr]
    rows = [r for r in exports.marks_rows(db, exam) if r[0] == code and r[2] == "2"]
    assert [(r[3], r[4], r[5]) for r in rows] == [
        ("e1", "1", "double"),
        ("e2", "5", "double"),
        ("e3", "3", "third"),
        ("lead", "3.5", "arbitration"),
    ]
    assert verify(db, exam).ok


# --- anomalies and key corrections (R4) ---------------------------------------------------------


def test_a_flag_takes_the_response_out_of_the_queue_until_the_lead_requeues_it(
    db: Session, tmp_path: Path
) -> None:
    tiny = f.tiny_session(db, tmp_path, "A-01", n=2)
    exam = tiny.exam
    e1, e2, lead = account(db, "e1"), account(db, "e2"), account(db, "lead")
    target = f.response_id(db, exam, "c1 theory")
    claim(db, exam, e1, size=100)
    anomaly = flag(db, exam, e1, response_id=target, kind=AnomalyKind.ILLEGIBLE, note=" 看不清 ")

    response = f.response_of(db, exam, "c1 theory")
    assert (response.state, response.held) == (ResponseState.ANOMALY, 0)
    assert [(a.id, a.kind, a.note) for a in open_anomalies(db, exam)] == [
        (anomaly.id, AnomalyKind.ILLEGIBLE, "看不清")
    ]
    assert target not in ids(claim(db, exam, e2, size=100))
    with pytest.raises(LeaseLost, match="you handed this response back"):
        submit_mark(db, exam, e1, response_id=target, value=Decimal(3))

    with pytest.raises(MarkingError, match="only the lead examiner"):
        resolve_anomaly(
            db, exam, e2, anomaly_id=anomaly.id, resolution=AnomalyResolution.REQUEUE, note="ok"
        )
    with pytest.raises(MarkingError, match="a resolution needs a note"):
        resolve_anomaly(
            db, exam, lead, anomaly_id=anomaly.id, resolution=AnomalyResolution.REQUEUE, note="  "
        )
    assert f.response_of(db, exam, "c1 theory").state is ResponseState.ANOMALY

    resolve_anomaly(
        db, exam, lead, anomaly_id=anomaly.id, resolution=AnomalyResolution.REQUEUE, note="可辨认"
    )
    assert f.response_of(db, exam, "c1 theory").state is ResponseState.OPEN
    assert open_anomalies(db, exam) == []
    assert ids(claim(db, exam, account(db, "e3"), size=100)) >= {target}
    with pytest.raises(StateError, match="already resolved"):
        resolve_anomaly(
            db,
            exam,
            lead,
            anomaly_id=anomaly.id,
            resolution=AnomalyResolution.REQUEUE,
            note="again",
        )


def test_the_lead_can_resolve_a_flag_with_a_valid_final_mark(db: Session, tmp_path: Path) -> None:
    tiny = f.tiny_session(db, tmp_path, "A-02", n=2)
    exam = tiny.exam
    e1, lead = account(db, "e1"), account(db, "lead")
    target = f.response_id(db, exam, "c1 theory")
    claim(db, exam, e1, size=100)
    anomaly = flag(
        db, exam, e1, response_id=target, kind=AnomalyKind.IDENTIFYING_MARK, note="写了姓名"
    )

    def final(value: Decimal | None) -> None:
        resolve_anomaly(
            db,
            exam,
            lead,
            anomaly_id=anomaly.id,
            resolution=AnomalyResolution.FINAL,
            note="组长评定",
            value=value,
        )

    with pytest.raises(MarkingError, match="a final resolution needs the mark"):
        final(None)
    with pytest.raises(InvalidMark, match=r"between 0 and 6; 6\.5 is outside"):
        final(Decimal("6.5"))
    with pytest.raises(InvalidMark, match=r"steps of 0\.5; 2\.3 is not one"):
        final(Decimal("2.3"))
    assert f.response_of(db, exam, "c1 theory").state is ResponseState.ANOMALY

    final(Decimal("4.5"))

    response = f.response_of(db, exam, "c1 theory")
    assert (response.state, response.final, response.final_rule) == (
        ResponseState.FINAL,
        Decimal("4.5"),
        "lead",
    )
    for who in ("e2", "e3"):
        assert target not in ids(claim(db, exam, account(db, who), size=100))
    code = db.get(Script, response.script_id).code  # type: ignore[union-attr]
    assert [r[3:6] for r in exports.marks_rows(db, exam) if r[0] == code and r[2] == "2"] == [
        ("lead", "4.5", "arbitration")
    ]
    resolve = db.scalars(select(LedgerEntry).where(LedgerEntry.kind == "resolve")).one()
    assert (resolve.actor, resolve.payload["response"], resolve.payload["value"]) == (
        "lead",
        target,
        "4.5",
    )


def test_a_corrected_key_rescores_objective_responses_on_the_record(
    db: Session, tmp_path: Path
) -> None:
    def answers(roster: list[synthetic.SyntheticCandidate]) -> list[f.Row]:
        given = dict(zip((c.exam_no for c in roster), ("A", "B", "B", "C"), strict=True))
        return f.tiny_rows(roster, answers={no: {("theory", "1"): a} for no, a in given.items()})

    tiny = f.tiny_session(db, tmp_path, "K-01", n=4, rows=answers)
    exam = tiny.exam
    lead = account(db, "lead")

    def scores() -> list[tuple[str, Decimal | None, Decimal | None]]:
        rows = db.execute(
            select(Response.text, Response.key_score, Response.final)
            .join(Script, Script.id == Response.script_id)
            .where(
                Script.session_id == exam.id,
                Response.question_id == f.question(db, exam, "theory", "1").id,
            )
            .execution_options(populate_existing=True)
        )
        return sorted((t, k, fin) for t, k, fin in rows)

    assert scores() == [("A", 2, 2), ("B", 0, 0), ("B", 0, 0), ("C", 0, 0)]
    with pytest.raises(MarkingError, match="only the lead examiner"):
        correct_key(
            db,
            exam,
            account(db, "e1"),
            component="theory",
            question_number="1",
            answer=("B",),
            reason="x",
        )
    with pytest.raises(MarkingError, match="needs a reason"):
        correct_key(
            db, exam, lead, component="theory", question_number="1", answer=("B",), reason=" "
        )
    with pytest.raises(MarkingError, match="marked by examiners, not a key"):
        correct_key(
            db, exam, lead, component="theory", question_number="2", answer=("B",), reason="x"
        )

    correction = correct_key(
        db,
        exam,
        lead,
        component="theory",
        question_number="1",
        answer=("b",),
        reason="题库答案有误",
    )

    assert correction.rescored == 3
    assert scores() == [("A", 0, 0), ("B", 2, 2), ("B", 2, 2), ("C", 0, 0)]
    assert f.question(db, exam, "theory", "1").answer == ["B"]
    stored = db.scalars(select(KeyCorrection)).one()
    assert (stored.old_answer, stored.new_answer, stored.reason) == (["A"], ["B"], "题库答案有误")
    entry = db.scalars(select(LedgerEntry).where(LedgerEntry.kind == "key_correction")).one()
    assert (entry.actor, entry.payload["old"], entry.payload["new"], entry.payload["rescored"]) == (
        "lead",
        ["A"],
        ["B"],
        3,
    )
    key_rows = [r for r in exports.marks_rows(db, exam) if r[1:3] == ("theory", "1")]
    assert sorted(r[4] for r in key_rows) == ["0", "0", "2", "2"]
    assert {r[5] for r in key_rows} == {"key"}
    assert verify(db, exam).ok
