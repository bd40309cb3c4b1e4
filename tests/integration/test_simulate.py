"""`blindmark simulate` with examiners of known faults (DESIGN §13, issue 13's proof):
biased, erratic and drifting examiners mark as told in a real run; where the session asks
for quality control the simulated lead builds the qualification set and the seeds, the
examiners take the qualification and mark the checks, and the drift alarms come exactly
where the rule says, from the faulty examiners only.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marking.demo.behaviour import (
    Behaviour,
    SeedRecord,
    SimulationReport,
    parse_behaviours,
    true_mark,
)
from marking.demo.simulate import simulate
from marking.errors import NotFound
from marking.people.accounts import get_account
from marking.setup.assignment import approve_scheme, assign
from marking.setup.sessions import get_session
from marking.store.db import transaction
from marking.store.models import (
    AlarmKind,
    CheckMark,
    CheckPurpose,
    Mark,
    Response,
    ResponseState,
    SessionState,
)
from marking.store.schema import upgrade
from tests.conftest import FreshDatabase
from tests.integration import factory as f

# One examiner-marked question, max 10 in steps of 1, tolerance 2 (a fifth of the range,
# as the demo paper's questions have); true marks are 3..10 (latent quality ≥ 0.25).
TOLERANCE = Decimal(2)
TOML = """\
[session]
code = "{code}"
occupation = "电工"
occupation_code = "6-31-01-03"
level = 3
date = "2026-12-05"
station = "S-{code}"

[[groups]]
key = "prac"
name = "实操题"
marks_required = 2
{group}

[[components]]
key = "theory"
name = "理论知识"

[[components.questions]]
number = "1"
bank_item = "T-0001"
type = "single_choice"
max = 2
answer = "A"

[[components]]
key = "skills"
name = "操作技能"

[[components.questions]]
number = "1"
bank_item = "S-0001"
type = "practical"
max = 10
step = 1
tolerance = 2
group = "prac"
"""
# Seeded so the steady examiners lean by at most 0.3 marks with noise at most 0.7 (checked
# below), s1 and s2 by at most 0.1 with noise at most 0.53, the least the simulation draws
# (0.5): the rule expects nothing of them, and their seeds stay clear of it on every
# queue order the run may take.
SEED = 2804


@pytest.fixture
def committed(fresh_db: FreshDatabase) -> FreshDatabase:
    upgrade(fresh_db.engine)
    return fresh_db


def make_session(
    committed: FreshDatabase,
    folder: Path,
    code: str,
    *,
    n: int,
    examiners: Sequence[str],
    group: str = "",
    approve: bool = True,
) -> None:
    """``n`` candidates, each answering the practical question (text ``c<i> skills``)."""
    with transaction(committed.engine) as db:
        f.add_staff(db)
        f.add_examiners(db, folder, *examiners)
        exam, _keys = f.new_session(db, folder, TOML.format(code=code, group=group))
        roster = f.people(n, seed=5)
        rows = [(c.exam_no, "theory", "1", "A") for c in roster] + [
            (c.exam_no, "skills", "1", f"c{i} skills") for i, c in enumerate(roster, start=1)
        ]
        f.take_in(db, exam, folder / "batch", roster, rows)
        prac = next(g for g in exam.groups if g.key == "prac")
        assign(db, exam, prac, list(examiners), actor=f.ACTOR, lead="lead")
        if approve:
            approve_scheme(db, exam, prac, by="lead")


def assert_steady(report: SimulationReport, *usernames: str) -> None:
    """The seed gave these examiners a small lean and noise: steady, as the test needs."""
    for sim in report.examiners:
        if sim.username in usernames:
            assert abs(sim.severity) * 10 <= 0.3 and sim.noise <= 0.07, sim
            if sim.username in ("s1", "s2"):
                assert abs(sim.severity) * 10 <= 0.11 and sim.noise <= 0.053, sim


def deviations(db: Session, username: str) -> list[Decimal]:
    """Each mark the examiner gave minus the response's true mark."""
    account = get_account(db, username)
    rows = db.execute(select(Mark.response_id, Mark.value).where(Mark.examiner_id == account.id))
    return [value - true_mark(SEED, rid, Decimal(10), Decimal(1)) for rid, value in rows]


# --- runnable on any build -----------------------------------------------------------------


def test_biased_and_erratic_examiners_mark_as_told_in_a_real_run(
    committed: FreshDatabase, tmp_path: Path
) -> None:
    make_session(
        committed,
        tmp_path,
        "SIM-1",
        n=40,
        examiners=("b1", "s1", "s2", "x1"),
        group="seed_rate = 0\nremark_rate = 0",
    )
    behaviours = parse_behaviours(bias=["b1=-4"], erratic=["x1"])
    report = simulate(committed.engine, "SIM-1", seed=SEED, batch=4, behaviours=behaviours)
    assert report.stuck == []
    assert_steady(report, "s1", "s2")
    with transaction(committed.engine) as db:
        assert get_session(db, "SIM-1").state is SessionState.RECONCILED
        steady = deviations(db, "s1") + deviations(db, "s2")
        severe = deviations(db, "b1")
        erratic = deviations(db, "x1")
    assert severe and erratic and steady

    def mean(xs: list[Decimal]) -> float:
        return float(sum(xs)) / len(xs)

    def off(xs: list[Decimal]) -> float:
        return sum(abs(x) > TOLERANCE for x in xs) / len(xs)

    assert abs(mean(steady)) < 0.5 and off(steady) < 0.05
    # -4, less where the clip at 0 bites (true marks of 3 give -3).
    assert -4.5 < mean(severe) < -3
    assert off(erratic) > 0.3  # uniform on 0..10: beyond 2 of the true mark about half the time
    assert max(erratic) - min(erratic) >= 8


def test_an_unknown_examiner_or_a_bad_value_is_refused_by_name(
    committed: FreshDatabase, tmp_path: Path
) -> None:
    make_session(committed, tmp_path, "SIM-2", n=3, examiners=("e1", "e2", "e3"))
    with pytest.raises(NotFound) as unknown:
        simulate(committed.engine, "SIM-2", behaviours={"e9": Behaviour(erratic=True)})
    assert unknown.value.code == "simulate_unknown_examiner"
    assert str(unknown.value) == (
        "e9 is not an examiner of session SIM-2 (its examiners: e1, e2, e3)"
    )
    url = committed.url
    bad = f.run_cli(url, "simulate", "--session", "SIM-2", "--bias", "e1")
    assert bad.exit_code == 1
    assert "error: --bias e1: write USER=OFFSET" in bad.output
    bad = f.run_cli(url, "simulate", "--session", "SIM-2", "--drift", "e1=ten:-2")
    assert bad.exit_code == 1 and "--drift e1=ten:-2: write USER=AFTER:OFFSET" in bad.output
    twice = f.run_cli(url, "simulate", "--session", "SIM-2", "--erratic", "e1", "--bias", "e1=2")
    assert twice.exit_code == 1 and "e1 is named more than once" in twice.output
    unknown_cli = f.run_cli(url, "simulate", "--session", "SIM-2", "--erratic", "e9")
    assert unknown_cli.exit_code == 3
    assert "e9 is not an examiner of session SIM-2" in unknown_cli.output
    with transaction(committed.engine) as db:  # nothing was marked by the refused runs
        assert db.scalar(select(func.count()).select_from(Mark)) == 0

    done = f.run_cli(
        url, "simulate", "--session", "SIM-2", "--seed", "4", "--bias", "e1=-2", "--erratic", "e2"
    )
    assert done.exit_code == 0, done.output
    assert done.output.startswith("simulated ") and "third marks" in done.output
    with transaction(committed.engine) as db:
        assert get_session(db, "SIM-2").state is SessionState.RECONCILED


# --- with the quality services (issue 13) --------------------------------------------------


def first_seed_the_rule_implies(seeds: list[SeedRecord], kind: AlarmKind) -> int | None:
    """The drift rule (DESIGN §13), recomputed from the simulation's own record of the
    examiner's seeds: the number of seeds after which it first holds, or None."""
    for n in range(1, len(seeds) + 1):
        window = [(s.given - s.expected) / TOLERANCE for s in seeds[max(0, n - 10) : n]]
        if kind is AlarmKind.SEEDS_OFF and sum(abs(d) > 1 for d in window) >= 3:
            return n
        biased = len(window) >= 5 and abs(sum(window) / len(window)) > Decimal("0.5")
        if kind is AlarmKind.SEED_BIAS and biased:
            return n
    return None


def test_drifting_erratic_and_biased_examiners_raise_alarms_within_the_seeds_the_rule_implies(
    committed: FreshDatabase, tmp_path: Path
) -> None:
    """How many seeds the rule implies (tolerance 2, marks 0..10 in steps of 1, true marks
    3..10; the rule: SEEDS_OFF when ≥ 3 of the last 10 seeds are beyond tolerance,
    SEED_BIAS when |mean(deviation / tolerance)| > 1/2 over the last 10, at least 5):

    - b1, ``--bias b1=-6``: every seed is beyond tolerance (6 below, or clipped at 0: at
      least 3 below; back within 2 only if lean + noise exceed 3.5 marks, > 4 sd), so
      SEEDS_OFF at exactly the 3rd seed and SEED_BIAS (mean ≤ -1.5) at exactly the 5th.
    - d1, ``--drift d1=40:-6``: steady (as s1, s2) for 40 marks, then the same: SEEDS_OFF at
      the 3rd seed after the drift begins at the latest, SEED_BIAS by the 4th (with the
      steady seeds still in the window of 10: 4 × -1.5 / 10 < -0.5; typically the 2nd,
      2 × -3 / 10), and neither before.
    - x1, ``--erratic x1``: uniform on 0..10, within 2 of a true mark of 3..10 on at most
      5 of 11 marks, so each seed is beyond tolerance with probability ≥ 6/11: SEEDS_OFF
      after 3/p ≈ 5.5 seeds on average; the examiner's seeds are random, so the test
      checks the alarm against the rule recomputed from them, and that it came.
    - s1, s2: lean ≤ 0.1, noise ≤ 0.53 marks (the seed): a seed beyond tolerance needs
      > 3.5 sd, a mean beyond 1 mark over 5 seeds (with rounding to whole marks) > 3.5 sd
      too: no alarm. (Which responses and seeds each examiner meets varies from run to run
      with the queue's random order; with the leaner, noisier examiners of the previous
      seed, s1's mean over 5 seeds went beyond a mark in about 1 run in 20.)

    And in every case the alarm comes at the very seed the recomputed rule first holds.
    Sized to be quick (≈ 2 s on SQLite, 3-5 s on PostgreSQL) yet long enough: 100
    responses, seed_rate 0.5 (a seed in every 2 live responses: each examiner marks ≈ 20
    seeds, d1 ≈ 10 before the drift), 回评 at 0.1, claims of 2.
    """
    make_session(
        committed,
        tmp_path,
        "SIM-3",
        n=160,  # enough work that d1 meets several seeds after the drift at 40
        examiners=("b1", "d1", "s1", "s2", "x1"),
        group="seed_rate = 0.5\nremark_rate = 0.1",
    )
    behaviours = parse_behaviours(bias=["b1=-6"], erratic=["x1"], drift=["d1=40:-6"])
    report = simulate(committed.engine, "SIM-3", seed=SEED, batch=2, behaviours=behaviours)
    assert report.stuck == []
    assert_steady(report, "s1", "s2", "d1")
    assert report.items > 0 and report.checks.get("seed", 0) > 0
    assert report.checks.get("remark", 0) > 0  # 回评 come back and are marked too
    sims = {sim.username: sim for sim in report.examiners}
    raised = {(a.examiner, a.kind): a for a in report.alarms}

    for username in ("b1", "d1", "x1", "s1", "s2"):
        for kind in AlarmKind:
            implied = first_seed_the_rule_implies(sims[username].seeds, kind)
            alarm = raised.get((username, kind))
            assert (alarm.seeds if alarm else None) == implied, (username, kind)

    assert not any(a.examiner in ("s1", "s2") for a in report.alarms)
    assert raised["b1", AlarmKind.SEEDS_OFF].seeds == 3
    assert raised["b1", AlarmKind.SEED_BIAS].seeds == 5
    assert ("x1", AlarmKind.SEEDS_OFF) in raised and len(sims["x1"].seeds) >= 10
    steady_seeds = sum(1 for s in sims["d1"].seeds if s.made < 40)
    assert steady_seeds >= 1
    for kind, most in ((AlarmKind.SEEDS_OFF, 3), (AlarmKind.SEED_BIAS, 4)):
        alarm = raised["d1", kind]
        assert alarm.marks > 40  # raised after the drift began, never before
        assert 1 <= alarm.seeds - steady_seeds <= most

    with transaction(committed.engine) as db:
        seeds = db.scalar(
            select(func.count())
            .select_from(CheckMark)
            .where(CheckMark.purpose == CheckPurpose.SEED, CheckMark.value.is_not(None))
        )
        assert seeds == report.checks["seed"]
        unfinished = db.scalar(
            select(func.count())
            .select_from(Response)
            .where(Response.group_id.is_not(None), Response.state != ResponseState.FINAL)
        )
        assert unfinished == 0


def test_the_simulated_lead_builds_the_qualification_set_and_the_examiners_take_it(
    committed: FreshDatabase, tmp_path: Path
) -> None:
    """A set of 5, passed at 0.8: the steady examiners (lean ≤ 0.3, noise ≤ 0.7) are
    within 2 on every item; b1 at -6 on none, fails three times and is left out; the
    others mark everything."""
    make_session(
        committed,
        tmp_path,
        "SIM-4",
        n=20,
        examiners=("b1", "s1", "s2", "s3"),
        group="qualification = { size = 5, within = 0.8 }\nseed_rate = 0\nremark_rate = 0",
        approve=False,
    )
    behaviours = parse_behaviours(bias=["b1=-6"])
    first = simulate(committed.engine, "SIM-4", seed=SEED, batch=4, behaviours=behaviours)
    assert first.items == 5 and first.awaiting_approval == ["prac"] and first.marks == 0
    with transaction(committed.engine) as db:
        exam = get_session(db, "SIM-4")
        approve_scheme(db, exam, next(g for g in exam.groups if g.key == "prac"), by="lead")

    report = simulate(committed.engine, "SIM-4", seed=SEED, batch=4, behaviours=behaviours)
    assert report.stuck == []
    assert_steady(report, "s1", "s2", "s3")
    assert report.qualified == 3 and report.unqualified == ["b1/prac"]
    assert report.checks == {"qualification": 3 * 5 + 3 * 5}  # 3 passes, b1's 3 attempts
    with transaction(committed.engine) as db:
        b1 = get_account(db, "b1")
        assert db.scalar(select(func.count()).where(Mark.examiner_id == b1.id)) == 0
        attempts = db.scalars(
            select(CheckMark.attempt).where(CheckMark.examiner_id == b1.id).distinct()
        ).all()
        assert sorted(attempts) == [1, 2, 3]
        assert get_session(db, "SIM-4").state is SessionState.RECONCILED
