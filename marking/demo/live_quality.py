"""Quality control (DESIGN §13) in the web demo's live session, made with the engine's
services so that a newcomer meets each part of it by logging in as the right account.

- Every group has seeds and 回评 on (the defaults: 1 in 20 and 1 in 100 of the responses
  handed to each examiner in each group); 简答题 (``short``) turns them up to 1 in 10 and
  1 in 20 so that a session this small shows a drift alarm and some 回评.
- 计算题 (``calc``) asks for a qualification set of three responses (``within = 0.66``:
  two of three within tolerance), which the demo lead builds with a definitive mark and a
  note on each (``marking.quality.items.add_item``) before approving the scheme.
- ``exam001`` takes the set and qualifies; ``exam002`` has not taken it yet, so logging in
  as ``exam002`` shows the qualification screen (资格测试) before any live work there.
- Then the simulation (``marking.demo.simulate``) marks part of the session: first
  ``exam001`` and ``exam003``, steady, until the simulated lead has picked a few seeds
  among the 简答题 responses they completed (claims fill the first group first, so they
  mark little else), two rounds at most: the queue's order differs in every run, and a
  third round could leave the severe examiner too little live work for the three seeds
  beyond tolerance an alarm needs (seen in about 1 run in 12); then ``exam004``, assigned
  to 简答题 only and simulated as a severe examiner, until the seeds mixed into their
  claims raise a drift alarm. The rest is left open to mark.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from marking.demo import quality, standards
from marking.demo.behaviour import Behaviour, SimulatedExaminer, SimulationReport, true_mark
from marking.demo.simulate import simulate
from marking.quality import items
from marking.setup.assignment import get_group
from marking.setup.sessions import get_session
from marking.store.db import transaction
from marking.store.models import (
    Account,
    CheckAlarm,
    CheckItem,
    CheckMark,
    CheckPurpose,
    Question,
    Response,
)

#: The live session's quality control, as session.toml lines per group.
GROUP_LINES = {
    "short": ("seed_rate = 0.1", "remark_rate = 0.05"),
    "calc": ("qualification = { size = 3, within = 0.66 }",),
}
ALARM_GROUP = "short"  # the first group claims fill: marked first
QUALIFYING_GROUP = "calc"
QUALIFIED = "exam001"  # took the set and qualified
NOT_YET = "exam002"  # meets the qualification screen on logging in
STEADY = ("exam001", "exam003")
SEVERE = "exam004"  # marks 简答题 only, every mark this far below the true one
SEVERE_BY = Decimal(-8)
SEED = 2026  # the simulation's true marks: the lead's definitive marks use the same
SEEDS_BEFORE = 3  # seeds the lead has picked before the severe examiner starts
STEADY_ROUNDS = 2  # the steady stretch's bound: 40 marks, leaving the severe one 简答题's rest
MAX_ROUNDS = 40  # a bound on each simulated stretch, whatever the queue's order


@dataclass
class Shown:
    """What the demo made, for the printed guide."""

    qualified: bool = False
    alarms: list[str] = field(default_factory=list)  # alarm kinds raised on SEVERE
    checks: dict[str, int] = field(default_factory=dict)  # purpose → checks marked
    seeds: int = 0
    marks: int = 0


def assignments(examiners: list[str], group_key: str) -> list[str]:
    """Who marks a group of the live session: everyone on the alarm group, all but the
    severe examiner elsewhere."""
    return examiners if group_key == ALARM_GROUP else [u for u in examiners if u != SEVERE]


def build_qualification_set(engine: Engine, code: str, lead_name: str) -> None:
    """The demo lead picks three responses of 计算题 and gives each a definitive mark (the
    simulation's true mark) with a note an examiner reads after a failed attempt."""
    with transaction(engine) as db:
        exam = get_session(db, code)
        group = get_group(db, exam, QUALIFYING_GROUP)
        lead = db.scalar(select(Account).where(Account.username == lead_name))
        assert lead is not None and group.qualification_size is not None
        pool = list(
            db.scalars(
                select(Response.id).where(Response.group_id == group.id).order_by(Response.id)
            )
        )
        for response_id in random.Random(SEED).sample(pool, group.qualification_size):
            response = db.get(Response, response_id)
            assert response is not None
            question = db.get(Question, response.question_id)
            assert question is not None
            value = true_mark(SEED, response_id, question.max, question.step)
            items.add_item(
                db,
                exam,
                lead,
                response_id=response_id,
                purpose=CheckPurpose.QUALIFICATION,
                value=value,
                note=_note(value, question.max),
            )


def _note(value: Decimal, maximum: Decimal) -> str:
    share = value / maximum
    if share >= Decimal("0.8"):
        return f"给 {value} 分：要点齐全，步骤和结论正确；个别表述不规范不扣分。"
    if share >= Decimal("0.5"):
        return f"给 {value} 分：主要要点答到，缺安全措施或结论不完整，按评分标准扣分。"
    return f"给 {value} 分：只答到个别要点，步骤缺失；字数多不等于要点多。"


def qualify(engine: Engine, code: str) -> bool:
    """``exam001`` takes the qualification set, marking close to the definitive marks."""
    with transaction(engine) as db:
        exam = get_session(db, code)
        account = db.scalar(select(Account).where(Account.username == QUALIFIED))
        assert account is not None
        sim = SimulatedExaminer(account.id, account.username, severity=0.0, noise=0.03)
        standards.take_qualification(
            db, exam, account, sim, seed=SEED, rng=random.Random(SEED), report=SimulationReport()
        )
        group = get_group(db, exam, QUALIFYING_GROUP)
        return quality.qualification_state(db, exam, account, group).qualified


def mark_some(engine: Engine, code: str) -> Shown:
    """The steady examiners mark until the lead has seeds to mix in, then the severe one
    until a drift alarm is raised; what they left stays open."""
    shown = Shown(qualified=qualify(engine, code))
    first = simulate(
        engine,
        code,
        seed=SEED,
        batch=10,
        only=STEADY,
        until=_bounded(lambda _r: _seeds(engine, code), rounds=STEADY_ROUNDS),
    )
    second = simulate(
        engine,
        code,
        seed=SEED,
        batch=10,
        only=(SEVERE,),
        behaviours={SEVERE: Behaviour(offset=SEVERE_BY)},
        until=_bounded(lambda r: bool(r.alarms)),
    )
    shown.alarms = [a.kind.value for a in second.alarms]
    shown.marks = first.marks + second.marks
    with transaction(engine) as db:
        exam = get_session(db, code)
        shown.seeds = (
            db.scalar(
                select(func.count()).where(
                    CheckItem.session_id == exam.id, CheckItem.purpose == CheckPurpose.SEED
                )
            )
            or 0
        )
        for purpose, n in db.execute(
            select(CheckMark.purpose, func.count())
            .where(CheckMark.session_id == exam.id)
            .group_by(CheckMark.purpose)
        ):
            shown.checks[purpose.value] = n
        shown.alarms = [
            kind.value
            for kind in db.scalars(select(CheckAlarm.kind).where(CheckAlarm.session_id == exam.id))
        ]
    return shown


def _bounded(
    done: Callable[[SimulationReport], bool], *, rounds: int = MAX_ROUNDS
) -> Callable[[SimulationReport], bool]:
    return lambda r: r.rounds >= rounds or done(r)


def _seeds(engine: Engine, code: str) -> bool:
    """Whether the lead has picked enough seeds of the alarm group for the severe examiner."""
    with transaction(engine) as db:
        group = get_group(db, get_session(db, code), ALARM_GROUP)
        return items.active_count(db, group, CheckPurpose.SEED) >= SEEDS_BEFORE


def guide(code: str, lead: str, shown: Shown, echo: Callable[[str], None]) -> None:
    """Which account shows which part of quality control in the live session."""
    checks = ", ".join(f"{n} {purpose}" for purpose, n in sorted(shown.checks.items()))
    alarms = ", ".join(sorted(set(shown.alarms))) or "none raised this time"
    echo(f"quality control in {code} (DESIGN §13; {shown.marks} marks simulated, the rest open):")
    echo(
        f"  {NOT_YET}   资格测试 on 计算题: the qualification set (3 responses, 2 within "
        "tolerance) before any live work there; other groups open"
    )
    qualified = "qualified on 计算题's set" if shown.qualified else "took 计算题's set"
    echo(f"  {QUALIFIED}   {qualified}; marks live in every group (seeds arrive unannounced)")
    echo(
        f"  {SEVERE}   简答题 only, simulated severe ({SEVERE_BY} on every mark): "
        f"drift alarm {alarms}"
    )
    echo(
        f"  {lead}  /lead/sessions/{code}/quality/: the qualification set with notes, "
        f"{shown.seeds} seeds, the alarm inbox with its evidence, suspend and reinstate"
    )
    echo(
        f"  {' ' * len(lead)}  /lead/sessions/{code}/monitoring: each examiner's marks, "
        "severity, agreement, seeds, 回评 and alarms"
    )
    echo(f"  checks marked so far: {checks or 'none'}")
