"""The client processes of bench/http.py: examiner threads doing what the marking screen
(web/static/mark.js) does, over keep-alive connections, timing every request."""

from __future__ import annotations

import json
import os
import time
from typing import Any

KINDS = ("held", "claim", "mark")  # the requests timed, as the marking screen sends them


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
