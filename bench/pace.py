"""Benchmark: over HTTP, a check answers when live work does, with the examiner's pace on
(web/pacing.py, DESIGN §13), and what that pace costs.

    python bench/pace.py [--quick] [--rounds R] [--batch B] [--candidates N] [--pace MS]
                         [--db sqlite|postgres|both] [--pg-url URL] [--out FILE.json]

Testers timing requests over HTTP told seeds from live work on PostgreSQL: a seed's mark
took 1.14 of its batch's median, a claim bringing a check back 1.10. The engine narrowed
those gaps, but a check's statements still cost the database a little more or less than
live work's. The examiner's requests now answer no sooner than a floor after they arrived.

The session (N candidates, default 400; three examiners) is set up through the services
(bench/_session.py); every group gets 80 seeds (bench/_queue_checks.py) and the first group a
seed rate of 1 in 5, so checks come in every batch. Two ``blindmark serve`` (gunicorn, as the
README runs it) over the same database: one with ``--examiner-pace 0`` (the baseline, the
same run) and one with ``--examiner-pace MS`` (default 50). R rounds (default 60), taking
turns between the two servers and the three examiners (API tokens): claim a batch of B
(default 10) of that group, and in a random order hand half of it back and mark the rest.
Every request is timed by the client, from sending it to reading the whole answer.

Each hand-back's and mark's time is divided by its round's median of that kind: the checks'
median ratio is what a tester comparing items sees (live: 1 by construction). With the pace
on, it should be 1 within the noise; its cost is the median time of each kind.
"""

from __future__ import annotations

# isort: off
import _paths  # noqa: F401  (first: bench/'s script names shadow stdlib and project modules)

# isort: on
import argparse
import http.client
import json
import random
import statistics
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from _common import Target
from _http_server import Server, api_tokens
from _queue_checks import checks_parser, echo, in_each_database, quartiles

SEED = 2026
CODE = "BENCH-PACE"
SEEDS_PER_GROUP = 80


class Client:
    """One examiner's keep-alive connection to one server, timing every request."""

    def __init__(self, port: int, token: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    def call(self, method: str, path: str, payload: Any = None) -> tuple[Any, float]:
        body = None if payload is None else json.dumps(payload)
        start = time.perf_counter()
        self.conn.request(method, f"/api/v1/sessions/{CODE}{path}", body, self.headers)
        answer = self.conn.getresponse()
        data = answer.read()
        took = time.perf_counter() - start
        if answer.status != 200:
            raise RuntimeError(f"{method} {path}: {answer.status} {data[:300]!r}")
        return json.loads(data), took


def _round(client: Client, key: str, batch: int, rng: random.Random) -> dict[str, Any]:
    """claim, hand half back and mark the rest, in a random order: each item's times."""
    out: dict[str, Any] = {"release": {}, "mark": {}, "claim": []}
    items, took = client.call("POST", "/claim", {"size": batch, "group": key})
    out["claim"].append(took)
    handles = [i["response"] for i in items]
    rng.shuffle(handles)
    for n, handle in enumerate(handles):
        if n % 2:
            _, out["release"][handle] = client.call("POST", f"/responses/{handle}/release")
        else:
            path, value = f"/responses/{handle}/mark", {"value": "0"}
            _, out["mark"][handle] = client.call("POST", path, value)
    return out


def _ratios(rounds: list[dict[str, Any]], kind: str, checks: set[str]) -> dict[str, Any]:
    check, live, seconds = [], [], []
    for r in rounds:
        times = r[kind]
        if len(times) < 3:
            continue
        median = statistics.median(times.values())
        for handle, took in times.items():
            (check if handle in checks else live).append(took / median)
            seconds.append(took)
    return {
        "checks": len(check),
        "live": len(live),
        "check_ratio_median": round(statistics.median(check), 3) if check else None,
        "check_ratio_quartiles": quartiles(check),
        "live_ratio_quartiles": quartiles(live),
        "median_ms": round(statistics.median(seconds) * 1000, 2),
    }


def run(kind: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    from _queue_checks import checks_among, seeded_session

    from marking.store.db import make_engine, transaction

    target = Target.fresh(kind, workdir, "pace", args.pg_url)
    servers: list[Server] = []
    try:
        echo(f"{kind}: setting up {args.candidates:,} candidates through the services ...")
        examiners, key = seeded_session(
            target,
            workdir,
            CODE,
            candidates=args.candidates,
            seeds=SEEDS_PER_GROUP,
            rate=Decimal("0.2"),
        )
        engine = make_engine(target.url)
        tokens = api_tokens(target.url, examiners)
        paces = (0, args.pace)
        for pace in paces:
            servers.append(Server(target.url, workdir, workers=2, threads=4, examiner_pace=pace))
        ports = dict(zip(paces, (server.port for server in servers), strict=True))
        rng = random.Random(SEED)
        rounds: dict[int, list[dict[str, Any]]] = {pace: [] for pace in paces}
        echo(f"{kind}: {args.rounds} rounds of {args.batch}, paces {paces} ms ...")
        for n in range(args.rounds):
            pace = paces[n % 2]
            # A connection of its own each round: gunicorn closes one idle for 2 s.
            client = Client(ports[pace], tokens[(n // 2) % len(tokens)])
            rounds[pace].append(_round(client, key, args.batch, rng))
            client.conn.close()
        with transaction(engine) as db:
            every = [h for rs in rounds.values() for r in rs for h in (*r["release"], *r["mark"])]
            checks = checks_among(db, CODE, every)
        engine.dispose()
    finally:
        for server in servers:
            server.stop()
        target.drop()
    return {
        "database": kind,
        "rounds": args.rounds,
        "batch": args.batch,
        "paces": {
            str(pace): {
                "release": _ratios(rounds[pace], "release", checks),
                "mark": _ratios(rounds[pace], "mark", checks),
                "claim_median_ms": round(
                    statistics.median(t for r in rounds[pace] for t in r["claim"]) * 1000, 2
                ),
            }
            for pace in rounds
        },
    }


def main(argv: list[str] | None = None) -> int:
    parser = checks_parser(__doc__, rounds=60, batch=10, quick=12)
    parser.add_argument("--pace", type=int, default=50, help="milliseconds (the default's)")
    args = parser.parse_args(argv)
    sources = ("web/pacing.py", "web/api.py", "marking/quality/handout.py")
    results, out = in_each_database("pace", args, run, sources)
    print("over HTTP: each request's time ÷ its round's median (live: 1 by construction)")
    print(f"{'database':<10}{'pace':>5}  {'kind':<8}{'checks':>7}  {'check median':>12}  ms")
    for r in results:
        for pace, kinds_of in r["paces"].items():
            for kind in ("release", "mark"):
                k = kinds_of[kind]
                print(
                    f"{r['database']:<10}{pace:>5}  {kind:<8}{k['checks']:>7}  "
                    f"{k['check_ratio_median']!s:>12}  {k['median_ms']}"
                )
            print(f"{'':<10}{pace:>5}  claim{'':>24}  {kinds_of['claim_median_ms']}")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
