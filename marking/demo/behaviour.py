"""How a simulated examiner marks: steady, biased (`--bias`), erratic (`--erratic`) or
drifting (`--drift`), and what a simulation records; pure, tested without a database.

A steady examiner gives the response's true mark plus their own seeded severity and noise
(``SimulatedExaminer``). A biased one adds a fixed offset to every mark, a drifting one
adds it only after a number of marks (every mark they give counts: live, seed, 回评 and
qualification alike, since they cannot tell them apart), and the result is clipped to
[0, max] and rounded half-up to the question's step. An erratic one marks at random, any
step of [0, max] as likely as another. The random source is passed in, so a seed
reproduces a run.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from marking.errors import MarkingError
from marking.store.models.checks import AlarmKind


@dataclass(frozen=True)
class Behaviour:
    """What a simulated examiner does beyond their seeded severity and noise."""

    offset: Decimal = Decimal(0)  # added to every mark (--bias)
    erratic: bool = False  # marks at random (--erratic)
    drift_after: int | None = None  # steady for this many marks, then drift_offset added
    drift_offset: Decimal = Decimal(0)

    def offset_at(self, made: int) -> Decimal:
        """What is added to the mark given after ``made`` earlier marks."""
        drifting = self.drift_after is not None and made >= self.drift_after
        return self.offset + (self.drift_offset if drifting else Decimal(0))

    def drifting(self, made: int) -> bool:
        return self.drift_after is not None and made >= self.drift_after


STEADY = Behaviour()


@dataclass(frozen=True)
class SeedRecord:
    """A seed a simulated examiner marked: the definitive mark and theirs."""

    group: str  # the group's key
    made: int  # marks they had given before this one
    expected: Decimal
    given: Decimal


@dataclass
class SimulatedExaminer:
    account_id: int
    username: str
    severity: float  # fraction of the question's maximum, added to every mark
    noise: float  # standard deviation, as a fraction of the maximum
    behaviour: Behaviour = STEADY
    made: int = 0  # marks given so far in this run: live ones and checks
    seeds: list[SeedRecord] = field(default_factory=list)
    settled: set[int] = field(default_factory=set)  # groups qualified in, or given up on
    last_alarm: int = 0  # the newest alarm of theirs already reported

    def mark(self, quality: float, maximum: Decimal, step: Decimal, rng: random.Random) -> Decimal:
        """Their next mark on a response of true ``quality`` (counted for --drift)."""
        value = give_mark(
            quality=quality,
            maximum=maximum,
            step=step,
            severity=self.severity,
            noise=self.noise,
            behaviour=self.behaviour,
            made=self.made,
            rng=rng,
        )
        self.made += 1
        return value


@dataclass(frozen=True)
class RaisedAlarm:
    """A drift alarm a simulated examiner raised, and when: after how many of their seeds
    in the group, and after how many marks in all (for --drift: before or after AFTER)."""

    examiner: str
    group: str  # the group's key
    kind: AlarmKind
    seeds: int
    marks: int


@dataclass
class SimulationReport:
    marks: int = 0
    third_marks: int = 0
    flags: int = 0
    arbitrations: int = 0
    resolved: int = 0
    rounds: int = 0
    stuck: list[str] = field(default_factory=list)
    # Quality control (DESIGN §13), where the session asks for it and the build has it.
    items: int = 0  # qualification items and seeds the simulated lead made
    checks: dict[str, int] = field(default_factory=dict)  # purpose → check marks given
    qualified: int = 0  # examiner × group qualifications passed
    unqualified: list[str] = field(default_factory=list)  # "examiner/group": gave up
    awaiting_approval: list[str] = field(default_factory=list)  # set built, scheme not approved
    alarms: list[RaisedAlarm] = field(default_factory=list)
    examiners: list[SimulatedExaminer] = field(default_factory=list)  # as they ended


def latent_quality(seed: int, response_id: int) -> float:
    """A response's true quality in [0, 1], the same for every examiner who sees it."""
    digest = hashlib.sha256(f"{seed}:{response_id}".encode()).digest()
    u: float = int.from_bytes(digest[:8], "big") / 2**64
    shaped: float = 0.25 + 0.75 * u**0.6
    return min(1.0, max(0.0, shaped))


def true_mark(seed: int, response_id: int, maximum: Decimal, step: Decimal) -> Decimal:
    """The response's true mark: what the simulated lead gives as definitive."""
    return on_step(float(maximum) * latent_quality(seed, response_id), step, maximum)


def on_step(value: float | Decimal, step: Decimal, maximum: Decimal) -> Decimal:
    """``value`` rounded half-up to a multiple of ``step``, clipped to [0, maximum]."""
    steps = (Decimal(str(value)) / step).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return min(maximum, max(Decimal(0), steps * step))


def give_mark(
    *,
    quality: float,
    maximum: Decimal,
    step: Decimal,
    severity: float,
    noise: float,
    behaviour: Behaviour,
    made: int,
    rng: random.Random,
) -> Decimal:
    """The mark a simulated examiner gives a response of true ``quality`` (0..1) after
    ``made`` earlier marks; ``severity`` and ``noise`` are fractions of the maximum.

    A steady examiner draws one gauss from ``rng`` per mark (as the simulation always
    did, so runs without the new options reproduce the old marks); an erratic one draws
    one integer instead."""
    if behaviour.erratic:
        return step * rng.randint(0, int(maximum / step))
    raw = Decimal(str(float(maximum) * (quality + severity + rng.gauss(0.0, noise))))
    return on_step(raw + behaviour.offset_at(made), step, maximum)


def parse_behaviours(
    *, bias: Iterable[str] = (), erratic: Iterable[str] = (), drift: Iterable[str] = ()
) -> dict[str, Behaviour]:
    """username → behaviour from the command line's ``--bias USER=OFFSET``, ``--erratic USER``
    and ``--drift USER=AFTER:OFFSET`` (each repeatable).

    Raises MarkingError (coded) for a value not in that form, an offset that is not a
    finite number of marks, an AFTER that is not a whole number ≥ 0, or an examiner named
    more than once (one behaviour each)."""
    found: dict[str, Behaviour] = {}

    def put(user: str, behaviour: Behaviour) -> None:
        if user in found:
            raise MarkingError.coded(
                "simulate_named_twice",
                "%(user)s is named more than once in --bias, --erratic and --drift: "
                "give each simulated examiner one behaviour",
                user=user,
            )
        found[user] = behaviour

    for value in bias:
        user, _, offset = value.partition("=")
        number = _marks(offset)
        if not user.strip() or number is None:
            raise MarkingError.coded(
                "simulate_bad_bias",
                "--bias %(value)s: write USER=OFFSET, the offset a number of marks "
                "(for example exam01=-2 or exam01=1.5)",
                value=value,
            )
        put(user.strip(), Behaviour(offset=number))
    for value in erratic:
        if not value.strip() or "=" in value:
            raise MarkingError.coded(
                "simulate_bad_erratic",
                "--erratic %(value)s: write the examiner's username (for example exam01)",
                value=value,
            )
        put(value.strip(), Behaviour(erratic=True))
    for value in drift:
        user, _, rest = value.partition("=")
        after, _, offset = rest.partition(":")
        number = _marks(offset)
        if not user.strip() or not after.strip().isdigit() or number is None:
            raise MarkingError.coded(
                "simulate_bad_drift",
                "--drift %(value)s: write USER=AFTER:OFFSET, AFTER a whole number of marks "
                "and OFFSET a number of marks (for example exam01=30:-3)",
                value=value,
            )
        put(user.strip(), Behaviour(drift_after=int(after), drift_offset=number))
    return found


def _marks(text: str) -> Decimal | None:
    """A finite decimal number of marks, or None."""
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None
