"""The marking arithmetic: rounding, reconciliation, component and interview scores, outcomes.

Pure functions of plain values (DESIGN §5, §11 "Arithmetic", R7); the database code calls
them. Marks, steps and tolerances are integer thousandths of a mark ("milli", as stored:
``marking.store.db.MILLI``), so every result is exact: no float is ever involved. The scalar
functions take Python ints (``*_decimal`` wrappers take ``Decimal`` marks); the vectorised
ones take numpy int64 arrays and agree exactly with the scalar ones, which is what lets
publication re-run the whole session with numpy and compare (DESIGN §5).

Speed: ``reconcile_many`` reconciles 6,000,000 responses in about 0.3 s on one core
(figures in its docstring).

The package, module by module: ``marks`` (the stored unit, exact conversions and
``parse_mark``, the gate for every mark from outside), ``reconciliation`` (rounding a mean to
the step, the rule for one response), ``vectorised`` (``reconcile_many``: the same rule on
numpy arrays), ``scores`` (component scores, the interview, the candidate's outcome) and
``arrays`` (what the numpy code shares). Callers import from the package.

Resolved ambiguities of DESIGN §5 and §11, the same in the scalar and vectorised code:

- A third mark that is present although the first two agree (it can happen when one
  of them was corrected afterwards) is ignored: rule 1 decides, and ``Final.pair`` says
  which marks were averaged.
- "The pair that is closest (ties: the higher pair)": c is within T of both a and b, so
  the pair (a, b) cannot be the closest; the candidates are (a, c) and (b, c), and on
  equal distances the one with the larger mean wins.
- With N > 2 marks required the rule waits for all N marks (``NeedsMarks``) even when
  the marks so far already differ by more than T: every response gets its N marks (R3)
  and the lead arbitrates with all of them in front of them.
- A component passes on its rounded one-decimal score (59.95 rounds to 60.0 and
  passes): DESIGN defines the score as rounded and says "a component passes at ≥ 60".
- The interview passes on the *exact* panel mean (R7: "the mean is ≥ 60"), not on the
  rounded score shown: a mean of 59.97 shows as 60.0 and fails.
- The interview panel is its senior examiners: scores flagged as not senior are not
  part of the panel (they count neither toward the three needed nor in the mean).
"""

from marking.domain.rules.marks import (
    MARK_TEXT_LIMIT,
    MILLI,
    MarkRefused,
    from_milli,
    milli,
    parse_mark,
)
from marking.domain.rules.reconciliation import (
    Final,
    NeedsArbitration,
    NeedsMarks,
    NeedsThird,
    Outcome,
    Rule,
    Status,
    reconcile,
    reconcile_decimal,
    round_mean_to_step,
    round_mean_to_step_decimal,
)
from marking.domain.rules.scores import (
    COMPONENT_PASS_TENTHS,
    INTERVIEW_MAX_MILLI,
    PASS_MILLI,
    InterviewResult,
    ResultOutcome,
    component_passed,
    component_score,
    component_score_tenths,
    component_scores,
    interview_result,
    outcome,
)
from marking.domain.rules.vectorised import reconcile_many

__all__ = [
    "COMPONENT_PASS_TENTHS",
    "INTERVIEW_MAX_MILLI",
    "MARK_TEXT_LIMIT",
    "MILLI",
    "PASS_MILLI",
    "Final",
    "InterviewResult",
    "MarkRefused",
    "NeedsArbitration",
    "NeedsMarks",
    "NeedsThird",
    "Outcome",
    "ResultOutcome",
    "Rule",
    "Status",
    "component_passed",
    "component_score",
    "component_score_tenths",
    "component_scores",
    "from_milli",
    "interview_result",
    "milli",
    "outcome",
    "parse_mark",
    "reconcile",
    "reconcile_decimal",
    "reconcile_many",
    "round_mean_to_step",
    "round_mean_to_step_decimal",
]
