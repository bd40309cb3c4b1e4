"""Appeal revisions (复核, DESIGN §6, §14): opened by the office for named candidates after
publication, re-marked by examiners who did not mark before, reconciled, approved by a
director and published as revision 2, 3, ...; earlier revisions stay readable and
``verify`` checks each one.

The seed's clauses: 第七条(七) (each paper by two or more examiners, blind), 第七条(四) (the
lead's final ruling), 第七条(十) (results published by the organising unit), and the
station head's duty to 复核 the score sheets (所长岗位职责 八) that the director's approval
stands for (R16).
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from marking.audit.verify import verify
from marking.errors import MarkingError, NotFound, StateError
from marking.intake.records import record_interview
from marking.people.accounts import get_account, hash_password
from marking.people.examiners import import_conflicts
from marking.publication.preconditions import PublicationRefused
from marking.publication.publish import publish
from marking.publication.revision_publish import approve_revision, publish_revision
from marking.publication.revisions import open_revision, revision_progress
from marking.queue.claims import MASKED_CODE, claim
from marking.queue.lead import arbitrate, arbitration_tasks, correct_key
from marking.queue.marks import submit_mark
from marking.read import exports
from marking.read.reportdata import register_data
from marking.setup.assignment import assign, get_group
from marking.setup.sessions import get_session
from marking.store.db import transaction
from marking.store.models import (
    Account,
    ExamSession,
    LedgerEntry,
    Mark,
    MarkWithdrawal,
    Publication,
    Response,
    ResponseState,
    Result,
)
from marking.store.schema import upgrade
from tests.conftest import FreshDatabase
from tests.integration import factory as f

EXAMINERS = ("e1", "e2", "e3", "e4", "e5")


def _published(db: Session, tmp_path: Path, code: str) -> f.Tiny:
    """Tiny session, four candidates, marked by e1 and e2 only (all agree), published."""
    tiny = f.tiny_session(db, tmp_path, code, n=4, examiners=EXAMINERS)
    f.mark_all(db, tiny.exam, ["e1", "e2"])
    publish(
        db,
        tiny.exam,
        by="office",
        approved_by=f.approve(db, tiny.exam),
        key=tiny.keys.open(tiny.exam),
    )
    return tiny


def _results(
    db: Session, exam: ExamSession, revision: int | None = None
) -> dict[str, tuple[str, ...]]:
    _columns, rows = exports.results_rows(db, exam, revision)
    return {r[0]: r for r in rows}


def _remark(db: Session, exam: ExamSession, users: tuple[str, ...], value: str) -> list[int]:
    marked = f.mark_all(db, exam, list(users), lambda _item, _u: Decimal(value))
    return [rid for ids in marked.values() for rid in ids]


def test_a_revision_is_re_marked_by_others_approved_and_published_as_revision_2(
    db: Session, tmp_path: Path
) -> None:
    """第七条(七): two or more examiners, other than those who marked it first; R16: a
    director approves the revision as it stands; 第七条(十): the office publishes it."""
    tiny = _published(db, tmp_path, "RV-01")
    exam = tiny.exam
    c1 = tiny.candidates[0].exam_no
    before = _results(db, exam)
    first = db.scalars(select(Publication).where(Publication.session_id == exam.id)).one()

    revision = open_revision(db, exam, by="office", candidates=[c1], reason="candidate appealed")
    assert revision.number == 2 and revision.candidates == {c1: ["theory", "skills"]}
    reopened = f.response_of(db, exam, "c1 theory")
    assert (reopened.state, reopened.revision, reopened.final) == (ResponseState.OPEN, 2, None)
    # Objective answers are not re-marked, and other candidates' stay final.
    assert f.response_of(db, exam, "c2 theory").state is ResponseState.FINAL

    # The first markers get nothing: the same examiner never marks a response twice.
    for user in ("e1", "e2"):
        assert claim(db, exam, get_account(db, user), size=10) == []
    items = claim(db, exam, get_account(db, "e3"), size=10)
    assert {i.text for i in items} == {"c1 theory", "c1 skills"}
    assert {i.script_code for i in items} == {MASKED_CODE}  # published beside the name
    for item in items:
        submit_mark(db, exam, get_account(db, "e3"), response_id=item.response_id, value=Decimal(1))
    _remark(db, exam, ("e4",), "1")
    assert f.response_of(db, exam, "c1 theory").state is ResponseState.FINAL
    assert f.response_of(db, exam, "c1 theory").final == Decimal(1)

    with pytest.raises(PublicationRefused, match="no current approval"):
        publish_revision(db, exam, by="office", approved_by="director")
    approve_revision(db, exam, get_account(db, "director"))
    report = publish_revision(db, exam, by="office", approved_by="director")
    assert report.candidates == 4

    after = _results(db, exam)
    assert after[c1][5] == "37.5" and after[c1][3] == "fail"  # theory: key 2 + 1, of 8
    assert {k: v for k, v in after.items() if k != c1} == {
        k: v for k, v in before.items() if k != c1
    }
    # Revision 1 stays readable and unchanged, with its own record.
    assert _results(db, exam, 1) == before
    pubs = db.scalars(
        select(Publication).where(Publication.session_id == exam.id).order_by(Publication.revision)
    ).all()
    assert [p.revision for p in pubs] == [1, 2]
    assert pubs[0].results_sha256 == first.results_sha256
    assert pubs[1].results_sha256 == report.results_sha256 != first.results_sha256
    assert exam.open_revision is None
    # The earlier marks stay, superseded; the export of revision 1 shows them.
    first_marks = [r for r in exports.marks_rows(db, exam, 1) if r[3] in ("e1", "e2")]
    assert len(first_marks) == 16
    assert [r[3] for r in exports.marks_rows(db, exam) if r[3]].count("e1") == 6
    finals_1 = {(r[0], r[2]): r[3] for r in exports.finals_rows(db, exam, 1)}
    finals_2 = {(r[0], r[2]): r[3] for r in exports.finals_rows(db, exam)}
    code = f.script_code(db, exam, "c1 theory")
    assert (finals_1[(code, "2")], finals_2[(code, "2")]) == ("3", "1")
    # The register says which revision it shows.
    register = register_data(db, exam)
    assert register.publication.revision == 2
    assert register_data(db, exam, 1).publication.revision == 1
    kinds = db.scalars(
        select(LedgerEntry.kind).where(LedgerEntry.session_id == exam.id).order_by(LedgerEntry.id)
    ).all()
    assert {"revision_opened", "withdrawal", "revision_approved", "revision_published"} <= set(
        kinds
    )
    assert verify(db, exam).ok, verify(db, exam).problems


def test_verify_checks_every_revision_and_finds_a_tampered_one(db: Session, tmp_path: Path) -> None:
    """DESIGN §7: each revision's results digest and ledger head are checked."""
    tiny = _published(db, tmp_path, "RV-02")
    exam = tiny.exam
    c2 = tiny.candidates[1].exam_no
    open_revision(db, exam, by="office", candidates=[c2], components=["skills"], reason="appeal")
    _remark(db, exam, ("e3", "e4"), "8")
    approve_revision(db, exam, get_account(db, "director"))
    publish_revision(db, exam, by="office", approved_by="director")
    assert verify(db, exam).ok, verify(db, exam).problems

    row = db.scalars(
        select(Result).where(
            Result.session_id == exam.id, Result.revision == 1, Result.exam_no == c2
        )
    ).one()
    row.outcome = "pass" if row.outcome != "pass" else "fail"
    db.flush()
    problems = verify(db, exam).problems
    assert any("published results changed" in p for p in problems), problems
    row.outcome = "pass" if row.outcome != "pass" else "fail"
    late = db.scalars(
        select(Result).where(
            Result.session_id == exam.id, Result.revision == 2, Result.exam_no == c2
        )
    ).one()
    late.components = {**late.components, "skills": {**late.components["skills"], "score": "99.0"}}
    db.flush()
    problems = verify(db, exam).problems
    assert any("revision 2's results changed" in p for p in problems), problems
    late.components = {**late.components, "skills": {**late.components["skills"], "score": "0"}}
    # A re-mark passed off as one of the first marking's shows too.
    remark = db.scalars(select(Mark).where(Mark.revision == 2)).first()
    assert remark is not None
    remark.revision = 1
    db.flush()
    problems = verify(db, exam).problems
    assert any(f"mark {remark.id}: the database holds" in p for p in problems), problems


def test_a_revision_short_of_fresh_examiners_is_finished_by_assigning_more(
    db: Session, tmp_path: Path
) -> None:
    """No revision wedges: every examiner of the group marked the response, so the office
    assigns another examiner to the group while the revision is open (第七条(六))."""
    tiny = f.tiny_session(db, tmp_path, "RV-03", n=2, examiners=("e1", "e2"))
    exam = tiny.exam
    f.mark_all(db, exam, ["e1", "e2"])
    publish(db, exam, by="office", approved_by=f.approve(db, exam), key=tiny.keys.open(exam))
    revision = open_revision(
        db, exam, by="office", candidates=[tiny.candidates[0].exam_no], reason="appeal"
    )
    progress = revision_progress(db, exam, revision)
    assert progress.short == {"short": 1, "prac": 1}
    assert any("assign more examiners" in p for p in progress.open_work)
    with pytest.raises(StateError, match="work is open"):
        approve_revision(db, exam, get_account(db, "director"))

    f.add_examiners(db, tmp_path, "e6", "e7")
    for key in ("short", "prac"):
        assign(db, exam, get_group(db, exam, key), ["e6", "e7"], actor="office")
    assert revision_progress(db, exam, revision).short == {}
    _remark(db, exam, ("e6", "e7"), "2")
    assert revision_progress(db, exam, revision).open_work == []
    approve_revision(db, exam, get_account(db, "director"))
    publish_revision(db, exam, by="office", approved_by="director")
    assert verify(db, exam).ok


def test_the_lead_arbitrates_in_a_revision_and_a_third_revision_follows(
    db: Session, tmp_path: Path
) -> None:
    """第七条(四): the lead's ruling is final in a revision too; revision 3 builds on 2."""
    tiny = _published(db, tmp_path, "RV-04")
    exam = tiny.exam
    c3 = tiny.candidates[2].exam_no
    open_revision(db, exam, by="office", candidates=[c3], components=["theory"], reason="a")
    e3, e4, e5 = (get_account(db, u) for u in ("e3", "e4", "e5"))
    for user, value in ((e3, "0"), (e4, "6"), (e5, "3")):  # 0, 6, then 3: within 1 of neither
        [item] = claim(db, exam, user, size=5)
        submit_mark(db, exam, user, response_id=item.response_id, value=Decimal(value))
    lead = get_account(db, "lead")
    [task] = arbitration_tasks(db, exam, ruler=lead)
    assert task.script_code == MASKED_CODE
    arbitrate(db, exam, lead, response_id=task.response_id, value=Decimal(5), reason="r")
    with pytest.raises(StateError, match="key cannot be corrected"):
        correct_key(
            db, exam, lead, component="theory", question_number="1", answer=("B",), reason="x"
        )
    approve_revision(db, exam, get_account(db, "director"))
    publish_revision(db, exam, by="office", approved_by="director")
    assert _results(db, exam)[c3][5] == "87.5"

    # Revision 3 of the same candidate: every examiner of the group has marked it now.
    revision = open_revision(
        db, exam, by="office", candidates=[c3], components=["theory"], reason="b"
    )
    assert revision.number == 3
    assert revision_progress(db, exam, revision).short == {"short": 1}
    f.add_examiners(db, tmp_path, "e8", "e9")
    assign(db, exam, get_group(db, exam, "short"), ["e8", "e9"], actor="office")
    _remark(db, exam, ("e8", "e9"), "4")
    approve_revision(db, exam, get_account(db, "director"))
    publish_revision(db, exam, by="office", approved_by="director")
    assert _results(db, exam)[c3][5] == "75.0"
    assert _results(db, exam, 2)[c3][5] == "87.5"
    assert [r for r in exports.finals_rows(db, exam, 2) if r[0] == task_code(db, exam)][1][3] == "5"
    assert verify(db, exam).ok, verify(db, exam).problems


def task_code(db: Session, exam: ExamSession) -> str:
    return f.script_code(db, exam, "c3 theory")


def test_refusals_are_coded_and_leave_nothing(db: Session, tmp_path: Path) -> None:
    """A revision needs a published session, a reason, known candidates and components."""
    tiny = f.tiny_session(db, tmp_path, "RV-05", n=2, examiners=("e1", "e2", "e3"))
    exam = tiny.exam
    c1 = tiny.candidates[0].exam_no
    with pytest.raises(StateError) as refused:
        open_revision(db, exam, by="office", candidates=[c1], reason="x")
    assert refused.value.code == "revision_not_published"
    f.mark_all(db, exam, ["e1", "e2"])
    publish(db, exam, by="office", approved_by=f.approve(db, exam), key=tiny.keys.open(exam))
    cases = [
        ({"candidates": [c1], "reason": " "}, MarkingError, "revision_reason"),
        ({"candidates": ["nobody"], "reason": "x"}, NotFound, "revision_unknown_candidates"),
        (
            {"candidates": [c1], "components": ["oral"], "reason": "x"},
            MarkingError,
            "revision_unknown_component",
        ),
        ({"candidates": [], "reason": "x"}, MarkingError, "revision_no_candidates"),
    ]
    for kwargs, error, code in cases:
        with pytest.raises(error) as refused_case:
            open_revision(db, exam, by="office", **kwargs)  # type: ignore[arg-type]
        assert refused_case.value.code == code
    with pytest.raises(MarkingError, match="needs a office account"):
        open_revision(db, exam, by="director", candidates=[c1], reason="x")
    assert exam.open_revision is None
    assert db.scalars(select(MarkWithdrawal)).all() == []
    open_revision(db, exam, by="office", candidates=[c1], reason="x")
    with pytest.raises(StateError) as again:
        open_revision(db, exam, by="office", candidates=[c1], reason="x")
    assert again.value.code == "revision_already_open"
    with pytest.raises(NotFound) as unknown:
        exports.results_rows(db, exam, 2)
    assert unknown.value.code == "revision_unknown"
    assert db.scalar(select(Mark.id).where(Mark.revision == 2)) is None
    assert db.scalar(select(Response.id).where(Response.revision == 2)) is not None


def test_the_command_line_opens_approves_and_publishes_a_revision(
    fresh_db: FreshDatabase, tmp_path: Path
) -> None:
    """`blindmark revision open|status|approve|publish`, `export --revision`, `verify`."""
    upgrade(fresh_db.engine)
    with transaction(fresh_db.engine) as db:
        tiny = f.tiny_session(db, tmp_path, "RV-10", n=2, examiners=EXAMINERS)
        db.execute(
            update(Account)
            .where(Account.username == "director")
            .values(password_hash=hash_password("director-pass-1234"))
        )
        f.mark_all(db, tiny.exam, ["e1", "e2"])
        publish(
            db,
            tiny.exam,
            by="office",
            approved_by=f.approve(db, tiny.exam),
            key=tiny.keys.open(tiny.exam),
        )
    c1 = tiny.candidates[0].exam_no

    def cli(*args: object, stdin: str | None = None) -> str:
        result = f.run_cli(fresh_db.url, *args, stdin=stdin)
        assert result.exit_code == 0, result.output
        return result.output

    refused = f.run_cli(
        fresh_db.url, "revision", "open", "--session", "RV-10", "--candidates", "x", "--reason", "r"
    )
    assert refused.exit_code == 3 and "no published result for exam number(s) x" in refused.output
    out = cli(
        "revision",
        "open",
        "--session",
        "RV-10",
        "--candidates",
        c1,
        "--components",
        "skills",
        "--reason",
        "申诉",
    )
    assert "revision 2 of RV-10 opened: 1 response(s) of 1 candidate(s)" in out
    assert "open: group prac: 1 response(s) still need marks" in cli(
        "revision", "status", "--session", "RV-10"
    )
    with transaction(fresh_db.engine) as db:
        f.mark_all(db, get_session(db, "RV-10"), ["e3", "e4"], lambda _i, _u: Decimal(2))
    approve = ("revision", "approve", "--session", "RV-10", "--by", "director", "--password-stdin")
    assert "revision 2 of RV-10 approved by director" in cli(*approve, stdin="director-pass-1234\n")
    out = cli(
        "revision", "publish", "--session", "RV-10", "--by", "office", "--approved-by", "director"
    )
    assert "revision 2 of RV-10 published: 2 candidates" in out
    status = cli("revision", "status", "--session", "RV-10")
    assert "revision 2: published" in status and f"{c1} (skills)" in status
    first, latest = tmp_path / "r1.csv", tmp_path / "r2.csv"
    cli("export", "results", "--session", "RV-10", "--out", first, "--revision", "1")
    cli("export", "results", "--session", "RV-10", "--out", latest)
    assert f"{c1},{tiny.candidates[0].name}" in first.read_text(encoding="utf-8-sig")
    assert ",pass," in first.read_text(encoding="utf-8-sig").splitlines()[1]
    assert latest.read_text(encoding="utf-8-sig").splitlines()[1].endswith(",40.0")
    assert ",fail," in latest.read_text(encoding="utf-8-sig").splitlines()[1]
    assert "ledger intact" in cli("verify", "--session", "RV-10")


def test_a_level_two_revision_keeps_the_interview_verdict_published_before(
    db: Session, tmp_path: Path
) -> None:
    """第七条(九): the panel's verdict (R7) stands in a revision; only the re-marked
    components change, and the outcome follows from both."""
    f.add_examiners(
        db, tmp_path, *(f.Ex(f"s{i}", grade="senior", scope=f"{f.OCCUPATION}:2") for i in (1, 2, 3))
    )
    tiny = f.tiny_session(db, tmp_path, "RV-20", n=2, level=2, examiners=EXAMINERS)
    exam = tiny.exam
    f.mark_all(db, exam, ["e1", "e2"], lambda item, _u: item.max)
    i1, i2 = (c.exam_no for c in tiny.candidates)
    scores = {i1: (60, 60, 59), i2: (70, 70, 50)}  # i1 fails the interview, i2 passes it
    rows = [(no, f"s{j}", s) for no, panel in scores.items() for j, s in enumerate(panel, 1)]
    path = f.write_csv(tmp_path / "i.csv", ("exam_no", "username", "score"), rows)
    record_interview(db, exam, path, actor="office")
    publish(db, exam, by="office", approved_by=f.approve(db, exam), key=tiny.keys.open(exam))
    assert {k: r[3] for k, r in _results(db, exam).items()} == {i1: "fail", i2: "pass"}

    open_revision(db, exam, by="office", candidates=[i1, i2], components=["theory"], reason="r")
    _remark(db, exam, ("e3", "e4"), "5")
    approve_revision(db, exam, get_account(db, "director"))
    publish_revision(db, exam, by="office", approved_by="director")
    after = _results(db, exam)
    assert (after[i1][3], after[i1][5], after[i1][-1]) == ("fail", "87.5", "59.7")
    assert (after[i2][3], after[i2][5], after[i2][-1]) == ("pass", "87.5", "63.3")
    assert verify(db, exam).ok


def test_a_conflict_declared_after_intake_binds_the_revision(db: Session, tmp_path: Path) -> None:
    """R10 (第七条(四), 回避): an examiner who declared a conflict with a candidate after
    intake, and never marked them, is excluded from their scripts at publication, so a
    revision never hands them that candidate's answers."""
    tiny = f.tiny_session(db, tmp_path, "RV-30", n=2, examiners=("e1", "e2", "e3", "e4", "e5"))
    exam = tiny.exam
    c1 = tiny.candidates[0]
    f.mark_all(db, exam, ["e1", "e2"])
    declared = f.write_csv(
        tmp_path / "late.csv",
        ("username", "id_number", "relation"),
        [("e3", c1.id_number, "relative")],
    )
    import_conflicts(db, declared, actor="office", session=exam)
    publish(db, exam, by="office", approved_by=f.approve(db, exam), key=tiny.keys.open(exam))
    open_revision(db, exam, by="office", candidates=[c1.exam_no], reason="appeal")
    assert claim(db, exam, get_account(db, "e3"), size=10) == []
    assert len(claim(db, exam, get_account(db, "e4"), size=10)) == 2
