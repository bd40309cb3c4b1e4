"""`blindmark` with the web commands added: the engine's command line plus `serve`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import click

from marking.cli import Context, handle_errors, main, pass_ctx
from marking.store.db import default_url


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port to listen on.")
@click.option(
    "--workers",
    type=int,
    help="Worker processes (gunicorn; default one per CPU core: a worker's Python uses one "
    "core at most, and the database needs the rest of the machine's time).",
)
@click.option(
    "--threads",
    default=16,
    show_default=True,
    help="Threads per worker. An examiner's request waits out its pace in its thread, "
    "holding no database connection: 16 answered 1.8 times what 4 did (bench/http.py).",
)
@click.option(
    "--examiner-pace",
    type=click.IntRange(min=0),
    default=50,
    show_default=True,
    help="Milliseconds an examiner's marking request takes at least, so that no seed or "
    "回评 answers faster or slower than live work (0: off; web/pacing.py). The wait holds "
    "a thread, no database connection.",
)
@click.option(
    "--insecure-cookies",
    is_flag=True,
    help="Send the login cookie over plain HTTP too (local use without TLS only).",
)
@click.option(
    "--demo",
    is_flag=True,
    help="First seed demo sessions and accounts (prints them), then serve on plain HTTP.",
)
@click.option(
    "--jobs/--no-jobs",
    default=True,
    show_default=True,
    help="Also run one `blindmark worker` for the background jobs (scans, notices) while "
    "serving; --no-jobs when workers run elsewhere (several machines on one PostgreSQL).",
)
@click.option(
    "--demo-candidates", default=40, show_default=True, help="Candidates per demo session."
)
@pass_ctx
@handle_errors
def serve(
    ctx: Context,
    host: str,
    port: int,
    workers: int | None,
    threads: int,
    examiner_pace: int,
    insecure_cookies: bool,
    demo: bool,
    jobs: bool,
    demo_candidates: int,
) -> None:
    """Run the web application with gunicorn, a production WSGI server."""
    from gunicorn.app.base import BaseApplication

    from marking.store import schema
    from web import create_app

    url = ctx.url or os.environ.get("BLINDMARK_DATABASE_URL")
    engine = ctx.engine
    if demo:
        from marking.demo.live import seed

        seed(engine, candidates=demo_candidates, out_dir=Path("instance/demo-web"), echo=click.echo)
        insecure_cookies = True
    else:
        ctx.checked_engine()
    schema.current_revision(engine)
    engine.dispose()  # each worker opens its own connections after the fork
    config: dict[str, Any] = {
        "SESSION_COOKIE_SECURE": not insecure_cookies,
        "EXAMINER_PACE": examiner_pace / 1000,
    }
    if url:
        config["DATABASE_URL"] = url
    app = create_app(config)
    workers = workers or os.cpu_count() or 2
    job_worker = _start_job_worker(url or default_url()) if jobs else None

    def stop_job_worker(_server: object) -> None:
        if job_worker is not None and job_worker.poll() is None:
            job_worker.terminate()  # huey finishes the job in hand; its lease covers the rest
            try:
                job_worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                job_worker.kill()

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("accesslog", "-")
            self.cfg.set("timeout", 120)
            self.cfg.set("on_exit", stop_job_worker)

        def load(self) -> Any:
            return app

    click.echo(f"blindmark web on http://{host}:{port}/ ({workers} workers × {threads} threads)")
    try:
        Server().run()
    finally:
        stop_job_worker(None)


def _start_job_worker(url: str) -> subprocess.Popen[bytes]:
    """One `blindmark worker` process beside the web server, so that a station on the
    embedded default needs nothing else running for its uploads and notices to be done."""
    command = [sys.executable, "-c", "from web.cli import main; main()", "worker", "--workers", "1"]
    click.echo("blindmark worker: one process for the background jobs (--no-jobs: none)")
    return subprocess.Popen(command, env={**os.environ, "BLINDMARK_DATABASE_URL": url})


__all__ = ["main"]
