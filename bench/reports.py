"""Reports benchmark: the score register of 10,000 candidates and 1,000 score notices,
each beside a baseline taken in the same run: WeasyPrint rendering the same rows as bare,
unstyled <div>s in one process (the same embedded CJK font, nothing else).

    .venv/bin/python bench/reports.py [--quick] [--candidates N] [--notices M]
                                      [--workers W] [--out bench/results/reports-<date>.json]

Goals (issue 5): register < 30 s, notices < 60 s, peak memory per worker < 1 GiB.
The data are synthetic (``marking.demo.register``): rendering is what is measured, not the
database read (``marking.read.reportdata`` is one query per table).
"""

from __future__ import annotations

# isort: off
import _paths  # noqa: F401  (first: bench/'s script names shadow stdlib and project modules)

# isort: on
import argparse
import datetime as dt
import io
import json
import time
from html import escape
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
from _common import load_average, machine, peak_rss_mib, source_state  # noqa: E402

RESULTS = HERE / "results"
GOALS = {"register": 30.0, "notices": 60.0, "worker_rss_mib": 1024.0}


def baseline(rows: list[list[str]]) -> tuple[float, int]:
    """WeasyPrint on bare <div>s, one per row, in this process: the floor to compare with."""
    from pypdf import PdfReader
    from weasyprint import HTML

    from reports.fonts import cjk_fonts

    font = cjk_fonts().regular.as_uri()
    html = (
        f"<style>@font-face {{ font-family: C; src: url({font}); }} html {{ font-family: C }}"
        "</style>" + "".join(f"<div>{escape(' '.join(r))}</div>" for r in rows)
    )
    start = time.perf_counter()
    pdf = HTML(string=html).write_pdf()
    seconds = time.perf_counter() - start
    return seconds, len(PdfReader(io.BytesIO(pdf)).pages)


def measure(what: str, fn: Any) -> dict[str, Any]:
    from pypdf import PdfReader

    from reports import render

    render.worker_peak_rss_mib()  # reset
    load = load_average()
    start = time.perf_counter()
    pdf = fn()
    seconds = time.perf_counter() - start
    return {
        "what": what,
        "seconds": round(seconds, 2),
        "pages": len(PdfReader(io.BytesIO(pdf)).pages),
        "bytes": len(pdf),
        "worker_peak_rss_mib": round(render.worker_peak_rss_mib(), 1),
        "load_before": load,
    }


def print_report(
    report: dict[str, Any], results: list[dict[str, Any]], out: Path, *, quick: bool
) -> None:
    """The table of timings, and against the goals for a full run."""
    print(f"{'what':45} {'seconds':>8} {'pages':>6} {'worker RSS':>11}")
    for r in results:
        rss = f"{r['worker_peak_rss_mib']:.0f} MiB" if "worker_peak_rss_mib" in r else ""
        print(f"{r['what']:45} {r['seconds']:8.2f} {r['pages']:6d} {rss:>11}")
    print(f"parent peak RSS {report['parent_peak_rss_mib']:.0f} MiB; results in {out}")
    if not quick:
        by = {r["what"]: r for r in results}
        for what in ("register", "notices"):
            ok = by[what]["seconds"] < GOALS[what]
            verdict = "met" if ok else "NOT met"
            print(f"{what}: {by[what]['seconds']:.1f} s, goal < {GOALS[what]:.0f} s: {verdict}")
        worst = max(by[w]["worker_peak_rss_mib"] for w in ("register", "notices"))
        verdict = "met" if worst < GOALS["worker_rss_mib"] else "NOT met"
        print(f"peak RSS per worker {worst:.0f} MiB, goal < 1024 MiB: {verdict}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=10_000)
    parser.add_argument("--notices", type=int, default=1_000)
    parser.add_argument("--workers", type=int, default=None, help="default: the cores")
    parser.add_argument("--quick", action="store_true", help="1,000 candidates, 100 notices")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.quick:
        args.candidates, args.notices = 1_000, 100

    from marking.demo.register import sample_register
    from reports import render
    from reports.fonts import cjk_fonts

    cjk_fonts()  # extracted once, outside the timings
    reg = sample_register(args.candidates, seed=7)
    chosen = [r.exam_no for r in reg.rows[: args.notices]]
    paging = render.Paging(workers=args.workers)
    results = []
    register_rows = [
        [str(i), r.exam_no, r.name, r.id_number, *(s or "-" for s in r.scores), r.outcome]
        for i, r in enumerate(reg.rows, start=1)
    ]
    seconds, pages = baseline(register_rows)
    results.append(
        {
            "what": "register baseline (bare divs, 1 process)",
            "seconds": round(seconds, 2),
            "pages": pages,
        }
    )
    results.append(measure("register", lambda: render.render_register(reg, paging=paging)))
    notice_rows = [
        [r.name, r.exam_no, r.id_number, *(s or "-" for s in r.scores), r.outcome]
        for r in reg.rows[: args.notices]
    ]
    seconds, pages = baseline(notice_rows)
    results.append(
        {
            "what": "notices baseline (bare divs, 1 process)",
            "seconds": round(seconds, 2),
            "pages": pages,
        }
    )
    results.append(
        measure(
            "notices",
            lambda: render.render_notices(reg, exam_nos=chosen, workers=args.workers),
        )
    )
    report = {
        "benchmark": "reports",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "candidates": args.candidates,
        "notices": args.notices,
        "workers": args.workers or render.default_workers(),
        "parent_peak_rss_mib": round(peak_rss_mib(), 1),
        "machine": machine(None),
        "source": source_state(HERE.parent, "reports/render.py", "reports/assets/report.css"),
        "results": results,
        "goals": GOALS,
    }
    out = (
        args.out
        or RESULTS / f"reports-{dt.date.today().isoformat()}{'-quick' if args.quick else ''}.json"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")

    print_report(report, results, out, quick=args.quick)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
