"""`blindmark simulate` and `demo`: simulated examiners, and the whole flow on synthetic data."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from marking.cli import Context, handle_errors, main, pass_ctx


@main.command()
@click.option("--session", "code", required=True, help="Session code.")
@click.option("--seed", default=1, show_default=True, help="Seed of the simulated examiners.")
@click.option("--batch", default=20, show_default=True, help="Responses per claim.")
@click.option(
    "--bias",
    multiple=True,
    metavar="USER=OFFSET",
    help="That examiner adds OFFSET marks to every mark (clipped to the range, rounded to "
    "the step); negative: severe. Repeatable.",
)
@click.option(
    "--erratic", multiple=True, metavar="USER", help="That examiner marks at random. Repeatable."
)
@click.option(
    "--drift",
    multiple=True,
    metavar="USER=AFTER:OFFSET",
    help="That examiner marks steadily for AFTER marks, then adds OFFSET. Repeatable.",
)
@pass_ctx
@handle_errors
def simulate(
    ctx: Context,
    code: str,
    seed: int,
    batch: int,
    bias: tuple[str, ...],
    erratic: tuple[str, ...],
    drift: tuple[str, ...],
) -> None:
    """Simulated examiners mark all open work; a simulated lead resolves what comes up and
    builds the qualification sets and seeds the session asks for."""
    from marking.demo.behaviour import parse_behaviours
    from marking.demo.simulate import simulate as run

    behaviours = parse_behaviours(bias=bias, erratic=erratic, drift=drift)
    report = run(
        ctx.checked_engine(),
        code,
        seed=seed,
        batch=batch,
        behaviours=behaviours,
        echo=click.echo,
    )
    if report.stuck:
        click.echo("still open:\n  " + "\n  ".join(report.stuck), err=True)
        sys.exit(4)


@main.command()
@click.option("--candidates", default=200, show_default=True, help="Synthetic candidates.")
@click.option("--seed", default=2026, show_default=True, help="Seed for the synthetic data.")
@click.option(
    "--out",
    "out_dir",
    default="instance/demo",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the generated files, key and exports.",
)
@pass_ctx
@handle_errors
def demo(ctx: Context, candidates: int, seed: int, out_dir: Path) -> None:
    """Run the flow end to end on synthetic data (Chinese names) and print a summary."""
    from marking.demo.demo import run_demo

    run_demo(ctx.engine, candidates=candidates, seed=seed, out_dir=out_dir, echo=click.echo)
