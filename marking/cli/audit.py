"""`blindmark verify`: the session ledgers and the account ledger recomputed and checked."""

from __future__ import annotations

import sys

import click

from marking.cli import Context, handle_errors, main, pass_ctx
from marking.store.db import transaction


@main.command()
@click.option("--session", "code", help="Session code: check its ledger.")
@click.option("--accounts", is_flag=True, help="Check the account ledger and the accounts.")
@pass_ctx
@handle_errors
def verify(ctx: Context, code: str | None, accounts: bool) -> None:
    """Recompute a session's ledger and check the marks and results against it; with
    --accounts, the account ledger and every account's role and state (either or both)."""
    from marking.audit.verify import verify as run
    from marking.audit.verify import verify_accounts
    from marking.setup.sessions import get_session

    if code is None and not accounts:
        raise click.UsageError("say what to check: --session C, --accounts, or both")
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


def _broken(problems: list[str]) -> bool:
    for problem in problems:
        click.echo(f"BROKEN: {problem}", err=True)
    return bool(problems)
