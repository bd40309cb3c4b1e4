"""Corrections of marks (R6, 第七条(八) "如有笔误,必须及时更正,并在旁签名确认"; DESIGN §14):
a new record naming the old mark, a reason and who; the examiner's own until the response is
final, the lead's (or the deputy's where the lead is excluded) after; reconciliation again;
effective marks everywhere; the ledger keeps all."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.audit.verify import verify
from marking.errors import MarkingError, NotFound, StateError
from marking.people.accounts import add_user, get_account
from marking.publication.approvals import approval_status
from marking.publication.reconciliation import check_reconciliation
from marking.queue.claims import claim
from marking.queue.corrections import (
    correct_arbitration,
    correct_mark,
    corrections_of,
    last_correctable,
)
from marking.queue.handback import flag, release
from marking.queue.lead import arbitrate, resolve_anomaly
from marking.queue.leases import LeaseLost
from marking.queue.marks import InvalidMark, submit_mark
from marking.read import exports, reportdata
from marking.setup.assignment import name_deputy
from marking.store.models import (
    AnomalyKind,
    AnomalyResolution,
    Arbitration,
    ExamSession,
    Exclusion,
    LedgerEntry,
    Mark,
    MarkCorrection,
    Response,
    ResponseState,
    Role,
    RulingWithdrawal,
)
from tests.integration import factory as f
from tests.integration.marking_helpers import account, by_text

# The tiny paper's theory question 2: max 6, step 0.5, tolerance 1.
Q = "c1 theory"


def mark_as(db: Session, exam: ExamSession, username: str, table: dict[str, str]) -> None:
    """``username`` marks the responses named (by text) in ``table``, hands back the rest."""
    who = account(db, username)
    for item in claim(db, exam, who, size=100):
        if item.text in table:
            submit_mark(
                db, exam, who, response_id=item.response_id, value=Decimal(table[item.text])
            )
        else:
            release(db, exam, who, response_id=item.response_id)


def state(db: Session, exam: ExamSession, text: str = Q) -> tuple[object, ...]:
    r = f.response_of(db, exam, text)
    return (r.state, r.final, r.final_rule, r.marks_needed)


def entries(db: Session, exam: ExamSession, kind: str) -> list[dict[str, object]]:
    return [
        e.payload
        for e in db.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.session_id == exam.id, LedgerEntry.kind == kind)
            .order_by(LedgerEntry.created_at, LedgerEntry.id)
        )
    ]


def correct(
    db: Session, exam: ExamSession, by: str, value: str, *, of: str | None = None, text: str = Q
) -> object:
    return correct_mark(
        db,
        exam,
        account(db, by),
        response_id=f.response_id(db, exam, text),
        examiner=account(db, of) if of else None,
        value=value,
        reason="笔误",
    )


def test_an_examiner_corrects_their_own_mark_before_the_final_never_overwriting(
    db: Session, tmp_path: Path
) -> None:
    """R6, 第七条(八): a slip is corrected at once, a new record naming the old one, with a
    reason and who; chains are allowed, the latest in force; the ledger keeps all."""
    exam = f.tiny_session(db, tmp_path, "K-01", n=1).exam
    mark_as(db, exam, "e1", {Q: "2"})
    mine = last_correctable(db, exam, account(db, "e1"))
    assert mine is not None and (mine.component, mine.question, mine.value) == (
        "theory",
        "2",
        Decimal(2),
    )
    correct(db, exam, "e1", "4")
    correct(db, exam, "e1", "4.5")  # a correction of a corrected mark: the latest counts
    [mark] = db.scalars(select(Mark).where(Mark.response_id == f.response_id(db, exam, Q)))
    assert mark.value == Decimal(2)  # never overwritten
    chain = corrections_of(db, mark.id)
    assert [(c.seq, c.old_value, c.value, c.reason) for c in chain] == [
        (1, Decimal(2), Decimal(4), "笔误"),
        (2, Decimal(4), Decimal("4.5"), "笔误"),
    ]
    assert chain[0].by_id == account(db, "e1").id
    assert state(db, exam) == (ResponseState.OPEN, None, None, 2)

    mark_as(db, exam, "e2", {Q: "5"})  # within 1 of the corrected 4.5, not of the 2 given
    assert state(db, exam) == (ResponseState.FINAL, Decimal(5), "agreed", 2)
    logged = entries(db, exam, "mark_corrected")
    assert [(p["old"], p["new"], p["reason"]) for p in logged] == [
        ("2", "4", "笔误"),
        ("4", "4.5", "笔误"),
    ]
    assert all("name" not in p and "exam_no" not in p for p in logged)
    assert verify(db, exam).ok
    assert check_reconciliation(db, exam) >= 1


def test_after_the_final_only_the_lead_corrects_and_the_final_follows(
    db: Session, tmp_path: Path
) -> None:
    """DESIGN §14, R12: once final, the examiner is refused; the lead corrects the same way
    and the final is recomputed (apart now: a third mark is called for)."""
    exam = f.tiny_session(db, tmp_path, "K-02", n=1).exam
    mark_as(db, exam, "e1", {Q: "3"})
    mark_as(db, exam, "e2", {Q: "3"})
    assert state(db, exam) == (ResponseState.FINAL, Decimal(3), "agreed", 2)
    assert last_correctable(db, exam, account(db, "e1")) is None
    with pytest.raises(StateError, match="final: only the lead") as refused:
        correct(db, exam, "e1", "4")
    assert refused.value.code == "correction_final"

    correct(db, exam, "lead", "3.5", of="e1")
    assert state(db, exam) == (ResponseState.FINAL, Decimal("3.5"), "agreed", 2)  # 3.25 up
    correct(db, exam, "lead", "5", of="e1")  # now 2 apart: back to the queue for a third
    assert state(db, exam) == (ResponseState.OPEN, None, None, 3)
    mark_as(db, exam, "e3", {Q: "4.5"})
    assert state(db, exam) == (ResponseState.FINAL, Decimal(5), "third_one", 3)
    assert [p["new"] for p in entries(db, exam, "mark_corrected")] == ["3.5", "5"]
    assert check_reconciliation(db, exam) >= 1


def test_refusals_another_examiner_no_reason_invalid_values_unchanged(
    db: Session, tmp_path: Path
) -> None:
    """R6 (a correction is signed: a reason), DESIGN §4 (a mark in [0, max] on the step)."""
    exam = f.tiny_session(db, tmp_path, "K-03", n=1).exam
    mark_as(db, exam, "e1", {Q: "2"})
    rid = f.response_id(db, exam, Q)
    e1, e2 = account(db, "e1"), account(db, "e2")
    with pytest.raises(MarkingError, match="only the examiner who gave a mark") as other:
        correct_mark(db, exam, e2, response_id=rid, examiner=e1, value="3", reason="x")
    assert other.value.code == "correction_not_yours"
    with pytest.raises(NotFound) as none:
        correct_mark(db, exam, e2, response_id=rid, value="3", reason="x")
    assert none.value.code == "correction_no_mark"
    with pytest.raises(MarkingError, match="needs a reason") as blank:
        correct_mark(db, exam, e1, response_id=rid, value="3", reason="  ")
    assert blank.value.code == "correction_reason"
    for bad, why in (("3.2", "steps of 0.5"), ("7", "between 0 and 6"), ("-1", "negative")):
        with pytest.raises(InvalidMark, match=why):
            correct_mark(db, exam, e1, response_id=rid, value=bad, reason="x")
    with pytest.raises(MarkingError, match="already") as same:
        correct_mark(db, exam, e1, response_id=rid, value="2", reason="x")
    assert same.value.code == "correction_unchanged"
    assert db.scalars(select(MarkCorrection)).all() == []
    assert entries(db, exam, "mark_corrected") == []


def test_a_correction_within_tolerance_finalises_and_hands_the_third_back(
    db: Session, tmp_path: Path
) -> None:
    """DESIGN §5 with the corrected value: a response waiting for a third mark is not final;
    corrected within tolerance it is, and the third examiner's claim is handed back."""
    exam = f.tiny_session(db, tmp_path, "K-04", n=1).exam
    mark_as(db, exam, "e1", {Q: "2"})
    mark_as(db, exam, "e2", {Q: "5"})
    assert state(db, exam) == (ResponseState.OPEN, None, None, 3)
    e3 = account(db, "e3")
    [held] = [i for i in claim(db, exam, e3, size=100) if i.text == Q]
    correct(db, exam, "e1", "4.5")
    assert state(db, exam) == (ResponseState.FINAL, Decimal(5), "agreed", 2)
    assert f.response_of(db, exam, Q).held == 0
    with pytest.raises(LeaseLost):
        submit_mark(db, exam, e3, response_id=held.response_id, value=Decimal(3))
    assert check_reconciliation(db, exam) >= 1


def test_a_third_mark_given_counts_with_the_corrected_values(db: Session, tmp_path: Path) -> None:
    """DESIGN §5: awaiting arbitration is not final; a correction by the third examiner
    re-runs the third-mark rule; one of the doubles corrected into agreement decides alone
    (the third mark stays on record, ignored as rules.reconcile does)."""
    exam = f.tiny_session(db, tmp_path, "K-05", n=1).exam
    mark_as(db, exam, "e1", {Q: "1"})
    mark_as(db, exam, "e2", {Q: "5"})
    mark_as(db, exam, "e3", {Q: "3"})
    assert state(db, exam)[0] is ResponseState.ARBITRATION
    correct(db, exam, "e3", "4.5")
    assert state(db, exam) == (ResponseState.FINAL, Decimal(5), "third_one", 3)
    with pytest.raises(StateError):
        correct(db, exam, "e1", "5")  # final now
    correct(db, exam, "lead", "5", of="e1")
    assert state(db, exam) == (ResponseState.FINAL, Decimal(5), "agreed", 3)
    assert (
        len(db.scalars(select(Mark).where(Mark.response_id == f.response_id(db, exam, Q))).all())
        == 3
    )
    assert check_reconciliation(db, exam) >= 1


def test_the_lead_corrects_an_arbitrated_response(db: Session, tmp_path: Path) -> None:
    """R14 and R6: an arbitration stands while the corrected marks still need one; when they
    no longer do it is withdrawn (recorded); the lead corrects the arbitration itself with a
    new one, the old withdrawn beside it. The numpy check agrees throughout."""
    exam = f.tiny_session(db, tmp_path, "K-06", n=1).exam
    mark_as(db, exam, "e1", {Q: "1"})
    mark_as(db, exam, "e2", {Q: "5"})
    mark_as(db, exam, "e3", {Q: "3"})
    lead = account(db, "lead")
    rid = f.response_id(db, exam, Q)
    arbitrate(db, exam, lead, response_id=rid, value=Decimal("3.5"))
    correct(db, exam, "lead", "0", of="e1")  # still 0 / 5 / 3: the ruling stands
    assert state(db, exam) == (ResponseState.FINAL, Decimal("3.5"), "arbitration", 3)
    assert check_reconciliation(db, exam) >= 1

    correct_arbitration(db, exam, lead, response_id=rid, value="4", reason="复核要点")
    assert state(db, exam)[:3] == (ResponseState.FINAL, Decimal(4), "arbitration")
    assert db.scalars(select(RulingWithdrawal)).one().reason == "复核要点"
    assert check_reconciliation(db, exam) >= 1

    correct(db, exam, "lead", "2.5", of="e1")  # 2.5 / 5 / 3: the third within 1 of 2.5
    assert state(db, exam)[:3] == (ResponseState.FINAL, Decimal(3), "third_one")
    in_force = db.scalars(
        select(Arbitration).where(
            ~select(RulingWithdrawal.id)
            .where(RulingWithdrawal.arbitration_id == Arbitration.id)
            .exists()
        )
    ).all()
    assert in_force == []
    [logged] = [p for p in entries(db, exam, "mark_corrected") if "arbitration_withdrawn" in p]
    assert logged["new"] == "2.5"
    assert check_reconciliation(db, exam) >= 1
    assert verify(db, exam).ok


def test_the_deputy_corrects_where_the_lead_is_excluded(db: Session, tmp_path: Path) -> None:
    """DESIGN §14 (recusal holds for the lead): after the final, the deputy corrects a
    response the lead is excluded from; the lead is refused."""
    exam = f.tiny_session(db, tmp_path, "K-07", n=1).exam
    add_user(db, "deputy", role=Role.LEAD)
    f.certify(db, "deputy")  # the deputy, as the lead, a senior examiner covering the session
    name_deputy(db, exam, "deputy", actor="office")
    mark_as(db, exam, "e1", {Q: "3"})
    mark_as(db, exam, "e2", {Q: "3"})
    response = f.response_of(db, exam, Q)
    db.add(Exclusion(script_id=response.script_id, examiner_id=get_account(db, "lead").id))
    db.flush()
    # Refused as for a response that is not there: nothing tells the lead whose it is.
    with pytest.raises(NotFound) as hidden:
        correct(db, exam, "lead", "4", of="e1")
    assert hidden.value.code == "correction_no_response"
    with pytest.raises(NotFound) as hidden_too:
        correct(db, exam, "lead", "4", of="e3")  # no mark of e3 there: the same answer
    assert hidden_too.value.code == "correction_no_response"
    correct(db, exam, "deputy", "4", of="e1")
    assert state(db, exam)[:3] == (ResponseState.FINAL, Decimal("3.5"), "agreed")
    [logged] = entries(db, exam, "mark_corrected")
    assert logged["new"] == "4"


def test_exports_show_effective_marks_and_a_correction_voids_the_approval(
    db: Session, tmp_path: Path
) -> None:
    """DESIGN §11 (`marks`: effective marks only, a corrected mark shows its correction) and
    §14 (any later correction voids the director's approval, R16)."""
    tiny = f.tiny_session(db, tmp_path, "K-08", n=1)
    exam = tiny.exam
    f.mark_all(db, exam, ["e1", "e2"], by_text({(Q, "e1"): "3", (Q, "e2"): "3"}))
    f.approve(db, exam)
    assert approval_status(db, exam).current
    correct(db, exam, "lead", "4", of="e1")
    status = approval_status(db, exam)
    assert not status.current
    assert status.changed == ["finals", "corrections"]
    code = f.script_code(db, exam, Q)
    rows = [r for r in exports.marks_rows(db, exam) if r[0] == code and r[1:3] == ("theory", "2")]
    # (Marks are listed by time, a corrected one at its correction's: compare them by examiner.)
    assert sorted((r[3], r[4], r[5]) for r in rows) == [
        ("e1", "4", "double"),
        ("e2", "3", "double"),
    ]
    finals = {(r[0], r[1], r[2]): r[3] for r in exports.finals_rows(db, exam)}
    assert finals[(code, "theory", "2")] == "3.5"


def test_a_published_session_takes_no_correction(db: Session, tmp_path: Path) -> None:
    """DESIGN §6: after publication a change is an appeal (a revision), not a correction."""
    exam = f.tiny_session(db, tmp_path, "K-09", n=1).exam
    mark_as(db, exam, "e1", {Q: "3"})
    exam.state = exam.state.__class__.PUBLISHED
    with pytest.raises(StateError) as refused:
        correct(db, exam, "lead", "4", of="e1")
    assert refused.value.code == "correction_published"


# --- the queue and the session-wide check agree after any corrections (DESIGN §5) ------------

_TEXTS = ("c1 theory", "c2 theory", "c1 skills", "c2 skills")
_STEPS = {"theory": (Decimal("0.5"), 12), "skills": (Decimal("0.5"), 16)}  # max 6 and 8


def test_per_response_results_equal_the_session_recomputation_after_random_corrections(
    db: Session, tmp_path: Path
) -> None:
    """DESIGN §5: reconciliation as marks and corrections arrive and the numpy check at
    publication agree, whatever the corrections (hypothesis drives marks and corrections
    by examiners and the lead in random order)."""
    exam = f.tiny_session(db, tmp_path, "K-10", n=2).exam
    users = ("e1", "e2", "e3")

    def value(text: str, k: int) -> str:
        step, top = _STEPS[text.split()[1]]
        return f"{step * (k % (top + 1)):f}"

    operations = st.lists(
        st.tuples(
            st.sampled_from(("mark", "correct", "lead")),
            st.sampled_from(users),
            st.sampled_from(_TEXTS),
            st.integers(0, 16),
        ),
        min_size=4,
        max_size=30,
    )

    @settings(
        max_examples=30,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(operations)
    def run(ops: list[tuple[str, str, str, int]]) -> None:
        nested = db.begin_nested()
        try:
            for op, user, text, k in ops:
                try:
                    if op == "mark":
                        mark_as(db, exam, user, {text: value(text, k)})
                    else:
                        by = "lead" if op == "lead" else user
                        correct(db, exam, by, value(text, k), of=user, text=text)
                except (MarkingError, InvalidMark):
                    pass  # refused: nothing stored, the invariant still holds
                check_reconciliation(db, exam)  # raises where queue and numpy disagree
                for r in db.scalars(select(Response)):
                    assert (r.final is None) == (r.state is not ResponseState.FINAL)
        finally:
            nested.rollback()

    run()


def test_statistics_and_the_registers_attributions_read_the_marks_in_force(
    db: Session, tmp_path: Path
) -> None:
    """R3, R6: reports use effective marks (the statistics' marks per question), and the
    register's attributions name who corrected a mark."""
    exam = f.tiny_session(db, tmp_path, "K-11", n=1).exam
    mark_as(db, exam, "e1", {Q: "3"})
    mark_as(db, exam, "e2", {Q: "3"})
    correct(db, exam, "lead", "4", of="e1")
    stats = reportdata.stats_data(db, exam)
    [theory_2] = [q for q in stats.questions if (q.component, q.number) == ("theory", "2")]
    by_examiner = {who: value for who, value in zip(theory_2.examiner, theory_2.value, strict=True)}
    assert sorted(by_examiner.values()) == [3000, 4000]
    [short] = [g for g in reportdata._attributions(db, exam) if g.key == "short"]
    assert len(short.correctors) == 1 and "lead" in short.correctors[0]


def test_a_response_with_the_lead_for_an_anomaly_takes_the_correction_and_waits(
    db: Session, tmp_path: Path
) -> None:
    """R4, R6: held for an anomaly report it is not final, so its examiner corrects; it stays
    with the lead, whose resolution reconciles it on the corrected marks."""
    exam = f.tiny_session(db, tmp_path, "K-12", n=1).exam
    mark_as(db, exam, "e1", {Q: "2"})
    mark_as(db, exam, "e2", {Q: "5"})
    e3 = account(db, "e3")
    [held] = [i for i in claim(db, exam, e3, size=100) if i.text == Q]
    report = flag(db, exam, e3, response_id=held.response_id, kind=AnomalyKind.OTHER, note="?")
    correct(db, exam, "e1", "4.5")
    assert state(db, exam)[0] is ResponseState.ANOMALY
    resolve_anomaly(
        db,
        exam,
        account(db, "lead"),
        anomaly_id=report.id,
        resolution=AnomalyResolution.REQUEUE,
        note="可评",
    )
    assert state(db, exam) == (ResponseState.FINAL, Decimal(5), "agreed", 2)
    assert check_reconciliation(db, exam) >= 1


def test_a_correction_reads_the_response_as_the_last_mark_left_it(
    db: Session, tmp_path: Path
) -> None:
    """DESIGN §5, R6: the response a correction locks is read afresh, not as this session
    last loaded it. Found by the hypothesis test above: a response loaded before the second
    mark made it final (the mark path writes the row directly) looked open still, so its
    examiner's correction was let through and left the row final on marks that no longer
    agree, which the session-wide check refused."""
    exam = f.tiny_session(db, tmp_path, "K-13", n=1).exam
    mark_as(db, exam, "e1", {Q: "3"})
    loaded = f.response_of(db, exam, Q)
    assert loaded.state is ResponseState.OPEN
    mark_as(db, exam, "e2", {Q: "3"})
    with pytest.raises(StateError) as refused:
        correct(db, exam, "e1", "5")
    assert refused.value.code == "correction_final"
    done = correct(db, exam, "lead", "5", of="e1")  # 5 and 3: a third mark is called for
    assert done.state is ResponseState.OPEN and done.final is None
    assert state(db, exam) == (ResponseState.OPEN, None, None, 3)
    assert check_reconciliation(db, exam) >= 1
