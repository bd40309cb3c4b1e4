"""`blindmark scan`, `quarantine list|resolve` and `batch close`: the paper path's scans
(DESIGN §12) from the command line, one transaction per step, errors as elsewhere."""

from __future__ import annotations

import os
from pathlib import Path

import click

from marking.cli import Context, handle_errors, main, pass_ctx
from marking.cli.common import actor
from marking.paper.sources import scan_files
from marking.store.db import scrub_wal, session_factory, transaction


@main.command()
@click.option("--session", "code", required=True, help="Session code.")
@click.option(
    "--candidates",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The room's roster (candidates.csv columns).",
)
@click.option("--component", default="theory", show_default=True, help="Component key.")
@click.option("--name", help="A name for the batch (default: the roster file's name).")
@click.option("--queue", is_flag=True, help="Only queue the files for `blindmark worker`.")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@pass_ctx
@handle_errors
def scan(
    ctx: Context,
    code: str,
    candidates: Path,
    component: str,
    name: str | None,
    queue: bool,
    paths: tuple[Path, ...],
) -> None:
    """Take a room's scanned answer sheets: PDF bundles, images, or folders of them.

    Creates the scan batch with the roster, queues the files and (without --queue) reads
    them here. Doubts go to quarantine (`blindmark quarantine list`); the batch closes by
    itself once nothing is left to decide, or with `blindmark batch close`.
    """
    from marking.paper.scanning import add_scan_file, create_scan_batch, process_file
    from marking.setup.sessions import get_session

    engine = ctx.checked_engine()
    files = scan_files(paths)  # a folder's stray file is refused, never skipped
    with transaction(engine) as db:
        exam = get_session(db, code)
        batch = create_scan_batch(
            db, exam, component=component, roster=candidates, actor=actor(), name=name
        )
        ids = [add_scan_file(db, batch, name=f.name, content=f.read_bytes()).id for f in files]
        batch_id = batch.id
        if queue:
            from marking.jobs import Jobs, submit_scan_file

            jobs = Jobs(ctx.url, engine=engine)
            db.flush()
            for file_id in ids:
                submit_scan_file(jobs, db, file_id)
    click.echo(f"scan batch {batch_id}: {len(ids)} file(s) queued")
    if queue:
        jobs.close()
        return
    owner = f"cli:{os.getpid()}"
    for file_id, path in zip(ids, files, strict=True):
        result = process_file(session_factory(engine), file_id, owner=owner)
        click.echo(f"{path.name}: {result.pages} page(s), {result.state}")
        if result.batch_closed:
            click.echo(f"scan batch {batch_id} closed: nothing left in quarantine")
    _echo_tally(engine, code, batch_id)


def _echo_tally(engine: object, code: str, batch_id: int) -> None:
    from marking.paper.tally import render_tally, tally
    from marking.setup.sessions import get_session

    with transaction(engine) as db:  # type: ignore[arg-type]
        rows = [t for t in tally(db, get_session(db, code)) if t.batch == batch_id]
    for line in render_tally(rows):
        click.echo(line)


@main.group()
def quarantine() -> None:
    """What the scan step would not guess: list and resolve (DESIGN §12)."""


@quarantine.command("list")
@click.option("--session", "code", required=True, help="Session code.")
@click.option("--batch", "batch_id", type=int, help="Only this scan batch.")
@pass_ctx
@handle_errors
def quarantine_list(ctx: Context, code: str, batch_id: int | None) -> None:
    """One line per open item, tab-separated: id, kind, batch, sheet serial, source file,
    page, question, reason ('-' where not known)."""
    from marking.paper.quarantine import list_quarantine
    from marking.setup.sessions import get_session

    with transaction(ctx.checked_engine()) as db:
        rows = list_quarantine(db, get_session(db, code), batch_id=batch_id)
    for r in rows:
        fields = (r.id, r.kind, r.batch, r.serial, r.source_file, r.page, r.question, r.reason)
        click.echo("\t".join("-" if f is None else str(f).replace("\t", " ") for f in fields))


@quarantine.command("resolve")
@click.option("--session", "code", required=True, help="Session code.")
@click.argument("item_id", type=int)
@click.option("--exam-no", help="The exam number read off the header (exam-number items).")
@click.option(
    "--value",
    help="Bubble row: the filled options (- for none); fill-in: the text; "
    "缺考: yes|no; 违纪: advice|warning|terminated|void.",
)
@click.option("--discard", is_flag=True, help="Leave it out (recorded).")
@pass_ctx
@handle_errors
def quarantine_resolve(
    ctx: Context, code: str, item_id: int, exam_no: str | None, value: str | None, discard: bool
) -> None:
    """Resolve one item; the batch closes by itself when it was the last."""
    from marking.paper.quarantine import resolve_item
    from marking.setup.sessions import get_session

    engine = ctx.checked_engine()
    with transaction(engine) as db:
        item, closed = resolve_item(
            db, get_session(db, code), item_id, actor=actor(), exam_no=exam_no, value=value,
            discard=discard,
        )  # fmt: skip
        state = item.state.value
    click.echo(f"item {item_id} {state}")
    if closed is not None:
        scrub_wal(engine)
        click.echo(_closed_line(closed))


def _closed_line(s: object) -> str:
    from marking.paper.closing import CloseSummary

    assert isinstance(s, CloseSummary)
    left = ", ".join(f"{k} {v}" for k, v in sorted(s.discarded.items())) or "nothing"
    return (
        f"scan batch {s.batch_id} closed as intake batch {s.intake_batch_id}: "
        f"{s.candidates} candidates, {s.sheets_taken} sheet(s) taken, {s.scripts} script(s), "
        f"{s.absent} absent, {s.responses} responses, {s.blank_boxes} blank box(es), "
        f"{s.all_blank_scripts} all-blank script(s); discarded: {left}"
    )


@main.group("batch")
def batch_group() -> None:
    """Scan batches."""


@batch_group.command("close")
@click.option("--session", "code", required=True, help="Session code.")
@click.option("--batch", "batch_id", required=True, type=int, help="Scan batch number.")
@pass_ctx
@handle_errors
def batch_close(ctx: Context, code: str, batch_id: int) -> None:
    """Close a scan batch: what is left in quarantine is discarded (recorded), the taken
    sheets become scripts, and the roster and header crops are sealed and erased."""
    from marking.paper.closing import close_batch
    from marking.paper.scanning import get_scan_batch
    from marking.setup.sessions import get_session

    engine = ctx.checked_engine()
    with transaction(engine) as db:
        exam = get_session(db, code)
        summary = close_batch(
            db, exam, get_scan_batch(db, exam, batch_id), actor=actor(),
            note="closed by the office",
        )  # fmt: skip
    scrub_wal(engine)
    click.echo(_closed_line(summary))
