"""The lead's side of quality control (DESIGN §13): qualification sets and seeds, suspension
with its marks withdrawn (or kept) and re-marked by others, reinstatement and the register,
qualification overrides and closing alarms; each in the ledger, and `verify` passes."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from marking.audit.bundle import check_archive
from marking.audit.verify import verify
from marking.errors import MarkingError, NotFound, StateError
from marking.people.register import record_misconduct
from marking.publication.publish import publish
from marking.quality import decisions, items, suspension
from marking.queue import handles
from marking.queue.claims import claim
from marking.queue.marks import InvalidMark
from marking.read.archive import write_archive
from marking.store.models import (
    Account,
    AlarmKind,
    Assignment,
    CheckAlarm,
    CheckItem,
    CheckMark,
    CheckPurpose,
    CheckState,
    ExamSession,
    GroupSuspension,
    Lease,
    LeaseState,
    LedgerEntry,
    MarkingGroup,
    MarkWithdrawal,
    MisconductKind,
    QualificationOverride,
    Response,
    ResponseState,
)
from tests.integration import factory as f
from tests.integration.marking_helpers import T0, account
from tests.integration.test_marking_corrections import mark_as

SHORT = "c1 theory"  # the first candidate's short answer (group short, max 6, step 0.5)


def group(exam, key: str):  # type: ignore[no-untyped-def]
    return next(g for g in exam.groups if g.key == key)


def ledger_kinds(db: Session, exam) -> list[str]:  # type: ignore[no-untyped-def]
    return list(
        db.scalars(
            select(LedgerEntry.kind)
            .where(LedgerEntry.session_id == exam.id)
            .order_by(LedgerEntry.id)
        )
    )


def assignment(db: Session, exam, username: str, key: str) -> Assignment:  # type: ignore[no-untyped-def]
    found = db.scalar(
        select(Assignment).where(
            Assignment.group_id == group(exam, key).id,
            Assignment.examiner_id == account(db, username).id,
        )
    )
    assert found is not None
    db.refresh(found)
    return found


@dataclass
class Seen:
    """A tiny session as its lead sees it: the lead, e1 and the short-answer group."""

    db: Session
    tiny: f.Tiny
    lead: Account
    e1: Account
    short: MarkingGroup

    @property
    def exam(self) -> ExamSession:
        return self.tiny.exam

    def add(self, text: str, purpose: CheckPurpose, value: object, note: str = "") -> CheckItem:
        """The lead makes the response ``text`` a seed or qualification item."""
        return items.add_item(
            self.db,
            self.exam,
            self.lead,
            response_id=f.response_id(self.db, self.exam, text),
            purpose=purpose,
            value=value,
            note=note,
        )

    def alarm(self, kind: AlarmKind) -> CheckAlarm:
        """An open alarm of ``kind`` on e1 in the short group (as the drift rule raises)."""
        alarm = CheckAlarm(
            session_id=self.exam.id,
            group_id=self.short.id,
            examiner_id=self.e1.id,
            kind=kind,
            evidence={"seeds": []},
        )
        self.db.add(alarm)
        self.db.flush()
        return alarm


Make = Callable[..., Seen]


@pytest.fixture
def made(db: Session, tmp_path: Path) -> Make:
    """``made(code, n=…, examiners=…)``: a tiny session and its lead's view of it."""

    def make(code: str, *, n: int = 1, examiners: tuple[str, ...] = ("e1", "e2", "e3")) -> Seen:
        tiny = f.tiny_session(db, tmp_path, code, n=n, examiners=examiners)
        return Seen(db, tiny, account(db, "lead"), account(db, "e1"), group(tiny.exam, "short"))

    return make


def test_the_lead_builds_seeds_and_a_qualification_set(db: Session, made: Make) -> None:
    ql = made("QL-1", n=3)
    exam, lead, short = ql.exam, ql.lead, ql.short
    short.qualification_size = 2
    rid = f.response_id(db, exam, SHORT)

    seed = ql.add(SHORT, CheckPurpose.SEED, "4.5", note="要点齐全")
    assert (seed.value, seed.group_id) == (Decimal("4.5"), short.id)
    with pytest.raises(InvalidMark):  # off the step
        ql.add("c2 theory", CheckPurpose.SEED, "4.3")
    with pytest.raises(StateError) as twice:
        ql.add(SHORT, CheckPurpose.SEED, "4")
    assert twice.value.code == "check_item_exists"
    with pytest.raises(MarkingError) as examiner:
        items.add_item(db, exam, ql.e1, response_id=rid, purpose=CheckPurpose.SEED, value="4")
    assert examiner.value.code == "quality_not_the_lead"

    q1 = ql.add(SHORT, CheckPurpose.QUALIFICATION, 3)
    # A third for a set of 2: more items than one attempt takes, so that a retry draws ones
    # the examiner has not seen (qualification.draw).
    q2 = ql.add("c2 theory", CheckPurpose.QUALIFICATION, 2)
    q3 = ql.add("c3 theory", CheckPurpose.QUALIFICATION, 2)
    assert (q1.position, q2.position, q3.position) == (1, 2, 3)
    with pytest.raises(StateError) as none:  # prac asks for no qualification set
        ql.add("c1 skills", CheckPurpose.QUALIFICATION, 2)
    assert none.value.code == "qualification_none"

    shown = items.items(db, exam, group=short)
    assert [i.purpose for i in shown] == [CheckPurpose.QUALIFICATION] * 3 + [CheckPurpose.SEED]
    assert shown[0].response.handle == handles.response_handle(exam, rid)
    assert not shown[3].response.complete  # nobody marked it yet: not handed out yet

    items.retire_item(db, exam, lead, item_id=q1.id)
    assert [i.position for i in items.items(db, exam, group=short)] == [2, 3, 0]
    with pytest.raises(StateError):
        items.retire_item(db, exam, lead, item_id=q1.id)
    assert ledger_kinds(db, exam).count("check_item") == 4
    assert "check_item_retired" in ledger_kinds(db, exam)
    assert verify(db, exam).ok


def test_the_sample_is_random_blind_and_says_which_are_complete(db: Session, made: Make) -> None:
    ql = made("QL-2", n=4)
    exam, lead, short = ql.exam, ql.lead, ql.short
    mark_as(db, exam, "e1", {"c1 theory": "3"})
    mark_as(db, exam, "e2", {"c1 theory": "3"})
    assert f.response_of(db, exam, "c1 theory").state is ResponseState.FINAL
    ql.add("c2 theory", CheckPurpose.SEED, 2)
    shown = items.sample(db, exam, lead, group=short, size=10, rng=random.Random(1))
    texts = {c.text for c in shown}
    assert texts == {"c1 theory", "c3 theory", "c4 theory"}  # not the seed already made
    assert {c.text for c in shown if c.complete} == {"c1 theory"}
    done = items.sample(db, exam, lead, group=short, complete_only=True, rng=random.Random(2))
    assert [c.text for c in done] == ["c1 theory"]


def test_another_sessions_response_is_not_found(db: Session, made: Make) -> None:
    one, other = made("QL-3"), made("QL-4")
    with pytest.raises(NotFound):
        items.add_item(
            db,
            one.exam,
            one.lead,
            response_id=f.response_id(db, other.exam, SHORT),
            purpose=CheckPurpose.SEED,
            value=2,
        )


def test_suspension_withdraws_marks_releases_leases_and_others_mark_again(
    db: Session, made: Make
) -> None:
    ql = made("QL-5", n=3)
    exam, lead, e1, short = ql.exam, ql.lead, ql.e1, ql.short
    mark_as(db, exam, "e1", {"c1 theory": "5"})
    mark_as(db, exam, "e2", {"c1 theory": "5"})  # c1 final: e1's mark there stays
    mark_as(db, exam, "e1", {"c2 theory": "1"})
    held = claim(db, exam, e1, size=10)  # e1 holds what is left to them in both groups
    assert {f.response_of(db, exam, i.text).group_id for i in held} == {
        short.id,
        group(exam, "prac").id,
    }
    alarm = ql.alarm(AlarmKind.SEEDS_OFF)

    before = suspension.consequences(db, exam, examiner=e1, group=short)
    assert (before.marks_to_withdraw, before.alarms, before.examiners_left) == (1, 1, 2)
    row = suspension.suspend(
        db, exam, lead, examiner=e1, group=short, reason="样卷偏差", keep_marks=False
    )
    assert (row.withdrawn, row.keep_marks) == (1, False)
    assert assignment(db, exam, "e1", "short").suspended_at is not None
    assert assignment(db, exam, "e1", "prac").suspended_at is None
    db.refresh(alarm)
    assert alarm.closed_at is not None
    still_held = db.scalars(
        select(Lease.response_id).where(Lease.examiner_id == e1.id, Lease.state == LeaseState.HELD)
    ).all()
    assert still_held and all(
        db.get(Response, rid).group_id != short.id  # type: ignore[union-attr]
        for rid in still_held
    )  # only the prac ones stay held
    c2 = f.response_of(db, exam, "c2 theory")
    assert (c2.state, c2.marks_done) == (ResponseState.OPEN, 0)
    assert f.response_of(db, exam, "c1 theory").state is ResponseState.FINAL
    # e1 gets nothing more of the group; e2 and e3 mark c2 again.
    assert all(i.text.endswith("skills") for i in claim(db, exam, e1, size=10))
    mark_as(db, exam, "e2", {"c2 theory": "2"})
    mark_as(db, exam, "e3", {"c2 theory": "2"})
    c2 = f.response_of(db, exam, "c2 theory")
    assert (c2.state, c2.final) == (ResponseState.FINAL, Decimal(2))
    kinds = ledger_kinds(db, exam)
    assert "suspension" in kinds and "withdrawal" in kinds
    assert verify(db, exam).ok


def test_kept_marks_stay_by_a_recorded_decision(db: Session, made: Make) -> None:
    ql = made("QL-6")
    exam = ql.exam
    mark_as(db, exam, "e1", {SHORT: "4"})
    row = suspension.suspend(
        db, exam, ql.lead, examiner=ql.e1, group=ql.short, reason="暂停", keep_marks=True
    )
    assert (row.keep_marks, row.withdrawn) == (True, 0)
    assert db.scalars(select(MarkWithdrawal)).all() == []
    assert f.response_of(db, exam, SHORT).marks_done == 1
    entry = db.scalars(select(LedgerEntry).where(LedgerEntry.kind == "suspension")).one()
    assert entry.payload["keep_marks"] is True
    assert verify(db, exam).ok


def test_the_lead_does_not_suspend_themselves_nor_twice_nor_without_reason(
    db: Session, made: Make
) -> None:
    ql = made("QL-7", examiners=("e1", "e2", "lead"))
    exam, lead, e1, short = ql.exam, ql.lead, ql.e1, ql.short
    with pytest.raises(StateError) as self_:
        suspension.suspend(db, exam, lead, examiner=lead, group=short, reason="x", keep_marks=True)
    assert self_.value.code == "suspend_self"
    with pytest.raises(MarkingError) as reasonless:
        suspension.suspend(db, exam, lead, examiner=e1, group=short, reason=" ", keep_marks=True)
    assert reasonless.value.code == "reason_needed"
    suspension.suspend(db, exam, lead, examiner=e1, group=short, reason="x", keep_marks=True)
    with pytest.raises(StateError) as twice:
        suspension.suspend(db, exam, lead, examiner=e1, group=short, reason="x", keep_marks=True)
    assert twice.value.code == "group_already_suspended"
    with pytest.raises(MarkingError) as deputy_or_examiner:
        suspension.reinstate(db, exam, e1, examiner=e1, group=short, reason="x")
    assert deputy_or_examiner.value.code == "quality_not_the_lead"


def test_suspending_the_group_short_is_said_and_more_examiners_finish_it(
    db: Session, tmp_path: Path, made: Make
) -> None:
    ql = made("QL-8", examiners=("e1", "e2"))
    exam, short = ql.exam, ql.short
    mark_as(db, exam, "e1", {SHORT: "4"})
    suspension.suspend(db, exam, ql.lead, examiner=ql.e1, group=short, reason="x", keep_marks=False)
    assert suspension.short_groups(db, exam) == {"short": (1, 1)}
    f.add_examiners(db, tmp_path / "more", "e4")
    from marking.setup.assignment import assign

    assign(db, exam, short, ["e4"], actor="office")
    assert suspension.short_groups(db, exam) == {}
    mark_as(db, exam, "e2", {SHORT: "3"})
    mark_as(db, exam, "e4", {SHORT: "3"})
    assert f.response_of(db, exam, SHORT).state is ResponseState.FINAL


def test_register_reinstatement_does_not_lift_the_leads_suspension(db: Session, made: Make) -> None:
    ql = made("QL-9", n=2)
    exam, lead, e1, short = ql.exam, ql.lead, ql.e1, ql.short
    suspension.suspend(db, exam, lead, examiner=e1, group=short, reason="偏差", keep_marks=True)
    claim(db, exam, e1, size=10)  # e1 holds prac responses
    record_misconduct(db, "e1", MisconductKind.SUSPENSION, reason="inquiry", actor="office")
    assert not db.scalars(
        select(Lease).where(Lease.examiner_id == e1.id, Lease.state == LeaseState.HELD)
    ).all()  # the register's suspension takes back what they held
    # The lead's reinstatement while the register suspends: recorded, still no work.
    suspension.reinstate(db, exam, lead, examiner=e1, group=short, reason="复核无误")
    assert assignment(db, exam, "e1", "short").suspended_at is not None
    record_misconduct(db, "e1", MisconductKind.REINSTATEMENT, reason="cleared", actor="office")
    assert assignment(db, exam, "e1", "short").suspended_at is None
    assert assignment(db, exam, "e1", "prac").suspended_at is None

    suspension.suspend(db, exam, lead, examiner=e1, group=short, reason="again", keep_marks=True)
    record_misconduct(db, "e1", MisconductKind.SUSPENSION, reason="inquiry", actor="office")
    record_misconduct(db, "e1", MisconductKind.REINSTATEMENT, reason="cleared", actor="office")
    assert assignment(db, exam, "e1", "short").suspended_at is not None  # the lead's stays
    assert assignment(db, exam, "e1", "prac").suspended_at is None
    assert [m.status for m in suspension.members(db, exam, short) if m.username == "e1"] == [
        "suspended"
    ]
    assert ledger_kinds(db, exam).count("reinstatement") == 1
    assert verify(db, exam).ok


def test_override_and_alarm_closing_are_recorded(db: Session, made: Make) -> None:
    ql = made("QL-10")
    exam, lead, e1, short = ql.exam, ql.lead, ql.e1, ql.short
    with pytest.raises(StateError) as none:
        decisions.override_qualification(db, exam, lead, examiner=e1, group=short, reason="x")
    assert none.value.code == "qualification_none"
    short.qualification_size = 2
    assert [m.status for m in suspension.members(db, exam, short)] == ["qualifying"] * 3
    decisions.override_qualification(db, exam, lead, examiner=e1, group=short, reason="资深")
    assert assignment(db, exam, "e1", "short").qualified_at is not None
    with pytest.raises(StateError) as again:
        decisions.override_qualification(db, exam, lead, examiner=e1, group=short, reason="x")
    assert again.value.code == "already_qualified"

    alarm = ql.alarm(AlarmKind.SEED_BIAS)
    found = decisions.open_alarm(db, exam, examiner=e1, group=short, kind=AlarmKind.SEED_BIAS)
    assert found.id == alarm.id
    assert [a.examiner for a in decisions.alarms(db, exam)] == [e1.name]
    with pytest.raises(MarkingError):
        decisions.close_alarm(db, exam, lead, alarm_id=alarm.id, note="")
    decisions.close_alarm(db, exam, lead, alarm_id=alarm.id, note="已谈话")
    assert decisions.alarms(db, exam) == []
    with pytest.raises(StateError):
        decisions.close_alarm(db, exam, lead, alarm_id=alarm.id, note="again")
    other = made("QL-11").exam
    with pytest.raises(NotFound):
        decisions.close_alarm(db, other, lead, alarm_id=alarm.id, note="x")
    kinds = ledger_kinds(db, exam)
    assert "qualification_override" in kinds and "alarm_closed" in kinds
    assert verify(db, exam).ok
    assert db.scalars(select(CheckItem)).all() == []


def test_a_session_with_suspensions_publishes_and_its_archive_verifies(
    db: Session, tmp_path: Path, made: Make
) -> None:
    """Every quality decision's ledger entry goes into the archive, the suspension's
    withdrawals count for every revision, and `verify --archive` passes without the DB."""
    ql = made("QL-12", n=3)
    tiny, exam, lead, e1, short = ql.tiny, ql.exam, ql.lead, ql.e1, ql.short
    mark_as(db, exam, "e1", {"c1 theory": "6", "c2 theory": "6"})
    ql.add("c3 theory", CheckPurpose.SEED, "2", note="基准")
    suspension.suspend(db, exam, lead, examiner=e1, group=short, reason="偏宽", keep_marks=False)
    f.mark_all(db, exam, ["e2", "e3", "e1"])
    assert f.response_of(db, exam, "c1 theory").final == Decimal(3)  # e1's 6 is not in it
    suspension.reinstate(db, exam, lead, examiner=e1, group=short, reason="谈话后恢复")
    assert verify(db, exam).ok, verify(db, exam).problems
    publish(db, exam, by="office", approved_by=f.approve(db, exam), key=tiny.keys.open(exam))
    path = tmp_path / "archive.zip"
    with path.open("wb") as out:
        write_archive(db, exam, out, workers=1)
    assert check_archive(path).problems == []


def test_verify_names_quality_rows_no_one_decided(db: Session, made: Make) -> None:
    """A suspension or override written to its table directly, or a seed's definitive mark
    changed after the fact, is named by `verify`."""
    ql = made("QL-13")
    exam, lead, e1, short = ql.exam, ql.lead, ql.e1, ql.short
    seed = ql.add(SHORT, CheckPurpose.SEED, "2")
    assert verify(db, exam).ok
    seed.value = Decimal(5)
    db.add(
        GroupSuspension(
            session_id=exam.id, group_id=short.id, examiner_id=e1.id, reason="x", by_id=lead.id
        )
    )
    db.add(
        QualificationOverride(
            session_id=exam.id, group_id=short.id, examiner_id=e1.id, reason="x", by_id=lead.id
        )
    )
    db.flush()
    problems = "\n".join(verify(db, exam).problems)
    assert f"check item {seed.id}: the database holds" in problems
    assert "suspension" in problems and "in the database but not in the ledger" in problems
    assert "qualification override" in problems


def _held_check(db: Session, exam, examiner, grp, purpose: CheckPurpose) -> CheckMark:  # type: ignore[no-untyped-def]
    """A check handed to ``examiner`` and held (as H1's claims hand them out)."""
    response_id = f.response_id(db, exam, SHORT)
    item = db.scalar(
        select(CheckItem).where(CheckItem.response_id == response_id, CheckItem.purpose == purpose)
    ) or items.add_item(
        db, exam, account(db, "lead"), response_id=response_id, purpose=purpose, value="2"
    )
    check = CheckMark(
        session_id=exam.id,
        group_id=grp.id,
        examiner_id=examiner.id,
        purpose=purpose,
        item_id=item.id,
        response_id=response_id,
        expected=item.value,
        claimed_at=T0,
        expires_at=T0 + dt.timedelta(minutes=20),
    )
    db.add(check)
    db.flush()
    return check


def test_held_checks_go_back_on_suspension_and_on_override(db: Session, made: Make) -> None:
    ql = made("QL-14")
    exam, lead, e1, e2, short = ql.exam, ql.lead, ql.e1, account(db, "e2"), ql.short
    short.qualification_size = 1
    seed = _held_check(db, exam, e1, short, CheckPurpose.SEED)
    qualifying = _held_check(db, exam, e2, short, CheckPurpose.QUALIFICATION)
    suspension.suspend(db, exam, lead, examiner=e1, group=short, reason="x", keep_marks=True)
    decisions.override_qualification(db, exam, lead, examiner=e2, group=short, reason="资深")
    db.refresh(seed)
    db.refresh(qualifying)
    assert (seed.state, qualifying.state) == (CheckState.RELEASED, CheckState.RELEASED)
    payloads = {
        e.kind: e.payload
        for e in db.scalars(select(LedgerEntry).where(LedgerEntry.session_id == exam.id))
    }
    assert payloads["suspension"]["checks_released"] == 1
    assert payloads["qualification_override"]["checks_released"] == 1
