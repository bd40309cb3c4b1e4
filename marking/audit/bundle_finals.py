"""`verify --archive`, second half: every published revision's finals recomputed from the
marks and rulings in force in it (DESIGN §5), and its component scores and outcomes from
those finals (§11), with the domain's own functions (``marking.domain.rules``).

What counts in revision ``r`` (as ``marking.read.exports.mark_in_force_at``): a mark or
ruling given for ``r`` or before and not withdrawn then; a withdrawal an appeal revision
made (its ``revision`` set) takes it out from that revision on, any other from the start.
A corrected mark counts at its latest correction (corrections are made before the
revision they belong to is published). A response a later revision reopened had, in
``r``, the final that revision recorded before reopening it (``revised_response``);
``finals.csv`` holds the latest.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from marking.domain.rules import (
    Final,
    NeedsArbitration,
    component_passed,
    component_score_tenths,
    milli,
    outcome,
    reconcile,
)

if TYPE_CHECKING:
    from marking.audit.bundle import _Bundle

#: Withdrawn for every revision (a late-declared conflict, a suspended examiner).
ALWAYS = 0


@dataclass(frozen=True)
class _Rule:
    tolerance: int
    step: int
    required: int


def _milli(text: str) -> int | None:
    return None if text == "" else milli(Decimal(text))


def _in_force(given: int, withdrawn: int | None, revision: int) -> bool:
    """Given for ``revision`` or before and not withdrawn by then (``withdrawn``: None when
    never, ``ALWAYS`` for a withdrawal no revision made, else the revision that made it)."""
    return given <= revision and (withdrawn is None or withdrawn > revision)


def _withdrawn_at(rows: Iterable[dict[str, str]], key: str) -> dict[str, int]:
    return {r[key]: int(r.get("revision") or ALWAYS) for r in rows if r.get(key)}


@dataclass
class Records:
    """The archive's marking records, read once, for any revision's finals."""

    # {response id: [(third?, mark id, value milli, given for, withdrawn at)]}
    marks: dict[int, list[tuple[int, int, int, int, int | None]]]
    # {kind: {response id: [(ruling id, value milli, given for, withdrawn at)]}}
    rulings: dict[str, dict[int, list[tuple[int, int | None, int, int | None]]]]
    # {revision number: {response id: (final before it, rule before it)}}
    prior: dict[int, dict[int, tuple[str, str]]] = field(default_factory=dict)

    def marks_at(self, rid: int, revision: int) -> list[int]:
        found = [m for m in self.marks.get(rid, []) if _in_force(m[3], m[4], revision)]
        return [value for _third, _id, value, _given, _out in sorted(found)]

    def ruling_at(self, kind: str, rid: int, revision: int) -> tuple[bool, int | None]:
        found = [r for r in self.rulings[kind].get(rid, []) if _in_force(r[2], r[3], revision)]
        return (True, max(found)[1]) if found else (False, None)

    def reopened_after(self, revision: int) -> set[int]:
        return {rid for n, byrid in self.prior.items() if n > revision for rid in byrid}

    def final_at(self, rid: int, revision: int, latest: tuple[str, str]) -> tuple[str, str]:
        """(final, rule) of the response in ``revision``: the one kept by the first later
        revision that reopened it, or the latest."""
        for n in sorted(self.prior):
            if n > revision and rid in self.prior[n]:
                return self.prior[n][rid]
        return latest


def read_records(bundle: _Bundle) -> Records | None:
    """The records the recomputation needs; None (a missing file is reported) without."""
    marks = bundle.table("marks/records/mark.csv")
    withdrawals = bundle.table("marks/records/mark_withdrawal.csv")
    corrections = bundle.table("marks/records/mark_correction.csv", required=False) or []
    arbitrations = bundle.table("marks/records/arbitration.csv")
    anomalies = bundle.table("marks/records/anomaly.csv")
    rulings_out = bundle.table("marks/records/ruling_withdrawal.csv")
    if None in (marks, withdrawals, arbitrations, anomalies, rulings_out):
        return None
    assert marks is not None and withdrawals is not None and rulings_out is not None
    assert arbitrations is not None and anomalies is not None
    out = _withdrawn_at(withdrawals, "mark_id")
    corrected: dict[str, tuple[int, int]] = {}
    for c in corrections:
        seq = int(c["seq"])
        if c["mark_id"] not in corrected or corrected[c["mark_id"]][0] < seq:
            corrected[c["mark_id"]] = (seq, milli(Decimal(c["value"])))
    by_response: dict[int, list[tuple[int, int, int, int, int | None]]] = defaultdict(list)
    for m in marks:
        value = corrected[m["id"]][1] if m["id"] in corrected else milli(Decimal(m["value"]))
        by_response[int(m["response_id"])].append(
            (int(m["kind"] == "third"), int(m["id"]), value, _given(m), out.get(m["id"]))
        )
    arb_out = _withdrawn_at(rulings_out, "arbitration_id")
    anomaly_out = _withdrawn_at(rulings_out, "anomaly_id")
    rulings: dict[str, dict[int, list[tuple[int, int | None, int, int | None]]]] = {
        "arbitration": defaultdict(list),
        "lead": defaultdict(list),
    }
    for a in arbitrations:
        rulings["arbitration"][int(a["response_id"])].append(
            (int(a["id"]), _milli(a["value"]), _given(a), arb_out.get(a["id"]))
        )
    for a in anomalies:
        if a["resolution"] == "final":
            rulings["lead"][int(a["response_id"])].append(
                (int(a["id"]), _milli(a["final_value"]), _given(a), anomaly_out.get(a["id"]))
            )
    return Records(by_response, rulings, _prior_finals(bundle))


def _given(row: dict[str, str]) -> int:
    return int(row.get("revision") or 1)


def _prior_finals(bundle: _Bundle) -> dict[int, dict[int, tuple[str, str]]]:
    """{revision number: {response id: (final, rule) it had before that revision}}."""
    revisions = bundle.table("marks/records/revision.csv", required=False) or []
    revised = bundle.table("marks/records/revised_response.csv", required=False) or []
    number = {r["id"]: int(r["number"]) for r in revisions}
    prior: dict[int, dict[int, tuple[str, str]]] = defaultdict(dict)
    for r in revised:
        if r["revision_id"] not in number:
            bundle.report.add(f"revised response {r['response_id']} names no revision")
            continue
        prior[number[r["revision_id"]]][int(r["response_id"])] = (
            r["prior_final"],
            r["prior_rule"],
        )
    return dict(prior)


def check_finals(bundle: _Bundle, revisions: list[int]) -> dict[int, dict[str, int]] | None:
    """Recompute every response's final in each published revision from what was in force
    then, compare with the finals recorded (finals.csv, or revised_response for one a later
    revision reopened); returns each revision's sums of finals by script code (milli)."""
    paper = bundle.table("session/paper.csv")
    responses = bundle.table("marks/responses.csv")
    finals_rows = bundle.table("marks/finals.csv")
    records = read_records(bundle)
    if paper is None or responses is None or finals_rows is None or records is None:
        return None
    rules = {
        (q["component"], q["question"]): _Rule(
            _milli(q["tolerance"]) or 0, _milli(q["step"]) or 1000, int(q["marks_required"] or 2)
        )
        for q in paper
    }
    latest = {(f["script_code"], f["component"], f["question"]): f["final"] for f in finals_rows}
    bundle.report.responses = len(responses)
    sums: dict[int, dict[str, int]] = {}
    last = max(revisions, default=1)
    for revision in sorted(set(revisions) | {last}):
        check = None if revision == last else records.reopened_after(revision)
        sums[revision] = _finals_at(bundle, revision, responses, rules, latest, records, check)
        if len(bundle.report.problems) >= 20:
            break
    return sums


def _finals_at(
    bundle: _Bundle,
    revision: int,
    responses: list[dict[str, str]],
    rules: dict[tuple[str, str], _Rule],
    latest: dict[tuple[str, str, str], str],
    records: Records,
    check: set[int] | None,
) -> dict[str, int]:
    """One revision's finals: checked (all, or the responses in ``check``), summed."""
    sums: dict[str, int] = defaultdict(int)
    named = "" if check is None else f" (revision {revision})"
    for r in responses:
        rid, where = int(r["response_id"]), (r["script_code"], r["component"], r["question"])
        final, rule = records.final_at(rid, revision, (latest.get(where, ""), r["final_rule"]))
        recorded = _milli(final)
        sums[where[0]] += recorded or 0
        if check is not None and rid not in check:
            continue
        expected, why = _expected_final(r, rule, rules[where[1:]], records, revision)
        if why is None and expected != recorded:
            source = "finals.csv" if check is None else "the revision's record"
            why = f"{source} holds {_shown(recorded)} but the marks give {_shown(expected)}"
        if why is not None and not bundle.report.add(
            f"script {where[0]}, {where[1]} question {where[2]}{named}: {why}"
        ):
            break
    return sums


def _expected_final(
    response: dict[str, str], kind: str, rule: _Rule, records: Records, revision: int
) -> tuple[int | None, str | None]:
    """The final the records give (milli), or why they give none that can be checked."""
    rid = int(response["response_id"])
    if response["key_score"] != "":
        return _milli(response["key_score"]), None
    values = records.marks_at(rid, revision)
    try:
        result = reconcile(values, tolerance=rule.tolerance, step=rule.step, required=rule.required)
    except ValueError as exc:
        return None, f"its marks cannot be reconciled: {exc}"
    if kind in records.rulings:
        if kind == "arbitration" and not isinstance(result, NeedsArbitration):
            return None, "arbitrated, but its marks reconcile without arbitration"
        return records.ruling_at(kind, rid, revision)[1], None
    return (result.value if isinstance(result, Final) else None), None


def _shown(value: int | None) -> str:
    return "no final" if value is None else format(Decimal(value) / 1000, "f")


def check_scores(
    bundle: _Bundle, published: list[dict[str, Any]], sums: dict[int, dict[str, int]]
) -> None:
    """Each publication's component scores recomputed from that revision's finals (§11):
    the sum of finals × 100 / the component's maximum, rounded half-up to one decimal; and
    each outcome that follows from them (not ``void``: violations stay sealed in the
    database)."""
    paper = bundle.table("session/paper.csv")
    if paper is None:
        return
    maxima: dict[str, int] = defaultdict(int)
    for q in paper:
        maxima[q["component"]] += milli(Decimal(q["max"]))
    for p in published:
        revision = int(p.get("revision") or 1)
        content = bundle.read(str(p.get("results")))
        if content is None or revision not in sums:
            continue
        body = json.loads(content)
        named = "" if len(published) == 1 else f" (revision {revision})"
        for row in (dict(zip(body["columns"], r, strict=True)) for r in body["rows"]):
            for problem in _row_problems(row, maxima, sums[revision]):
                if not bundle.report.add(f"candidate {row['exam_no']}{named}: {problem}"):
                    return


def _row_problems(
    row: dict[str, str], maxima: dict[str, int], sums: dict[str, int]
) -> Iterable[str]:
    for component, top in maxima.items():
        code = row.get(f"{component}_code", "")
        if not code:
            continue
        tenths = component_score_tenths(sums.get(code, 0), top)
        expected = f"{Decimal(tenths).scaleb(-1):.1f}"
        if row[f"{component}_score"] != expected:
            yield (
                f"{component} score {row[f'{component}_score']} in the results, but the "
                f"finals of script {code} give {expected}"
            )
    why = _outcome_problem(row, list(maxima))
    if why is not None:
        yield why


def _outcome_problem(row: dict[str, str], components: list[str]) -> str | None:
    """Why the row's outcome does not follow from its scores (§11); None when it does, or
    when only what the archive does not hold could decide (a violation, the panel's
    scores behind an interview score)."""
    if row["outcome"] == "void":
        return None
    interview = "interview_score" in row
    absent = any(not row[f"{c}_code"] for c in components) or row.get("interview_score") == ""
    passed = [component_passed(Decimal(row[f"{c}_score"])) for c in components if row[f"{c}_code"]]
    if interview and not absent:
        # R7 decides the interview on the panel's own scores: pass needs every component.
        expected = "fail" if not all(passed) else row["outcome"]
        if row["outcome"] not in ("pass", "fail"):
            expected = "pass or fail"
    else:
        expected = outcome(
            voided=False,
            absent_any=absent,
            components_passed=passed,
            interview_passed=None,
            needs_interview=False,
        )
    if row["outcome"] == expected:
        return None
    return f"outcome {row['outcome']} in the results, but its scores give {expected}"
