"""The marking engine through its services: assignment (R9-R11, R5), the assembly-line queue
(DESIGN §4), reconciliation (§5), the lead's rulings (R4, R14) and the ledger (§7)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections import Counter
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marking.audit.verify import verify
from marking.demo import synthetic
from marking.errors import MarkingError, StateError
from marking.intake.intake import intake_batch
from marking.queue.claims import Claimed, claim
from marking.queue.handback import flag, release
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
from marking.setup.assignment import approve_scheme, assign, get_group
from marking.store.models import (
    Account,
    AnomalyKind,
    AnomalyResolution,
    Assignment,
    Component,
    ExamSession,
    Exclusion,
    KeyCorrection,
    Lease,
    LeaseState,
    LedgerEntry,
    Mark,
    MarkingGroup,
    MarkKind,
    Question,
    Response,
    ResponseState,
    Script,
    SessionState,
)
from tests.integration import factory as f

T0 = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


def account(db: Session, username: str) -> Account:
    found = db.scalar(select(Account).where(Account.username == username))
    assert found is not None
    return found


def team(db: Session, group: MarkingGroup) -> set[str]:
    return set(
        db.scalars(
            select(Account.username)
            .join(Assignment, Assignment.examiner_id == Account.id)
            .where(Assignment.group_id == group.id)
        )
    )


def marks_on(db: Session, response_id: int) -> list[tuple[str, Decimal, MarkKind]]:
    """(examiner, value, kind) of every mark on a response, in the order given."""
    return [
        (u, v, k)
        for u, v, k in db.execute(
            select(Account.username, Mark.value, Mark.kind)
            .join(Account, Account.id == Mark.examiner_id)
            .where(Mark.response_id == response_id)
            .order_by(Mark.id)
        )
    ]


def count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def by_text(table: dict[tuple[str, str], str]) -> Callable[[Claimed, str], Decimal]:
    """Marks by (response text, examiner); anything not in the table gets half marks."""
    return lambda item, user: Decimal(table.get((item.text, user), str(f.middle(item))))


def ids(items: list[Claimed]) -> set[int]:
    return {item.response_id for item in items}


# --- assignment (R9, R10, R11) and opening a group (R5) -----------------------------------------


def test_assignment_refuses_a_certificate_expired_by_the_session_date(
    db: Session, tmp_path: Path
) -> None:
    f.add_staff(db)
    f.add_examiners(
        db, tmp_path, f.Ex("lapsed", expires="2026-12-04"), f.Ex("edge", expires="2026-12-05")
    )
    exam, _ = f.new_session(db, tmp_path, f.tiny_toml("AS-01", date="2026-12-05"))
    short = get_group(db, exam, "short")

    with pytest.raises(MarkingError) as refused:
        assign(db, exam, short, ["edge", "lapsed"], actor=f.ACTOR)

    message = str(refused.value)
    assert (
        "lapsed: certificate C-lapsed expired on 2026-12-04, before the session date "
        "2026-12-05 (R11)" in message
    )
    assert "edge" not in message  # valid on the session day itself
    assert team(db, short) == set()  # refused whole: not even the valid examiner
    assert assign(db, exam, short, ["edge"], actor=f.ACTOR).added == ["edge"]


def test_assignment_refuses_a_scope_without_the_occupation_and_level(
    db: Session, tmp_path: Path
) -> None:
    f.add_staff(db)
    f.add_examiners(
        db,
        tmp_path,
        f.Ex("level4", scope=f"{f.OCCUPATION}:4"),
        f.Ex("plumber", scope="6-29-03-01:3"),
        f.Ex("fine", scope=f"{f.OCCUPATION}:3"),
    )
    exam, _ = f.new_session(db, tmp_path, f.tiny_toml("AS-02"))
    short = get_group(db, exam, "short")

    with pytest.raises(MarkingError) as refused:
        assign(db, exam, short, ["fine", "level4", "plumber"], actor=f.ACTOR)

    message = str(refused.value)
    assert (
        f"level4: certificate scope ({f.OCCUPATION}:4) does not cover {f.OCCUPATION} level 3 (R9)"
        in message
    )
    assert (
        f"plumber: certificate scope (6-29-03-01:3) does not cover {f.OCCUPATION} level 3 (R9)"
        in message
    )
    assert "fine" not in message
    assert team(db, short) == set()


def test_a_fourth_consecutive_session_at_a_station_is_refused(db: Session, tmp_path: Path) -> None:
    f.add_staff(db)
    f.add_examiners(db, tmp_path, "v1", "v2", "v3", "v4")
    station = "GD-0999"
    teams = [["v1", "v3"], ["v1", "v2", "v3"], ["v1", "v2", "v3"]]
    for i, (date, members) in enumerate(
        zip(("2026-03-01", "2026-06-01", "2026-09-01"), teams, strict=True)
    ):
        earlier, _ = f.new_session(
            db, tmp_path, f.tiny_toml(f"ST-0{i}", date=date, station=station)
        )
        assign(db, earlier, get_group(db, earlier, "short"), members, actor=f.ACTOR)
    # Elsewhere, a session does not count toward this station's streak.
    elsewhere, _ = f.new_session(
        db, tmp_path, f.tiny_toml("ST-X", date="2026-10-01", station="GD-0001")
    )
    assign(db, elsewhere, get_group(db, elsewhere, "short"), ["v4"], actor=f.ACTOR)

    exam, _ = f.new_session(db, tmp_path, f.tiny_toml("ST-04", date="2026-12-05", station=station))
    short = get_group(db, exam, "short")
    with pytest.raises(MarkingError) as refused:
        assign(db, exam, short, ["v1", "v2", "v3", "v4"], actor=f.ACTOR)

    message = str(refused.value)
    for username in ("v1", "v3"):
        assert (
            f"{username}: would serve a 4th consecutive session at station {station}; "
            "at most 3 (R10)" in message
        )
    assert "v2" not in message  # a third consecutive session is allowed
    assert "v4" not in message
    assert team(db, short) == set()
    assert sorted(assign(db, exam, short, ["v2", "v4"], actor=f.ACTOR).added) == ["v2", "v4"]


def test_rotation_warns_when_fewer_than_a_third_of_the_team_is_new(
    db: Session, tmp_path: Path
) -> None:
    f.add_staff(db)
    f.add_examiners(db, tmp_path, "r1", "r2", "r3", "r4")
    before, _ = f.new_session(
        db, tmp_path, f.tiny_toml("RO-01", date="2026-09-01", station="GD-0888")
    )
    assign(db, before, get_group(db, before, "short"), ["r1", "r2", "r3"], actor=f.ACTOR)
    exam, _ = f.new_session(
        db, tmp_path, f.tiny_toml("RO-02", date="2026-12-05", station="GD-0888")
    )

    same = assign(db, exam, get_group(db, exam, "short"), ["r1", "r2"], actor=f.ACTOR)
    assert same.added == ["r1", "r2"]
    assert same.warnings == [
        "only 0 of 2 examiners are new since session RO-01 at this station; "
        "R10 asks that at least a third rotate"
    ]
    # One new examiner in a team of three is a third: no warning.
    rotated = assign(db, exam, get_group(db, exam, "prac"), ["r4"], actor=f.ACTOR)
    assert rotated.added == ["r4"] and rotated.warnings == []


def test_nothing_is_handed_out_before_the_lead_approves_the_scheme(
    db: Session, tmp_path: Path
) -> None:
    tiny = f.tiny_session(db, tmp_path, "AP-01", open_groups=False)
    exam = tiny.exam
    short, prac = get_group(db, exam, "short"), get_group(db, exam, "prac")
    assign(db, exam, short, ["e1", "e2"], actor=f.ACTOR, lead="lead")
    assign(db, exam, prac, ["e3"], actor=f.ACTOR)

    with pytest.raises(StateError, match="AP-01 is intake, not open for marking"):
        claim(db, exam, account(db, "e1"))
    for who in ("e1", "office"):
        with pytest.raises(
            MarkingError, match=f"only the session's lead examiner approves schemes; '{who}' is not"
        ):
            approve_scheme(db, exam, short, by=who)
    assert short.approved_at is None and exam.state is SessionState.INTAKE

    approve_scheme(db, exam, short, by="lead")
    assert exam.state is SessionState.MARKING
    got = claim(db, exam, account(db, "e1"), size=100)
    assert len(got) == 4 and {item.group for item in got} == {"short"}
    # e3's only group (prac) is still closed.
    with pytest.raises(MarkingError, match="e3 has no open marking group in session AP-01"):
        claim(db, exam, account(db, "e3"))
    with pytest.raises(StateError, match="already approved"):
        approve_scheme(db, exam, short, by="lead")


# --- the queue (DESIGN §4) -----------------------------------------------------------------------


def test_claim_never_gives_what_was_marked_held_excluded_flagged_or_in_arbitration(
    db: Session, tmp_path: Path
) -> None:
    tiny = f.tiny_session(db, tmp_path, "Q-01", n=6, examiners=("e1", "e2", "e3", "e4"))
    exam = tiny.exam
    e1, e2, e3, e4 = (account(db, u) for u in ("e1", "e2", "e3", "e4"))
    everything = ids(claim(db, exam, e2, size=100))
    assert len(everything) == 12  # 6 candidates × one marked question in each group
    flagged, disputed = f.response_id(db, exam, "c4 theory"), f.response_id(db, exam, "c5 theory")
    flag(db, exam, e2, response_id=flagged, kind=AnomalyKind.ILLEGIBLE, note="字迹模糊")
    submit_mark(db, exam, e2, response_id=disputed, value=Decimal(0))
    for rid in everything - {flagged, disputed}:
        release(db, exam, e2, response_id=rid)
    for examiner, value in ((e3, Decimal(6)), (e4, Decimal(3))):  # 0, 6, then 3: arbitration
        for item in claim(db, exam, examiner, size=100):
            if item.response_id == disputed:
                submit_mark(db, exam, examiner, response_id=disputed, value=value)
            else:
                release(db, exam, examiner, response_id=item.response_id)
    assert f.response_of(db, exam, "c4 theory").state is ResponseState.ANOMALY
    assert f.response_of(db, exam, "c5 theory").state is ResponseState.ARBITRATION

    [held] = ids(claim(db, exam, e1, size=1))
    [marked] = ids(claim(db, exam, e1, size=1))
    assert marked != held
    submit_mark(db, exam, e1, response_id=marked, value=Decimal(2))
    excluded = next(
        rid
        for text in ("c1 theory", "c2 theory", "c3 theory", "c6 theory")
        if (rid := f.response_id(db, exam, text)) not in (held, marked)
    )
    script_id = db.get(Response, excluded).script_id  # type: ignore[union-attr]
    db.add(Exclusion(script_id=script_id, examiner_id=e1.id))
    db.flush()

    rest = ids(claim(db, exam, e1, size=100))
    assert rest == everything - {held, marked, excluded, flagged, disputed}
    assert claim(db, exam, e1, size=100) == []


def test_every_response_gets_exactly_its_marks_from_distinct_examiners(
    db: Session, tmp_path: Path
) -> None:
    f.add_staff(db)
    team_ = ["e1", "e2", "e3", "e4"]
    f.add_examiners(db, tmp_path, *team_)
    toml = synthetic.session_toml("Q-02", questions_per_component=4)
    exam, _ = f.new_session(db, tmp_path, toml)
    synthetic.write_batch(tmp_path / "b", f.people(10), synthetic.paper(4), seed=3)
    intake_batch(db, exam, tmp_path / "b", actor=f.ACTOR)
    f.open_marking(db, exam, {g.key: team_ for g in exam.groups})
    required = {g.id: g.marks_required for g in exam.groups}
    assert sorted(required.values()) == [2, 2, 2, 3]  # practical is marked three times

    marked = f.mark_all(db, exam, team_, size=2)

    rows = db.execute(
        select(Response.id, Response.group_id, Response.state, Response.held, Response.marks_done)
        .join(Script, Script.id == Response.script_id)
        .where(Script.session_id == exam.id, Response.group_id.is_not(None))
    ).all()
    assert len(rows) > 30
    for rid, group_id, state, held, done in rows:
        examiners = [u for u, _v, _k in marks_on(db, rid)]
        assert len(examiners) == required[group_id] == done, rid
        assert len(set(examiners)) == len(examiners), rid
        assert state is ResponseState.FINAL and held == 0
    assert sum(len(v) for v in marked.values()) == sum(required[g] for _r, g, *_ in rows)
    assert all(marked.values())  # the work was shared, not done by one examiner
    assert db.scalar(select(func.count()).where(Lease.state == LeaseState.HELD)) == 0


def test_what_an_examiner_sees_has_no_candidate_and_no_other_marks(
    db: Session, tmp_path: Path
) -> None:
    tiny = f.tiny_session(db, tmp_path, "Q-03")
    exam = tiny.exam
    f.mark_all(db, exam, ["e1"], lambda _item, _u: Decimal("2.5"))

    seen = claim(db, exam, account(db, "e2"), size=100, now=T0)

    assert [fld.name for fld in dataclasses.fields(Claimed)] == [
        "response_id",
        "script_code",
        "component",
        "question",
        "question_type",
        "text",
        "image_sha256",
        "max",
        "step",
        "group",
        "reference",
        "scheme",
        "expires_at",
    ]
    assert len(seen) == 8
    shown = repr(seen)
    for c in tiny.candidates:
        for secret in (c.exam_no, c.name, c.id_number, c.institution):
            assert secret not in shown
    assert "2.5" not in shown and "e1" not in shown  # e1's marks and name stay hidden
    theory = next(item for item in seen if item.text == "c1 theory")
    assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{12}", theory.script_code)
    assert (theory.component, theory.question, theory.question_type, theory.group) == (
        "theory",
        "2",
        "short_answer",
        "short",
    )
    assert (theory.max, theory.step, theory.reference) == (
        Decimal(6),
        Decimal("0.5"),
        "断电、验电、挂接地线",
    )
    assert theory.expires_at == T0 + 20 * MINUTE


def test_an_expired_lease_goes_back_to_the_queue_and_its_mark_is_refused(
    db: Session, tmp_path: Path
) -> None:
    tiny = f.tiny_session(db, tmp_path, "Q-04", n=2)
    exam = tiny.exam
    e1, e2, e3 = (account(db, u) for u in ("e1", "e2", "e3"))
    first = ids(claim(db, exam, e1, size=100, now=T0))
    assert ids(claim(db, exam, e2, size=100, now=T0 + 10 * MINUTE)) == first
    assert claim(db, exam, e3, size=100, now=T0 + 15 * MINUTE) == []  # both slots taken

    # e1's claims ran out at 09:20; e2's run to 09:30.
    assert ids(claim(db, exam, e3, size=100, now=T0 + 21 * MINUTE)) == first
    target = f.response_id(db, exam, "c1 theory")
    entries, marks = count(db, LedgerEntry), count(db, Mark)
    with pytest.raises(LeaseLost) as lost:
        submit_mark(db, exam, e1, response_id=target, value=Decimal(3), now=T0 + 22 * MINUTE)
    assert str(lost.value) == (
        "your claim on this response expired at 09:20:00 UTC and it went back to the "
        "queue; your mark was not recorded. Claim a new batch to go on."
    )
    assert (count(db, LedgerEntry), count(db, Mark)) == (entries, marks)

    # A lease past its time is dead even before anyone claims again.
    other = f.response_id(db, exam, "c2 theory")
    with pytest.raises(LeaseLost, match="this response expired at 09:30:00 UTC"):
        submit_mark(db, exam, e2, response_id=other, value=Decimal(3), now=T0 + 31 * MINUTE)
    assert (count(db, LedgerEntry), count(db, Mark)) == (entries, marks)

    submit_mark(db, exam, e2, response_id=target, value=Decimal(3), now=T0 + 25 * MINUTE)
    done = submit_mark(db, exam, e3, response_id=target, value=Decimal(3), now=T0 + 26 * MINUTE)
    assert (done.state, done.final) == (ResponseState.FINAL, Decimal(3))
    assert [u for u, _v, _k in marks_on(db, target)] == ["e2", "e3"]


def test_a_second_submission_and_an_unclaimed_one_are_refused(db: Session, tmp_path: Path) -> None:
    tiny = f.tiny_session(db, tmp_path, "Q-05", n=2)
    exam = tiny.exam
    e1 = account(db, "e1")
    target = f.response_id(db, exam, "c1 theory")
    with pytest.raises(LeaseLost, match="you have not claimed this response; claim a batch first"):
        submit_mark(db, exam, e1, response_id=target, value=Decimal(3))
    claim(db, exam, e1, size=100)
    submit_mark(db, exam, e1, response_id=target, value=Decimal(3))

    with pytest.raises(LeaseLost, match="you have already marked this response"):
        submit_mark(db, exam, e1, response_id=target, value=Decimal(4))

    assert marks_on(db, target) == [("e1", Decimal(3), MarkKind.DOUBLE)]
    assert f.response_of(db, exam, "c1 theory").marks_done == 1


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("-0.5", "a mark cannot be negative: '-0.5'"),
        ("8.5", "a mark lies between 0 and 8; 8.5 is outside"),
        ("7.3", "marks on this question go in steps of 0.5; 7.3 is not one"),
        ("7.25", "marks on this question go in steps of 0.5; 7.25 is not one"),
        ("NaN", "a mark is a plain decimal number such as 7, 7.5 or 0.125; 'NaN' is not one"),
        (
            "Infinity",
            "a mark is a plain decimal number such as 7, 7.5 or 0.125; 'Infinity' is not one",
        ),
    ],
)
def test_an_invalid_mark_is_refused_with_its_reason_and_nothing_is_stored(
    db: Session, tmp_path: Path, value: str, reason: str
) -> None:
    tiny = f.tiny_session(db, tmp_path, "Q-06", n=1)
    exam = tiny.exam
    e1 = account(db, "e1")
    target = f.response_id(db, exam, "c1 skills")  # max 8, step 0.5
    claim(db, exam, e1, size=100)
    entries = count(db, LedgerEntry)

    with pytest.raises(InvalidMark) as refused:
        submit_mark(db, exam, e1, response_id=target, value=Decimal(value))

    assert str(refused.value) == reason
    assert marks_on(db, target) == [] and count(db, LedgerEntry) == entries
    # The claim is still held: the examiner corrects the mark and goes on.
    submit_mark(db, exam, e1, response_id=target, value=Decimal("7.5"))
    assert marks_on(db, target) == [("e1", Decimal("7.5"), MarkKind.DOUBLE)]


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


def test_the_schema_refuses_a_second_mark_by_one_examiner_on_one_response(
    db: Session, tmp_path: Path
) -> None:
    tiny = f.tiny_session(db, tmp_path, "Q-07", n=1)
    exam = tiny.exam
    e1 = account(db, "e1")
    target = f.response_id(db, exam, "c1 theory")
    claim(db, exam, e1, size=100)
    submit_mark(db, exam, e1, response_id=target, value=Decimal(3))

    with pytest.raises(IntegrityError) as refused, db.begin_nested():
        lease_id = db.execute(
            insert(Lease).values(
                response_id=target,
                examiner_id=e1.id,
                state=LeaseState.SUBMITTED,
                created_at=T0,
                expires_at=T0 + 20 * MINUTE,
            )
        ).inserted_primary_key[0]
        db.execute(
            insert(Mark).values(
                response_id=target,
                examiner_id=e1.id,
                kind=MarkKind.DOUBLE,
                value=Decimal(5),
                lease_id=lease_id,
                created_at=T0,
            )
        )
    assert "response_id" in str(refused.value) and "examiner_id" in str(refused.value)
    assert marks_on(db, target) == [("e1", Decimal(3), MarkKind.DOUBLE)]


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
