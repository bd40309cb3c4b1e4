"""The director's approval (R16, issue 9 item 5): given only when nothing is open, of the
session as it stands (a digest), void after any later change, required by publication on
the command line as in the browser."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from marking.audit.verify import verify
from marking.demo import synthetic
from marking.errors import StateError
from marking.intake.batch import withdraw_batch
from marking.intake.entries import session_records, withdraw_record
from marking.intake.records import record_interview, record_violations
from marking.people.accounts import get_account, hash_password
from marking.publication.approvals import (
    ReviewOutdated,
    approve_publication,
    combined,
    publication_digest,
)
from marking.publication.late_conflicts import withdraw_marks
from marking.publication.preconditions import PublicationRefused
from marking.publication.publish import publish
from marking.queue.lead import arbitrate, arbitration_tasks, correct_key
from marking.setup.sessions import get_session
from marking.store.db import transaction
from marking.store.models import (
    Account,
    ExamSession,
    IntakeBatch,
    LedgerEntry,
    Mark,
    Publication,
    PublicationApproval,
    Response,
    Script,
    SessionState,
)
from marking.store.models import Result as PublishedResult
from marking.store.schema import upgrade
from tests.conftest import FreshDatabase
from tests.integration import factory as f

DIRECTOR_PASSWORD = "director-password-1"


def assert_not_published(db: Session, exam: ExamSession) -> None:
    db.expire_all()
    assert exam.state is not SessionState.PUBLISHED
    assert db.scalar(select(func.count()).where(Publication.session_id == exam.id)) == 0
    kinds = db.scalars(select(LedgerEntry.kind).where(LedgerEntry.session_id == exam.id)).all()
    assert "publication" not in kinds


def late_rows(people: list[synthetic.SyntheticCandidate], label: str) -> list[f.Row]:
    """Responses of a later batch, told apart from the first batch's by ``label``."""
    return [
        row
        for p in people
        for row in (
            (p.exam_no, "theory", "1", "A"),
            (p.exam_no, "theory", "2", f"{label} theory"),
            (p.exam_no, "skills", "1", "T"),
            (p.exam_no, "skills", "2", f"{label} skills"),
        )
    ]


def test_a_director_cannot_approve_while_work_is_open_or_nothing_was_taken_in(
    db: Session, tmp_path: Path
) -> None:
    tiny = f.tiny_session(db, tmp_path, "AP-01", n=2)
    exam, director = tiny.exam, get_account(db, "director")

    with pytest.raises(StateError) as refused:
        approve_publication(db, exam, director)
    assert "cannot be approved while work is open" in str(refused.value)
    assert "group short: 2 response(s) still need marks" in str(refused.value)

    f.mark_all(db, exam, ["e1", "e2"])
    withdraw_batch(db, exam, tiny.batch_id, reason="taken in by mistake", actor="office")
    with pytest.raises(StateError, match="no intake batch"):
        approve_publication(db, exam, director)
    assert db.scalar(select(func.count()).select_from(PublicationApproval)) == 0
    assert verify(db, exam).ok


def test_a_batch_taken_in_after_the_approval_is_not_published_on_it(
    db: Session, tmp_path: Path
) -> None:
    tiny = f.tiny_session(db, tmp_path, "AP-02", n=2)
    exam = tiny.exam
    f.mark_all(db, exam, ["e1", "e2"])
    approve_publication(db, exam, get_account(db, "director"), note="已审阅")

    later = f.people(1, seed=8, prefix="2699")
    f.take_in(db, exam, tmp_path / "later", later, late_rows(later, "late"))
    # The later batch's marks disagree beyond any third mark: the lead rules on it.
    spread = {"e1": Decimal(0), "e2": Decimal(6), "e3": Decimal(3)}
    f.mark_all(
        db,
        exam,
        ["e1", "e2", "e3"],
        lambda item, user: spread[user] if item.text == "late theory" else f.middle(item),
    )
    [task] = arbitration_tasks(db, exam)
    arbitrate(db, exam, get_account(db, "lead"), response_id=task.response_id, value=Decimal(3))

    with pytest.raises(PublicationRefused) as refused:
        publish(db, exam, by="office", approved_by="director", key=tiny.keys.open(exam))
    assert str(refused.value) == (
        "the approval by director no longer matches: the intake batches, the responses' "
        "finals, the lead's rulings changed since; the director must review the session and "
        "approve it again"
    )
    assert_not_published(db, exam)
    assert verify(db, exam).ok

    approve_publication(db, exam, get_account(db, "director"))
    report = publish(db, exam, by="office", approved_by="director", key=tiny.keys.open(exam))
    assert report.candidates == 3
    entry = db.scalars(
        select(LedgerEntry)
        .where(LedgerEntry.session_id == exam.id, LedgerEntry.kind == "publication_approved")
        .order_by(LedgerEntry.id.desc())
    ).first()
    assert entry is not None and len(entry.payload["digest"]) == 64
    assert set(entry.payload["parts"]) >= {"intake", "finals", "rulings", "records"}
    assert verify(db, exam).ok


def _withdraw_second_batch(db: Session, tiny: f.Tiny, tmp_path: Path) -> None:
    second = db.scalars(
        select(func.max(IntakeBatch.id)).where(IntakeBatch.session_id == tiny.exam.id)
    ).one()
    withdraw_batch(db, tiny.exam, second, reason="duplicate", actor="office")


def _record_violation(db: Session, tiny: f.Tiny, tmp_path: Path) -> None:
    path = f.write_csv(
        tmp_path / "violations.csv",
        ("exam_no", "component", "action", "reason"),
        [(tiny.candidates[0].exam_no, "theory", "void", "携带违禁资料")],
    )
    record_violations(db, tiny.exam, path, actor="office")


def _correct_key(db: Session, tiny: f.Tiny, tmp_path: Path) -> None:
    correct_key(
        db,
        tiny.exam,
        get_account(db, "lead"),
        component="theory",
        question_number="1",
        answer=("B",),
        reason="题库答案有误",
    )


def _withdraw_marks(db: Session, tiny: f.Tiny, tmp_path: Path) -> None:
    exam = tiny.exam
    e1 = get_account(db, "e1").id
    mark = db.scalars(
        select(Mark.id, Mark.response_id)
        .join(Response, Response.id == Mark.response_id)
        .join(Script, Script.id == Response.script_id)
        .where(Script.session_id == exam.id, Mark.examiner_id == e1)
        .limit(1)
    ).one()
    script = db.scalar(
        select(Response.script_id)
        .join(Mark, Mark.response_id == Response.id)
        .where(Mark.id == mark)
    )
    assert script is not None
    withdraw_marks(db, exam, [(mark, script)], reason="迟报回避", actor="office")
    f.mark_all(db, exam, ["e3"])  # re-marked by another examiner


CHANGES: dict[str, tuple[Callable[[Session, f.Tiny, Path], None], str]] = {
    "withdrawal of a batch": (_withdraw_second_batch, "the intake batches"),
    "a violation record": (_record_violation, "the violation and interview records"),
    "a key correction": (_correct_key, "the key corrections"),
    "withdrawn marks": (_withdraw_marks, "the withdrawn marks"),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_any_later_change_voids_the_approval(db: Session, tmp_path: Path, change: str) -> None:
    tiny = f.tiny_session(db, tmp_path, "AP-03", n=3)
    exam = tiny.exam
    extra = f.people(1, seed=9, prefix="2698")
    f.take_in(db, exam, tmp_path / "extra", extra, late_rows(extra, "extra"))
    f.mark_all(db, exam, ["e1", "e2"])
    approve_publication(db, exam, get_account(db, "director"))

    act, what = CHANGES[change]
    act(db, tiny, tmp_path)

    with pytest.raises(PublicationRefused, match="the approval by director no longer matches") as r:
        publish(db, exam, by="office", approved_by="director", key=tiny.keys.open(exam))
    assert what in str(r.value)
    assert_not_published(db, exam)
    assert verify(db, exam).ok


# --- the command line ---------------------------------------------------------------------------


def cli(database: FreshDatabase, *args: object, stdin: str | None = None) -> Result:
    return f.run_cli(database.url, *args, stdin=stdin)


def marked_with_a_director(db: Session, tmp_path: Path, code: str) -> f.Tiny:
    """A tiny session, all marked, and a director with a password for the command line."""
    tiny = f.tiny_session(db, tmp_path, code, n=2)
    db.execute(
        update(Account)
        .where(Account.username == "director")
        .values(password_hash=hash_password(DIRECTOR_PASSWORD))
    )
    f.mark_all(db, tiny.exam, ["e1", "e2"])
    return tiny


def test_the_command_line_approves_with_the_directors_password_and_publish_needs_it(
    fresh_db: FreshDatabase, tmp_path: Path
) -> None:
    upgrade(fresh_db.engine)
    with transaction(fresh_db.engine) as db:
        tiny = marked_with_a_director(db, tmp_path, "AP-10")
    shares = [arg for share in tiny.keys.shares[:2] for arg in ("--share", share)]
    publish_args = ("publish", "--session", "AP-10", "--by", "office", "--approved-by", "director")

    unapproved = cli(fresh_db, *publish_args, *shares)
    assert unapproved.exit_code == 4, unapproved.output
    assert "has no recorded approval by director" in unapproved.output
    assert "blindmark approve --session AP-10 --by director" in unapproved.output

    approve = ("approve", "--session", "AP-10", "--by", "director", "--password-stdin")
    wrong = cli(fresh_db, *approve, stdin="not the password\n")
    assert wrong.exit_code == 1 and "wrong password for director" in wrong.output
    with transaction(fresh_db.engine) as db:
        assert db.scalar(select(func.count()).select_from(PublicationApproval)) == 0

    done = cli(fresh_db, *approve, "--note", "已审阅", stdin=f"{DIRECTOR_PASSWORD}\n")
    assert done.exit_code == 0, done.output
    assert "publication of AP-10 approved by director" in done.output
    with transaction(fresh_db.engine) as db:
        approval = db.scalars(select(PublicationApproval)).one()
        assert approval.digest is not None and approval.digest in done.output

    # A batch taken in afterwards: the approval no longer covers what would be published.
    later = f.people(1, seed=8, prefix="2699")
    with transaction(fresh_db.engine) as db:
        exam = get_session(db, "AP-10")
        f.take_in(db, exam, tmp_path / "later", later, late_rows(later, "late"))
        f.mark_all(db, exam, ["e1", "e2"])
    stale = cli(fresh_db, *publish_args, *shares)
    assert stale.exit_code == 4, stale.output
    assert "the approval by director no longer matches: the intake batches" in stale.output
    with transaction(fresh_db.engine) as db:
        assert_not_published(db, get_session(db, "AP-10"))
    checked = cli(fresh_db, "verify", "--session", "AP-10")
    assert checked.exit_code == 0, checked.output

    assert cli(fresh_db, *approve, stdin=f"{DIRECTOR_PASSWORD}\n").exit_code == 0
    published = cli(fresh_db, *publish_args, *shares)
    assert published.exit_code == 0, published.output
    assert "session AP-10 published: 3 candidates" in published.output
    assert cli(fresh_db, "verify", "--session", "AP-10").exit_code == 0


def test_a_grade_changed_after_the_approval_voids_it_for_a_session_with_an_interview(
    db: Session, tmp_path: Path
) -> None:
    """Publication counts only senior examiners on an interview panel (R7, 第七条(九)):
    demoting one after the approval voids it; publication then names the member, and the
    office withdraws the record and enters the panel's scores again."""
    seniors = [f.Ex(f"s{i}", grade="senior", scope=f"{f.OCCUPATION}:2") for i in (1, 2, 3, 4)]
    f.add_examiners(db, tmp_path, *seniors)
    tiny = f.tiny_session(db, tmp_path, "AP-40", n=1, level=2, examiners=("e1", "e2"))
    exam = tiny.exam
    f.mark_all(db, exam, ["e1", "e2"], lambda item, _u: item.max)
    [candidate] = tiny.candidates
    scores = [(candidate.exam_no, f"s{i}", s) for i, s in enumerate((90, 50, 50, 90), 1)]
    record_interview(
        db,
        exam,
        f.write_csv(tmp_path / "i.csv", ("exam_no", "username", "score"), scores),
        actor="office",
    )
    approve_publication(db, exam, get_account(db, "director"))  # two of four pass: fail

    f.add_examiners(db, tmp_path / "again", f.Ex("s2", scope=f"{f.OCCUPATION}:2"))  # demoted
    with pytest.raises(PublicationRefused) as refused:
        publish(db, exam, by="office", approved_by="director", key=tiny.keys.open(exam))
    assert str(refused.value) == (
        "the approval by director no longer matches: the examiner grades interview panels "
        "rely on changed since; the director must review the session and approve it again"
    )
    assert_not_published(db, exam)
    assert verify(db, exam).ok

    approve_publication(db, exam, get_account(db, "director"))  # the director sees it anew
    # R7 (第七条(九)): a member no longer senior is named, not silently left out.
    with pytest.raises(PublicationRefused, match=r"record \d+, candidate .*: s2 is not a senior"):
        publish(db, exam, by="office", approved_by="director", key=tiny.keys.open(exam))
    [record] = [r.id for r in session_records(db, exam)]
    withdraw_record(db, exam, record, reason="s2 不再是高级考评员", actor="office")
    again = [row for row in scores if row[1] != "s2"]  # 90, 50, 90: two thirds pass
    record_interview(
        db,
        exam,
        f.write_csv(tmp_path / "i2.csv", ("exam_no", "username", "score"), again),
        actor="office",
    )
    approve_publication(db, exam, get_account(db, "director"))
    publish(db, exam, by="office", approved_by="director", key=tiny.keys.open(exam))
    assert db.scalars(
        select(PublishedResult.outcome).where(PublishedResult.session_id == exam.id)
    ).all() == ["pass"]
    assert verify(db, exam).ok


def test_an_approval_is_of_the_session_the_director_reviewed(
    fresh_db: FreshDatabase, tmp_path: Path
) -> None:
    upgrade(fresh_db.engine)
    with transaction(fresh_db.engine) as db:
        tiny = marked_with_a_director(db, tmp_path, "AP-50")
        reviewed = combined(publication_digest(db, tiny.exam))
        _record_violation(db, tiny, tmp_path)  # changed while the director was reading
        with pytest.raises(ReviewOutdated, match="no longer what was reviewed"):
            approve_publication(db, tiny.exam, get_account(db, "director"), expected=reviewed)
        assert db.scalar(select(func.count()).select_from(PublicationApproval)) == 0
        assert verify(db, tiny.exam).ok

    approve = ("approve", "--session", "AP-50", "--by", "director", "--password-stdin")
    stale = cli(fresh_db, *approve, "--digest", reviewed, stdin=f"{DIRECTOR_PASSWORD}\n")
    assert stale.exit_code == 4, stale.output
    assert "no longer what was reviewed" in stale.output
    assert "candidates: 2" in stale.output and "violation records: 1" in stale.output
    with transaction(fresh_db.engine) as db:
        assert db.scalar(select(func.count()).select_from(PublicationApproval)) == 0
        now = combined(publication_digest(db, get_session(db, "AP-50")))
    assert f"digest: {now}" in stale.output  # what the session is now, to review

    done = cli(fresh_db, *approve, "--digest", now, stdin=f"{DIRECTOR_PASSWORD}\n")
    assert done.exit_code == 0, done.output
    with transaction(fresh_db.engine) as db:
        assert db.scalars(select(PublicationApproval.digest)).one() == now
    checked = cli(fresh_db, "verify", "--session", "AP-50")
    assert checked.exit_code == 0, checked.output
