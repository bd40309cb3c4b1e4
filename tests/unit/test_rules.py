"""The marking arithmetic (DESIGN §5, §11 "Arithmetic", R7): worked examples and properties."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from math import floor
from random import Random

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from marking.domain import rules
from marking.domain.rules import (
    Final,
    InterviewResult,
    NeedsArbitration,
    NeedsMarks,
    NeedsThird,
    Outcome,
    Status,
    component_passed,
    component_score,
    component_score_tenths,
    component_scores,
    interview_result,
    milli,
    outcome,
    reconcile,
    reconcile_decimal,
    reconcile_many,
    round_mean_to_step,
    round_mean_to_step_decimal,
)
from marking.store import db


def m(value: str | int) -> int:
    """A mark written as people write it ("7.5") in stored thousandths."""
    return milli(Decimal(value))


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


# --- reconciliation: properties ---------------------------------------------------------

STEPS = [250, 500, 1000, 2000]  # 0.25, 0.5, 1, 2


@st.composite
def questions(draw: st.DrawFn) -> tuple[int, int, int]:
    """(step, max, tolerance) in milli; tolerances on and off the step, zero included."""
    step = draw(st.sampled_from(STEPS))
    top = step * draw(st.integers(1, 20))
    tolerance = draw(st.one_of(st.integers(0, 4).map(lambda k: k * step), st.integers(0, top)))
    return step, top, tolerance


def on_step(step: int, top: int) -> st.SearchStrategy[int]:
    return st.one_of(st.integers(0, top // step).map(lambda k: k * step), st.sampled_from([0, top]))


@st.composite
def responses(
    draw: st.DrawFn, requireds: tuple[int, ...] = (2, 2, 2, 3, 4)
) -> tuple[list[int], int, int, int]:
    """(marks, tolerance, step, required): any count the rule allows, marks mostly on step."""
    step, top, tolerance = draw(questions())
    required = draw(st.sampled_from(requireds))
    count = draw(st.integers(0, 3 if required == 2 else required))
    mark = st.one_of(on_step(step, top), st.integers(0, top))
    marks = draw(st.lists(mark, min_size=count, max_size=count))
    return marks, tolerance, step, required


@st.composite
def on_step_responses(draw: st.DrawFn) -> tuple[list[int], int, int, int]:
    """Complete on-step responses (as marking produces them): 2 or 3 marks, or N of N."""
    step, top, tolerance = draw(questions())
    required = draw(st.sampled_from([2, 3, 4]))
    count = draw(st.sampled_from([2, 3])) if required == 2 else required
    marks = draw(st.lists(on_step(step, top), min_size=count, max_size=count))
    return marks, tolerance, step, required


@given(on_step_responses())
@example(([4000, 8000, 6000], 2000, 1000, 2))  # the halfway tie
def test_swapping_the_first_two_marks_never_changes_the_final(
    response: tuple[list[int], int, int, int],
) -> None:
    marks, tolerance, step, required = response
    swapped = [marks[1], marks[0], *marks[2:]]
    one = reconcile(marks, tolerance=tolerance, step=step, required=required)
    other = reconcile(swapped, tolerance=tolerance, step=step, required=required)
    assert type(one) is type(other)
    if isinstance(one, Final) and isinstance(other, Final):
        assert (one.value, one.rule) == (other.value, other.rule)


@given(on_step_responses().filter(lambda r: r[3] > 2), st.randoms(use_true_random=False))
def test_n_marks_are_reconciled_whatever_their_order(
    response: tuple[list[int], int, int, int], random: Random
) -> None:
    marks, tolerance, step, required = response
    shuffled = list(marks)
    random.shuffle(shuffled)
    one = reconcile(marks, tolerance=tolerance, step=step, required=required)
    assert one == reconcile(shuffled, tolerance=tolerance, step=step, required=required)


@given(on_step_responses())
@example(([0, 0], 0, 250, 2))
@example(([5000, 5000, 5000], 0, 500, 3))
def test_a_final_is_on_the_step_and_between_the_marks_it_averages(
    response: tuple[list[int], int, int, int],
) -> None:
    marks, tolerance, step, required = response
    result = reconcile(marks, tolerance=tolerance, step=step, required=required)
    if isinstance(result, Final):
        used = [marks[i] for i in result.pair]
        assert result.value % step == 0
        assert min(used) <= result.value <= max(used)
        assert max(used) - min(used) <= tolerance


@given(questions(), st.sampled_from([2, 3, 4]), st.data())
def test_equal_marks_are_final_as_they_are(
    question: tuple[int, int, int], required: int, data: st.DataObject
) -> None:
    step, top, tolerance = question
    mark = data.draw(on_step(step, top))
    result = reconcile([mark] * required, tolerance=tolerance, step=step, required=required)
    assert isinstance(result, Final)
    assert result.value == mark


# --- reconcile_many agrees with reconcile -------------------------------------------------


def scalar_codes(
    batch: list[tuple[list[int], int, int, int]],
) -> tuple[list[int], list[int]]:
    finals, status = [], []
    for marks, tolerance, step, required in batch:
        result = reconcile(marks, tolerance=tolerance, step=step, required=required)
        status.append(int(result.status))
        finals.append(result.value if isinstance(result, Final) else -1)
    return finals, status


def as_arrays(
    batch: list[tuple[list[int], int, int, int]], width: int, padding: list[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    marks = np.empty((len(batch), width), dtype=np.int64)
    for r, (values, *_) in enumerate(batch):
        marks[r, :] = [*values, *padding[len(values) : width]]
    counts = np.array([len(b[0]) for b in batch], dtype=np.int64)
    tolerance, step, required = (np.array([b[i] for b in batch], dtype=np.int64) for i in (1, 2, 3))
    return marks, counts, tolerance, step, required


@settings(max_examples=300, deadline=None)
@given(
    st.lists(responses(), min_size=1, max_size=40),
    st.lists(st.integers(-(2**62), 2**62), min_size=6, max_size=6),
    st.integers(0, 2),
)
def test_reconcile_many_agrees_with_reconcile(
    batch: list[tuple[list[int], int, int, int]], padding: list[int], extra: int
) -> None:
    width = max(4, *(len(b[0]) for b in batch)) + extra
    marks, counts, tolerance, step, required = as_arrays(batch, width, padding)
    finals, status = reconcile_many(
        marks, counts, tolerance=tolerance, step=step, required=required
    )
    assert finals.dtype == np.int64
    assert status.dtype == np.int8
    assert (finals.tolist(), status.tolist()) == scalar_codes(batch)


@settings(max_examples=200, deadline=None)
@given(st.lists(responses(requireds=(2,)), min_size=1, max_size=40))
def test_reconcile_many_agrees_on_double_marking_with_three_columns(
    batch: list[tuple[list[int], int, int, int]],
) -> None:
    marks, counts, tolerance, step, required = as_arrays(batch, 3, [-1, -1, -1])
    finals, status = reconcile_many(
        marks, counts, tolerance=tolerance, step=step, required=required
    )
    assert (finals.tolist(), status.tolist()) == scalar_codes(batch)


def random_session(
    rng: np.random.Generator, required: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    rows = len(required)
    step = rng.choice(np.array(STEPS), rows)
    top = step * rng.integers(1, 21, rows)
    tolerance = step * rng.integers(0, 4, rows)
    counts = rng.integers(0, np.where(required == 2, 3, required) + 1)
    marks = rng.integers(0, (top // step + 1)[:, None], (rows, 4)) * step[:, None]
    return marks, counts, tolerance, step


def test_reconcile_many_agrees_on_a_large_random_session() -> None:
    # reconcile_many works in blocks of rows: one of double marking only, one of N > 2
    # only, then blocks that mix both, the last one partial.
    rng = np.random.default_rng(20261205)
    block = rules._BLOCK
    required = np.concatenate(
        [
            np.full(block, 2),
            rng.choice(np.array([3, 4]), block),
            rng.choice(np.array([2, 2, 3, 4]), block + 5_000),
        ]
    )
    marks, counts, tolerance, step = random_session(rng, required)
    finals, status = reconcile_many(
        marks, counts, tolerance=tolerance, step=step, required=required
    )
    batch = [
        (marks[r, : counts[r]].tolist(), int(tolerance[r]), int(step[r]), int(required[r]))
        for r in range(len(required))
    ]
    assert (finals.tolist(), status.tolist()) == scalar_codes(batch)
    assert set(status.tolist()) == {0, 1, 2, 3}


def test_reconcile_many_names_the_row_of_a_bad_mark_in_a_later_block() -> None:
    rng = np.random.default_rng(7)
    required = np.full(rules._BLOCK + 100, 2)
    marks, counts, tolerance, step = random_session(rng, required)
    row = rules._BLOCK + 42
    counts[row] = 2
    marks[row, 1] = -500
    with pytest.raises(ValueError, match=f"row {row}: mark 1 is -500"):
        reconcile_many(marks, counts, tolerance=tolerance, step=step, required=required)


def test_reconcile_many_worked_examples() -> None:
    marks = np.array(
        [
            [7000, 8000, 0, 0],  # agreed: 7.5 on step 0.5
            [3000, 9000, 8000, 0],  # third near b: 8.5
            [4000, 8000, 6000, 0],  # halfway: higher pair, 7
            [1000, 9000, 5000, 0],  # near neither: the lead
            [3000, 9000, -5, 99],  # waits for a third (padding ignored)
            [6000, 7000, 8000, 0],  # N = 3, all within
            [6000, 7000, 9000, 0],  # N = 3, not all within
            [6000, 7000, 0, 0],  # N = 3, one missing
        ],
        dtype=np.int64,
    )
    counts = np.array([2, 3, 3, 3, 2, 3, 3, 2])
    required = np.array([2, 2, 2, 2, 2, 3, 3, 3])
    finals, status = reconcile_many(marks, counts, tolerance=2000, step=500, required=required)
    assert finals.tolist() == [7500, 8500, 7000, -1, -1, 7000, -1, -1]
    assert status.tolist() == [0, 0, 0, 3, 2, 0, 3, 1]


def test_reconcile_many_with_two_columns_never_has_a_third_mark() -> None:
    marks = np.array([[3000, 9000], [7000, 8000], [7000, 0]], dtype=np.int64)
    finals, status = reconcile_many(
        marks, np.array([2, 2, 1]), tolerance=2000, step=1000, required=2
    )
    assert finals.tolist() == [-1, 8000, -1]
    assert status.tolist() == [2, 0, 1]


def test_reconcile_many_without_mark_columns_needs_marks() -> None:
    finals, status = reconcile_many(
        np.zeros((3, 0), dtype=np.int64),
        np.zeros(3, dtype=np.int64),
        tolerance=0,
        step=1,
        required=np.array([2, 3, 2]),
    )
    assert finals.tolist() == [-1, -1, -1]
    assert status.tolist() == [1, 1, 1]


def test_reconcile_many_of_nothing() -> None:
    finals, status = reconcile_many(
        np.zeros((0, 3), dtype=np.int64),
        np.zeros(0, dtype=np.int64),
        tolerance=0,
        step=1,
        required=2,
    )
    assert finals.shape == status.shape == (0,)


@pytest.mark.parametrize(
    ("row", "count", "tolerance", "step", "required"),
    [
        ([-1, 5000, 0], 2, 2000, 1000, 2),  # negative mark
        ([1000, 2000, 3000], 4, 2000, 1000, 2),  # count beyond the columns
        ([1000, 2000, 3000, 4000], 4, 2000, 1000, 2),  # double marking has at most a third
        ([1000, 2000, 3000, 4000], 4, 2000, 1000, 3),
        ([1000, 2000, 0], -1, 2000, 1000, 2),
        ([1000, 2000, 0], 2, -1, 1000, 2),
        ([1000, 2000, 0], 2, 2000, 0, 2),
        ([1000, 2000, 0], 2, 2000, 1000, 1),
        ([2**41, 2000, 0], 2, 2000, 1000, 2),  # could overflow int64
        ([1000, 2000, 0], 2, 2000, 1000, 2**20),  # likewise
        ([1000, 2000, 0], 2, 2000, 2**41, 2),
    ],
)
def test_reconcile_many_refuses_what_reconcile_refuses(
    row: list[int], count: int, tolerance: int, step: int, required: int
) -> None:
    good = [1000, 1000, 0, 0][: len(row)]
    marks = np.array([good, row, good], dtype=np.int64)
    with pytest.raises(ValueError, match="row 1"):
        reconcile_many(
            marks,
            np.array([2, count, 2]),
            tolerance=np.array([0, tolerance, 0]),
            step=np.array([1000, step, 1000]),
            required=np.array([2, required, 2]),
        )


def test_reconcile_many_refuses_float_and_misshapen_arrays() -> None:
    with pytest.raises(TypeError):
        reconcile_many(np.array([[7.0, 8.0]]), np.array([2]), tolerance=0, step=1, required=2)
    with pytest.raises(ValueError):
        reconcile_many(np.array([7000, 8000]), np.array([2]), tolerance=0, step=1, required=2)
    with pytest.raises(ValueError):
        reconcile_many(np.array([[7000, 8000]]), np.array([2, 2]), tolerance=0, step=1, required=2)


# --- component scores --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("total", "top", "score"),
    [
        ("147", "200", "73.5"),
        ("100", "100", "100.0"),
        ("0", "150", "0.0"),
        ("73.25", "100", "73.3"),  # half-up at the exact half
        ("73.24", "100", "73.2"),
        ("119.9", "200", "60.0"),  # 59.95
        ("119.8", "200", "59.9"),
        ("1", "3", "33.3"),
        ("2", "3", "66.7"),
    ],
)
def test_component_score_is_scaled_to_100_and_rounded_half_up(
    total: str, top: str, score: str
) -> None:
    result = component_score(m(total), m(top))
    assert result == Decimal(score)
    assert str(result) == score  # one decimal place, always
    assert component_score_tenths(m(total), m(top)) == int(Decimal(score) * 10)


def test_a_component_passes_on_its_rounded_score() -> None:
    # 119.9 / 200 is 59.95 exactly; the score is 60.0, and a component passes at >= 60
    assert component_passed(component_score(m("119.9"), m(200)))
    assert not component_passed(component_score(m("119.8"), m(200)))
    assert component_passed(Decimal("60.0"))
    assert not component_passed(Decimal("59.9"))


@pytest.mark.parametrize(("total", "top"), [(-1, 1000), (1001, 1000), (0, 0)])
def test_component_score_refuses_impossible_sums(total: int, top: int) -> None:
    with pytest.raises(ValueError):
        component_score(total, top)


@given(st.integers(1, 10**9), st.data())
def test_component_scores_agree_with_component_score(top: int, data: st.DataObject) -> None:
    sums = data.draw(st.lists(st.integers(0, top), min_size=1, max_size=50))
    tenths = component_scores(np.array(sums, dtype=np.int64), top)
    assert tenths.dtype == np.int64
    expected = [component_score(s, top) for s in sums]
    assert [Decimal(int(t)).scaleb(-1) for t in tenths] == expected


def test_component_scores_refuse_impossible_sums() -> None:
    with pytest.raises(ValueError):
        component_scores(np.array([100, 201]), 200)
    with pytest.raises(ValueError):
        component_scores(np.array([100, -1]), 200)
    with pytest.raises(ValueError):
        component_scores(np.array([1]), 0)


# --- interview (R7) ----------------------------------------------------------------------


def interview(*scores: str, seniors: list[bool] | None = None) -> InterviewResult:
    return interview_result([m(s) for s in scores], seniors)


def test_interview_needs_two_thirds_at_60_and_a_mean_of_60() -> None:
    # two of three at 60, but the mean is 59.67
    assert interview("60", "60", "59") == InterviewResult(Decimal("59.7"), False)
    # two of three at 60 and a mean of 63.3
    assert interview("70", "70", "50") == InterviewResult(Decimal("63.3"), True)
    # a mean of 66.7, but only one of three at 60
    assert interview("90", "55", "55") == InterviewResult(Decimal("66.7"), False)


def test_interview_boundaries_pass() -> None:
    assert interview("60", "60", "60") == InterviewResult(Decimal("60.0"), True)
    assert interview("100", "60", "20") == InterviewResult(Decimal("60.0"), True)


def test_interview_two_of_four_is_less_than_two_thirds() -> None:
    assert interview("100", "100", "59", "59") == InterviewResult(Decimal("79.5"), False)
    assert interview("100", "100", "100", "59").passed is True  # 3 of 4


def test_interview_passes_on_the_exact_mean_not_the_rounded_score() -> None:
    # mean 59.9667 shows as 60.0, but R7 asks for a mean >= 60: it fails
    assert interview("60", "60", "59.9") == InterviewResult(Decimal("60.0"), False)


def test_interview_score_rounds_half_up() -> None:
    # (60.1 + 60 + 60.05) / 3 = 60.05 exactly
    assert interview("60.1", "60", "60.05").score == Decimal("60.1")


def test_a_panel_of_fewer_than_three_seniors_stops_publication() -> None:
    result = interview("80", "80")
    assert result.problem == "panel of 2 senior examiners; at least 3 are needed"
    assert (result.score, result.passed) == (None, None)
    assert interview("80").problem == "panel of 1 senior examiner; at least 3 are needed"


def test_only_senior_examiners_make_the_panel() -> None:
    result = interview("80", "80", "80", seniors=[True, True, False])
    assert result.problem == "panel of 2 senior examiners; at least 3 are needed"
    # the non-senior score is not part of the panel's mean either
    assert interview("80", "70", "90", "0", seniors=[True, True, True, False]) == (
        InterviewResult(Decimal("80.0"), True)
    )


def test_no_interview_scores_is_absence() -> None:
    assert interview() == InterviewResult(None, None, None)


@pytest.mark.parametrize(
    ("scores", "seniors"), [([-1, 1, 1], None), ([100_001, 1, 1], None), ([1, 1, 1], [True])]
)
def test_interview_refuses_impossible_input(scores: list[int], seniors: list[bool] | None) -> None:
    with pytest.raises(ValueError):
        interview_result(scores, seniors)


# --- outcome -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("voided", "absent", "passes", "interview_passed", "needs_interview", "expected"),
    [
        (False, False, [True, True], None, False, "pass"),
        (False, False, [True, False], None, False, "fail"),
        (True, False, [True, True], None, False, "void"),
        (True, True, [], None, False, "void"),  # void wins over absence
        (False, True, [True], None, False, "absent"),
        (False, True, [False], None, False, "absent"),
        (False, False, [True, True], True, True, "pass"),
        (False, False, [True, True], False, True, "fail"),
        (False, False, [True, False], True, True, "fail"),
        (False, False, [True, True], None, True, "absent"),  # no panel scores
        (True, False, [True, True], None, True, "void"),
    ],
)
def test_outcome(
    voided: bool,
    absent: bool,
    passes: list[bool],
    interview_passed: bool | None,
    needs_interview: bool,
    expected: str,
) -> None:
    assert (
        outcome(
            voided=voided,
            absent_any=absent,
            components_passed=passes,
            interview_passed=interview_passed,
            needs_interview=needs_interview,
        )
        == expected
    )


def test_outcome_refuses_inconsistent_input() -> None:
    with pytest.raises(ValueError):
        outcome(
            voided=False,
            absent_any=False,
            components_passed=[True],
            interview_passed=True,
            needs_interview=False,
        )
    with pytest.raises(ValueError):
        outcome(
            voided=False,
            absent_any=False,
            components_passed=[],
            interview_passed=None,
            needs_interview=False,
        )
