"""The monitoring figures of examiners (DESIGN §13) as pure numpy functions of plain arrays.

Marks are integer thousandths, times are seconds (floats), examiners and responses are
integer ids; nothing here reads a database. Agreement (exact, adjacent, quadratic weighted
kappa) is the statistics report's own (``reports.stats.agreement``), so the live page, the
CSV export and the PDF can never disagree on what a kappa is.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reports.stats import Agreement, agreement

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: A gap longer than this between two marks is a pause, not time spent on the mark.
PAUSE_SECONDS = 600.0
#: A mark made faster than this is worth a second look.
FAST_SECONDS = 5.0
#: Bands of the distribution chart: a mark's share of its question's maximum, in tenths
#: (0-9 %, ..., 90-100 %; a full mark falls in the last).
BANDS = 10


def seconds_per_mark(
    examiner: IntArray, claimed: FloatArray, done: FloatArray, counts: BoolArray
) -> FloatArray:
    """Time spent on each event that ``counts`` (a live mark), NaN where unknown.

    ``examiner``, ``claimed`` and ``done`` describe every event of the session (live marks
    and submitted checks: whatever the examiner did), in any order. An event's time is
    ``done`` − max(``claimed``, the examiner's previous ``done``): an examiner holding a
    batch of ten claimed at once works on them one after the other. Gaps over
    ``PAUSE_SECONDS`` are pauses, left out (NaN)."""
    n = len(examiner)
    out = np.full(n, np.nan)
    if n == 0:
        return out
    order = np.lexsort((done, examiner))
    ex, dn, cl = examiner[order], done[order], claimed[order]
    previous = np.empty(n)
    previous[0] = -np.inf
    previous[1:] = np.where(ex[1:] == ex[:-1], dn[:-1], -np.inf)
    spent = dn - np.maximum(cl, previous)
    spent[(spent < 0) | (spent > PAUSE_SECONDS)] = np.nan
    out[order] = spent
    out[~counts] = np.nan
    return out


def co_mark_pairs(response: IntArray, examiner: IntArray) -> tuple[IntArray, IntArray]:
    """Every ordered pair (i, j) of marks on one response by two different examiners.

    Both (i, j) and (j, i) appear: each mark is compared with each of its co-marks."""
    if len(response) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    order = np.argsort(response, kind="stable")
    r = response[order]
    firsts: list[IntArray] = []
    seconds: list[IntArray] = []
    offset = 1
    while offset < len(r):
        same = r[offset:] == r[:-offset]
        if not same.any():
            break
        i = order[:-offset][same]
        j = order[offset:][same]
        firsts += [i, j]
        seconds += [j, i]
        offset += 1
    if not firsts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty
    a, b = np.concatenate(firsts), np.concatenate(seconds)
    distinct = examiner[a] != examiner[b]
    return a[distinct], b[distinct]


def co_mark_deviation(response: IntArray, value: IntArray) -> FloatArray:
    """Per mark: its value − the mean of the other marks on its response (thousandths);
    NaN for a mark with no co-mark."""
    if len(response) == 0:
        return np.zeros(0)
    keys, inverse = np.unique(response, return_inverse=True)
    total = np.bincount(inverse, weights=value.astype(np.float64), minlength=len(keys))
    count = np.bincount(inverse, minlength=len(keys))
    others = count[inverse] - 1
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_of_others = (total[inverse] - value) / others
    return np.where(others > 0, value - mean_of_others, np.nan)


def pair_agreement(
    own: IntArray, other: IntArray, step: IntArray, question: IntArray, categories: IntArray
) -> Agreement:
    """Exact and adjacent (within one step) shares and quadratic weighted kappa of pairs
    (own mark, a co-marker's); kappa per question on its own scale (values in steps),
    averaged weighted by pairs."""
    return agreement(own, other, step, question, categories)


def within_share(given: IntArray, expected: IntArray, tolerance: IntArray) -> float | None:
    """The share of ``given`` within ``tolerance`` of ``expected``; None for none."""
    if len(given) == 0:
        return None
    return float((np.abs(given - expected) <= tolerance).mean())


def median(values: FloatArray) -> float | None:
    """The median of the known (non-NaN) values; None for none."""
    known = values[~np.isnan(values)]
    return float(np.median(known)) if len(known) else None


def mean(values: FloatArray) -> float | None:
    known = values[~np.isnan(values)]
    return float(known.mean()) if len(known) else None


def bands(value: IntArray, maximum: IntArray) -> list[int]:
    """How many marks fall in each tenth of their question's maximum (full marks in the
    last band)."""
    if len(value) == 0:
        return [0] * BANDS
    tenth = np.minimum(value * BANDS // np.maximum(maximum, 1), BANDS - 1)
    return [int(c) for c in np.bincount(tenth, minlength=BANDS)]


@dataclass(frozen=True)
class WorthALook:
    """Why a mark is worth a second look (any of them may hold)."""

    zero: BoolArray
    full: BoolArray
    fast: BoolArray

    @property
    def any(self) -> BoolArray:
        return self.zero | self.full | self.fast


def worth_a_look(value: IntArray, maximum: IntArray, seconds: FloatArray) -> WorthALook:
    """Zeros, full marks and marks made in under ``FAST_SECONDS``."""
    with np.errstate(invalid="ignore"):
        fast = seconds < FAST_SECONDS
    return WorthALook(zero=value == 0, full=value == maximum, fast=fast & ~np.isnan(seconds))
