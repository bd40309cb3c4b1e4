"""`blindmark user`, `examiners import` and `conflicts import`: accounts and declarations."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from marking.cli import Context, handle_errors, main, pass_ctx
from marking.cli.common import actor, read_password
from marking.store.db import transaction


@main.group("user")
def user_group() -> None:
    """Accounts of the office, director, lead and admin (examiners: `examiners import`)."""


@user_group.command("add")
@click.argument("username")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["office", "director", "lead", "admin"]),
    help="What the account may do.",
)
@click.option("--name", help="Full name (default: the username).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_ctx
@handle_errors
def user_add(
    ctx: Context, username: str, role: str, name: str | None, password_stdin: bool
) -> None:
    """Create an account."""
    from marking.people.accounts import add_user
    from marking.store.models import Role

    password = read_password(password_stdin) if password_stdin or sys.stdin.isatty() else None
    with transaction(ctx.checked_engine()) as db:
        add_user(db, username, role=Role(role), name=name, password=password, actor=actor())
    suffix = "" if password else " (no password yet: `blindmark user passwd`)"
    click.echo(f"account {username} ({role}) created{suffix}")


@user_group.command("passwd")
@click.argument("username")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@pass_ctx
@handle_errors
def user_passwd(ctx: Context, username: str, password_stdin: bool) -> None:
    """Set an account's password (examiner accounts too)."""
    from marking.people.accounts import set_password

    password = read_password(password_stdin)
    with transaction(ctx.checked_engine()) as db:
        set_password(db, username, password, actor=actor())
    click.echo(f"password of {username} set")


@main.group("examiners")
def examiners_group() -> None:
    """Examiner accounts."""


@examiners_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
@handle_errors
def examiners_import(ctx: Context, file: Path) -> None:
    """Create or update examiner accounts from examiners.csv/.xlsx."""
    from marking.people.examiners import import_examiners

    with transaction(ctx.checked_engine()) as db:
        result = import_examiners(db, file, actor=actor())
    click.echo(f"examiners: {result.created} created, {result.updated} updated")


@examiners_group.command("invite")
@click.argument("username")
@click.option("--by", "office", required=True, help="The office account making the invitation.")
@click.option(
    "--url",
    "base",
    default="http://127.0.0.1:8000",
    show_default=True,
    help="Where the web application is reached (the link starts with it).",
)
@pass_ctx
@handle_errors
def examiners_invite(ctx: Context, username: str, office: str, base: str) -> None:
    """A one-time link for an examiner to set their own password (7 days; earlier ones void).
    Give it to the examiner only: it is shown once and never stored."""
    from marking.people.accounts import get_account
    from marking.people.invitations import invite

    with transaction(ctx.checked_engine()) as db:
        made, token = invite(db, office=get_account(db, office), username=username)
        expires = made.expires_at.isoformat(timespec="minutes")
    click.echo(f"{base.rstrip('/')}/invitation/{token}")
    click.echo(f"good once, until {expires}", err=True)


@main.group("conflicts")
def conflicts_group() -> None:
    """Recusal declarations (R10)."""


@conflicts_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--session", "code", help="Only this session (default: every open session).")
@pass_ctx
@handle_errors
def conflicts_import(ctx: Context, file: Path, code: str | None) -> None:
    """Declare examiner or lead ↔ candidate conflicts (conflicts.csv/.xlsx); sealed on entry."""
    from marking.people.examiners import import_conflicts
    from marking.setup.sessions import get_session

    with transaction(ctx.checked_engine()) as db:
        exam = get_session(db, code) if code else None
        done = import_conflicts(db, file, actor=actor(), session=exam)
        for target, count in done:
            click.echo(f"session {target.code}: {count} declaration(s) sealed")
