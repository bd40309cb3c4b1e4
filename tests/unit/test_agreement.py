"""The monitoring rules (marking.domain.rules.agreement) on plain arrays, checked by hand."""

from __future__ import annotations

import numpy as np

from marking.domain.rules import agreement as rules


def ints(*values: int) -> np.ndarray:
    return np.array(values, dtype=np.int64)


def floats(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def test_seconds_run_from_the_claim_or_the_previous_mark_whichever_is_later() -> None:
    # Examiner 1 claims three at t=0 and marks at 10, 25, 40; examiner 2 claims at 100,
    # marks at 103, then pauses 20 minutes; event 5 is a check (not a live mark).
    examiner = ints(1, 1, 1, 2, 2, 2)
    claimed = floats(0, 0, 0, 100, 100, 105)
    done = floats(25, 10, 40, 103, 1303, 110)
    counts = np.array([True, True, True, True, True, False])
    got = rules.seconds_per_mark(examiner, claimed, done, counts)
    # Event order for examiner 2: 103 (3 s), check at 110, 1303 (1193 s: a pause).
    assert got[:4].tolist() == [15.0, 10.0, 15.0, 3.0]
    assert np.isnan(got[4]) and np.isnan(got[5])


def test_pairs_are_every_ordered_pair_of_distinct_examiners_on_a_response() -> None:
    response = ints(7, 8, 7, 7, 8)
    examiner = ints(1, 1, 2, 3, 2)
    i, j = rules.co_mark_pairs(response, examiner)
    assert sorted(zip(i.tolist(), j.tolist(), strict=True)) == [
        (0, 2), (0, 3), (1, 4), (2, 0), (2, 3), (3, 0), (3, 2), (4, 1)
    ]  # fmt: skip


def test_deviation_from_the_mean_of_the_others() -> None:
    got = rules.co_mark_deviation(ints(1, 1, 1, 2), ints(2000, 4000, 3000, 5000))
    assert got[:3].tolist() == [-1500.0, 1500.0, 0.0] and np.isnan(got[3])


def test_shares_medians_and_bands() -> None:
    assert rules.within_share(ints(3000, 5000), ints(3000, 3000), ints(1000, 1000)) == 0.5
    assert rules.within_share(ints(), ints(), ints()) is None
    assert rules.median(floats(np.nan, 4, 10, 6)) == 6.0
    assert rules.median(floats(np.nan)) is None
    # 0 and 599 of 6000 in the first tenth, 600 in the second, full marks in the last.
    got = rules.bands(ints(0, 599, 600, 6000), ints(6000, 6000, 6000, 6000))
    assert got == [2, 1, 0, 0, 0, 0, 0, 0, 0, 1]


def test_worth_a_look() -> None:
    look = rules.worth_a_look(ints(0, 6000, 3000, 3000), ints(6000, 6000, 6000, 6000),
                              floats(10, 10, 4.9, np.nan))  # fmt: skip
    assert look.zero.tolist() == [True, False, False, False]
    assert look.full.tolist() == [False, True, False, False]
    assert look.fast.tolist() == [False, False, True, False]
    assert look.any.tolist() == [True, True, True, False]
