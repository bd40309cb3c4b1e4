"""Benchmark: marks per second over HTTP, against the production server, beside the engine.

    python bench/http.py [--quick] [--clients 8,16,32] [--workers 2] [--threads 4]
                         [--seconds S] [--warmup S] [--candidates N] [--batch 10]
                         [--direct-workers 8] [--out bench/results/http-<date>.json]

One session (N candidates x 2 components x 15 examiner-marked questions, double-marked,
one examiner account per client) is built once on PostgreSQL through the services
(bench/_session.py) and kept as a template database; every measurement starts from a
fresh copy of it (bench/queue.py's ``Template``).

* ``http``: ``blindmark serve`` (gunicorn, gthread workers, as the README runs it) over the
  copy, and C examiner clients, each with an API token of its own and a keep-alive
  connection (the standard library's ``http.client``: the cheapest client there is, since
  the clients' CPU competes with the server's on the same cores), spread over a few
  processes of threads. Each client does what the marking screen (web/static/mark.js)
  does: ``GET held``; when nothing is held, ``POST claim`` of a batch; then ``POST mark``
  for each response in turn, the marks drawn as in bench/queue.py (about 6 % beyond
  tolerance, so third marks come up).
* ``direct`` (the baseline): bench/queue.py's worker processes calling
  ``marking.queue.claims.claim`` and ``marking.queue.marks.submit_mark`` on a SQLAlchemy
  session, one transaction per call, the same batch size, in the same run.

Marks are counted when their answer (or commit) lands inside a fixed window after a
warm-up; latencies are those of requests that ended inside it. CPU is read from /proc for
the client processes, the gunicorn processes and the database's server backends. After
each measurement the database is checked (bench/queue.py's ``check_database``).
"""

from __future__ import annotations

# isort: off
import _paths  # noqa: F401  (first: bench/'s script names shadow stdlib and project modules)

# isort: on
import argparse
import datetime as dt
import importlib.util
import json
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from _common import (
    DEFAULT_PG_URL,
    busy_ticks,
    load_average,
    machine,
    source_state,
    wait_until_idle,
)
from _http_clients import KINDS, run_clients
from _http_server import Server, api_tokens, backend_pids, cpu_of, cpu_spent

HERE = Path(__file__).resolve()
RESULTS = HERE.parent / "results"
SEED = 2026
TARGET_RATE = 300
TARGET_P95_MS = 100
TARGET_RATIO = 0.3


def queue_bench() -> ModuleType:
    """bench/queue.py as a module: its name is the standard library's, so load it by path."""
    spec = importlib.util.spec_from_file_location("blindmark_bench_queue", HERE.parent / "queue.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def ceiling(cpu_s_per_mark: float) -> float:
    """Marks/s that CPU per mark allows when the benchmark has all the machine's cores."""
    return (os.cpu_count() or 1) / cpu_s_per_mark if cpu_s_per_mark else 0.0


def percentiles(values: list[float]) -> dict[str, float | int | None]:
    if not values:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {
        "n": len(ordered),
        "p50": at(0.50),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": round(ordered[-1], 2),
    }


def measure_http(
    template: Any,
    built: Any,
    bq: ModuleType,
    *,
    clients: int,
    args: argparse.Namespace,
    tolerance: dict[str, str],
) -> dict[str, Any]:
    target = template.clone()
    server = None
    try:
        waited, busy_before = (
            wait_until_idle(args.max_busy, args.idle_timeout)
            if args.idle_timeout > 0
            else (0.0, None)
        )
        tokens = api_tokens(target["url"], built.examiners[:clients])
        server = Server(target["url"], args.workdir, **_server_options(args))
        procs = min(args.client_procs, clients)
        specs = [
            {
                "port": server.port,
                "code": bq.CODE,
                "batch": args.batch,
                "tokens": tokens[p::procs],
                "seed": SEED + 1000 * p,
                "tolerance": tolerance,
            }
            for p in range(procs)
        ]
        reports, window_cpu, busy = _run_clients(specs, server, target["name"], args)
        server.stop()
        check = bq.check_database(target, built.session_id)
    finally:
        if server is not None:
            server.stop()
        template.drop_clone(target)
    marks = sum(r.get("marks_in_window", 0) for r in reports)
    errors = [e for r in reports for e in r["errors"]]
    latency = {kind: percentiles([x for r in reports for x in r.get(kind, [])]) for kind in KINDS}
    latency["all"] = percentiles([x for r in reports for k in KINDS for x in r.get(k, [])])
    result = {
        "method": "http",
        "clients": clients,
        "client_processes": procs,
        "gunicorn": {
            "workers": args.workers,
            "threads": args.threads,
            "worker_class": "gthread",
            "examiner_pace_ms": args.examiner_pace,
        },
        "batch": args.batch,
        "seconds": args.seconds,
        "warmup": args.warmup,
        "marks_in_window": marks,
        "marks_per_s": marks / args.seconds,
        "requests_per_s": sum(latency[k]["n"] or 0 for k in KINDS) / args.seconds,
        "latency_ms": latency,
        "cpu_s_in_window": window_cpu,
        "cpu_ms_per_mark": {k: 1000 * v / max(1, marks) for k, v in window_cpu.items()},
        "client_cpu_cores": window_cpu["clients"] / args.seconds,
        # Cores the other work on the machine (other people's) kept busy meanwhile, and the
        # rate this run's CPU per mark would allow with every core to itself.
        "other_work_cores": max(0.0, busy - sum(window_cpu.values()) / args.seconds),
        "ceiling_marks_per_s": ceiling(sum(window_cpu.values()) / max(1, marks)),
        "lease_lost": sum(r.get("lease_lost", 0) for r in reports),
        "empty_claims": sum(r.get("empty_claims", 0) for r in reports),
        "errors": errors[:5],
        "error_count": len(errors),
        "check": check,
        "machine_busy_cores": busy,
        "busy_cores_before": busy_before,
        "waited_for_idle_s": waited,
        "load_average_after": load_average(),
    }
    _print_result(result, errors)
    return result


def _run_clients(
    specs: list[dict[str, Any]], server: Server, database: str, args: argparse.Namespace
) -> tuple[list[dict[str, Any]], dict[str, float], float]:
    """A client process per spec; once all are ready, the window: returns their reports,
    the CPU seconds server, database and clients spent in it, and the cores kept busy."""
    ctx = multiprocessing.get_context("spawn")
    ready, results = ctx.Queue(), ctx.Queue()
    go = ctx.Event()
    clock = ctx.Array("d", 2)
    processes = []
    for spec in specs:
        process = ctx.Process(target=run_clients, args=(spec, ready, go, clock, results))
        process.start()
        processes.append(process)
    reports: list[dict[str, Any]] = []
    try:
        for _ in processes:
            ready.get(timeout=120)
        start = time.monotonic()
        clock[0], clock[1] = start + args.warmup, start + args.warmup + args.seconds
        go.set()
        time.sleep(args.warmup)
        server_pids = server.pids()
        pg_pids = backend_pids(args.pg_url, database)
        client_pids = [p.pid for p in processes if p.pid is not None]
        before = [cpu_of(server_pids), cpu_of(pg_pids), cpu_of(client_pids)]
        ticks, wall = busy_ticks(), time.perf_counter()
        time.sleep(args.seconds)
        # Backends the pools opened during the window count too (from their start).
        pg_pids = sorted({*pg_pids, *backend_pids(args.pg_url, database)})
        after = [cpu_of(server_pids), cpu_of(pg_pids), cpu_of(client_pids)]
        busy = (busy_ticks() - ticks) / os.sysconf("SC_CLK_TCK") / (time.perf_counter() - wall)
        for _ in processes:
            reports.append(results.get(timeout=120))
    finally:
        for process in processes:
            process.join(timeout=60)
            if process.is_alive():
                process.kill()
                process.join()
    window_cpu = {
        side: cpu_spent(b, a)
        for side, b, a in zip(("server", "database", "clients"), before, after, strict=True)
    }
    return reports, window_cpu, busy


def _print_result(result: dict[str, Any], errors: list[str]) -> None:
    """One line on stderr per measurement, and its first error if any."""
    mark_latency = result["latency_ms"]["mark"]
    flag = "" if result["check"]["ok"] and not errors else "  (PROBLEM)"
    print(
        f"  http    clients {result['clients']:>3}: {result['marks_per_s']:7,.0f} marks/s, "
        f"mark p50/p95/p99 "
        f"{mark_latency['p50']}/{mark_latency['p95']}/{mark_latency['p99']} ms, CPU ms/mark "
        + ", ".join(f"{k} {v:.2f}" for k, v in result["cpu_ms_per_mark"].items())
        + f" (busy {result['machine_busy_cores']:.2f} cores){flag}",
        file=sys.stderr,
    )
    if errors:
        print("    first error: " + errors[0], file=sys.stderr)


# --- report ------------------------------------------------------------------------------------


def verdicts(http_results: list[dict[str, Any]], direct: dict[str, Any] | None) -> list[str]:
    out = []
    for r in http_results:
        where = f"http, {r['clients']} clients"
        ok = r["marks_per_s"] >= TARGET_RATE
        out.append(
            f"{'PASS' if ok else 'FAIL'} {where}: {r['marks_per_s']:,.0f} marks/s "
            f"(target >= {TARGET_RATE})"
        )
        worst = max((r["latency_ms"][k]["p95"] or 0, k) for k in KINDS)
        ok = worst[0] < TARGET_P95_MS
        out.append(
            f"{'PASS' if ok else 'FAIL'} {where}: p95 at most {worst[0]} ms ({worst[1]}) "
            f"(target < {TARGET_P95_MS} ms for every request kind)"
        )
        if direct and direct["marks_per_s"]:
            ratio = r["marks_per_s"] / direct["marks_per_s"]
            out.append(
                f"{'PASS' if ratio >= TARGET_RATIO else 'FAIL'} {where}: {ratio:.2f} of "
                f"the direct service calls (target >= {TARGET_RATIO})"
            )
    return out


def table(http_results: list[dict[str, Any]], direct: dict[str, Any] | None) -> str:
    """One line per measurement. CPU ms/mark: server + database + clients (direct: worker
    processes + their backends); others: cores busy with other work meanwhile; ceiling:
    the rate that CPU per mark would allow with the machine to itself."""
    lines = [
        f"{'method':<7}{'clients':>8}{'marks/s':>8}{'ratio':>6}{'held ms':>13}{'claim ms':>13}"
        f"{'mark ms':>13}{'CPU ms/mark':>17}{'clients':>8}{'others':>7}{'ceiling':>8}",
        f"{'':<7}{'':>8}{'':>8}{'':>6}{'p50/p95/p99':>13}{'p50/p95/p99':>13}{'p50/p95/p99':>13}"
        f"{'srv+db+cli':>17}{'cores':>8}{'cores':>7}{'marks/s':>8}",
    ]

    def trio(stats: dict[str, Any]) -> str:
        return "/".join(
            "-" if stats[q] is None else f"{stats[q]:.0f}" for q in ("p50", "p95", "p99")
        )

    base = direct["marks_per_s"] if direct else 0
    for r in http_results:
        lat, cpu = r["latency_ms"], r["cpu_ms_per_mark"]
        lines.append(
            f"{'http':<7}{r['clients']:>8}{r['marks_per_s']:>8,.0f}"
            f"{(r['marks_per_s'] / base if base else float('nan')):>6.2f}"
            f"{trio(lat['held']):>13}{trio(lat['claim']):>13}{trio(lat['mark']):>13}"
            f"{cpu['server']:>7.2f}+{cpu['database']:.2f}+{cpu['clients']:.2f}"
            f"{r['client_cpu_cores']:>8.2f}{r['other_work_cores']:>7.2f}"
            f"{r['ceiling_marks_per_s']:>8,.0f}"
        )
    if direct:
        cpu_direct = (
            f"{direct['cpu_client_ms_per_mark']:.2f}+{direct['cpu_server_ms_per_mark']:.2f}"
        )
        lines.append(
            f"{'direct':<7}{direct['workers']:>8}{direct['marks_per_s']:>8,.0f}{1:>6.2f}"
            f"{'(service calls in processes)':>39}{cpu_direct:>17}"
            f"{'':>15}{direct['ceiling_marks_per_s']:>8,.0f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args, client_counts = _arguments(argv)
    examiners = max([*client_counts, args.direct_workers])
    today = dt.date.today().isoformat()
    out = args.out or RESULTS / f"http-{today}{'-quick' if args.quick else ''}.json"
    args.workdir = Path(tempfile.mkdtemp(prefix="blindmark-bench-http-", dir=args.workdir))

    bq = queue_bench()
    started = time.perf_counter()
    try:
        http_results, direct = _measure_all(bq, args, client_counts, examiners, started)
    finally:
        shutil.rmtree(args.workdir, ignore_errors=True)

    report = {
        "benchmark": "http",
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join(["python", *sys.argv]),
        "machine": machine(args.pg_url),
        "source": source_state(HERE.parent.parent, "web", *bq.QUEUE_SOURCES),
        "session": {
            "candidates": args.candidates,
            "questions_per_component": bq.QUESTIONS,
            "examiners": examiners,
            "marks_required": 2,
        },
        "server": {
            "command": "blindmark serve",
            "workers": args.workers,
            "threads": args.threads,
            "worker_class": "gthread",
        },
        "client": "http.client keep-alive, one connection per examiner thread",
        "window_seconds": args.seconds,
        "warmup_seconds": args.warmup,
        "wall_seconds": time.perf_counter() - started,
        "targets": {"marks_per_s": TARGET_RATE, "p95_ms": TARGET_P95_MS, "ratio": TARGET_RATIO},
        "http": http_results,
        "direct": direct,
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print()
    print(
        f"http: marks/s over {args.seconds:g} s windows after {args.warmup:g} s warm-up; "
        f"latencies in ms; gunicorn {args.workers} workers x {args.threads} threads"
    )
    print(table(http_results, direct))
    print()
    for verdict in verdicts(http_results, direct):
        print(verdict)
    print(f"\nresults: {out} ({report['wall_seconds']:.0f} s)")
    return 0


def _server_options(args: argparse.Namespace) -> dict[str, int]:
    return {"workers": args.workers, "threads": args.threads, "examiner_pace": args.examiner_pace}


def _arguments(argv: list[str] | None) -> tuple[argparse.Namespace, list[int]]:
    """The options, their --quick defaults filled in; and the client counts to measure."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="16 clients, short windows")
    parser.add_argument("--clients", help="comma-separated client counts (8,16,32; quick 16)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (4)")
    parser.add_argument(
        "--examiner-pace",
        type=int,
        default=0,
        help="the server's --examiner-pace, ms (0: its own speed; the README's serve: 50)",
    )
    parser.add_argument("--client-procs", type=int, default=4, help="client processes (4)")
    parser.add_argument("--batch", type=int, default=10, help="claim size (10, as mark.js)")
    parser.add_argument(
        "--direct-workers",
        type=int,
        default=8,
        help="processes of the direct baseline (8; 0: no baseline)",
    )
    parser.add_argument("--seconds", type=float, help="measurement window (20; quick 5)")
    parser.add_argument("--warmup", type=float, help="seconds before the window (3; quick 2)")
    parser.add_argument("--candidates", type=int, help="session size (2000; quick 600)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--max-busy", type=float, default=0.5)
    parser.add_argument(
        "--idle-timeout",
        type=float,
        help="longest wait, before each measurement, for the machine to keep fewer than "
        "--max-busy cores busy (30; quick 0)",
    )
    parser.add_argument("--workdir", type=Path, help="batch files and logs (system temp)")
    args = parser.parse_args(argv)

    quick = args.quick
    client_counts = [int(c) for c in (args.clients or ("16" if quick else "8,16,32")).split(",")]
    args.seconds = args.seconds or (5.0 if quick else 20.0)
    args.warmup = args.warmup if args.warmup is not None else (2.0 if quick else 3.0)
    args.candidates = args.candidates or (600 if quick else 2000)
    args.idle_timeout = args.idle_timeout if args.idle_timeout is not None else (0 if quick else 30)
    args.profile = False  # bench/queue.py's measure() reads it
    return args, client_counts


def _measure_all(
    bq: ModuleType,
    args: argparse.Namespace,
    client_counts: list[int],
    examiners: int,
    started: float,
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The session built once into a template; each client count over HTTP, then the
    direct service calls, each on a fresh copy of it."""
    from _session import build_session

    http_results: list[dict[str, Any]] = []
    direct = None
    template = bq.Template("postgres", args.workdir, args.pg_url)
    try:
        built = build_session(
            template.url,
            args.workdir / "session",
            code=bq.CODE,  # measure() of bench/queue.py looks the session up by it
            candidates=args.candidates,
            questions_per_component=bq.QUESTIONS,
            objective_share=0.0,
            examiners=examiners,
            seed=SEED,
            marks_required=2,
        )
        print(
            f"  template: {built.subjective:,} examiner-marked responses, {examiners} examiners,"
            f" built through the services in {time.perf_counter() - started:.1f} s",
            file=sys.stderr,
        )
        tolerance = session_tolerance(template.url)
        for clients in client_counts:
            http_results.append(
                measure_http(template, built, bq, clients=clients, args=args, tolerance=tolerance)
            )
        if args.direct_workers:
            direct = bq.measure(
                template,
                built,
                method="blindmark",
                workers=args.direct_workers,
                batch=args.batch,
                args=args,
            )
            own = direct["cpu_client_ms_per_mark"] + direct["cpu_server_ms_per_mark"]
            direct["ceiling_marks_per_s"] = ceiling(own / 1000)
    finally:
        template.drop()
    return http_results, direct


def session_tolerance(url: str) -> dict[str, str]:
    """Tolerance per question ("component/number"), which the marking screen is not told."""
    from sqlalchemy import select

    from marking.store.db import make_engine, transaction
    from marking.store.models import Component, Question

    engine = make_engine(url)
    with transaction(engine) as db:
        rows = db.execute(
            select(Component.key, Question.number, Question.tolerance).join(
                Question, Question.component_id == Component.id
            )
        ).all()
    engine.dispose()
    return {f"{key}/{number}": str(tol) for key, number, tol in rows if tol is not None}


if __name__ == "__main__":
    sys.exit(main())
