"""``reconcile_many`` (numpy) decides exactly as ``reconcile``, block by block."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from marking.domain.rules import Final, reconcile, reconcile_many
from marking.domain.rules import vectorised as rules
from tests.unit.rules_helpers import STEPS, responses

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
