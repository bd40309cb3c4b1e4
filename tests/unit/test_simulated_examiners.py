"""The simulated examiners' mark models (`blindmark simulate --bias/--erratic/--drift`,
DESIGN §13) and how the command line's values are read: pure, no database."""

from __future__ import annotations

import random
from decimal import Decimal

import pytest

from marking.demo.behaviour import (
    STEADY,
    Behaviour,
    SimulatedExaminer,
    give_mark,
    latent_quality,
    on_step,
    parse_behaviours,
    true_mark,
)
from marking.demo.standards import SEED_MARGIN, seeds_wanted
from marking.errors import MarkingError

TEN, ONE, HALF = Decimal(10), Decimal(1), Decimal("0.5")


class Still(random.Random):
    """A random source whose gauss is always 0: the examiner's mark is their lean alone."""

    def gauss(self, mu: float = 0.0, sigma: float = 1.0) -> float:
        return mu


def examiner(behaviour: Behaviour = STEADY, *, severity: float = 0.0) -> SimulatedExaminer:
    return SimulatedExaminer(1, "e1", severity=severity, noise=0.07, behaviour=behaviour)


def marks(sim: SimulatedExaminer, qualities: list[float], seed: int = 5) -> list[Decimal]:
    rng = random.Random(seed)
    return [sim.mark(q, TEN, ONE, rng) for q in qualities]


QUALITIES = [latent_quality(3, i) for i in range(400)]


def test_a_steady_examiner_marks_as_the_simulation_always_did() -> None:
    """Same draws, same marks: a run without the new options reproduces the old one."""
    rng_old, rng_new = random.Random(9), random.Random(9)
    for q in QUALITIES[:100]:
        old = on_step(float(TEN) * (q + 0.03 + rng_old.gauss(0.0, 0.07)), HALF, TEN)
        new = give_mark(
            quality=q,
            maximum=TEN,
            step=HALF,
            severity=0.03,
            noise=0.07,
            behaviour=STEADY,
            made=0,
            rng=rng_new,
        )
        assert new == old


def test_a_bias_is_added_to_every_mark_then_clipped_and_put_on_the_step() -> None:
    def one(quality: float, offset: str, step: Decimal = ONE) -> Decimal:
        return give_mark(
            quality=quality,
            maximum=TEN,
            step=step,
            severity=0.0,
            noise=0.07,
            behaviour=Behaviour(offset=Decimal(offset)),
            made=0,
            rng=Still(),
        )

    assert one(0.6, "0") == 6
    assert one(0.6, "-2") == 4  # severe
    assert one(0.6, "3") == 9  # lenient
    assert one(0.9, "3") == 10  # clipped to the maximum
    assert one(0.3, "-5") == 0  # clipped to 0
    assert one(0.6, "1.3", HALF) == Decimal("7.5")  # 7.3 rounded half-up to the step
    assert one(0.6, "0.25", HALF) == Decimal("6.5")  # 6.25: half-up


def test_a_biased_examiner_is_their_steady_self_shifted_by_the_offset() -> None:
    steady = marks(examiner(), QUALITIES)
    severe = marks(examiner(Behaviour(offset=Decimal(-2))), QUALITIES)
    for s, b in zip(steady, severe, strict=True):
        # Same draws; an integer offset commutes with the step. A steady 10 may stand for
        # more (clipped), so the severe mark is then 8 or more.
        assert b == max(Decimal(0), s - 2) if s < TEN else b >= 8
    assert sum(severe) < sum(steady) - len(QUALITIES)  # and it is severe on the whole


def test_an_erratic_examiner_marks_at_random_on_the_step_and_reproducibly() -> None:
    sim = examiner(Behaviour(erratic=True))
    given = marks(sim, QUALITIES)
    assert given == marks(examiner(Behaviour(erratic=True)), QUALITIES)  # same seed, same marks
    assert set(given) == {Decimal(v) for v in range(11)}  # every step of [0, 10] comes up
    counts = [given.count(Decimal(v)) for v in range(11)]
    assert min(counts) > 400 / 11 / 2  # none starved: uniform, not shaped by the quality
    steady = marks(examiner(), QUALITIES)
    off = sum(abs(g - s) > 2 for g, s in zip(given, steady, strict=True))
    assert off > len(QUALITIES) / 3  # beyond a tolerance of 2 on about half


def test_a_drifting_examiner_is_steady_for_after_marks_then_shifts() -> None:
    drifting = examiner(Behaviour(drift_after=30, drift_offset=Decimal(-3)))
    steady = marks(examiner(), QUALITIES[:80])
    drifted = marks(drifting, QUALITIES[:80])
    assert drifted[:30] == steady[:30]
    for s, d in zip(steady[30:], drifted[30:], strict=True):
        assert d == max(Decimal(0), s - 3) if s < TEN else d >= 7
    assert drifting.made == 80
    assert not drifting.behaviour.drifting(29) and drifting.behaviour.drifting(30)


def test_the_same_seed_gives_the_same_marks() -> None:
    behaviour = Behaviour(offset=Decimal("1.5"))
    assert marks(examiner(behaviour), QUALITIES, seed=4) == marks(
        examiner(behaviour), QUALITIES, seed=4
    )
    assert marks(examiner(behaviour), QUALITIES, seed=4) != marks(
        examiner(behaviour), QUALITIES, seed=5
    )


def test_the_true_mark_is_the_latent_quality_on_the_step() -> None:
    for i in range(50):
        mark = true_mark(7, i, TEN, HALF)
        assert mark == on_step(10 * latent_quality(7, i), HALF, TEN)
        assert Decimal(3) <= mark <= TEN  # quality is at least 0.25


def test_the_command_lines_values_are_read() -> None:
    found = parse_behaviours(
        bias=["e1=-2", "e2=+1.5"], erratic=["e3"], drift=["e4=30:-3", " e5 = 0:2 "]
    )
    assert found == {
        "e1": Behaviour(offset=Decimal(-2)),
        "e2": Behaviour(offset=Decimal("1.5")),
        "e3": Behaviour(erratic=True),
        "e4": Behaviour(drift_after=30, drift_offset=Decimal(-3)),
        "e5": Behaviour(drift_after=0, drift_offset=Decimal(2)),
    }
    assert parse_behaviours() == {}


@pytest.mark.parametrize(
    ("kwargs", "code", "words"),
    [
        ({"bias": ["e1"]}, "simulate_bad_bias", "--bias e1: write USER=OFFSET"),
        ({"bias": ["e1=two"]}, "simulate_bad_bias", "--bias e1=two: write USER=OFFSET"),
        ({"bias": ["=2"]}, "simulate_bad_bias", "--bias =2"),
        ({"bias": ["e1=nan"]}, "simulate_bad_bias", "--bias e1=nan"),
        ({"bias": ["e1=inf"]}, "simulate_bad_bias", "--bias e1=inf"),
        ({"erratic": [""]}, "simulate_bad_erratic", "--erratic : write the examiner's"),
        ({"erratic": ["e1=2"]}, "simulate_bad_erratic", "--erratic e1=2"),
        ({"drift": ["e1=-3"]}, "simulate_bad_drift", "--drift e1=-3: write USER=AFTER:OFFSET"),
        ({"drift": ["e1=x:-3"]}, "simulate_bad_drift", "--drift e1=x:-3"),
        ({"drift": ["e1=-5:-3"]}, "simulate_bad_drift", "--drift e1=-5:-3"),
        ({"drift": ["e1=2.5:-3"]}, "simulate_bad_drift", "--drift e1=2.5:-3"),
        ({"drift": ["e1=10:"]}, "simulate_bad_drift", "--drift e1=10:"),
        (
            {"bias": ["e1=1"], "drift": ["e1=5:1"]},
            "simulate_named_twice",
            "e1 is named more than once in --bias, --erratic and --drift",
        ),
        ({"erratic": ["e1", "e1"]}, "simulate_named_twice", "e1 is named more than once"),
    ],
)
def test_a_bad_value_is_refused_by_name(
    kwargs: dict[str, list[str]], code: str, words: str
) -> None:
    with pytest.raises(MarkingError) as refused:
        parse_behaviours(**kwargs)
    assert refused.value.code == code
    assert words in str(refused.value)


def test_the_lead_keeps_enough_seeds_for_each_examiners_schedule() -> None:
    """100 responses marked twice by 5 examiners: each handles ≈ 40 and meets a seed in
    every 4 (rate 0.25) ≈ 10, from seeds they did not mark (≈ 3/5 of them): 17 and more."""
    assert seeds_wanted(Decimal("0.25"), 100, 2, 5) == 17 + SEED_MARGIN
    assert seeds_wanted(Decimal(0), 100, 2, 5) == 0  # seeds off
    assert seeds_wanted(Decimal("0.05"), 0, 2, 5) == 0  # nothing to seed from
    assert seeds_wanted(Decimal("0.05"), 100, 2, 2) == 10 + SEED_MARGIN  # never divides by 0
