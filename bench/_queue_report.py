"""bench/queue.py's report: its results as one per method over the rounds, the table and the
verdicts against the targets."""

from __future__ import annotations

import statistics
from typing import Any

TARGET_PG_RATE = 1000
TARGET_RATIO = 0.5
TARGET_CHECKS_RATIO = 0.9  # checks on / off (issue 13: seeds and 回评 must not slow marking)


def combined(results: list[dict[str, Any]]) -> dict[tuple[Any, ...], dict[str, Any]]:
    """Each (database, workers, batch, method) as one result over its rounds: the median
    rate and the rates of every round; ``on_off``: the median of the rounds' checks-on over
    checks-off ratios (each round's pair measured back to back)."""
    rounds: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in results:
        rounds.setdefault((r["database"], r["workers"], r["batch"], r["method"]), []).append(r)
    out = {}
    for key, found in rounds.items():
        first = found[0]
        out[key] = {
            **first,
            "marks_per_s": statistics.median(r["marks_per_s"] for r in found),
            "rounds": [r["marks_per_s"] for r in found],
            **{
                field: sum(r[field] for r in found)
                for field in ("claims", "empty_claims", "lease_lost", "error_count")
            },
            "marks_total": sum(r["marks_total"] for r in found),
            "checks_total": sum(r["checks_total"] for r in found),
            "problem": any(
                not r["check"]["ok"] or r["error_count"] or r["reported"] != r["workers"]
                for r in found
            ),
        }
    for (database, workers, batch, method), on in out.items():
        off = out.get((database, workers, batch, "blindmark"))
        if method != "checks" or off is None:
            continue
        by_round = {
            r["round"]: r["marks_per_s"] for r in rounds[database, workers, batch, "blindmark"]
        }
        ratios = [
            r["marks_per_s"] / by_round[r["round"]]
            for r in rounds[database, workers, batch, "checks"]
            if by_round.get(r["round"])
        ]
        on["on_off_rounds"] = ratios
        on["on_off"] = statistics.median(ratios) if ratios else float("nan")
    return out


def table(results: list[dict[str, Any]]) -> str:
    by_key = combined(results)
    lines = [
        f"{'database':<9}{'workers':>8}{'batch':>6}{'blindmark/s':>13}{'baseline/s':>12}"
        f"{'ratio':>7}{'claims':>8}{'busy':>6}  notes"
    ]
    seen = []
    for r in results:
        key = (r["database"], r["workers"], r["batch"])
        if key not in seen:
            seen.append(key)
    for database, workers, batch in seen:
        mine = by_key.get((database, workers, batch, "blindmark"))
        base = by_key.get((database, workers, batch, "baseline"))
        notes = []
        for r in (mine, base):
            if r is None:
                continue
            if r["problem"]:
                notes.append(f"{r['method']}: PROBLEM")
            if r["lease_lost"]:
                notes.append(f"{r['method']}: {r['lease_lost']} lease lost")
            if r["empty_claims"]:
                notes.append(f"{r['method']}: {r['empty_claims']} empty claims")
        ratio = (
            f"{mine['marks_per_s'] / base['marks_per_s']:.2f}"
            if mine and base and base["marks_per_s"]
            else "-"
        )
        checked = by_key.get((database, workers, batch, "checks"))
        if checked and mine and mine["marks_per_s"]:
            rounds = ", ".join(f"{x:.2f}" for x in checked["on_off_rounds"])
            notes.append(
                f"checks on: {checked['marks_per_s']:,.0f}/s "
                f"({checked['on_off']:.2f} of off, median of rounds [{rounds}]; "
                f"{checked['checks_total']} checks of {checked['marks_total']} items)"
            )
        lines.append(
            f"{database:<9}{workers:>8}{batch:>6}"
            f"{mine['marks_per_s'] if mine else float('nan'):>13,.0f}"
            f"{base['marks_per_s'] if base else float('nan'):>12,.0f}{ratio:>7}"
            f"{mine['claims'] if mine else 0:>8}"
            f"{mine['machine_busy_cores'] if mine else 0:>6.2f}  {'; '.join(notes)}"
        )
    return "\n".join(lines)


def verdicts(results: list[dict[str, Any]]) -> list[str]:
    out = []
    by_key = combined(results)
    for (database, workers, batch, method), r in by_key.items():
        if method != "blindmark" or database != "postgres" or workers != 8:
            continue
        ok = r["marks_per_s"] >= TARGET_PG_RATE
        out.append(
            f"{'PASS' if ok else 'FAIL'} postgres, 8 workers, batch {batch}: "
            f"{r['marks_per_s']:,.0f} marks/s (target >= {TARGET_PG_RATE:,})"
        )
    for (database, workers, batch, method), r in by_key.items():
        base = by_key.get((database, workers, batch, "baseline"))
        checked = by_key.get((database, workers, batch, "checks"))
        if method == "blindmark" and checked is not None and r["marks_per_s"]:
            on_off = checked["on_off"]
            out.append(
                f"{'PASS' if on_off >= TARGET_CHECKS_RATIO else 'FAIL'} {database}, {workers} "
                f"workers, batch {batch}: seeds and 回评 on at {on_off:.2f} of off, median of "
                f"{len(checked['on_off_rounds'])} round(s) (target >= {TARGET_CHECKS_RATIO})"
            )
        if method != "blindmark" or base is None or not base["marks_per_s"]:
            continue
        ratio = r["marks_per_s"] / base["marks_per_s"]
        if database == "postgres" and workers == 8:
            out.append(
                f"{'PASS' if ratio >= TARGET_RATIO else 'FAIL'} postgres, 8 workers, batch "
                f"{batch}: {ratio:.2f} of the driver baseline (target >= {TARGET_RATIO})"
            )
    return out
