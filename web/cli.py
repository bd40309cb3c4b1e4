"""`blindmark` with the web commands added: the engine's command line plus `serve`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import click

from marking.cli import Context, handle_errors, main, pass_ctx


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8000, show_default=True, help="Port to listen on.")
@click.option(
    "--workers",
    type=int,
    help="Worker processes (gunicorn; default one per CPU core: a worker's Python uses one "
    "core at most, and the database needs the rest of the machine's time).",
)
@click.option("--threads", default=4, show_default=True, help="Threads per worker.")
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
    insecure_cookies: bool,
    demo: bool,
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
    config: dict[str, Any] = {"SESSION_COOKIE_SECURE": not insecure_cookies}
    if url:
        config["DATABASE_URL"] = url
    app = create_app(config)
    workers = workers or os.cpu_count() or 2

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"{host}:{port}")
            self.cfg.set("workers", workers)
            self.cfg.set("threads", threads)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("accesslog", "-")
            self.cfg.set("timeout", 120)

        def load(self) -> Any:
            return app

    click.echo(f"blindmark web on http://{host}:{port}/ ({workers} workers × {threads} threads)")
    Server().run()


__all__ = ["main"]
