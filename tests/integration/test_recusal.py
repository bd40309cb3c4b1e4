"""Recusal at the edges (issue 9, items 2-4): a late conflict on a ruled response no longer
wedges publication, declarations hold for every later batch, and the lead is held to
recusal with a deputy lead ruling where the lead may not."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marking.audit.verify import verify
from marking.demo import synthetic
from marking.errors import MarkingError, NotFound
from marking.people.accounts import add_user, get_account
from marking.people.examiners import import_conflicts
from marking.publication.late_conflicts import LateConflicts, withdraw_late, withdraw_marks
from marking.publication.preconditions import open_work
from marking.publication.publish import publish
from marking.queue.claims import claim
from marking.queue.handback import flag, release
from marking.queue.lead import arbitrate, arbitration_tasks, open_anomalies, resolve_anomaly
from marking.queue.marks import submit_mark
from marking.read import exports
from marking.read.views import anomaly_inbox
from marking.setup.assignment import name_deputy
from marking.store.models import (
    Account,
    AnomalyKind,
    AnomalyResolution,
    Arbitration,
    ExamSession,
    Exclusion,
    LedgerEntry,
    PendingConflict,
    Response,
    ResponseState,
    Role,
    RulingWithdrawal,
    Script,
)
from tests.integration import factory as f

TEAM = ("e1", "e2", "e3", "e4")


def mark_as(db: Session, exam: ExamSession, username: str, table: dict[str, str]) -> None:
    """``username`` claims what the queue gives, marks the responses named (by text) in
    ``table`` and hands the others back."""
    account = get_account(db, username)
    for item in claim(db, exam, account, size=100):
        if item.text in table:
            submit_mark(
                db, exam, account, response_id=item.response_id, value=Decimal(table[item.text])
            )
        else:
            release(db, exam, account, response_id=item.response_id)


def flag_as(db: Session, exam: ExamSession, username: str, text: str) -> int:
    account = get_account(db, username)
    anomaly = None
    for item in claim(db, exam, account, size=100):
        if item.text == text:
            anomaly = flag(
                db, exam, account, response_id=item.response_id, kind=AnomalyKind.OTHER, note="?"
            )
        else:
            release(db, exam, account, response_id=item.response_id)
    assert anomaly is not None
    return anomaly.id


def declare(
    db: Session,
    exam: ExamSession,
    tmp_path: Path,
    username: str,
    person: synthetic.SyntheticCandidate,
) -> None:
    path = f.write_csv(
        tmp_path / f"conflict-{username}-{person.exam_no}.csv",
        ("username", "id_number", "relation"),
        [(username, person.id_number, "relative")],
    )
    import_conflicts(db, path, actor="office", session=exam)


def publish_tiny(db: Session, tiny: f.Tiny) -> None:
    f.approve(db, tiny.exam)
    publish(db, tiny.exam, by="office", approved_by="director", key=tiny.keys.open(tiny.exam))


def excluded(db: Session, exam: ExamSession, username: str) -> set[str]:
    """The texts of the responses whose scripts ``username`` is excluded from."""
    return set(
        db.scalars(
            select(Response.text)
            .join(Exclusion, Exclusion.script_id == Response.script_id)
            .join(Script, Script.id == Response.script_id)
            .where(
                Script.session_id == exam.id,
                Exclusion.examiner_id == get_account(db, username).id,
                Response.group_id.is_not(None),
            )
        )
    )


# --- item 2: a late conflict on a ruled response ------------------------------------------------


def test_a_late_conflict_on_an_arbitrated_response_takes_the_arbitration_with_it(
    db: Session, tmp_path: Path
) -> None:
    tiny = f.tiny_session(db, tmp_path, "W-01", n=1, examiners=TEAM)
    exam, lead = tiny.exam, get_account(db, "lead")
    mark_as(db, exam, "e1", {"c1 skills": "0"})
    mark_as(db, exam, "e2", {"c1 skills": "8", "c1 theory": "3"})
    mark_as(db, exam, "e3", {"c1 skills": "4", "c1 theory": "3"})  # 0, 8, 4: tolerance 1
    skills = f.response_of(db, exam, "c1 skills")
    assert skills.state is ResponseState.ARBITRATION
    ruling = arbitrate(db, exam, lead, response_id=skills.id, value=Decimal(5))
    declare(db, exam, tmp_path, "e1", tiny.candidates[0])

    with pytest.raises(LateConflicts) as late:
        publish_tiny(db, tiny)
    withdraw_marks(db, exam, late.value.hits, reason="迟报回避", actor="office")

    # The arbitration went with e1's mark, recorded; the response waits for a third mark.
    skills = f.response_of(db, exam, "c1 skills")
    assert (skills.state, skills.final, skills.marks_done, skills.marks_needed) == (
        ResponseState.OPEN,
        None,
        2,
        3,
    )
    [withdrawal] = db.scalars(select(RulingWithdrawal)).all()
    assert (withdrawal.arbitration_id, withdrawal.reason, withdrawal.by) == (
        ruling.id,
        "迟报回避",
        "office",
    )
    assert db.get(Arbitration, ruling.id) is not None  # R6: nothing deleted
    [entry] = db.scalars(
        select(LedgerEntry).where(
            LedgerEntry.session_id == exam.id, LedgerEntry.kind == "withdrawal"
        )
    ).all()
    assert entry.payload["arbitrations"] == [ruling.id]
    assert verify(db, exam).ok
    assert claim(db, exam, get_account(db, "e1"), size=100) == []  # excluded now

    mark_as(db, exam, "e4", {"c1 skills": "4.5"})  # within 1 of e3's 4
    skills = f.response_of(db, exam, "c1 skills")
    assert (skills.state, skills.final, skills.final_rule) == (
        ResponseState.FINAL,
        Decimal("4.5"),
        "third_one",
    )
    publish_tiny(db, tiny)

    assert verify(db, exam).ok
    code = f.script_code(db, exam, "c1 skills")
    on_skills = [(r[3], r[4], r[5]) for r in exports.marks_rows(db, exam) if r[0] == code and r[3]]
    assert sorted(on_skills) == [
        ("e2", "8", "double"),
        ("e3", "4", "third"),
        ("e4", "4.5", "third"),
    ]


def test_a_late_conflict_on_a_response_ruled_final_as_an_anomaly_withdraws_the_ruling(
    db: Session, tmp_path: Path
) -> None:
    tiny = f.tiny_session(db, tmp_path, "W-02", n=1, examiners=TEAM)
    exam, lead = tiny.exam, get_account(db, "lead")
    mark_as(db, exam, "e1", {"c1 skills": "2"})
    anomaly_id = flag_as(db, exam, "e2", "c1 skills")
    resolve_anomaly(
        db,
        exam,
        lead,
        anomaly_id=anomaly_id,
        resolution=AnomalyResolution.FINAL,
        note="字迹潦草, 组长评定",
        value=Decimal(6),
    )
    mark_as(db, exam, "e3", {"c1 theory": "3"})
    mark_as(db, exam, "e4", {"c1 theory": "3"})
    declare(db, exam, tmp_path, "e1", tiny.candidates[0])

    with pytest.raises(LateConflicts) as late:
        publish_tiny(db, tiny)
    withdraw_late(db, exam, late.value, actor="office")

    skills = f.response_of(db, exam, "c1 skills")
    assert (skills.state, skills.final, skills.marks_done) == (ResponseState.OPEN, None, 0)
    assert db.scalars(select(RulingWithdrawal.anomaly_id)).all() == [anomaly_id]
    mark_as(db, exam, "e2", {"c1 skills": "5"})
    mark_as(db, exam, "e3", {"c1 skills": "5"})
    publish_tiny(db, tiny)

    assert verify(db, exam).ok
    code = f.script_code(db, exam, "c1 skills")
    assert {r[3] for r in exports.marks_rows(db, exam) if r[0] == code and r[3]} == {"e2", "e3"}


def test_verify_names_a_withdrawn_ruling_the_ledger_does_not_hold(
    db: Session, tmp_path: Path
) -> None:
    tiny = f.tiny_session(db, tmp_path, "W-03", n=1, examiners=TEAM)
    exam = tiny.exam
    mark_as(db, exam, "e1", {"c1 skills": "0"})
    mark_as(db, exam, "e2", {"c1 skills": "8"})
    mark_as(db, exam, "e3", {"c1 skills": "4"})
    ruling = arbitrate(
        db,
        exam,
        get_account(db, "lead"),
        response_id=f.response_id(db, exam, "c1 skills"),
        value=Decimal(5),
    )
    assert verify(db, exam).ok

    db.add(RulingWithdrawal(arbitration_id=ruling.id, reason="slipped in", by="nobody"))
    db.flush()

    assert f"withdrawal of arbitration {ruling.id} disagrees between ledger and table" in (
        verify(db, exam).problems
    )


# --- item 3: a declaration holds for every later batch --------------------------------------------


def test_a_conflict_declared_after_the_first_batch_excludes_in_every_later_batch(
    db: Session, tmp_path: Path
) -> None:
    everyone = f.people(5, seed=3)
    first, later = everyone[:2], everyone[2:]
    early_for_later, late_for_later = later[0], later[1]
    f.add_staff(db)
    f.add_examiners(db, tmp_path, *TEAM)
    exam, keys = f.new_session(db, tmp_path, f.tiny_toml("W-10"))
    # Declared before any intake, about someone who only comes in the second batch...
    declare(db, exam, tmp_path, "e1", early_for_later)
    f.take_in(db, exam, tmp_path / "b1", first, f.tiny_rows(first))
    f.open_marking(db, exam, {"short": TEAM, "prac": TEAM})
    # ... and declared once marking is open, about someone else of that second batch.
    declare(db, exam, tmp_path, "e2", late_for_later)
    waiting = db.scalars(select(PendingConflict.id_digest)).all()
    assert len(waiting) == 2
    assert not {p.id_number for p in everyone} & set(waiting)  # digests, never the ID number

    rows = [(exam_no, comp, q, f"later {text}") for exam_no, comp, q, text in f.tiny_rows(later)]
    summary = f.take_in(db, exam, tmp_path / "b2", later, rows)

    assert summary.exclusions == 4  # both components of each declared candidate
    assert excluded(db, exam, "e1") == {"later c1 theory", "later c1 skills"}
    assert excluded(db, exam, "e2") == {"later c2 theory", "later c2 skills"}
    assert db.scalar(select(func.count()).select_from(PendingConflict)) == 0
    f.mark_all(db, exam, TEAM)
    f.approve(db, exam)
    publish(db, exam, by="office", approved_by="director", key=keys.open(exam))  # nothing late
    assert verify(db, exam).ok


def test_a_waiting_declaration_is_gone_once_the_session_is_published(
    db: Session, tmp_path: Path
) -> None:
    tiny = f.tiny_session(db, tmp_path, "W-11", n=2, examiners=TEAM)
    stranger = f.people(1, seed=5, prefix="2999")[0]
    declare(db, tiny.exam, tmp_path, "e1", stranger)
    assert db.scalar(select(func.count()).select_from(PendingConflict)) == 1
    f.mark_all(db, tiny.exam, TEAM)

    publish_tiny(db, tiny)

    assert db.scalar(select(func.count()).select_from(PendingConflict)) == 0


# --- item 4: the lead is held to recusal; the deputy lead ----------------------------------------


def test_the_deputy_lead_is_another_senior_examiner_covering_the_session(
    db: Session, tmp_path: Path
) -> None:
    tiny = f.tiny_session(db, tmp_path, "W-20", n=1)
    exam = tiny.exam
    f.add_examiners(
        db,
        tmp_path,
        f.Ex("s1", grade="senior"),
        f.Ex("s2", grade="senior", expires="2025-01-01"),
        f.Ex("j1"),
    )
    add_user(db, "deputy", role=Role.LEAD)
    add_user(db, "bare", role=Role.LEAD)
    f.certify(db, "deputy")

    refusals = {
        "lead": "is the session's lead",
        "j1": "the deputy lead must be a senior examiner whose certificate covers the session",
        "bare": "the deputy lead must be a senior examiner whose certificate covers the session",
        "office": "a lead or deputy lead must be a lead or examiner account",
        "s2": ": certificate C-s2 expired",
    }
    for username, reason in refusals.items():
        with pytest.raises(MarkingError) as refused:
            name_deputy(db, exam, username, actor="office")
        assert str(refused.value).startswith(username) and reason in str(refused.value)
    assert exam.deputy_id is None

    name_deputy(db, exam, "s1", actor="office")
    name_deputy(db, exam, "deputy", actor="office")  # naming another replaces the first

    assert exam.deputy_id == get_account(db, "deputy").id
    named = db.scalars(
        select(LedgerEntry.payload).where(
            LedgerEntry.session_id == exam.id, LedgerEntry.kind == "deputy_named"
        )
    ).all()
    assert [p["deputy"] for p in named] == ["s1", "deputy"]


def rulings_session(db: Session, tmp_path: Path, code: str, *, lead_declared: bool) -> f.Tiny:
    """Two candidates, each with a skills response awaiting arbitration and a theory
    response flagged; the lead declared a conflict with c1 before intake if told."""
    f.add_staff(db)
    f.add_examiners(db, tmp_path, *TEAM)
    add_user(db, "deputy", role=Role.LEAD)
    f.certify(db, "deputy")
    exam, keys = f.new_session(db, tmp_path, f.tiny_toml(code))
    roster = f.people(2, seed=6)
    if lead_declared:
        declare(db, exam, tmp_path, "lead", roster[0])
    summary = f.take_in(db, exam, tmp_path / "batch", roster, f.tiny_rows(roster))
    f.open_marking(db, exam, {"short": TEAM, "prac": TEAM})
    mark_as(db, exam, "e1", {"c1 skills": "0", "c2 skills": "0", "c1 theory": "1"})
    mark_as(db, exam, "e2", {"c1 skills": "8", "c2 skills": "8", "c2 theory": "1"})
    mark_as(db, exam, "e3", {"c1 skills": "4", "c2 skills": "4"})
    flag_as(db, exam, "e4", "c1 theory")
    flag_as(db, exam, "e4", "c2 theory")
    return f.Tiny(exam, keys, roster, summary.batch_id)


def rule_all(db: Session, exam: ExamSession, ruler: Account, value: Decimal) -> None:
    """``ruler`` arbitrates everything in their list and rules every flag final, at ``value``
    (flags at 2: the theory question's maximum is 6)."""
    for task in arbitration_tasks(db, exam, ruler=ruler):
        arbitrate(db, exam, ruler, response_id=task.response_id, value=value)
    for anomaly in open_anomalies(db, exam, ruler=ruler):
        resolve_anomaly(
            db,
            exam,
            ruler,
            anomaly_id=anomaly.id,
            resolution=AnomalyResolution.FINAL,
            note="评定",
            value=Decimal(2),
        )


def test_responses_the_lead_is_excluded_from_go_to_the_deputy_lead(
    db: Session, tmp_path: Path
) -> None:
    tiny = rulings_session(db, tmp_path, "W-21", lead_declared=True)
    exam = tiny.exam
    lead, deputy = get_account(db, "lead"), get_account(db, "deputy")
    c1_skills, c2_skills = (f.response_id(db, exam, t) for t in ("c1 skills", "c2 skills"))
    assert excluded(db, exam, "lead") == {"c1 theory", "c1 skills"}

    # No deputy yet: the lead sees only c2's, and what only a deputy may rule on is named.
    assert [t.response_id for t in arbitration_tasks(db, exam, ruler=lead)] == [c2_skills]
    assert [a.text for a in anomaly_inbox(db, exam, lead)] == ["c2 theory"]
    with pytest.raises(NotFound, match="that response is not awaiting your ruling"):
        arbitrate(db, exam, lead, response_id=c1_skills, value=Decimal(4))
    assert (
        "2 response(s) wait for a ruling the lead is excluded from and no deputy lead may give: "
        "name one (`blindmark assign --session W-21 --deputy U`)"
    ) in open_work(db, exam)

    name_deputy(db, exam, "deputy", actor="office")

    assert [t.response_id for t in arbitration_tasks(db, exam, ruler=lead)] == [c2_skills]
    assert [t.response_id for t in arbitration_tasks(db, exam, ruler=deputy)] == [c1_skills]
    assert [a.text for a in anomaly_inbox(db, exam, lead)] == ["c2 theory"]
    assert [a.text for a in anomaly_inbox(db, exam, deputy)] == ["c1 theory"]
    # Refused as for a response that is not there: nothing tells the lead whose it is.
    with pytest.raises(NotFound, match="awaiting your ruling"):
        arbitrate(db, exam, lead, response_id=c1_skills, value=Decimal(4))
    with pytest.raises(NotFound, match="awaiting your ruling"):
        arbitrate(db, exam, deputy, response_id=c2_skills, value=Decimal(4))
    [c1_flag] = open_anomalies(db, exam, ruler=deputy)
    with pytest.raises(NotFound, match="awaiting your ruling"):
        resolve_anomaly(
            db, exam, lead, anomaly_id=c1_flag.id, resolution=AnomalyResolution.REQUEUE, note="x"
        )

    rule_all(db, exam, deputy, Decimal(4))
    rule_all(db, exam, lead, Decimal(4))
    publish_tiny(db, tiny)
    assert verify(db, exam).ok
    rulers = {(r[0], r[3]) for r in exports.marks_rows(db, exam) if r[5] == "arbitration"}
    c1, c2 = (f.script_code(db, exam, t) for t in ("c1 skills", "c2 skills"))
    assert (c1, "deputy") in rulers and (c2, "lead") in rulers
    assert (c1, "lead") not in rulers


def test_a_late_conflict_of_the_lead_withdraws_their_rulings_for_the_deputy_to_decide(
    db: Session, tmp_path: Path
) -> None:
    tiny = rulings_session(db, tmp_path, "W-22", lead_declared=False)
    exam = tiny.exam
    lead, deputy = get_account(db, "lead"), get_account(db, "deputy")
    name_deputy(db, exam, "deputy", actor="office")
    assert arbitration_tasks(db, exam, ruler=deputy) == []
    rule_all(db, exam, lead, Decimal(5))
    declare(db, exam, tmp_path, "lead", tiny.candidates[0])

    with pytest.raises(LateConflicts, match=r"0 mark\(s\) and 2 ruling\(s\)") as late:
        publish_tiny(db, tiny)
    withdraw_late(db, exam, late.value, actor="office")

    c1_skills = f.response_of(db, exam, "c1 skills")
    assert c1_skills.state is ResponseState.ARBITRATION  # its marks still disagree
    assert f.response_of(db, exam, "c1 theory").state is ResponseState.OPEN  # e1's mark only
    assert excluded(db, exam, "lead") == {"c1 theory", "c1 skills"}
    assert arbitration_tasks(db, exam, ruler=lead) == []
    assert [t.response_id for t in arbitration_tasks(db, exam, ruler=deputy)] == [c1_skills.id]
    assert db.scalar(select(func.count()).select_from(RulingWithdrawal)) == 2
    assert verify(db, exam).ok

    arbitrate(db, exam, deputy, response_id=c1_skills.id, value=Decimal(3))
    mark_as(db, exam, "e3", {"c1 theory": "1"})
    publish_tiny(db, tiny)

    assert verify(db, exam).ok
    code = f.script_code(db, exam, "c1 skills")
    assert [
        (r[3], r[4]) for r in exports.marks_rows(db, exam) if r[0] == code and r[5] == "arbitration"
    ] == [("deputy", "3")]
