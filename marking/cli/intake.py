"""`blindmark intake`, `withdraw` and `record`: batches and sealed records coming in."""

from __future__ import annotations

from pathlib import Path

import click

from marking.cli import Context, handle_errors, main, pass_ctx
from marking.cli.common import actor
from marking.store.db import scrub_wal, transaction


@main.command()
@click.option("--session", "code", required=True, help="Session code.")
@click.option("--name", help="A name for the batch (default: the folder's name).")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@pass_ctx
@handle_errors
def intake(ctx: Context, code: str, name: str | None, folder: Path) -> None:
    """Take in a batch folder: candidates.csv, responses.csv (or .xlsx) and images.

    Identities are sealed with the session's public key; scripts get random codes;
    objective questions are scored from the key. A bad file is refused whole.
    """
    from marking.intake.batch import intake_batch
    from marking.setup.sessions import get_session

    engine = ctx.checked_engine()
    with transaction(engine) as db:
        exam = get_session(db, code)
        s = intake_batch(db, exam, folder, actor=actor(), name=name)
    scrub_wal(engine)
    per = ", ".join(f"{k} {v}" for k, v in s.by_component.items())
    click.echo(
        f"batch {s.batch_id}: {s.candidates} candidates, {s.scripts} scripts ({per}), "
        f"{s.responses} responses ({s.objective_scored} scored from the key), "
        f"{s.images} new image(s), {s.exclusions} exclusion(s)"
    )


@main.command("withdraw")
@click.option("--session", "code", required=True, help="Session code.")
@click.option("--batch", "batch_id", required=True, type=int, help="Batch number.")
@click.option("--reason", required=True, help="Why (recorded).")
@pass_ctx
@handle_errors
def withdraw(ctx: Context, code: str, batch_id: int, reason: str) -> None:
    """Withdraw an intake batch (taken in twice, or by mistake); publication leaves it out."""
    from marking.intake.batch import withdraw_batch
    from marking.setup.sessions import get_session

    with transaction(ctx.checked_engine()) as db:
        withdraw_batch(db, get_session(db, code), batch_id, reason=reason, actor=actor())
    click.echo(f"batch {batch_id} withdrawn")


@main.command()
@click.argument("what", type=click.Choice(["violations", "interview", "interview-absent"]))
@click.option("--session", "code", required=True, help="Session code.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
@handle_errors
def record(ctx: Context, what: str, code: str, file: Path) -> None:
    """Record violations (R13), interview scores (R7) or candidates absent from the
    interview (exam_no[,reason]); sealed the moment they enter."""
    from marking.intake.records import (
        record_interview,
        record_interview_absent,
        record_violations,
    )
    from marking.setup.sessions import get_session

    readers = {
        "violations": record_violations,
        "interview": record_interview,
        "interview-absent": record_interview_absent,
    }
    with transaction(ctx.checked_engine()) as db:
        exam = get_session(db, code)
        count = readers[what](db, exam, file, actor=actor())
    click.echo(f"{count} {what} row(s) sealed")
