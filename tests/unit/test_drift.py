"""The drift rule and the check schedule (DESIGN §13), without a database."""

from __future__ import annotations

import random
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from marking.domain.rules import drift
from marking.domain.rules.schedule import first_due, schedule, window


def seeds(*deviations: str, tolerance: str = "1", step: str = "0.5") -> list[drift.SeedMark]:
    """Seeds, newest first, with definitive mark 3 and the given signed deviations."""
    return [
        drift.SeedMark(i, Decimal(3), Decimal(3) + Decimal(d), Decimal(tolerance), Decimal(step))
        for i, d in enumerate(deviations, start=1)
    ]


def kinds(found: list[drift.Alarm]) -> set[str]:
    return {a.kind for a in found}


def test_three_of_the_last_ten_beyond_tolerance_raise_seeds_off() -> None:
    two_off = seeds("2", "-1.5", "0", "0.5", "-0.5", "0", "0", "0", "0", "0")
    assert drift.SEEDS_OFF not in kinds(drift.alarms(two_off))
    three_off = seeds("2", "-1.5", "1.5", "0", "-0.5", "0", "0", "0", "0", "0")
    [alarm] = [a for a in drift.alarms(three_off) if a.kind == drift.SEEDS_OFF]
    assert alarm.evidence["beyond"] == 3 and alarm.evidence["of"] == 10
    assert [s["check"] for s in alarm.evidence["seeds"]] == list(range(1, 11))
    assert alarm.evidence["seeds"][0] == {
        "check": 1,
        "expected": "3",
        "given": "5",
        "deviation": "2",
        "tolerance": "1",
    }


def test_exactly_the_tolerance_is_within_it() -> None:
    assert drift.alarms(seeds("1", "-1", "1", "1", "-1")) == []


def test_only_the_last_ten_count() -> None:
    old_misses = seeds(*(["0"] * 10 + ["3", "3", "3"]))
    assert drift.alarms(old_misses) == []


def test_a_steady_lean_inside_the_tolerance_raises_seed_bias() -> None:
    lenient = seeds("1", "0.5", "1", "0.5", "1")  # mean +0.8 tolerance, none beyond
    assert kinds(drift.alarms(lenient)) == {drift.SEED_BIAS}
    assert drift.alarms(lenient)[0].evidence["mean_in_tolerances"] == "0.800"
    severe = seeds("-1", "-0.5", "-1", "-0.5", "-1")
    assert kinds(drift.alarms(severe)) == {drift.SEED_BIAS}
    # Half a tolerance exactly is not beyond it; and fewer than five seeds say nothing.
    assert drift.alarms(seeds("0.5", "0.5", "0.5", "0.5", "0.5")) == []
    assert drift.alarms(seeds("1", "1", "1", "1")) == []


def test_an_erratic_examiner_raises_seeds_off_without_bias() -> None:
    erratic = seeds("3", "-3", "2", "-2", "0", "0")
    assert kinds(drift.alarms(erratic)) == {drift.SEEDS_OFF}


def test_a_question_without_tolerance_measures_in_steps() -> None:
    exact = seeds("0.5", "0", "0", "0", "0", tolerance="0")
    assert drift.alarms(exact) == []
    off = seeds("0.5", "-0.5", "0.5", "0", "0", tolerance="0")
    assert kinds(drift.alarms(off)) == {drift.SEEDS_OFF}


def test_a_window_is_the_whole_number_of_responses_per_check() -> None:
    assert window(Decimal("0.05")) == 20
    assert window(Decimal("0.01")) == 100
    assert window(Decimal("0.03")) == 33
    assert window(Decimal(0)) == 0


@settings(max_examples=200)
@given(
    rate=st.sampled_from([Decimal("0.05"), Decimal("0.1"), Decimal("0.5"), Decimal("0.03")]),
    batches=st.lists(st.integers(1, 30), min_size=1, max_size=40),
    seed=st.integers(0, 2**32),
)
def test_the_schedule_puts_one_check_in_every_block(
    rate: Decimal, batches: list[int], seed: int
) -> None:
    """Handing checks as ``mix_in`` does, with a check always available: each block of W
    live responses has exactly one check, wherever batches begin and end."""
    rng = random.Random(seed)
    width = window(rate)
    handed, due = 0, None
    positions: list[int] = []  # the live count before which each check went
    for size in batches:
        if due is None:
            due = first_due(handed, width, rng)

        def give(at: int, _following: int, handed: int = handed) -> bool:
            positions.append(handed + at)
            return True

        due = schedule(due, handed, size, width, rng, give)
        handed += size
    blocks = [p // width for p in positions]
    # Exactly one in each block begun, at a position of that block.
    assert blocks == list(range(len(blocks)))
    assert handed // width <= len(positions) <= -(-handed // width)


def test_an_owed_check_goes_in_as_soon_as_one_can_be_given_and_is_caught_up_once() -> None:
    rng = random.Random(3)
    due = first_due(0, 10, rng)
    # Nothing to give for 35 live responses: the check stays owed, its due unchanged.
    assert schedule(due, 0, 35, 10, rng, lambda _at, _following: False) == due
    given: list[int] = []

    def give(at: int, _following: int) -> bool:
        given.append(at)
        return True

    after = schedule(due, 35, 2, 10, rng, give)
    # The owed one at the first place; then one for the current block if it falls in this
    # batch; never a run of every block missed.
    assert given[0] == 0 and len(given) <= 2
    assert after >= 37 and after // 10 in (3, 4)  # later in this block, or the next
