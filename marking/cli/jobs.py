"""`blindmark worker`: runs the background jobs (scanned files, whole-session notices)."""

from __future__ import annotations

import logging
import os

import click

from marking.cli import Context, handle_errors, main, pass_ctx


@main.command()
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Jobs run at once on this machine (default: one per CPU core).",
)
@click.option(
    "--threads",
    is_flag=True,
    help="Run the jobs in threads of one process instead of one process each.",
)
@pass_ctx
@handle_errors
def worker(ctx: Context, workers: int | None, threads: bool) -> None:
    """Run background jobs until stopped (Ctrl-C or SIGTERM finish the jobs in hand).

    The queue is the database's (--db / $BLINDMARK_DATABASE_URL): on PostgreSQL, workers on
    several machines share it. A job whose worker was killed is queued again when its lease
    lapses (BLINDMARK_JOBS_LEASE seconds, default 600) and resumes where it stood.
    """
    from marking.jobs import Jobs

    ctx.checked_engine()  # a clear "run `blindmark init`" rather than a failing job
    jobs = Jobs(ctx.url, engine=ctx.engine)
    count = workers or os.cpu_count() or 1
    # What the worker does (tasks taken, finished, failed) is its output: log it.
    logging.getLogger("huey").setLevel(logging.INFO)
    logging.getLogger("blindmark.jobs").setLevel(logging.INFO)
    click.echo(
        f"blindmark worker: {count} {'threads' if threads else 'processes'} on "
        f"{'PostgreSQL' if jobs.url.startswith('postgresql') else jobs.url}"
    )
    jobs.run_worker(workers=count, kind="thread" if threads else "process")
