"""`blindmark archive`: a published session as one verifiable zip (档案管理)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import click

from marking.cli import Context, handle_errors, main, pass_ctx
from marking.store.db import transaction


@main.command()
@click.option("--session", "code", required=True, help="Session code (published).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option("--workers", type=click.IntRange(min=1), help="Rendering processes (default: cores).")
@pass_ctx
@handle_errors
def archive(ctx: Context, code: str, out: Path, lang: str, workers: int | None) -> None:
    """Write the published session as a zip: definition, results, marks, ledger, reports
    and a manifest of SHA-256 digests; `blindmark verify --archive` checks it, no database
    needed. Refused before publication (R8)."""
    from marking.read.archive import require_archivable, write_archive
    from marking.setup.sessions import get_session

    started = time.perf_counter()
    partial = out.with_name(out.name + ".part")
    with transaction(ctx.checked_engine()) as db:
        exam = get_session(db, code)
        require_archivable(exam)
        try:
            with partial.open("wb") as fh:
                summary = write_archive(db, exam, fh, lang=lang, workers=workers)
            os.replace(partial, out)
        finally:
            partial.unlink(missing_ok=True)
    click.echo(
        f"wrote {out}: {summary.files} files, {summary.size:,} bytes before compression, "
        f"{out.stat().st_size:,} bytes, in {time.perf_counter() - started:.1f} s"
    )
    for p in summary.publications:
        click.echo(
            f"revision {p['revision']}: results {p['results_sha256']}, "
            f"ledger head {p['ledger_head']}"
        )
