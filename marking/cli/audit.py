"""`blindmark verify`: the session ledgers and the account ledger recomputed and checked."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from marking.cli import Context, handle_errors, main, pass_ctx
from marking.store.db import transaction


@main.command()
@click.option("--session", "code", help="Session code: check its ledger.")
@click.option("--accounts", is_flag=True, help="Check the account ledger and the accounts.")
@click.option(
    "--archive",
    "bundle",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Check a session's archive (blindmark archive); no database needed.",
)
@pass_ctx
@handle_errors
def verify(ctx: Context, code: str | None, accounts: bool, bundle: Path | None) -> None:
    """Recompute a session's ledger and check the marks and results against it; with
    --accounts, the account ledger and every account's role and state (either or both);
    with --archive F.zip, an archive on its own, without the database."""
    from marking.audit.verify import verify as run
    from marking.audit.verify import verify_accounts
    from marking.setup.sessions import get_session

    if bundle is not None:
        if code is not None or accounts:
            raise click.UsageError("--archive checks the archive alone: no --session, --accounts")
        _verify_archive(bundle)
        return
    if code is None and not accounts:
        raise click.UsageError("say what to check: --session C, --accounts, --archive F, or both")
    broken = False
    with transaction(ctx.checked_engine()) as db:
        if code is not None:
            report = run(db, get_session(db, code))
            click.echo(
                f"{report.entries} ledger entries in {report.lanes} chains; head {report.head}"
            )
            if report.ok:
                click.echo("ledger intact; marks, arbitrations and results agree with it")
            broken |= _broken(report.problems)
        if accounts:
            report = verify_accounts(db)
            click.echo(f"{report.entries} account ledger entries; head {report.head}")
            if report.ok:
                click.echo("account ledger intact; every account agrees with it")
            broken |= _broken(report.problems)
    if broken:
        sys.exit(7)


def _verify_archive(path: Path) -> None:
    """Check an archive with no database: exit 0 when everything holds, 7 otherwise."""
    from marking.audit.bundle import check_archive

    report = check_archive(path, name=path.name)
    click.echo(
        f"archive of session {report.code}: {report.files} files, {report.entries} ledger "
        f"entries, {report.responses} responses, {report.candidates} candidates"
    )
    for revision, head in report.heads:
        click.echo(f"revision {revision}: ledger head {head}")
    if report.ok:
        click.echo(
            "archive intact: files match the manifest, the ledger chains hold, the results "
            "hash to their published digests, finals and scores follow from the marks; "
            "compare the ledger head with the one printed on the score register"
        )
    if _broken(report.problems):
        sys.exit(7)


def _broken(problems: list[str]) -> bool:
    for problem in problems:
        click.echo(f"BROKEN: {problem}", err=True)
    return bool(problems)
