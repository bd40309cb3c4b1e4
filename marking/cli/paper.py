"""`blindmark sheets`: the paper path's answer sheets, printed and their serials recorded."""

from __future__ import annotations

from pathlib import Path

import click

from marking.cli import Context, handle_errors, main, pass_ctx
from marking.cli.common import actor
from marking.store.db import transaction


@main.command()
@click.option("--session", "code", required=True, help="Session code.")
@click.option("--component", required=True, help="Component key (theory, skills).")
@click.option("--count", required=True, type=int, help="How many sheet sets (1 to 2000).")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--layout",
    "layout_out",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the sheets' geometry as JSON (DESIGN §12), for printers and auditors.",
)
@click.option("--workers", type=click.IntRange(min=1), help="Rendering processes (default: cores).")
@pass_ctx
@handle_errors
def sheets(
    ctx: Context,
    code: str,
    component: str,
    count: int,
    out: Path,
    layout_out: Path | None,
    workers: int | None,
) -> None:
    """Print blank answer sheets (DESIGN §12): corner marks, a QR code per page, the sealed
    header, bubbles and answer boxes, laid out from the session definition.

    Each set gets a random serial, recorded as issued so that a scan can refuse a sheet
    nobody printed. The files are written before the serials are committed: when writing
    fails, nothing is recorded.
    """
    from marking.paper.issue import issue_sheets
    from marking.paper.layout import layout_digest, layout_text
    from marking.setup.sessions import get_session

    with transaction(ctx.checked_engine()) as db:
        printed = issue_sheets(
            db, get_session(db, code), component, count, actor=actor(), workers=workers
        )
        write(out, printed.pdf)
        if layout_out is not None:
            write(layout_out, layout_text(printed.layout).encode("utf-8"))
    pages = len(printed.layout.pages)
    click.echo(
        f"wrote {out}: {count} set(s) of {pages} page(s) of {component}, "
        f"layout {layout_digest(printed.layout)}"
        + (f"; layout file {layout_out}" if layout_out is not None else "")
    )


def write(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` atomically; an unwritable path is a MarkingError."""
    from marking.errors import MarkingError
    from reports.produce import write as write_atomically

    try:
        write_atomically(path, content)
    except OSError as exc:
        raise MarkingError(f"cannot write {path}: {exc.strerror or exc}") from None
