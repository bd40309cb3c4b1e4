"""No sequence of legal actions leaves a session that can be neither published nor repaired
through the product (issue 9, item 2; issue 12's wrongly entered records).

A hypothesis state machine plays examiners, the lead, the deputy lead and the office on a
tiny session: claims, marks, flags, hands back, anomaly rulings, arbitrations, recusal
declarations before and after intake, a second batch, batch withdrawals, violations (some
naming an exam number in no batch), the lead's suspensions and reinstatements of examiners
(DESIGN §13), approval and publication. Whatever it reaches, a finishing strategy made of
product operations only (the examiners mark what is open, the lead or deputy rules, the
office assigns a reserve examiner or names another deputy when nobody else may, withdraws
what a late conflict taints and a record publication names as wrong, approves and publishes)
must publish the session, and `verify` must pass then.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import select
from sqlalchemy.orm import Session, SessionTransaction

from marking.audit.verify import verify
from marking.demo import synthetic
from marking.errors import MarkingError
from marking.intake.batch import withdraw_batch
from marking.intake.entries import withdraw_record
from marking.intake.records import record_violations
from marking.people.accounts import add_user, get_account
from marking.people.examiners import import_conflicts
from marking.publication.approvals import approval_status, approve_publication
from marking.publication.late_conflicts import LateConflicts, withdraw_late
from marking.publication.preconditions import PublicationRefused, open_work
from marking.publication.publish import publish
from marking.quality.suspension import reinstate, suspend
from marking.queue.claims import claim
from marking.queue.handback import flag, release
from marking.queue.lead import arbitrate, arbitration_tasks, open_anomalies, resolve_anomaly
from marking.queue.leases import DEFAULT_LEASE, expire_leases
from marking.queue.marks import submit_mark
from marking.setup.assignment import assign, name_deputy
from marking.store.models import (
    Account,
    Anomaly,
    AnomalyKind,
    AnomalyResolution,
    Arbitration,
    IntakeBatch,
    Lease,
    LeaseState,
    Mark,
    Response,
    Role,
    Script,
    SessionState,
    utcnow,
)
from tests.integration import factory as f

EXAMINERS = ("e1", "e2", "e3", "e4")
RESERVES = ("r1", "r2", "r3")  # examiners the office may still assign
RULERS = ("lead", "deputy")
DECLARERS = (*EXAMINERS, *RULERS)
# Marks far apart (the tolerance is 1), so third marks and arbitrations come often.
MARKS = st.sampled_from([Decimal(0), Decimal(3), Decimal(6)])


def one_question_paper(code: str) -> str:
    """The factory's tiny paper cut to its theory component: one examiner-marked question
    (group short, max 6, step 0.5, tolerance 1), so every action lands on a few responses."""
    text = f.tiny_toml(code, station=code).split('[[components]]\nkey = "skills"')[0]
    return re.sub(r'\[\[groups\]\]\nkey = "prac"\n[^\[]*', "", text)


# Sized to stay well under a minute on SQLite. Under CI the examples are derandomised (the
# same each run) and a failure is reported as found, unshrunk: shrinking a stateful example
# takes minutes, and a developer reruns it locally, where it shrinks.
CI = bool(os.environ.get("CI"))
SETTINGS = settings(
    max_examples=int(os.environ.get("BLINDMARK_WEDGE_EXAMPLES", "50")),
    stateful_step_count=30,
    deadline=None,
    derandomize=CI,
    phases=[Phase.explicit, Phase.reuse, Phase.generate] if CI else list(Phase),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


def rows(people: list[synthetic.SyntheticCandidate]) -> list[f.Row]:
    return [
        row
        for i, c in enumerate(people, start=1)
        for row in ((c.exam_no, "theory", "1", "A"), (c.exam_no, "theory", "2", f"{c.exam_no}"))
    ]


class World:
    """The accounts and the session as marking opens, made once for the test; each example
    runs in a savepoint rolled back after it."""

    def __init__(self, db: Session, folder: Path) -> None:
        self.db = db
        self.folder = folder
        self.counter = itertools.count(1)
        f.add_staff(db)
        add_user(db, "deputy", role=Role.LEAD)
        f.certify(db, "deputy")
        add_user(db, "lead2", role=Role.LEAD)
        f.certify(db, "lead2")
        f.add_examiners(db, folder, *EXAMINERS, *RESERVES)
        self.people = f.people(3, seed=9)
        self.exam, self.keys = f.new_session(db, folder, one_question_paper("W-1"), key_file=True)
        first = self.people[:2]
        f.take_in(db, self.exam, folder / "batch-1", first, rows(first))
        f.open_marking(db, self.exam, {"short": EXAMINERS})
        name_deputy(db, self.exam, "deputy", actor=f.ACTOR)


class SessionMachine(RuleBasedStateMachine):
    """One tiny session: two candidates in the first batch, a third that may come later."""

    def __init__(self, world: World) -> None:
        super().__init__()
        self.world = world
        self.db = world.db
        self.savepoint: SessionTransaction = self.db.begin_nested()
        self.tmp = world.folder / f"run-{next(world.counter)}"
        self.exam = world.exam
        self.keys = world.keys
        self.second_taken = False
        self.duplicate_taken = False
        self.expiries = 2
        self.last_withdrawal: int | None = None
        self.accounts: dict[str, Account] = {}

    # --- plumbing ----------------------------------------------------------------------------

    def attempt(self, action: Any, *args: Any, **kwargs: Any) -> Any:
        """Run one product action as a request would: refused means nothing of it stays."""
        step = self.db.begin_nested()
        try:
            result = action(*args, **kwargs)
        except MarkingError:
            step.rollback()
            return None
        step.commit()
        return result

    def account(self, username: str) -> Account:
        if username not in self.accounts:
            self.accounts[username] = get_account(self.db, username)
        return self.accounts[username]

    def held(self, username: str) -> list[int]:
        return list(
            self.db.scalars(
                select(Lease.response_id)
                .where(
                    Lease.examiner_id == self.account(username).id,
                    Lease.state == LeaseState.HELD,
                )
                .order_by(Lease.response_id)
            )
        )

    def live_batches(self) -> list[int]:
        return list(
            self.db.scalars(
                select(IntakeBatch.id).where(
                    IntakeBatch.session_id == self.exam.id, IntakeBatch.withdrawn_at.is_(None)
                )
            )
        )

    def take_in(self, people: list[synthetic.SyntheticCandidate], name: str) -> None:
        folder = self.tmp / name
        f.take_in(self.db, self.exam, folder, people, rows(people))

    # --- the session ---------------------------------------------------------------------------

    def teardown(self) -> None:
        try:
            report = verify(self.db, self.exam)  # the state reached agrees with its ledger
            assert report.ok, report.problems
            self.finish()
        finally:
            self.savepoint.rollback()

    # --- examiners ---------------------------------------------------------------------------

    @rule(who=st.sampled_from(EXAMINERS), size=st.integers(1, 3))
    def claim(self, who: str, size: int) -> None:
        self.attempt(claim, self.db, self.exam, self.account(who), size=size)

    @rule(who=st.sampled_from(EXAMINERS), value=MARKS)
    def claim_and_mark(self, who: str, value: Decimal) -> None:
        account = self.account(who)
        for item in self.attempt(claim, self.db, self.exam, account, size=1) or []:
            self.attempt(
                submit_mark,
                self.db,
                self.exam,
                account,
                response_id=item.response_id,
                value=value,
            )

    @rule(values=st.lists(MARKS, min_size=len(EXAMINERS), max_size=len(EXAMINERS)))
    def marking_round(self, values: list[Decimal]) -> None:
        """Each examiner in turn claims one response and marks it."""
        for who, value in zip(EXAMINERS, values, strict=True):
            self.claim_and_mark(who, value)

    @rule(who=st.sampled_from(EXAMINERS), pick=st.integers(0, 5), value=MARKS)
    def mark(self, who: str, pick: int, value: Decimal) -> None:
        held = self.held(who)
        if held:
            response_id = held[pick % len(held)]
            self.attempt(
                submit_mark,
                self.db,
                self.exam,
                self.account(who),
                response_id=response_id,
                value=value,
            )

    @rule(who=st.sampled_from(EXAMINERS), pick=st.integers(0, 5))
    def flag(self, who: str, pick: int) -> None:
        held = self.held(who)
        if held:
            self.attempt(
                flag,
                self.db,
                self.exam,
                self.account(who),
                response_id=held[pick % len(held)],
                kind=AnomalyKind.ILLEGIBLE,
                note="看不清",
            )

    @rule(who=st.sampled_from(EXAMINERS), pick=st.integers(0, 5))
    def hand_back(self, who: str, pick: int) -> None:
        held = self.held(who)
        if held:
            self.attempt(
                release, self.db, self.exam, self.account(who), response_id=held[pick % len(held)]
            )

    # --- the lead and the deputy -------------------------------------------------------------

    @rule(final=st.booleans(), value=MARKS)
    def rulings(self, final: bool, value: Decimal) -> None:
        """The lead, then the deputy, rule on everything in their inbox and arbitration list."""
        for who in RULERS:
            ruler = self.account(who)
            for anomaly in open_anomalies(self.db, self.exam, ruler=ruler):
                self.attempt(
                    resolve_anomaly,
                    self.db,
                    self.exam,
                    ruler,
                    anomaly_id=anomaly.id,
                    resolution=AnomalyResolution.FINAL if final else AnomalyResolution.REQUEUE,
                    note="组长处理",
                    value=value if final else None,
                )
            for task in arbitration_tasks(self.db, self.exam, ruler=ruler):
                self.attempt(
                    arbitrate, self.db, self.exam, ruler, response_id=task.response_id, value=value
                )

    # --- the office --------------------------------------------------------------------------

    @rule(who=st.sampled_from(DECLARERS), person=st.integers(0, 2))
    def declare_conflict(self, who: str, person: int) -> None:
        path = f.write_csv(
            self.tmp / f"conflicts-{who}-{person}.csv",
            ("username", "id_number", "relation"),
            [(who, self.world.people[person].id_number, "relative")],
        )
        self.attempt(import_conflicts, self.db, path, actor=f.ACTOR, session=self.exam)

    @rule(pick=st.integers(0, 20), ruled=st.booleans())
    def declare_conflict_on_work_done(self, pick: int, ruled: bool) -> None:
        """A declaration naming someone whose work is in: a marker or ruler and a candidate
        they marked or ruled on (the response text is the candidate's exam number); with
        ``ruled``, only work on responses the lead or deputy ruled on (where wedges hid)."""
        session = Script.session_id == self.exam.id
        ruled_on = select(Arbitration.response_id).union(
            select(Anomaly.response_id).where(Anomaly.final_value.is_not(None))
        )
        marked = (
            select(Account.username, Response.text, Response.id)
            .join(Mark, Mark.examiner_id == Account.id)
            .join(Response, Response.id == Mark.response_id)
        )
        arbitrated = (
            select(Account.username, Response.text, Response.id)
            .join(Arbitration, Arbitration.lead_id == Account.id)
            .join(Response, Response.id == Arbitration.response_id)
        )
        resolved = (
            select(Account.username, Response.text, Response.id)
            .join(Anomaly, Anomaly.resolved_by == Account.id)
            .join(Response, Response.id == Anomaly.response_id)
        )
        people = {p.exam_no: i for i, p in enumerate(self.world.people)}
        done: set[tuple[str, int]] = set()
        for query in (marked, arbitrated, resolved):
            query = query.join(Script, Script.id == Response.script_id).where(session)
            if ruled:
                query = query.where(Response.id.in_(ruled_on))
            done |= {(w, people[t]) for w, t, _r in self.db.execute(query) if t in people}
        if done:
            self.declare_conflict(*sorted(done)[pick % len(done)])

    @precondition(lambda self: not self.second_taken)
    @rule()
    def second_batch(self) -> None:
        self.second_taken = True
        self.attempt(self.take_in, self.world.people[2:], "batch-2")

    @precondition(lambda self: not self.duplicate_taken)
    @rule()
    def batch_with_a_candidate_again(self) -> None:
        """The first batch's first candidate comes again, by mistake, with a new one."""
        self.duplicate_taken = True
        again = [self.world.people[0], *f.people(1, seed=77, prefix="2888")]
        self.attempt(self.take_in, again, "batch-again")

    @rule(known=st.booleans())
    def record_a_violation(self, known: bool) -> None:
        """The office records a violation; sometimes its exam number is in no batch (issue
        12: that wedged publication until a record could be withdrawn)."""
        exam_no = self.world.people[0].exam_no if known else "2000000000000"
        path = f.write_csv(
            self.tmp / f"violations-{next(self.world.counter)}.csv",
            ("exam_no", "component", "action", "reason"),
            [(exam_no, "theory", "warning", "交头接耳")],
        )
        self.attempt(record_violations, self.db, self.exam, path, actor="office")

    @rule(who=st.sampled_from(EXAMINERS), keep=st.booleans())
    def lead_suspends(self, who: str, keep: bool) -> None:
        """DESIGN §13: the lead suspends an examiner on the group, their marks on what is
        not final withdrawn (or kept); suspending them all leaves the office to assign."""
        self.attempt(
            suspend,
            self.db,
            self.exam,
            self.account("lead"),
            examiner=self.account(who),
            group=self.exam.groups[0],
            reason="样卷偏差",
            keep_marks=keep,
        )

    @rule(who=st.sampled_from(EXAMINERS))
    def lead_reinstates(self, who: str) -> None:
        self.attempt(
            reinstate,
            self.db,
            self.exam,
            self.account("lead"),
            examiner=self.account(who),
            group=self.exam.groups[0],
            reason="恢复",
        )

    @rule()
    def leases_run_out(self) -> None:
        """Twenty minutes pass: every lease held runs out, the responses go back."""
        expire_leases(self.db, self.exam, now=utcnow() + DEFAULT_LEASE * self.expiries)
        self.expiries += 1

    @rule(who=st.sampled_from(("deputy", "lead2", "lead", "e1")))
    def name_another_deputy(self, who: str) -> None:
        self.attempt(name_deputy, self.db, self.exam, who, actor=f.ACTOR)

    @rule(pick=st.integers(0, 2))
    def withdraw(self, pick: int) -> None:
        batches = self.live_batches()
        if batches:
            self.attempt(
                withdraw_batch,
                self.db,
                self.exam,
                batches[pick % len(batches)],
                reason="收错了",
                actor=f.ACTOR,
            )

    @rule()
    def approve_and_publish(self) -> None:
        self.publish_once()

    # --- finishing with product operations only ----------------------------------------------

    def publish_once(self) -> bool:
        """Approve if need be, publish; on late conflicts withdraw as the office does."""
        db, exam = self.db, self.exam
        self.last_withdrawal = None
        if exam.state is SessionState.PUBLISHED:
            return True
        # R16: an approval is of the session as it stands; anything since voids it.
        if exam.state in (SessionState.MARKING, SessionState.RECONCILED) and (
            not approval_status(db, exam).current
        ):
            self.attempt(approve_publication, db, exam, self.account("director"))
        step = db.begin_nested()
        try:
            publish(db, exam, by="office", approved_by="director", key=self.keys.open(exam))
        except LateConflicts as late:
            step.rollback()
            self.last_withdrawal = self.attempt(withdraw_late, db, exam, late, actor="office")
            return False
        except PublicationRefused as refused:
            step.rollback()
            # The office withdraws the later of two batches holding the same candidate.
            twice = re.search(r"in batch \d+ and in batch (\d+)", str(refused))
            # A record naming no candidate of a batch: the office withdraws it (DESIGN §14).
            wrong = re.search(r"withdraw record (\d+)", str(refused))
            if wrong and not twice:
                self.last_withdrawal = (
                    self.attempt(
                        withdraw_record, db, exam, int(wrong[1]), reason="录错", actor="office"
                    )
                    and 0
                )
            if twice:
                self.last_withdrawal = (
                    self.attempt(
                        withdraw_batch, db, exam, int(twice[1]), reason="重复", actor="office"
                    )
                    and 0
                )
            return False
        step.commit()
        return True

    def finish(self) -> None:
        """The office, examiners and rulers finish the session; only a wedge stops them."""
        db, exam = self.db, self.exam
        reserves: Iterator[str] = iter(RESERVES)
        self.team = list(EXAMINERS)
        for round_ in range(40):
            if not self.live_batches():  # everything withdrawn: the office takes in anew
                self.take_in(f.people(1, seed=100 + round_, prefix="2777"), f"fresh-{round_}")
            if self.work():
                continue
            if self.publish_once():
                report = verify(db, exam)
                assert report.ok, report.problems
                return
            if self.last_withdrawal is not None:  # late conflicts were withdrawn: work again
                continue
            problems = "\n".join(open_work(db, exam))
            if "deputy" in problems and exam.deputy_id != self.account("lead2").id:
                name_deputy(db, exam, "lead2", actor="office")
                continue
            reserve = next(reserves, None)
            if reserve is not None and "still need marks" in problems:
                for group in exam.groups:
                    assign(db, exam, group, [reserve], actor="office")
                self.team.append(reserve)
                continue
            break
        raise AssertionError(
            "the session is wedged: the finishing strategy could not publish it\n"
            + "\n".join(open_work(db, exam))
        )

    def work(self) -> bool:
        """Everyone does what is open to them once; True if anything was done."""
        db, exam = self.db, self.exam
        progress = False
        for who in self.team:
            account = self.account(who)
            items = self.held(who)
            items += [c.response_id for c in self.attempt(claim, db, exam, account, size=10) or []]
            for response_id in items:
                done = self.attempt(
                    submit_mark, db, exam, account, response_id=response_id, value=Decimal(2)
                )
                progress = progress or done is not None
        for ruler_id in (exam.lead_id, exam.deputy_id):
            ruler = db.get(Account, ruler_id) if ruler_id is not None else None
            if ruler is None:
                continue
            for anomaly in open_anomalies(db, exam, ruler=ruler):
                resolved = self.attempt(
                    resolve_anomaly,
                    db,
                    exam,
                    ruler,
                    anomaly_id=anomaly.id,
                    resolution=AnomalyResolution.REQUEUE,
                    note="退回",
                )
                progress = progress or resolved is not None
            for task in arbitration_tasks(db, exam, ruler=ruler):
                ruled = self.attempt(
                    arbitrate, db, exam, ruler, response_id=task.response_id, value=Decimal(2)
                )
                progress = progress or ruled is not None
        return progress


def test_no_sequence_of_legal_actions_wedges_a_session(db: Session, tmp_path: Path) -> None:
    world = World(db, tmp_path)
    run_state_machine_as_test(lambda: SessionMachine(world), settings=SETTINGS)
