"""Statistics of a session, as pure numpy functions of plain data (no database).

Marks are integer thousandths throughout; figures come out as floats for display.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from reports.data import OUTCOMES, QuestionMarks, StatsInput

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

PASS_MARK = 60.0
BIN_EDGES = tuple(range(0, 101, 10))  # 0-10, ..., 90-100 (100 falls in the last bin)


# --- the measures -----------------------------------------------------------------------------


def quadratic_weighted_kappa(a: IntArray, b: IntArray, categories: int) -> float | None:
    """Cohen's kappa with quadratic weights for two raters' categories 0..categories-1.

    None when it is undefined (no pairs, or both raters always gave one same category).
    """
    if len(a) == 0 or categories < 2:
        return None
    if a.min() < 0 or b.min() < 0 or max(a.max(), b.max()) >= categories:
        raise ValueError("categories out of range")
    observed = np.zeros((categories, categories), dtype=np.float64)
    np.add.at(observed, (a, b), 1.0)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / len(a)
    idx = np.arange(categories, dtype=np.float64)
    weights = (idx[:, None] - idx[None, :]) ** 2 / (categories - 1) ** 2
    denominator = float((weights * expected).sum())
    if denominator == 0.0:
        return None
    return 1.0 - float((weights * observed).sum()) / denominator


def item_rest_correlation(item: FloatArray, total: FloatArray) -> float | None:
    """Discrimination: Pearson correlation of an item with the rest of the test.

    For a right/wrong item this is the point-biserial correlation. None when either
    side does not vary (the correlation is undefined) or fewer than 3 scripts.
    """
    if len(item) < 3:
        return None
    rest = total - item
    x = item - item.mean()
    y = rest - rest.mean()
    denominator = float(np.sqrt((x * x).sum() * (y * y).sum()))
    if denominator == 0.0:
        return None
    return float((x * y).sum()) / denominator


@dataclass(frozen=True)
class Agreement:
    pairs: int
    exact: float | None
    adjacent: float | None
    mad: float | None  # in marks
    qwk: float | None


def agreement(
    a: IntArray, b: IntArray, step: IntArray, question: IntArray, categories: IntArray
) -> Agreement:
    """Agreement of paired marks (thousandths). ``step``, ``question`` and ``categories``
    are per pair; kappa is computed per question on its own scale and averaged, weighted
    by pairs, since questions of different maxima do not share categories."""
    n = len(a)
    if n == 0:
        return Agreement(0, None, None, None, None)
    diff = np.abs(a - b)
    kappas: list[tuple[float, int]] = []
    for q in np.unique(question):
        sel = question == q
        k = quadratic_weighted_kappa(
            a[sel] // step[sel], b[sel] // step[sel], int(categories[sel][0])
        )
        if k is not None:
            kappas.append((k, int(sel.sum())))
    qwk = None
    if kappas:
        values, weights = zip(*kappas, strict=True)
        qwk = float(np.average(values, weights=weights))
    return Agreement(
        pairs=n,
        exact=float((diff == 0).mean()),
        adjacent=float((diff <= step).mean()),
        mad=float(diff.mean()) / 1000,
        qwk=qwk,
    )


def summary(scores: FloatArray) -> tuple[float | None, float | None]:
    """Mean and (population) standard deviation; None for no scores."""
    if len(scores) == 0:
        return None, None
    return float(scores.mean()), float(scores.std())


def histogram(scores: FloatArray) -> list[int]:
    """Counts per 10-point band, 0-10 ... 90-100 (100 counted in the last band)."""
    counts, _edges = np.histogram(scores, bins=np.array(BIN_EDGES, dtype=np.float64))
    return [int(c) for c in counts]


# --- the report's tables ----------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionRow:
    component: str
    number: str
    group: str
    max: float
    responses: int  # examiner-marked responses with their independent marks in
    third_rate: float | None
    arbitration_rate: float | None
    mean: float | None = None  # results part: over every script of the component
    facility: float | None = None
    discrimination: float | None = None
    scripts: int = 0


@dataclass(frozen=True)
class GroupRow:
    key: str
    name: str
    responses: int
    third_rate: float | None
    arbitration_rate: float | None
    agreement: Agreement


@dataclass(frozen=True)
class ExaminerRow:
    examiner: str
    marks: int
    agreement: Agreement
    severity: float | None  # mean (mark - final), in marks


@dataclass(frozen=True)
class ComponentStats:
    key: str
    name: str
    sat: int
    passed: int
    pass_rate: float | None
    mean: float | None
    sd: float | None
    bands: list[int]


@dataclass(frozen=True)
class Statistics:
    questions: list[QuestionRow]
    groups: list[GroupRow]
    examiners: list[ExaminerRow]
    outcomes: dict[str, int] | None = None  # results part, after publication only
    components: list[ComponentStats] | None = None


@dataclass
class _Pairs:
    a: list[int]
    b: list[int]
    ea: list[str]
    eb: list[str]
    step: list[int]
    question: list[int]
    categories: list[int]


def _pairs(questions: tuple[QuestionMarks, ...]) -> tuple[_Pairs, list[int]]:
    """Every pair of independent marks on one response; and each pair's group index."""
    out = _Pairs([], [], [], [], [], [], [])
    group_of: list[int] = []
    groups = sorted({q.group for q in questions})
    for qi, q in enumerate(questions):
        independent: dict[int, list[tuple[str, int]]] = defaultdict(list)
        for r, e, k, v in zip(q.response, q.examiner, q.kind, q.value, strict=True):
            if k == "double":
                independent[r].append((e, v))
        cats = q.max_milli // q.step_milli + 1
        for marks in independent.values():
            for i in range(len(marks)):
                for j in range(i + 1, len(marks)):
                    out.a.append(marks[i][1])
                    out.b.append(marks[j][1])
                    out.ea.append(marks[i][0])
                    out.eb.append(marks[j][0])
                    out.step.append(q.step_milli)
                    out.question.append(qi)
                    out.categories.append(cats)
                    group_of.append(groups.index(q.group))
    return out, group_of


def _rates(q: QuestionMarks) -> tuple[int, int, int]:
    """(responses with ≥2 independent marks, of them with a third mark, arbitrated)."""
    doubles: dict[int, int] = defaultdict(int)
    third: set[int] = set()
    for r, k in zip(q.response, q.kind, strict=True):
        if k == "double":
            doubles[r] += 1
        else:
            third.add(r)
    reached = {r for r, n in doubles.items() if n >= 2}
    arbitrated = {r for r in reached if q.rule[r] == "arbitration"}
    return len(reached), len(third & reached), len(arbitrated)


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def statistics(data: StatsInput) -> Statistics:
    """The marking-quality tables, and the results tables when the session is published."""
    arrays, group_idx = _pairs(data.questions)
    a = np.array(arrays.a, dtype=np.int64)
    b = np.array(arrays.b, dtype=np.int64)
    step = np.array(arrays.step, dtype=np.int64)
    qidx = np.array(arrays.question, dtype=np.int64)
    cats = np.array(arrays.categories, dtype=np.int64)
    gidx = np.array(group_idx, dtype=np.int64)
    group_keys = sorted({q.group for q in data.questions})

    questions: list[QuestionRow] = []
    per_group: dict[str, list[int]] = {k: [0, 0, 0] for k in group_keys}
    for q in data.questions:
        reached, third, arbitrated = _rates(q)
        for i, v in enumerate((reached, third, arbitrated)):
            per_group[q.group][i] += v
        questions.append(
            QuestionRow(
                component=q.component,
                number=q.number,
                group=q.group,
                max=q.max_milli / 1000,
                responses=reached,
                third_rate=_ratio(third, reached),
                arbitration_rate=_ratio(arbitrated, reached),
            )
        )

    names = dict(data.groups)
    groups = []
    for gi, key in enumerate(group_keys):
        sel = gidx == gi
        reached, third, arbitrated = per_group[key]
        groups.append(
            GroupRow(
                key=key,
                name=names.get(key, key),
                responses=reached,
                third_rate=_ratio(third, reached),
                arbitration_rate=_ratio(arbitrated, reached),
                agreement=agreement(a[sel], b[sel], step[sel], qidx[sel], cats[sel]),
            )
        )

    examiners = []
    ea = np.array(arrays.ea, dtype=object)
    eb = np.array(arrays.eb, dtype=object)
    everyone = sorted({e for q in data.questions for e in q.examiner})
    for examiner in everyone:
        left, right = ea == examiner, eb == examiner
        own = np.concatenate((a[left], b[right]))
        other = np.concatenate((b[left], a[right]))
        sel = np.concatenate((np.flatnonzero(left), np.flatnonzero(right)))
        deviations: list[int] = []
        count = 0
        for q in data.questions:
            for r, e, v in zip(q.response, q.examiner, q.value, strict=True):
                if e == examiner:
                    count += 1
                    final = q.final[r]
                    if final is not None:
                        deviations.append(v - final)
        examiners.append(
            ExaminerRow(
                examiner=examiner,
                marks=count,
                agreement=agreement(own, other, step[sel], qidx[sel], cats[sel]),
                severity=float(np.mean(deviations)) / 1000 if deviations else None,
            )
        )

    if not data.published:
        return Statistics(questions, groups, examiners)
    return _with_results(data, questions, groups, examiners)


def _with_results(
    data: StatsInput,
    questions: list[QuestionRow],
    groups: list[GroupRow],
    examiners: list[ExaminerRow],
) -> Statistics:
    outcomes = {o: 0 for o in OUTCOMES}
    for row in data.results:
        outcomes[row.outcome] = outcomes.get(row.outcome, 0) + 1
    components: list[ComponentStats] = []
    columns = [(c.key, c.name) for c in data.components]
    if data.has_interview:
        columns.append(("interview", ""))
    for i, (key, name) in enumerate(columns):
        values = [
            r.interview if key == "interview" else r.scores[i]
            for r in data.results
            if r.outcome != "void"
        ]
        scores = np.array([float(v) for v in values if v is not None], dtype=np.float64)
        mean, sd = summary(scores)
        passed = int((scores >= PASS_MARK).sum())
        components.append(
            ComponentStats(
                key=key,
                name=name,
                sat=len(scores),
                passed=passed,
                pass_rate=_ratio(passed, len(scores)),
                mean=mean,
                sd=sd,
                bands=histogram(scores),
            )
        )

    by_key = {(q.component, q.number): q for q in questions}
    merged: list[QuestionRow] = []
    for items in data.items:
        grid = np.array(items.finals, dtype=np.float64).reshape(-1, len(items.numbers)) / 1000
        totals = grid.sum(axis=1)
        for j, number in enumerate(items.numbers):
            column = grid[:, j]
            maximum = items.max_milli[j] / 1000
            mean = float(column.mean()) if len(column) else None
            base = by_key.pop((items.component, number), None)
            merged.append(
                QuestionRow(
                    component=items.component,
                    number=number,
                    group=base.group if base else "",
                    max=maximum,
                    responses=base.responses if base else 0,
                    third_rate=base.third_rate if base else None,
                    arbitration_rate=base.arbitration_rate if base else None,
                    mean=mean,
                    facility=None if mean is None else mean / maximum,
                    discrimination=item_rest_correlation(column, totals),
                    scripts=len(column),
                )
            )
    merged.extend(by_key.values())
    return Statistics(merged, groups, examiners, outcomes, components)
