"""`blindmark status`, `export` and `report`: what leaves the database for people to read."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import click

from marking.cli import Context, handle_errors, main, pass_ctx
from marking.store.db import transaction
from reports import cells


@main.command()
@click.option("--session", "code", required=True, help="Session code.")
@pass_ctx
@handle_errors
def status(ctx: Context, code: str) -> None:
    """Progress per marking group, and what is still open."""
    from marking.read.status import render_status, session_status
    from marking.setup.sessions import get_session

    with transaction(ctx.checked_engine()) as db:
        report = session_status(db, get_session(db, code))
    click.echo(render_status(report))


@main.command()
@click.argument("what", type=click.Choice(["paper", "marks", "finals", "results", "monitoring"]))
@click.option("--session", "code", required=True, help="Session code.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--revision",
    type=click.IntRange(min=1),
    help="marks, finals, results: as published in this revision (default: the latest).",
)
@pass_ctx
@handle_errors
def export(ctx: Context, what: str, code: str, out: Path, revision: int | None) -> None:
    """Export as CSV (UTF-8 with BOM, so Excel shows Chinese correctly).

    paper: the questions; marks: every effective mark; finals: each response's final;
    results: one row per candidate. All but paper and monitoring only after publication
    (R8). monitoring: per group and examiner, the quality figures (DESIGN §13), computed
    now; names no candidate, so available while marking goes on.
    """
    from marking.read import exports, monitoring
    from marking.setup.sessions import get_session

    with transaction(ctx.checked_engine()) as db:
        exam = get_session(db, code)
        header: Sequence[str]
        found: Iterable[Sequence[str]]
        if what == "monitoring":
            header, found = monitoring.export_rows(monitoring.compute(db, exam))
        else:
            header, found = exports.table(db, exam, what, revision)
        rows = list(found)
    write_csv(out, header, rows)
    click.echo(f"wrote {out} ({len(rows)} rows)")


@main.command()
@click.argument("kind", type=click.Choice(["register", "notices", "passlist", "stats"]))
@click.option("--session", "code", required=True, help="Session code.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["pdf", "csv", "xlsx"]),
    help="Default: from --out's extension (csv and xlsx: register and stats only).",
)
@click.option("--candidates", help="Notices: only these exam numbers (comma-separated).")
@click.option(
    "--candidates-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Notices: only the exam numbers in this file, one a line.",
)
@click.option("--workers", type=click.IntRange(min=1), help="Rendering processes (default: cores).")
@click.option(
    "--revision",
    type=click.IntRange(min=1),
    help="register, notices, passlist: as published in this revision (default: the latest).",
)
@pass_ctx
@handle_errors
def report(
    ctx: Context,
    kind: str,
    code: str,
    out: Path,
    lang: str,
    fmt: str | None,
    candidates: str | None,
    candidates_file: Path | None,
    workers: int | None,
    revision: int | None,
) -> None:
    """Reports (DESIGN §8): register, notices and pass list after publication only;
    stats at any time (marking quality; results once published)."""
    from marking.domain.tabular import read_text
    from marking.read.reportdata import gather
    from marking.read.reporting import infer_format, produce
    from marking.setup.sessions import get_session
    from reports.produce import write

    exam_nos: list[str] | None = None
    if candidates is not None or candidates_file is not None:
        if kind != "notices":
            raise click.UsageError("--candidates and --candidates-file apply to notices only")
        exam_nos = [n.strip() for n in (candidates or "").split(",") if n.strip()]
        if candidates_file is not None:
            lines = read_text(candidates_file).splitlines()
            exam_nos += [n.strip() for n in lines if n.strip()]
    chosen = infer_format(kind, out, fmt)
    # Read in one short transaction; render outside it (rendering may take a while and
    # must not hold the database).
    with transaction(ctx.checked_engine()) as db:
        data = gather(db, get_session(db, code), kind, revision)
    content = produce(kind, data, fmt=chosen, lang=lang, exam_nos=exam_nos, workers=workers)
    write(out, content)
    click.echo(f"wrote {out} ({len(content)} bytes)")


def write_csv(out: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        cells.write_csv(fh, header, rows)
