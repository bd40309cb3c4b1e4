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
import signal
import socket
import subprocess
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

HERE = Path(__file__).resolve()
RESULTS = HERE.parent / "results"
SEED = 2026
KINDS = ("held", "claim", "mark")
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


# --- the server -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """``blindmark serve`` in a child process, over ``url``."""

    def __init__(self, url: str, workdir: Path, *, workers: int, threads: int) -> None:
        self.port = free_port()
        self.log = workdir / f"serve-{self.port}.log"
        blindmark = Path(sys.executable).with_name("blindmark")
        env = {**os.environ, "BLINDMARK_SECRET_KEY": "bench-" + os.urandom(8).hex()}
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    str(blindmark),
                    "--db",
                    url,
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--workers",
                    str(workers),
                    "--threads",
                    str(threads),
                ],
                stdout=subprocess.DEVNULL,  # gunicorn's access log: written, not kept
                stderr=log,
                env=env,
                cwd=workdir,
                start_new_session=True,
            )
        self._wait_until_up(workers)

    def _wait_until_up(self, workers: int) -> None:
        import http.client

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"blindmark serve exited: {self.log.read_text()[-2000:]}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/login")
                if conn.getresponse().status == 200 and len(self.pids()) > workers:
                    conn.close()
                    return
                conn.close()
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("blindmark serve did not answer within 60 s")

    def pids(self) -> list[int]:
        """The gunicorn arbiter and its workers."""
        found = [self.proc.pid]
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as fh:
                        ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
                if ppid == self.proc.pid:
                    found.append(int(entry))
        return found

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def cpu_of(pids: list[int]) -> dict[int, float]:
    from _common import process_cpu_seconds

    return {pid: cpu for pid in pids if (cpu := process_cpu_seconds(pid)) is not None}


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


def backend_pids(pg_url: str, database: str) -> list[int]:
    from _common import pg_connect

    with pg_connect(pg_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s", (database,)
        ).fetchall()
    return [int(r[0]) for r in rows]


def api_tokens(url: str, usernames: list[str]) -> list[str]:
    """One API token per examiner, made by the web layer's own function."""
    from marking.people.accounts import get_account
    from web import create_app
    from web.db import get_db
    from web.security import new_api_token

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    values = []
    with app.app_context():
        db = get_db()
        for username in usernames:
            _token, value = new_api_token(get_account(db, username), "bench/http.py")
            values.append(value)
        db.commit()
    app.extensions["blindmark.engine"].dispose()
    return values


# --- the clients ------------------------------------------------------------------------------


def run_clients(spec: dict[str, Any], ready: Any, go: Any, clock: Any, results: Any) -> None:
    """One client process: a thread per examiner; reports latencies, marks and its CPU."""
    import threading
    import traceback

    report: dict[str, Any] = {"errors": [], "clients": len(spec["tokens"])}
    try:
        threads_done: list[dict[str, Any]] = []
        lock = threading.Lock()

        def one(token: str, seed: int) -> None:
            mine = examiner_loop(spec, token, seed, go, clock)
            with lock:
                threads_done.append(mine)

        threads = [
            threading.Thread(target=one, args=(token, spec["seed"] + n))
            for n, token in enumerate(spec["tokens"])
        ]
        for thread in threads:
            thread.start()
        ready.put(os.getpid())
        go.wait()
        cpu_before = time.process_time()
        for thread in threads:
            thread.join()
        report["cpu_s"] = time.process_time() - cpu_before
        for kind in KINDS:
            report[kind] = [x for t in threads_done for x in t[kind]]
        for key in ("marks", "marks_in_window", "lease_lost", "empty_claims", "requests"):
            report[key] = sum(t[key] for t in threads_done)
        report["errors"] = [e for t in threads_done for e in t["errors"]][:20]
    except BaseException:
        report["errors"].append(traceback.format_exc())
    finally:
        results.put(report)


def examiner_loop(
    spec: dict[str, Any], token: str, seed: int, go: Any, clock: Any
) -> dict[str, Any]:
    """What mark.js does, as fast as the server answers, until the window closes."""
    import http.client
    import random
    from decimal import Decimal

    from _queue_work import Window, mark_steps

    out: dict[str, Any] = {k: [] for k in KINDS}
    out.update(marks=0, marks_in_window=0, lease_lost=0, empty_claims=0, requests=0, errors=[])
    rng = random.Random(seed)
    base = f"/api/v1/sessions/{spec['code']}"
    headers = {
        "Authorization": f"Bearer {token}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    tolerance = {tuple(k.split("/")): Decimal(v) for k, v in spec["tolerance"].items()}
    conn = http.client.HTTPConnection("127.0.0.1", spec["port"], timeout=60)
    go.wait()
    window = Window(clock[0], clock[1])

    def call(kind: str, method: str, path: str, payload: Any = None) -> tuple[int, Any]:
        body = None if payload is None else json.dumps(payload)
        start = time.perf_counter()
        conn.request(method, base + path, body=body, headers=headers)
        answer = conn.getresponse()
        data = answer.read()
        took = time.perf_counter() - start
        out["requests"] += 1
        if window.start <= time.monotonic() < window.end:
            out[kind].append(took * 1000)
        return answer.status, json.loads(data) if data else None

    held: list[dict[str, Any]] = []
    while not window.over():
        try:
            if not held:
                status, held = call("held", "GET", "/held")
                if status != 200:
                    raise RuntimeError(f"held: {status} {held}")
                if not held:
                    status, held = call("claim", "POST", "/claim", {"size": spec["batch"]})
                    if status != 200:
                        raise RuntimeError(f"claim: {status} {held}")
                if not held:
                    out["empty_claims"] += 1
                    time.sleep(0.05)
                    continue
            item = held.pop(0)
            step, top = Decimal(item["step"]), Decimal(item["max"])
            tol = int(tolerance[(item["component"], item["question"])] / step)
            # The handle stands for the response: the same "true mark" for every client.
            value = mark_steps(item["response"], int(top / step), tol, rng) * step
            status, answer = call(
                "mark", "POST", f"/responses/{item['response']}/mark", {"value": f"{value:f}"}
            )
            if status == 200:
                out["marks"] += 1
                window.tick()
            elif status == 409 and answer and answer.get("error") == "lease_lost":
                out["lease_lost"] += 1
            else:
                raise RuntimeError(f"mark: {status} {answer}")
        except Exception as exc:  # counted and shown; the client goes on with a new batch
            out["errors"].append(repr(exc)[:500])
            held = []
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", spec["port"], timeout=60)
            if len(out["errors"]) > 50:
                break
    out["marks_in_window"] = window.inside
    conn.close()
    return out


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
        server = Server(target["url"], args.workdir, workers=args.workers, threads=args.threads)
        ctx = multiprocessing.get_context("spawn")
        ready, results = ctx.Queue(), ctx.Queue()
        go = ctx.Event()
        clock = ctx.Array("d", 2)
        procs = min(args.client_procs, clients)
        processes = []
        for p in range(procs):
            spec = {
                "port": server.port,
                "code": bq.CODE,
                "batch": args.batch,
                "tokens": tokens[p::procs],
                "seed": SEED + 1000 * p,
                "tolerance": tolerance,
            }
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
            pg_pids = backend_pids(args.pg_url, target["name"])
            client_pids = [p.pid for p in processes if p.pid is not None]
            before = [cpu_of(server_pids), cpu_of(pg_pids), cpu_of(client_pids)]
            ticks, wall = busy_ticks(), time.perf_counter()
            time.sleep(args.seconds)
            # Backends the pools opened during the window count too (from their start).
            pg_pids = sorted({*pg_pids, *backend_pids(args.pg_url, target["name"])})
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
        server.stop()
        check = bq.check_database(target, built.session_id)
    finally:
        if server is not None:
            server.stop()
        template.drop_clone(target)
    marks = sum(r.get("marks_in_window", 0) for r in reports)
    errors = [e for r in reports for e in r["errors"]]
    window_cpu = {
        side: cpu_spent(b, a)
        for side, b, a in zip(("server", "database", "clients"), before, after, strict=True)
    }
    latency = {kind: percentiles([x for r in reports for x in r.get(kind, [])]) for kind in KINDS}
    latency["all"] = percentiles([x for r in reports for k in KINDS for x in r.get(k, [])])
    result = {
        "method": "http",
        "clients": clients,
        "client_processes": procs,
        "gunicorn": {"workers": args.workers, "threads": args.threads, "worker_class": "gthread"},
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
    mark_latency = latency["mark"]
    flag = "" if check["ok"] and not errors else "  (PROBLEM)"
    print(
        f"  http    clients {clients:>3}: {result['marks_per_s']:7,.0f} marks/s, mark p50/p95/p99 "
        f"{mark_latency['p50']}/{mark_latency['p95']}/{mark_latency['p99']} ms, CPU ms/mark "
        + ", ".join(f"{k} {v:.2f}" for k, v in result["cpu_ms_per_mark"].items())
        + f" (busy {busy:.2f} cores){flag}",
        file=sys.stderr,
    )
    if errors:
        print("    first error: " + errors[0], file=sys.stderr)
    return result


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
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="16 clients, short windows")
    parser.add_argument("--clients", help="comma-separated client counts (8,16,32; quick 16)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (2)")
    parser.add_argument("--threads", type=int, default=4, help="threads per worker (4)")
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
    examiners = max([*client_counts, args.direct_workers])
    today = dt.date.today().isoformat()
    out = args.out or RESULTS / f"http-{today}{'-quick' if quick else ''}.json"
    args.workdir = Path(tempfile.mkdtemp(prefix="blindmark-bench-http-", dir=args.workdir))

    bq = queue_bench()
    from _session import build_session

    http_results: list[dict[str, Any]] = []
    direct = None
    started = time.perf_counter()
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
