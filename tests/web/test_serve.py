"""`blindmark serve` runs the application in gunicorn, as the README says."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from marking.store import schema
from tests.conftest import FreshDatabase


def test_serve_answers_through_gunicorn(fresh_db: FreshDatabase, tmp_path: Path) -> None:
    schema.upgrade(fresh_db.engine)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    blindmark = Path(sys.executable).with_name("blindmark")
    server = subprocess.Popen(
        [str(blindmark), "--db", fresh_db.url, "serve", "--port", str(port), "--threads", "2"],
        cwd=tmp_path,
        env={**os.environ, "BLINDMARK_SECRET_KEY": "serve-test"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, server.stdout.read().decode() if server.stdout else ""
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/login")
                answer = conn.getresponse()
                break
            except OSError:
                assert time.monotonic() < deadline, "blindmark serve did not answer in 30 s"
                time.sleep(0.2)
        assert answer.status == 200
        assert "script-src 'self'" in (answer.getheader("Content-Security-Policy") or "")
        assert "登录" in answer.read().decode()
        conn.close()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        output = server.communicate(timeout=30)[0].decode()
    # One worker per core unless told, 2 threads as asked, and an access log line.
    assert f"({os.cpu_count()} workers × 2 threads)" in output
    assert '"GET /login HTTP/1.1" 200' in output
