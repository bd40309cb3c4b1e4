"""The marking arithmetic (DESIGN §5): the stored unit, rounding, one response's rule by example."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from math import floor

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marking.domain import rules
from marking.domain.rules import (
    Final,
    NeedsArbitration,
    NeedsMarks,
    NeedsThird,
    Outcome,
    Status,
    milli,
    reconcile,
    reconcile_decimal,
    round_mean_to_step,
    round_mean_to_step_decimal,
)
from marking.store import db
from tests.unit.rules_helpers import m


def rec(marks: list[str | int], *, t: str | int, step: str | int = 1, n: int = 2) -> Outcome:
    return reconcile([m(x) for x in marks], tolerance=m(t), step=m(step), required=n)


def test_milli_is_the_stored_unit() -> None:
    assert rules.MILLI == db.MILLI


# --- rounding --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("marks", "step", "final"),
    [
        (["7", "8"], "0.5", "7.5"),
        (["7", "8"], "1", "8"),  # 7.5 is halfway: half-up gives 8
        (["6", "7"], "1", "7"),
        (["7", "7.5"], "0.5", "7.5"),  # 7.25 halfway between 7 and 7.5
        (["7", "7.25"], "0.25", "7.25"),  # 7.125 halfway
        (["0", "0.25"], "0.25", "0.25"),
        (["0", "0"], "0.5", "0"),
        (["2", "4"], "2", "4"),  # 3 is halfway between 2 and 4
        (["2", "3.8"], "2", "2"),  # 2.9 is below the half
        (["6", "7", "7"], "0.5", "6.5"),  # 6.667 is nearer 6.5 than 7
        (["6", "6", "7"], "1", "6"),  # 6.333
        (["10", "10", "9.5"], "0.5", "10"),  # 9.833
    ],
)
def test_mean_rounds_half_up_to_the_step(marks: list[str], step: str, final: str) -> None:
    total = sum(m(x) for x in marks)
    assert round_mean_to_step(total, len(marks), m(step)) == m(final)
    assert round_mean_to_step_decimal([Decimal(x) for x in marks], Decimal(step)) == Decimal(final)


@given(st.integers(0, 10**9), st.integers(1, 10), st.sampled_from([1, 250, 500, 1000, 2000, 3000]))
def test_rounding_matches_the_formula_in_exact_fractions(total: int, count: int, step: int) -> None:
    mean = Fraction(total, count)
    assert round_mean_to_step(total, count, step) == step * floor(mean / step + Fraction(1, 2))


@pytest.mark.parametrize(
    ("total", "count", "step"), [(-1, 2, 500), (10, 0, 500), (10, 2, 0), (10, 2, -500)]
)
def test_rounding_refuses_impossible_input(total: int, count: int, step: int) -> None:
    with pytest.raises(ValueError):
        round_mean_to_step(total, count, step)


def test_rounding_refuses_floats() -> None:
    with pytest.raises(TypeError):
        round_mean_to_step(7.5, 2, 500)  # type: ignore[arg-type]


# --- reconciliation: DESIGN §5 worked examples ------------------------------------------


def test_two_marks_within_tolerance_give_their_mean_on_the_step() -> None:
    assert rec(["7", "8"], t=2, step="0.5") == Final(m("7.5"), "agreed", (0, 1))
    assert rec(["7", "8"], t=2, step=1) == Final(m(8), "agreed", (0, 1))


def test_tolerance_is_inclusive() -> None:
    assert rec(["5", "7"], t=2) == Final(m(6), "agreed", (0, 1))
    assert rec(["5", "7.5"], t=2, step="0.5") == NeedsThird()


def test_zero_tolerance_needs_identical_marks() -> None:
    assert rec(["6", "6"], t=0) == Final(m(6), "agreed", (0, 1))
    assert rec(["6", "6.5"], t=0, step="0.5") == NeedsThird()
    assert rec(["6", "6.5", "6.5"], t=0, step="0.5") == Final(m("6.5"), "third_one", (1, 2))


def test_marks_out_of_tolerance_need_a_third() -> None:
    assert rec(["3", "9"], t=2) == NeedsThird()


def test_third_mark_within_tolerance_of_one_pairs_with_it() -> None:
    # mean(8, 9) = 8.5
    assert rec(["3", "9", "8"], t=2, step="0.5") == Final(m("8.5"), "third_one", (1, 2))
    assert rec(["3", "9", "8"], t=2, step=1) == Final(m(9), "third_one", (1, 2))
    assert rec(["3", "9", "4"], t=2, step="0.5") == Final(m("3.5"), "third_one", (0, 2))


def test_third_mark_within_tolerance_of_both_pairs_with_the_closer() -> None:
    # |4 - 9| = 5 > 3; c = 7 is within 3 of both, closer to 9: mean(7, 9) = 8
    assert rec(["4", "9", "7"], t=3) == Final(m(8), "third_both", (1, 2))
    assert rec(["4", "9", "6"], t=3, step="0.5") == Final(m(5), "third_both", (0, 2))


def test_third_mark_halfway_pairs_with_the_higher_mark() -> None:
    # c = 6 is 2 from both 4 and 8: the higher pair (6, 8) gives 7, not 5
    assert rec(["4", "8", "6"], t=2) == Final(m(7), "third_both", (1, 2))
    assert rec(["8", "4", "6"], t=2) == Final(m(7), "third_both", (0, 2))


def test_third_mark_near_neither_goes_to_the_lead() -> None:
    assert rec(["1", "9", "5"], t=2) == NeedsArbitration()
    assert rec(["1", "9", "9.5"], t=0, step="0.5") == NeedsArbitration()


def test_a_third_mark_after_agreement_is_ignored() -> None:
    # e.g. one of the first two marks was corrected after the third was given
    assert rec(["7", "8", "2"], t=2) == Final(m(8), "agreed", (0, 1))


def test_missing_marks_are_counted() -> None:
    assert rec([], t=2) == NeedsMarks(2)
    assert rec(["5"], t=2) == NeedsMarks(1)
    assert rec([], t=2, n=3) == NeedsMarks(3)
    assert rec(["6", "9"], t=2, n=3) == NeedsMarks(1)  # waits for all N, even when apart


def test_n_marks_all_within_tolerance_give_their_mean() -> None:
    assert rec(["6", "7", "8"], t=2, n=3) == Final(m(7), "all_within", (0, 1, 2))
    assert rec(["6", "7", "7"], t=2, step="0.5", n=3) == Final(m("6.5"), "all_within", (0, 1, 2))
    assert rec(["6", "6", "7", "7"], t=1, n=4) == Final(m(7), "all_within", (0, 1, 2, 3))


def test_n_marks_not_all_within_tolerance_go_to_the_lead() -> None:
    assert rec(["6", "7", "9"], t=2, n=3) == NeedsArbitration()


def test_outcomes_carry_their_status_code() -> None:
    assert Final(1, "agreed", (0, 1)).status is Status.FINAL
    assert NeedsMarks(1).status is Status.NEEDS_MARKS
    assert NeedsThird().status is Status.NEEDS_THIRD
    assert NeedsArbitration().status is Status.NEEDS_ARBITRATION


def test_decimal_wrapper() -> None:
    result = reconcile_decimal(
        [Decimal("7"), Decimal("8")], tolerance=Decimal(2), step=Decimal("0.5"), required=2
    )
    assert isinstance(result, Final)
    assert result.mark == Decimal("7.5")


@pytest.mark.parametrize(
    ("marks", "tolerance", "step", "required"),
    [
        ([-1, 5000], 2000, 1000, 2),
        ([1000, 2000, 3000, 4000], 2000, 1000, 2),  # double marking has at most a third
        ([1000, 2000, 3000, 4000], 2000, 1000, 3),
        ([1000, 2000], -1, 1000, 2),
        ([1000, 2000], 2000, 0, 2),
        ([1000, 2000], 2000, 1000, 1),
    ],
)
def test_reconcile_refuses_inconsistent_input(
    marks: list[int], tolerance: int, step: int, required: int
) -> None:
    with pytest.raises(ValueError):
        reconcile(marks, tolerance=tolerance, step=step, required=required)


def test_reconcile_refuses_floats() -> None:
    with pytest.raises(TypeError):
        reconcile([7.0, 8.0], tolerance=2000, step=1000, required=2)  # type: ignore[list-item]


@pytest.mark.parametrize("value", [Decimal("0.0005"), Decimal("NaN"), Decimal("Infinity")])
def test_milli_refuses_what_cannot_be_stored(value: Decimal) -> None:
    with pytest.raises(ValueError):
        milli(value)


def test_milli_refuses_floats() -> None:
    with pytest.raises(TypeError):
        milli(7.5)  # type: ignore[arg-type]
