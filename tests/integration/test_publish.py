"""Publication as one batch (DESIGN §6, §11): preconditions, keys, the arithmetic of results,
interviews (R7), read-only afterwards, the publication record, late conflicts, duplicates."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from anonymizer.errors import KeyMismatch, NotEnoughShares, WrongPassphrase
from marking.audit import ledger
from marking.audit.verify import verify
from marking.demo import synthetic
from marking.demo.simulate import simulate
from marking.errors import MarkingError, StateError
from marking.intake.batch import intake_batch, withdraw_batch
from marking.intake.records import (
    record_interview,
    record_interview_absent,
    record_violations,
)
from marking.people.examiners import import_conflicts
from marking.publication.late_conflicts import LateConflicts, withdraw_marks
from marking.publication.preconditions import PublicationRefused
from marking.publication.publish import publish
from marking.publication.unsealing import open_key
from marking.queue.claims import Claimed, claim
from marking.queue.handback import flag
from marking.queue.marks import submit_mark
from marking.read import exports
from marking.setup.assignment import approve_scheme, assign, get_group
from marking.setup.sessions import get_session
from marking.store.db import transaction
from marking.store.models import (
    Account,
    AnomalyKind,
    ExamSession,
    Exclusion,
    IntakeBatch,
    LedgerEntry,
    Mark,
    Publication,
    Response,
    ResponseState,
    Result,
    SessionState,
)
from marking.store.schema import upgrade
from tests.conftest import FreshDatabase
from tests.integration import factory as f

COLUMNS = [
    "exam_no",
    "name",
    "id_number",
    "outcome",
    "theory_code",
    "theory_score",
    "skills_code",
    "skills_score",
]


def account(db: Session, username: str) -> Account:
    found = db.scalar(select(Account).where(Account.username == username))
    assert found is not None
    return found


def assert_nothing_published(db: Session, exam: ExamSession, state: SessionState) -> None:
    db.expire_all()
    assert exam.state is state
    assert db.scalar(select(func.count()).where(Result.session_id == exam.id)) == 0
    assert db.scalar(select(func.count()).where(Publication.session_id == exam.id)) == 0
    assert (
        db.scalar(
            select(func.count()).where(
                LedgerEntry.session_id == exam.id, LedgerEntry.kind == "publication"
            )
        )
        == 0
    )


def table_marks(table: dict[tuple[str, str], str]) -> Callable[[Claimed, str], Decimal]:
    return lambda item, user: Decimal(table[(item.text, user)])


def both(table: dict[str, tuple[str, str]]) -> dict[tuple[str, str], str]:
    """{text: (e1's mark, e2's mark)} as mark_all's table."""
    out = {}
    for text, (a, b) in table.items():
        out[(text, "e1")], out[(text, "e2")] = a, b
    return out


# --- preconditions ------------------------------------------------------------------------------


def test_open_work_is_listed_per_group_and_nothing_is_published(
    db: Session, tmp_path: Path
) -> None:
    tiny = f.tiny_session(db, tmp_path, "P-01", n=3)
    exam = tiny.exam
    e2, e3 = account(db, "e2"), account(db, "e3")
    f.mark_all(db, exam, ["e1"])  # one mark on everything (4 on the skills answers)
    for item in claim(db, exam, e2, size=100):
        if item.text == "c1 theory":
            submit_mark(db, exam, e2, response_id=item.response_id, value=Decimal(3))  # final
        elif item.text == "c1 skills":
            flag(db, exam, e2, response_id=item.response_id, kind=AnomalyKind.OTHER, note="?")
        elif item.text == "c2 skills":
            submit_mark(db, exam, e2, response_id=item.response_id, value=Decimal(6))
        # c2 theory, c3 theory and c3 skills stay held by e2
    [third] = claim(db, exam, e3, size=100)
    submit_mark(db, exam, e3, response_id=third.response_id, value=Decimal(8))  # 4, 6, 8
    assert f.response_of(db, exam, "c2 skills").state is ResponseState.ARBITRATION

    with pytest.raises(PublicationRefused) as refused:
        publish(db, exam, by="office", approved_by="director", key=tiny.keys.open(exam))

    lines = str(refused.value).splitlines()
    assert lines[0] == "publication refused; still open:"
    assert sorted(line.strip() for line in lines[1:]) == [
        "1 anomaly report(s) are not resolved",
        "3 response(s) are still held by examiners",
        "group prac: 1 response(s) are on hold for an anomaly",
        "group prac: 1 response(s) await the lead's arbitration",
        "group prac: 1 response(s) still need marks",
        "group short: 2 response(s) still need marks",
    ]
    assert_nothing_published(db, exam, SessionState.MARKING)


def test_publication_needs_an_office_account_and_a_director_approval(
    db: Session, tmp_path: Path
) -> None:
    tiny = f.tiny_session(db, tmp_path, "P-02", n=1)
    exam = tiny.exam
    f.mark_all(db, exam, ["e1", "e2"])
    key = tiny.keys.open(exam)

    for by, approved_by, message in (
        ("director", "director", "publishing needs a office account; 'director' is director"),
        ("e1", "director", "publishing needs a office account; 'e1' is examiner"),
        ("office", "office", "approving publication needs a director account; 'office' is office"),
        ("office", "lead", "approving publication needs a director account; 'lead' is lead"),
    ):
        with pytest.raises(MarkingError) as refused:
            publish(db, exam, by=by, approved_by=approved_by, key=key)
        assert str(refused.value) == message
    assert_nothing_published(db, exam, SessionState.MARKING)

    report = publish(db, exam, by="office", approved_by=f.approve(db, exam), key=key)
    assert report.candidates == 1 and exam.state is SessionState.PUBLISHED


def test_another_sessions_key_and_too_few_shares_are_refused(db: Session, tmp_path: Path) -> None:
    tiny = f.tiny_session(db, tmp_path, "P-03", n=1)
    other = f.tiny_session(db, tmp_path, "P-04", n=1)
    exam = tiny.exam
    f.mark_all(db, exam, ["e1", "e2"])
    assert exam.public_key is not None

    with pytest.raises(KeyMismatch, match="they are another session's shares"):
        open_key(shares=other.keys.shares[:2], expected_public_key=exam.public_key)
    with pytest.raises(MarkingError, match="that key does not belong to this session"):
        publish(db, exam, by="office", approved_by="director", key=other.keys.open(other.exam))
    with pytest.raises(NotEnoughShares, match="1 distinct share given, 2 needed"):
        open_key(shares=tiny.keys.shares[:1], expected_public_key=exam.public_key)
    assert_nothing_published(db, exam, SessionState.MARKING)

    key = open_key(shares=tiny.keys.shares[1:], expected_public_key=exam.public_key)
    assert publish(db, exam, by="office", approved_by=f.approve(db, exam), key=key).candidates == 1


def test_a_key_file_and_its_passphrase_open_publication(db: Session, tmp_path: Path) -> None:
    tiny = f.tiny_session(db, tmp_path, "P-05", n=2, key_file=True)
    exam = tiny.exam
    assert exam.public_key is not None and tiny.keys.key_file is not None
    f.mark_all(db, exam, ["e1", "e2"])

    with pytest.raises(WrongPassphrase):
        open_key(
            key_file=tiny.keys.key_file,
            passphrase="not the passphrase",
            expected_public_key=exam.public_key,
        )
    with pytest.raises(MarkingError, match="the key file needs its passphrase"):
        open_key(key_file=tiny.keys.key_file, expected_public_key=exam.public_key)
    key = open_key(
        key_file=tiny.keys.key_file, passphrase=f.PASSPHRASE, expected_public_key=exam.public_key
    )

    report = publish(db, exam, by="office", approved_by=f.approve(db, exam), key=key)

    assert report.candidates == 2 and report.outcomes == {"pass": 2}
    assert exam.state is SessionState.PUBLISHED


# --- results ------------------------------------------------------------------------------------

# Theory: Q1 objective (max 2, key A) + Q2 (max 6): out of 8, a point is 12.5.
# Skills: Q1 objective (max 2, key T) + Q2 (max 8): out of 10, a point is 10.
MARKS = {
    "c1 theory": ("2.5", "3"),  # mean 2.75 -> 3; 2 + 3 = 5 -> 62.5
    "c1 skills": ("4", "4"),  # 2 + 4 = 6 -> 60.0: passes, just
    "c2 theory": ("4.5", "4.5"),  # objective wrong: 0 + 4.5 -> 56.25 -> 56.3 (half-up)
    "c2 skills": ("6", "6"),  # 2 + 6 = 8 -> 80.0
    "c3 theory": ("6", "6"),  # 2 + 6 -> 100.0; absent from skills
    "c4 theory": ("6", "6"),  # 100.0, but a void violation
    "c4 skills": ("8", "8"),  # 100.0
    "c5 theory": ("3.5", "4"),  # 3.75 -> 4; 2 + 4 = 6 -> 75.0 (a warning changes nothing)
    "c5 skills": ("5.5", "6"),  # objective wrong: 0 + 5.75 -> 6 -> 60.0
}


def _results_session(db: Session, tmp_path: Path) -> f.Tiny:
    def rows(roster: list[synthetic.SyntheticCandidate]) -> list[f.Row]:
        c2, c3, c5 = roster[1].exam_no, roster[2].exam_no, roster[4].exam_no
        return f.tiny_rows(
            roster,
            absent={c3: {"skills"}},
            answers={c2: {("theory", "1"): "B"}, c5: {("skills", "1"): "F"}},
        )

    tiny = f.tiny_session(db, tmp_path, "P-10", n=5, examiners=("e1", "e2"), rows=rows)
    f.mark_all(db, tiny.exam, ["e1", "e2"], table_marks(both(MARKS)))
    c4, c5 = tiny.candidates[3].exam_no, tiny.candidates[4].exam_no
    violations = f.write_csv(
        tmp_path / "violations.csv",
        ("exam_no", "component", "action", "reason"),
        [(c4, "skills", "void", "携带违禁资料"), (c5, "theory", "warning", "交头接耳")],
    )
    record_violations(db, tiny.exam, violations, actor="office")
    return tiny


def test_results_follow_the_arithmetic_and_the_outcome_rules(db: Session, tmp_path: Path) -> None:
    tiny = _results_session(db, tmp_path)
    exam = tiny.exam
    with pytest.raises(StateError, match=r"results exist only after publication \(R8\)"):
        exports.results_rows(db, exam)

    report = publish(
        db, exam, by="office", approved_by=f.approve(db, exam), key=tiny.keys.open(exam)
    )

    columns, rows = exports.results_rows(db, exam)
    assert columns == COLUMNS

    def code(text: str) -> str:
        return f.script_code(db, exam, text)

    c = tiny.candidates
    expected = [
        ("pass", code("c1 theory"), "62.5", code("c1 skills"), "60.0"),
        ("fail", code("c2 theory"), "56.3", code("c2 skills"), "80.0"),
        ("absent", code("c3 theory"), "100.0", "", ""),
        ("void", code("c4 theory"), "100.0", code("c4 skills"), "100.0"),
        ("pass", code("c5 theory"), "75.0", code("c5 skills"), "60.0"),
    ]
    assert rows == [
        (p.exam_no, p.name, p.id_number, *want) for p, want in zip(c, expected, strict=True)
    ]
    assert report.outcomes == {"pass": 2, "fail": 1, "absent": 1, "void": 1}
    stored = db.scalars(select(Result).where(Result.exam_no == c[2].exam_no)).one()
    assert stored.institution == c[2].institution
    assert stored.components == {
        "theory": {"code": code("c3 theory"), "score": "100.0"},
        "skills": {"code": None, "score": None},
    }


def test_a_published_session_is_read_only_and_its_record_pins_the_results(
    db: Session, tmp_path: Path
) -> None:
    tiny = _results_session(db, tmp_path)
    exam = tiny.exam

    report = publish(
        db, exam, by="office", approved_by=f.approve(db, exam), key=tiny.keys.open(exam)
    )

    columns, rows = exports.results_rows(db, exam)
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([columns, *rows])
    digest = hashlib.sha256(text.getvalue().encode()).hexdigest()
    record = db.scalars(select(Publication).where(Publication.session_id == exam.id)).one()
    assert (record.results_sha256, record.ledger_head, record.candidates) == (
        digest,
        ledger.head(db, exam),
        5,
    )
    assert (record.published_by, record.approved_by) == (
        account(db, "office").id,
        account(db, "director").id,
    )
    assert (report.results_sha256, report.ledger_head) == (digest, record.ledger_head)
    entry = db.scalars(
        select(LedgerEntry).where(LedgerEntry.session_id == exam.id).order_by(LedgerEntry.id.desc())
    ).first()
    assert entry is not None and (entry.kind, entry.actor) == ("publication", "office")
    assert (entry.payload["results_sha256"], entry.payload["approved_by"]) == (digest, "director")
    assert verify(db, exam).ok

    e1 = account(db, "e1")
    closed = [
        (lambda: claim(db, exam, e1), "not open for marking"),
        (lambda: submit_mark(db, exam, e1, response_id=1, value=Decimal(1)), "not open"),
        (lambda: intake_batch(db, exam, tmp_path / "batch-P-10", actor="office"), "closed"),
        (lambda: assign(db, exam, get_group(db, exam, "short"), ["e1"], actor="o"), "closed"),
        (lambda: approve_scheme(db, exam, get_group(db, exam, "short"), by="lead"), "published"),
        (
            lambda: record_violations(db, exam, tmp_path / "violations.csv", actor="office"),
            "records are closed",
        ),
        (lambda: withdraw_batch(db, exam, tiny.batch_id, reason="x", actor="o"), "read-only"),
        (
            lambda: publish(
                db, exam, by="office", approved_by="director", key=tiny.keys.open(exam)
            ),
            "already published",
        ),
    ]
    for action, message in closed:
        with pytest.raises(StateError, match=message):
            action()
    assert exports.results_rows(db, exam) == (columns, rows)

    # A result changed afterwards no longer matches what was published.
    c2 = tiny.candidates[1].exam_no
    db.execute(
        update(Result)
        .where(Result.session_id == exam.id, Result.exam_no == c2)
        .values(outcome="pass")
    )
    db.expire_all()
    problems = verify(db, exam).problems
    assert len(problems) == 1 and problems[0].startswith(
        "published results changed since publication: their SHA-256 is "
    )
    assert problems[0].endswith(f"the publication recorded {digest}")


# --- interviews (R7) ----------------------------------------------------------------------------


def test_level_two_interviews_follow_r7(db: Session, tmp_path: Path) -> None:
    f.add_examiners(
        db, tmp_path, *(f.Ex(f"s{i}", grade="senior", scope=f"{f.OCCUPATION}:2") for i in (1, 2, 3))
    )
    tiny = f.tiny_session(db, tmp_path, "P-20", n=5, level=2, examiners=("e1", "e2"))
    exam = tiny.exam
    f.mark_all(db, exam, ["e1", "e2"], lambda item, _u: item.max)  # every component 100.0
    i1, i2, i3, i4, i5 = (c.exam_no for c in tiny.candidates)
    panels = {
        i1: (60, 60, 59),  # two thirds at 60, mean 59.67: fail
        i2: (70, 70, 50),  # two thirds at 60, mean 63.33: pass
        i4: (80, 80),  # only two seniors scored
        i5: (100, 59, 59),  # mean 72.67, but one third at 60: fail
    }  # i3: no scores at all: absent from the interview
    interview = [(no, f"s{j}", s) for no, scores in panels.items() for j, s in enumerate(scores, 1)]
    record_interview(
        db,
        exam,
        f.write_csv(tmp_path / "i.csv", ("exam_no", "username", "score"), interview),
        actor="office",
    )
    key = tiny.keys.open(exam)

    # i3 has no panel scores: named, not silently absent, until recorded absent (R7).
    with pytest.raises(PublicationRefused) as refused:
        publish(db, exam, by="office", approved_by=f.approve(db, exam), key=key)
    assert str(refused.value).endswith(
        f"  1 candidate(s) have no interview panel scores (R7): {i3}; enter their panel's "
        "scores, or record them absent from the interview"
    )
    assert_nothing_published(db, exam, SessionState.MARKING)
    absent = f.write_csv(tmp_path / "absent.csv", ("exam_no", "reason"), [(i3, "未到场")])
    record_interview_absent(db, exam, absent, actor="office")

    with pytest.raises(PublicationRefused) as refused:
        publish(db, exam, by="office", approved_by=f.approve(db, exam), key=key)
    assert str(refused.value) == (
        "interview panels too small (R7):\n"
        f"  candidate {i4}: panel of 2 senior examiners; at least 3 are needed"
    )
    assert_nothing_published(db, exam, SessionState.MARKING)

    late = f.write_csv(tmp_path / "i2.csv", ("exam_no", "username", "score"), [(i4, "s3", 80)])
    record_interview(db, exam, late, actor="office")
    publish(db, exam, by="office", approved_by=f.approve(db, exam), key=key)

    columns, rows = exports.results_rows(db, exam)
    assert columns == [*COLUMNS, "interview_score"]
    got = {row[0]: (row[3], row[5], row[7], row[8]) for row in rows}
    assert got == {
        i1: ("fail", "100.0", "100.0", "59.7"),
        i2: ("pass", "100.0", "100.0", "63.3"),
        i3: ("absent", "100.0", "100.0", ""),
        i4: ("pass", "100.0", "100.0", "80.0"),
        i5: ("fail", "100.0", "100.0", "72.7"),
    }


# --- late conflicts and duplicate candidates ---------------------------------------------------


def test_a_late_declared_conflict_withdraws_the_marks_and_they_are_redone(
    db: Session, tmp_path: Path
) -> None:
    tiny = f.tiny_session(db, tmp_path, "P-30", n=3)
    exam = tiny.exam
    f.mark_all(db, exam, ["e1", "e2"])
    c2 = tiny.candidates[1]
    declared = f.write_csv(
        tmp_path / "conflicts.csv",
        ("username", "id_number", "relation"),
        [("e1", c2.id_number, "relative")],
    )
    import_conflicts(db, declared, actor="office", session=exam)
    key = tiny.keys.open(exam)
    conflicted = {f.response_id(db, exam, t) for t in ("c2 theory", "c2 skills")}
    e1_marks = set(
        db.scalars(
            select(Mark.id).where(
                Mark.examiner_id == account(db, "e1").id, Mark.response_id.in_(conflicted)
            )
        )
    )

    with pytest.raises(LateConflicts) as late:
        publish(db, exam, by="office", approved_by=f.approve(db, exam), key=key)

    assert str(late.value) == (
        "2 mark(s) were given by examiners on candidates they declared a conflict with after "
        "intake; withdraw them and have the responses re-marked"
    )
    assert {mark_id for mark_id, _script in late.value.hits} == e1_marks
    assert_nothing_published(db, exam, SessionState.MARKING)

    assert withdraw_marks(db, exam, late.value.hits, reason="迟报回避", actor="office") == 2
    for text in ("c2 theory", "c2 skills"):
        response = f.response_of(db, exam, text)
        assert (response.state, response.final, response.marks_done) == (
            ResponseState.OPEN,
            None,
            1,
        )
    assert db.scalar(select(func.count()).where(Exclusion.examiner_id == account(db, "e1").id)) == 2
    assert claim(db, exam, account(db, "e1"), size=100) == []
    assert claim(db, exam, account(db, "e2"), size=100) == []
    assert set(f.mark_all(db, exam, ["e3"])["e3"]) == conflicted

    publish(db, exam, by="office", approved_by=f.approve(db, exam), key=key)

    codes = {f.script_code(db, exam, t) for t in ("c2 theory", "c2 skills")}
    on_c2 = {(r[0], r[3]) for r in exports.marks_rows(db, exam) if r[0] in codes and r[3]}
    assert {who for _code, who in on_c2} == {"e2", "e3"}
    assert verify(db, exam).ok


@pytest.fixture
def committed(fresh_db: FreshDatabase) -> FreshDatabase:
    upgrade(fresh_db.engine)
    return fresh_db


def test_a_candidate_taken_in_twice_stops_publication_until_a_batch_is_withdrawn(
    committed: FreshDatabase, tmp_path: Path
) -> None:
    engine = committed.engine
    roster = f.people(6, seed=4)
    with transaction(engine) as db:
        tiny = f.tiny_session(db, tmp_path, "P-40", n=5, seed=4, examiners=("e1", "e2", "e3", "e4"))
        again = [roster[4], roster[5]]  # c5 again, and a sixth candidate
        second = f.take_in(db, tiny.exam, tmp_path / "second", again, f.tiny_rows(again))
        keys = tiny.keys
    report = simulate(engine, "P-40", seed=11)
    assert report.stuck == [] and report.marks >= 24

    with transaction(engine) as db:
        exam = get_session(db, "P-40")
        assert exam.state is SessionState.RECONCILED
        with pytest.raises(PublicationRefused) as refused:
            publish(db, exam, by="office", approved_by="director", key=keys.open(exam))
    message = str(refused.value)
    assert (
        f"exam number {roster[4].exam_no} is in batch {tiny.batch_id} and in batch "
        f"{second.batch_id}" in message
    )
    assert f"ID number {roster[4].id_number} is in batch" in message
    with transaction(engine) as db:
        assert_nothing_published(db, get_session(db, "P-40"), SessionState.RECONCILED)
        withdraw_batch(
            db, get_session(db, "P-40"), second.batch_id, reason="重复导入", actor="office"
        )

    with transaction(engine) as db:
        exam = get_session(db, "P-40")
        published = publish(
            db, exam, by="office", approved_by=f.approve(db, exam), key=keys.open(exam)
        )
    with transaction(engine) as db:
        exam = get_session(db, "P-40")
        _columns, rows = exports.results_rows(db, exam)
        assert [row[0] for row in rows] == [c.exam_no for c in roster[:5]]
        assert published.candidates == 5 and exam.state is SessionState.PUBLISHED
        assert db.get(IntakeBatch, second.batch_id).withdrawn_at is not None  # type: ignore[union-attr]
        assert verify(db, exam).ok


def test_a_simulated_session_publishes_with_its_key_file(
    committed: FreshDatabase, tmp_path: Path
) -> None:
    engine = committed.engine
    with transaction(engine) as db:
        f.add_staff(db)
        f.add_examiners(db, tmp_path, "e1", "e2", "e3", "e4")
        toml = synthetic.session_toml("P-50", questions_per_component=4)
        exam, keys = f.new_session(db, tmp_path, toml, key_file=True)
        roster = f.people(12, seed=9)
        synthetic.write_batch(tmp_path / "b", roster, synthetic.paper(4), seed=9)
        intake_batch(db, exam, tmp_path / "b", actor="office")
        f.open_marking(db, exam, {g.key: ["e1", "e2", "e3", "e4"] for g in exam.groups})
    report = simulate(engine, "P-50", seed=3, flag_rate=0.05)
    assert report.stuck == []

    with transaction(engine) as db:
        exam = get_session(db, "P-50")
        unfinished = db.scalar(
            select(func.count())
            .select_from(Response)
            .where(Response.group_id.is_not(None), Response.state != ResponseState.FINAL)
        )
        assert unfinished == 0
        published = publish(
            db, exam, by="office", approved_by=f.approve(db, exam), key=keys.open(exam)
        )
    with transaction(engine) as db:
        exam = get_session(db, "P-50")
        columns, rows = exports.results_rows(db, exam)
        assert columns == COLUMNS
        assert sorted(row[0] for row in rows) == [c.exam_no for c in roster]
        assert sum(published.outcomes.values()) == 12
        assert all(row[3] in ("pass", "fail", "absent") for row in rows)
        for row in rows:
            for score in (row[5], row[7]):
                assert score == "" or (0 <= Decimal(score) <= 100 and score[-2] == ".")
        assert verify(db, exam).ok
        with pytest.raises(StateError):
            claim(db, exam, account(db, "e1"))
