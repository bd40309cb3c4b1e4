"""The examiner register (DESIGN §14): certificates with issue and expiry dates, scope with
category, the card, status and the misconduct record; assignment and the lead use it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.errors import InputErrors, MarkingError, Refusals, StateError
from marking.people.accounts import get_account
from marking.people.examiners import import_examiners
from marking.people.register import (
    Validity,
    misconduct_record,
    qualification_problem,
    record_absence,
    record_misconduct,
    validity,
)
from marking.setup.assignment import assign, get_group, name_deputy
from marking.store.models import (
    AccountLedgerEntry,
    CardStatus,
    ExaminerStatus,
    ExamSession,
    MisconductKind,
)
from tests.integration import factory as f

HEADER = "username,name,certificate_no,certificate_expires,grade,scope,institution"
WIDE = HEADER + ",certificate_issued,category,card_status"


def _csv(tmp_path: Path, *lines: str, name: str = "examiners.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _exam(db: Session, tmp_path: Path, code: str = "RG-01") -> ExamSession:
    f.add_staff(db)
    exam, _ = f.new_session(db, tmp_path, f.tiny_toml(code), key_file=True)
    return exam


def test_an_old_seven_column_file_still_loads(db: Session, tmp_path: Path) -> None:
    """DESIGN §14: the new columns are optional; a file of DESIGN §11's 7 columns loads."""
    path = _csv(tmp_path, HEADER, f"old1,旧,C-old1,2028-01-31,examiner,{f.OCCUPATION}:3,站")
    assert import_examiners(db, path).created == 1
    examiner = get_account(db, "old1").examiner
    assert examiner is not None
    assert examiner.certificate_issued is None
    assert examiner.card_status is CardStatus.VALID
    assert examiner.status is ExaminerStatus.ACTIVE
    assert [(s.occupation_code, s.level, s.category) for s in examiner.scopes] == [
        (f.OCCUPATION, 3, "")
    ]


def test_the_new_columns_load_and_a_category_limits_the_components(
    db: Session, tmp_path: Path
) -> None:
    """第七条(一): 在核准的职业、等级和类别范围内 — a scope item's category (or the category
    column, for items naming none) is the component the examiner may mark."""
    path = _csv(
        tmp_path,
        WIDE,
        f"th1,甲,C-th1,2028-01-31,examiner,{f.OCCUPATION}:3:theory,站,2025-02-01,,valid",
        f"sk1,乙,C-sk1,2028-01-31,examiner,{f.OCCUPATION}:3,站,2025-02-01,skills,",
        f"all1,丙,C-all1,2028-01-31,examiner,{f.OCCUPATION}:3,站,,,",
    )
    import_examiners(db, path)
    th1 = get_account(db, "th1").examiner
    assert th1 is not None and th1.certificate_issued == dt.date(2025, 2, 1)
    assert [s.category for s in th1.scopes] == ["theory"]
    exam = _exam(db, tmp_path)
    short, prac = get_group(db, exam, "short"), get_group(db, exam, "prac")  # theory, skills

    with pytest.raises(Refusals) as refused:
        assign(db, exam, prac, ["th1", "all1"], actor=f.ACTOR)
    assert [r.code for r in refused.value.refusals] == ["out_of_category"]
    assert (
        f"th1: certificate scope ({f.OCCUPATION}:3:theory) does not cover 操作技能 (skills) of "
        f"{f.OCCUPATION} level 3 (R9, 第七条(一))" in str(refused.value)
    )
    with pytest.raises(Refusals, match=r"sk1: .*理论知识 \(theory\)"):
        assign(db, exam, short, ["sk1"], actor=f.ACTOR)
    assert assign(db, exam, short, ["th1", "all1"], actor=f.ACTOR).added == ["th1", "all1"]
    assert assign(db, exam, prac, ["sk1", "all1"], actor=f.ACTOR).added == ["sk1", "all1"]


def test_an_expiry_more_than_three_years_after_issue_is_refused(
    db: Session, tmp_path: Path
) -> None:
    """第三条: 考评人员证卡的有效期为3年."""
    path = _csv(
        tmp_path,
        WIDE,
        f"ok1,甲,C-ok1,2028-02-01,examiner,{f.OCCUPATION}:3,站,2025-02-01,,",
        f"long1,乙,C-long1,2028-02-02,examiner,{f.OCCUPATION}:3,站,2025-02-01,,",
        f"bad1,丙,C-bad1,2028-02-02,examiner,{f.OCCUPATION}:3,站,2025-02-01,,gone",
    )
    with pytest.raises(InputErrors) as refused:
        import_examiners(db, path)
    lines = [str(e) for e in refused.value.errors]
    assert lines == [
        "examiners.csv, row 3, column certificate_expires: more than 3 years after "
        "certificate_issued (2025-02-01): a certificate is valid 3 years (第三条)",
        "examiners.csv, row 4, column certificate_expires: more than 3 years after "
        "certificate_issued (2025-02-01): a certificate is valid 3 years (第三条)",
        "examiners.csv, row 4, column card_status: must be 'valid', 'lost' or 'renewing'",
    ]


def test_a_certificate_lapsed_a_year_is_void_and_renewed_only_by_a_new_one(
    db: Session, tmp_path: Path
) -> None:
    """第三条: 有效期限已过一年或以上不参加换证培训者，视为自动放弃考评人员资格 — void; a
    later expiry alone does not revive it, a new certificate (issued after the old one ran
    out) does."""
    today = dt.date(2026, 12, 4)
    old = f"lap1,甲,C-lap1,2025-06-30,examiner,{f.OCCUPATION}:3,站"
    import_examiners(db, _csv(tmp_path, HEADER, old), today=today)
    examiner = get_account(db, "lap1").examiner
    assert examiner is not None
    assert validity(examiner, dt.date(2025, 6, 30)) is Validity.VALID
    assert validity(examiner, dt.date(2026, 6, 29)) is Validity.EXPIRED
    assert validity(examiner, today) is Validity.VOID
    exam = _exam(db, tmp_path)
    why = qualification_problem(examiner, exam)
    assert why is not None and why.code == "certificate_void"

    later = f"lap1,甲,C-lap1,2027-06-30,examiner,{f.OCCUPATION}:3,站"
    with pytest.raises(InputErrors, match="renewing needs a new certificate"):
        import_examiners(db, _csv(tmp_path, HEADER, later, name="later.csv"), today=today)
    same_issue = f"lap1,甲,C-lap1,2027-06-30,examiner,{f.OCCUPATION}:3,站,2024-07-01,,"
    with pytest.raises(InputErrors, match="column certificate_issued"):
        import_examiners(db, _csv(tmp_path, WIDE, same_issue, name="same.csv"), today=today)

    renewed = f"lap1,甲,C-lap1b,2029-11-30,examiner,{f.OCCUPATION}:3,站,2026-12-01,,"
    import_examiners(db, _csv(tmp_path, WIDE, renewed, name="new.csv"), today=today)
    assert validity(examiner, today) is Validity.VALID
    assert qualification_problem(examiner, exam) is None


def test_a_lost_or_renewing_card_may_not_examine(db: Session, tmp_path: Path) -> None:
    """第六条(三): 考评人员证卡如遗失或在办理中，不得参加考评任务."""
    path = _csv(
        tmp_path,
        WIDE,
        f"lost1,甲,C-lost1,2028-01-31,examiner,{f.OCCUPATION}:3,站,,,lost",
        f"ren1,乙,C-ren1,2028-01-31,examiner,{f.OCCUPATION}:3,站,,,renewing",
    )
    import_examiners(db, path)
    exam = _exam(db, tmp_path)
    with pytest.raises(Refusals) as refused:
        assign(db, exam, get_group(db, exam, "short"), ["lost1", "ren1"], actor=f.ACTOR)
    assert [r.code for r in refused.value.refusals] == [
        "examiner_card_lost",
        "examiner_card_renewing",
    ]
    assert "lost1: the examiner card is reported lost: no examining until it is valid again " in (
        str(refused.value)
    )
    # An old file leaves the card as it was; the new column sets it valid again.
    import_examiners(
        db,
        _csv(
            tmp_path,
            HEADER,
            f"lost1,甲,C-lost1,2028-01-31,examiner,{f.OCCUPATION}:3,站",
            name="again.csv",
        ),
    )
    assert get_account(db, "lost1").examiner.card_status is CardStatus.LOST  # type: ignore[union-attr]


def test_suspended_and_revoked_examiners_are_refused_and_revocation_is_final(
    db: Session, tmp_path: Path
) -> None:
    """第八条: warning or suspension for (一)-(五); (六)-(十) 取消考评人员资格 — final."""
    f.add_examiners(db, tmp_path, "s1", "r1")
    exam = _exam(db, tmp_path)
    short = get_group(db, exam, "short")
    record_misconduct(db, "s1", MisconductKind.SUSPENSION, reason="late twice", actor="office")
    record_misconduct(db, "r1", MisconductKind.REVOCATION, reason="leaked a paper", actor="office")
    with pytest.raises(Refusals) as refused:
        assign(db, exam, short, ["s1", "r1"], actor=f.ACTOR)
    assert [r.code for r in refused.value.refusals] == ["examiner_suspended", "examiner_revoked"]

    with pytest.raises(StateError, match="nothing reverses it"):
        record_misconduct(db, "r1", MisconductKind.REINSTATEMENT, reason="?", actor="office")
    with pytest.raises(MarkingError, match="give the reason"):
        record_misconduct(db, "s1", MisconductKind.REINSTATEMENT, reason="", actor="office")
    record_misconduct(db, "s1", MisconductKind.REINSTATEMENT, reason="served", actor="office")
    assert assign(db, exam, short, ["s1"], actor=f.ACTOR).added == ["s1"]
    kinds = [
        e.kind
        for e in db.scalars(select(AccountLedgerEntry).order_by(AccountLedgerEntry.id))
        if e.kind.startswith("examiner_")
    ]
    assert kinds[-3:] == ["examiner_suspension", "examiner_revocation", "examiner_reinstatement"]


def test_three_unexcused_absences_in_a_row_earn_a_warning(db: Session, tmp_path: Path) -> None:
    """第八条(一): 连续三次无故不参加鉴定机构正常委派的考评任务 → 警告 (recorded
    automatically); an excused absence, or a session served, breaks the run."""
    f.add_staff(db)
    f.add_examiners(db, tmp_path, "a1", "a2")
    sessions = []
    for i, date in enumerate(("2026-01-10", "2026-02-10", "2026-03-10", "2026-04-10")):
        exam, _ = f.new_session(db, tmp_path, f.tiny_toml(f"AB-0{i}", date=date), key_file=True)
        assign(db, exam, get_group(db, exam, "short"), ["a1", "a2"], actor=f.ACTOR)
        sessions.append(exam)
    with pytest.raises(MarkingError, match="not on the team"):
        record_absence(db, "lead", sessions[0], excused=False, note="", actor="office")

    record_absence(db, "a2", sessions[0], excused=False, note="", actor="office")
    record_absence(db, "a2", sessions[1], excused=True, note="ill", actor="office")
    record_absence(db, "a2", sessions[2], excused=False, note="", actor="office")
    made = record_absence(db, "a2", sessions[3], excused=False, note="", actor="office")
    assert [m.kind for m in made] == [MisconductKind.ABSENCE]  # the excused one broke the run

    for exam in sessions[:2]:
        record_absence(db, "a1", exam, excused=False, note="", actor="office")
    with pytest.raises(MarkingError, match="already recorded absent"):
        record_absence(db, "a1", sessions[1], excused=True, note="", actor="office")
    made = record_absence(db, "a1", sessions[2], excused=False, note="no word", actor="office")
    assert [m.kind for m in made] == [MisconductKind.ABSENCE, MisconductKind.WARNING]
    warning = made[1]
    assert warning.automatic and warning.note == (
        "第八条(一): 3 consecutive unexcused absences (AB-00, AB-01, AB-02)"
    )
    examiner = get_account(db, "a1").examiner
    assert examiner is not None and examiner.status is ExaminerStatus.ACTIVE  # a warning only
    # The count starts again after the warning.
    made = record_absence(db, "a1", sessions[3], excused=False, note="", actor="office")
    assert [m.kind for m in made] == [MisconductKind.ABSENCE]
    assert len(misconduct_record(db, examiner)) == 5


def test_the_lead_is_a_senior_examiner_covering_the_session(db: Session, tmp_path: Path) -> None:
    """DESIGN §14 / 第七条(四)(六): the lead (考评组长) is a senior examiner whose certificate
    covers the session; a lead account without one is refused, and examiners.csv gives a
    lead account its certificate (it stays a lead account)."""
    from marking.people.accounts import add_user
    from marking.store.models import Role

    exam = _exam(db, tmp_path)
    add_user(db, "bare", role=Role.LEAD)
    add_user(db, "clerk", role=Role.OFFICE)
    f.add_examiners(db, tmp_path, "plain1", f.Ex("sen1", grade="senior"))
    short = get_group(db, exam, "short")
    with pytest.raises(Refusals) as refused:
        assign(db, exam, short, ["sen1"], actor=f.ACTOR, lead="bare")
    assert [r.code for r in refused.value.refusals] == ["lead_not_senior"]
    assert "bare: the lead must be a senior examiner whose certificate covers the session" in (
        str(refused.value)
    )
    with pytest.raises(Refusals, match="plain1: the lead must be a senior examiner"):
        assign(db, exam, short, ["sen1"], actor=f.ACTOR, lead="plain1")
    with pytest.raises(MarkingError, match="plain1: the deputy lead must be a senior examiner"):
        name_deputy(db, exam, "plain1", actor=f.ACTOR)

    with pytest.raises(InputErrors, match="role office, not an examiner or lead"):
        f.certify(db, "clerk")
    f.certify(db, "bare")
    assert get_account(db, "bare").role is Role.LEAD
    assign(db, exam, short, ["sen1"], actor=f.ACTOR, lead="bare")
    assert exam.lead_id == get_account(db, "bare").id


def test_a_suspended_examiner_receives_no_more_work_until_reinstated(
    db: Session, tmp_path: Path
) -> None:
    """第八条: a suspension takes effect in the sessions being marked: the queue hands the
    examiner nothing; reinstated, they mark again."""
    from marking.queue.claims import claim

    tiny = f.tiny_session(db, tmp_path, "RG-Q1", n=2)
    e1 = get_account(db, "e1")
    assert claim(db, tiny.exam, e1, size=1)
    record_misconduct(db, "e1", MisconductKind.SUSPENSION, reason="inquiry", actor="office")
    with pytest.raises(MarkingError, match="no open marking group"):
        claim(db, tiny.exam, e1, size=5)
    record_misconduct(db, "e1", MisconductKind.REINSTATEMENT, reason="cleared", actor="office")
    assert claim(db, tiny.exam, e1, size=5)


def test_verify_finds_a_status_written_around_the_record(db: Session, tmp_path: Path) -> None:
    """第八条: a status is changed only by a recorded entry; one written to the table
    directly shows in `verify --accounts`."""
    from marking.audit.verify import verify_accounts

    f.add_examiners(db, tmp_path, "w1", "w2")
    record_misconduct(db, "w1", MisconductKind.SUSPENSION, reason="inquiry", actor="office")
    assert verify_accounts(db).problems == []
    examiner = get_account(db, "w2").examiner
    assert examiner is not None
    examiner.status = ExaminerStatus.REVOKED
    db.flush()
    assert verify_accounts(db).problems == [
        "examiner 'w2': the database holds status revoked, the ledger recorded active"
    ]
