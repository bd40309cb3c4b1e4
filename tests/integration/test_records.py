"""Interview panels (R7, 第七条(九)), violations and collective decisions (R13, 第七条(五)),
and the way back from a sealed record entered wrongly (issue 12 items 4, 5)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.audit.verify import verify
from marking.errors import InputErrors, MarkingError, NotFound, StateError
from marking.intake.collectives import approve_collective, get_collective, waiting
from marking.intake.entries import (
    FormRefused,
    enter_interview_absent,
    enter_interview_score,
    enter_own_score,
    enter_violation,
    entry_counts,
    session_records,
    withdraw_record,
)
from marking.intake.records import record_interview, record_violations
from marking.people.accounts import add_user, get_account
from marking.people.examiners import import_conflicts
from marking.publication.approvals import approval_status, approve_publication
from marking.publication.preconditions import PublicationRefused, open_work
from marking.publication.publish import publish
from marking.read import exports
from marking.store.models import (
    CollectiveDecision,
    LedgerEntry,
    RecordWithdrawal,
    Role,
    SealedRecord,
    SessionState,
)
from tests.integration import factory as f

OTHER_TRADE = "6-01-02-00"
SENIORS = ("s1", "s2", "s3", "s4")


def interview_session(db: Session, tmp_path: Path, code: str, n: int = 3) -> f.Tiny:
    """A level-2 session marked to the end (every component 100.0), four senior examiners
    of the occupation with valid certificates, and a centre account."""
    f.add_examiners(
        db, tmp_path, *(f.Ex(u, grade="senior", scope=f"{f.OCCUPATION}:2") for u in SENIORS)
    )
    add_user(db, "centre", role=Role.CENTRE)
    tiny = f.tiny_session(db, tmp_path, code, n=n, level=2, examiners=("e1", "e2"))
    f.mark_all(db, tiny.exam, ["e1", "e2"], lambda item, _u: item.max)
    return tiny


def scores_csv(tmp_path: Path, name: str, rows: list[tuple[str, str, object]]) -> Path:
    return f.write_csv(tmp_path / name, ("exam_no", "username", "score"), rows)


def panel_of(tiny: f.Tiny, members: tuple[str, ...] = ("s1", "s2", "s3"), score: int = 80):
    return [(c.exam_no, u, score) for c in tiny.candidates for u in members]


def publish_now(db: Session, tiny: f.Tiny) -> None:
    exam = tiny.exam
    if not approval_status(db, exam).current:
        approve_publication(db, exam, get_account(db, "director"))
    publish(db, exam, by="office", approved_by="director", key=tiny.keys.open(exam))


# --- the panel (R7) ----------------------------------------------------------------------------


def test_a_panel_member_of_another_trade_expired_or_not_senior_is_refused(
    db: Session, tmp_path: Path
) -> None:
    """第七条(九): the panel is senior examiners of the occupation; 第三条 and 第七条(一): a
    valid certificate covering the session. Today's case: a senior of another trade whose
    certificate expired in 2020 was accepted."""
    tiny = interview_session(db, tmp_path, "RC-1", n=1)
    exam = tiny.exam
    f.add_examiners(
        db,
        tmp_path / "more",
        f.Ex("trade", grade="senior", expires="2020-06-30", scope=f"{OTHER_TRADE}:2"),
        f.Ex("lapsed", grade="senior", expires="2020-06-30", scope=f"{f.OCCUPATION}:2"),
        f.Ex("plain", grade="examiner", scope=f"{f.OCCUPATION}:2"),
    )
    [c] = tiny.candidates
    rows = [(c.exam_no, u, 80) for u in ("trade", "lapsed", "plain", "lead", "s1")]
    with pytest.raises(InputErrors) as refused:
        record_interview(db, exam, scores_csv(tmp_path, "i.csv", rows), actor="office")
    reasons = {e.row: e.reason for e in refused.value.errors}
    assert set(reasons) == {2, 3, 4, 5}  # s1, row 6, may sit
    assert "expired on 2020-06-30" in reasons[2] and "trade may not sit" in reasons[2]
    assert "expired on 2020-06-30" in reasons[3]
    assert (
        reasons[4] == "plain is not a senior examiner: interview panels are senior examiners (R7)"
    )
    assert reasons[5] == "lead is not an examiner account"
    assert db.scalar(select(SealedRecord.id).where(SealedRecord.session_id == exam.id)) is None

    # In the browser too: the office transcribing, and the member entering their own.
    with pytest.raises(FormRefused) as form:
        enter_interview_score(
            db,
            exam,
            member=get_account(db, "trade"),
            member_name="trade",
            exam_no=c.exam_no,
            score="80",
            actor="office",
        )
    assert set(form.value.fields) == {"member"}
    assert form.value.fields["member"].code == "panel_not_qualified"
    with pytest.raises(MarkingError, match="not a senior examiner"):
        enter_own_score(db, exam, get_account(db, "plain"), exam_no=c.exam_no, score="80")


def test_a_conflicted_panel_member_is_named_at_publication_and_the_score_entered_again(
    db: Session, tmp_path: Path
) -> None:
    """第七条(四) recusal and 第七条(九): a member who declared a conflict with the candidate
    may not score them; found when publication unseals, naming member and candidate."""
    tiny = interview_session(db, tmp_path, "RC-2")
    exam = tiny.exam
    c1 = tiny.candidates[0]
    declared = f.write_csv(
        tmp_path / "conflicts.csv",
        ("username", "id_number", "relation"),
        [("s1", c1.id_number, "teacher_student")],
    )
    import_conflicts(db, declared, actor="office", session=exam)
    record_interview(db, exam, scores_csv(tmp_path, "i.csv", panel_of(tiny)), actor="office")
    [record] = session_records(db, exam)

    with pytest.raises(PublicationRefused) as refused:
        publish_now(db, tiny)
    assert (
        f"interview record {record.id}: panel member s1 declared a conflict (teacher_student) "
        f"with candidate {c1.exam_no} (R10); withdraw record {record.id}"
    ) in str(refused.value)
    assert exam.state is SessionState.MARKING

    withdraw_record(db, exam, record.id, reason="s1 与考生有师生关系", actor="office")
    others = [row for row in panel_of(tiny) if row[0] != c1.exam_no]
    again = [*others, *((c1.exam_no, u, 80) for u in ("s2", "s3", "s4"))]
    record_interview(db, exam, scores_csv(tmp_path, "i2.csv", again), actor="office")
    publish_now(db, tiny)
    _columns, rows = exports.results_rows(db, exam)
    assert {r[3] for r in rows} == {"pass"}
    assert verify(db, exam).ok


def test_panel_members_enter_their_own_scores_and_the_office_records_an_absence(
    db: Session, tmp_path: Path
) -> None:
    """R7: each member's own score, or the office's transcription naming the member, sealed
    on entry; a candidate without scores is named until recorded absent from the interview."""
    tiny = interview_session(db, tmp_path, "RC-3")
    exam = tiny.exam
    c1, c2, c3 = (c.exam_no for c in tiny.candidates)
    for member in ("s1", "s2"):
        for exam_no in (c1, c2):
            enter_own_score(db, exam, get_account(db, member), exam_no=exam_no, score="75.5")
    for exam_no in (c1, c2):  # s3 signed a sheet; the office types it in
        enter_interview_score(
            db,
            exam,
            member=get_account(db, "s3"),
            member_name="s3",
            exam_no=exam_no,
            score="60",
            actor="office",
        )
    assert entry_counts(db, exam, by="s1")["interview"] == 2
    assert entry_counts(db, exam)["interview"] == 6

    with pytest.raises(PublicationRefused) as refused:
        publish_now(db, tiny)
    assert f"1 candidate(s) have no interview panel scores (R7): {c3}; enter" in str(refused.value)
    enter_interview_absent(db, exam, exam_nos=[c3], reason="未到场", actor="office")
    publish_now(db, tiny)
    _columns, rows = exports.results_rows(db, exam)
    got = {r[0]: (r[3], r[-1]) for r in rows}
    assert got == {c1: ("pass", "70.3"), c2: ("pass", "70.3"), c3: ("absent", "")}


# --- violations and collective decisions (R13) --------------------------------------------------


def violations_csv(tmp_path: Path, rows: list[tuple[str, ...]]) -> Path:
    header = ("exam_no", "component", "action", "reason", "decided_by", "collective")
    return f.write_csv(tmp_path / "violations.csv", header, rows)


def test_a_collective_decision_waits_for_the_centre_then_publishes(
    db: Session, tmp_path: Path
) -> None:
    """第七条(五): a collective violation is decided by the lead examiner with the guidance
    centre's consent; publication lists what waits, and a centre account approves."""
    tiny = f.tiny_session(db, tmp_path, "RC-4", n=3, examiners=("e1", "e2"))
    exam = tiny.exam
    f.mark_all(db, exam, ["e1", "e2"])
    add_user(db, "centre", role=Role.CENTRE)
    c1, c2, c3 = (c.exam_no for c in tiny.candidates)
    bad = violations_csv(
        tmp_path,
        [
            (c1, "theory", "void", "集体作弊", "lead", "G1"),
            (c2, "theory", "warning", "x", "lead", "G1"),
        ],
    )
    with pytest.raises(InputErrors, match="collective 'G1' is one decision"):
        record_violations(db, exam, bad, actor="office")
    # The id is shown in clear before publication (the centre's list): it may not carry a
    # candidate's exam number (R1), and the refusal does not quote the number either.
    naming = violations_csv(tmp_path, [(c1, "theory", "void", "集体作弊", "lead", f"G-{c1}")])
    with pytest.raises(InputErrors, match="must not contain a candidate's exam number") as named:
        record_violations(db, exam, naming, actor="office")
    assert c1 not in "\n".join(e.reason for e in named.value.errors)
    assert waiting(db, exam) == []
    rows = [
        (c1, "theory", "void", "集体作弊", "lead", "G1"),
        (c2, "theory", "void", "集体作弊", "lead", "G1"),
        (c3, "skills", "warning", "交头接耳", "e1", ""),
    ]
    record_violations(db, exam, violations_csv(tmp_path, rows), actor="office")
    [decision] = waiting(db, exam)
    assert (decision.label, decision.candidates, decision.decided_by) == ("G1", 2, "lead")
    assert any(
        "1 collective violation decision(s) wait" in p and "G1" in p for p in open_work(db, exam)
    )
    with pytest.raises(StateError, match="guidance centre"):
        approve_publication(db, exam, get_account(db, "director"))
    with pytest.raises(MarkingError, match="guidance centre; director is not one"):
        approve_collective(db, exam, decision, get_account(db, "director"))

    approve_collective(db, exam, get_collective(db, exam, "G1"), get_account(db, "centre"))
    with pytest.raises(StateError, match="already approved"):
        approve_collective(db, exam, decision, get_account(db, "centre"))
    entry = db.scalars(select(LedgerEntry).where(LedgerEntry.kind == "collective_approved")).one()
    assert entry.actor == "centre" and entry.payload["candidates"] == 2
    assert waiting(db, exam) == [] and open_work(db, exam) == []
    publish_now(db, tiny)
    _columns, out = exports.results_rows(db, exam)
    assert {r[0]: r[3] for r in out}[c1] == "void" and {r[0]: r[3] for r in out}[c2] == "void"
    assert verify(db, exam).ok


def test_a_single_violation_entered_in_the_browser_needs_no_centre(
    db: Session, tmp_path: Path
) -> None:
    """第七条(五): a candidate's own violation is decided by the examiners; no centre."""
    tiny = f.tiny_session(db, tmp_path, "RC-5", n=2, examiners=("e1", "e2"))
    exam = tiny.exam
    f.mark_all(db, exam, ["e1", "e2"])
    c1, c2 = (c.exam_no for c in tiny.candidates)
    with pytest.raises(FormRefused) as refused:
        enter_violation(
            db,
            exam,
            exam_nos=[c1, c2],
            component="nope",
            action="shout",
            reason="",
            decided_by="",
            actor="office",
        )
    assert set(refused.value.fields) == {
        "collective",
        "decided_by",
        "component",
        "action",
        "reason",
    }
    enter_violation(
        db,
        exam,
        exam_nos=[c1],
        component="theory",
        action="void",
        reason="携带违禁资料",
        decided_by="e1",
        actor="office",
    )
    assert waiting(db, exam) == [] and open_work(db, exam) == []
    publish_now(db, tiny)
    assert {r[0]: r[3] for r in exports.results_rows(db, exam)[1]}[c1] == "void"


# --- the wedge: a record naming an exam number in no batch --------------------------------------


def test_a_record_naming_no_candidate_is_withdrawn_and_publication_completes(
    db: Session, tmp_path: Path
) -> None:
    """DESIGN §3: what arrives later is sealed and joined at publication; a wrong exam
    number must not leave the session unpublishable (R13's register stays correctable)."""
    tiny = f.tiny_session(db, tmp_path, "RC-6", n=2, examiners=("e1", "e2"))
    exam = tiny.exam
    f.mark_all(db, exam, ["e1", "e2"])
    rows = [("999999999999", "theory", "warning", "看错号", "e1", "")]
    record_violations(db, exam, violations_csv(tmp_path, rows), actor="office")
    [record] = session_records(db, exam)
    approve_publication(db, exam, get_account(db, "director"))
    with pytest.raises(PublicationRefused) as refused:
        publish(db, exam, by="office", approved_by="director", key=tiny.keys.open(exam))
    assert (
        f"violations record {record.id}, row 2: exam number 999999999999 is in no batch; "
        f"withdraw record {record.id}"
    ) in str(refused.value)

    with pytest.raises(FormRefused):
        withdraw_record(db, exam, record.id, reason=" ", actor="office")
    conflict = f.write_csv(
        tmp_path / "c.csv", ("username", "id_number", "relation"), [("e1", "X1", "other")]
    )
    import_conflicts(db, conflict, actor="office", session=exam)
    conflict_record = db.scalars(
        select(SealedRecord.id).where(SealedRecord.kind == "conflict")
    ).one()
    with pytest.raises(NotFound):  # recusal declarations are not the office's to withdraw
        withdraw_record(db, exam, conflict_record, reason="x", actor="office")

    withdraw_record(db, exam, record.id, reason="准考证号录错", actor="office")
    with pytest.raises(StateError, match="already withdrawn"):
        withdraw_record(db, exam, record.id, reason="again", actor="office")
    assert approval_status(db, exam).changed == ["records"]  # the withdrawal voids it
    [line] = session_records(db, exam)
    assert line.withdrawn is not None and line.withdrawn["reason"] == "准考证号录错"
    entry = db.scalars(select(LedgerEntry).where(LedgerEntry.kind == "record_withdrawn")).one()
    assert entry.payload == {"record": record.id, "kind": "violation", "reason": "准考证号录错"}
    publish_now(db, tiny)
    assert exam.state is SessionState.PUBLISHED and verify(db, exam).ok


def test_records_and_the_centres_approval_void_a_directors_approval(
    db: Session, tmp_path: Path
) -> None:
    """R16 bound to content: a new record, a withdrawal or the centre's approval changes
    what publication computes, so the director's approval no longer holds."""
    tiny = f.tiny_session(db, tmp_path, "RC-7", n=2, examiners=("e1", "e2"))
    exam = tiny.exam
    f.mark_all(db, exam, ["e1", "e2"])
    add_user(db, "centre", role=Role.CENTRE)
    c1, c2 = (c.exam_no for c in tiny.candidates)
    director = get_account(db, "director")
    approve_publication(db, exam, director)
    enter_violation(
        db,
        exam,
        exam_nos=[c1, c2],
        component="theory",
        action="terminated",
        reason="集体喧哗",
        decided_by="lead",
        collective="G7",
        actor="office",
    )
    assert approval_status(db, exam).changed == ["records", "collectives"]
    approve_collective(db, exam, get_collective(db, exam, "G7"), get_account(db, "centre"))
    approve_publication(db, exam, director)
    assert approval_status(db, exam).current
    [record] = session_records(db, exam)
    withdraw_record(db, exam, record.id, reason="录入有误", actor="office")
    assert approval_status(db, exam).changed == ["records"]
    assert waiting(db, exam) == []  # a withdrawn record's collective waits no more


def test_nothing_entered_names_a_candidate_in_clear(db: Session, tmp_path: Path) -> None:
    """R8, DESIGN §3: sealed on entry; what is kept in clear has no exam number or score."""
    tiny = interview_session(db, tmp_path, "RC-8", n=2)
    exam = tiny.exam
    c1, c2 = (c.exam_no for c in tiny.candidates)
    enter_own_score(db, exam, get_account(db, "s1"), exam_no=c1, score="87.5")
    enter_violation(
        db,
        exam,
        exam_nos=[c1, c2],
        component="skills",
        action="void",
        reason="集体作弊",
        decided_by="lead",
        collective="G8",
        actor="office",
    )
    enter_interview_absent(db, exam, exam_nos=[c2], reason="缺考", actor="office")
    withdraw_record(db, exam, session_records(db, exam)[0].id, reason="重录", actor="office")
    clear = [
        *(str(e.payload) for e in db.scalars(select(LedgerEntry))),
        *(str(vars(r)) for r in db.scalars(select(CollectiveDecision))),
        *(str(vars(r)) for r in db.scalars(select(RecordWithdrawal))),
        *(f"{r.kind} {r.created_by} {r.item_count}" for r in db.scalars(select(SealedRecord))),
    ]
    for secret in (c1, c2, "87.5", tiny.candidates[0].name):
        assert not any(secret in text for text in clear), secret
    assert all(c1.encode() not in r.ciphertext for r in db.scalars(select(SealedRecord)))
