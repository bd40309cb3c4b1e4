"""`blindmark user`, `examiners import` and `conflicts import`: accounts and declarations."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

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
    type=click.Choice(["office", "director", "lead", "admin", "centre"]),
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
    from zoneinfo import ZoneInfo

    from marking.domain.definition import DEFAULT_TIME_ZONE
    from marking.people.accounts import get_account
    from marking.people.invitations import invite

    with transaction(ctx.checked_engine()) as db:
        made, token = invite(db, office=get_account(db, office), username=username)
        local = made.expires_at.astimezone(ZoneInfo(DEFAULT_TIME_ZONE))
        expires = local.isoformat(timespec="minutes")
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


@examiners_group.command("show")
@click.argument("username")
@pass_ctx
@handle_errors
def examiners_show(ctx: Context, username: str) -> None:
    """An examiner's register entry: certificate, validity today, scope, card, status and
    the misconduct record."""
    import datetime as dt

    from marking.people.register import record_rows, scope_text, validity

    with transaction(ctx.checked_engine()) as db:
        examiner = _certified(db, username)
        issued = examiner.certificate_issued.isoformat() if examiner.certificate_issued else "-"
        click.echo(
            f"{username} ({examiner.account.name}), {examiner.grade.value}: certificate "
            f"{examiner.certificate_no}, issued {issued}, expires "
            f"{examiner.certificate_expires.isoformat()}, "
            f"{validity(examiner, dt.date.today()).value} today"
        )
        click.echo(
            f"scope {scope_text(examiner)}; card {examiner.card_status.value}; "
            f"status {examiner.status.value}"
        )
        for e in record_rows(db, examiner):
            what = str(e["kind"])
            if e["session"]:
                what += f" from {e['session']}" + (" (excused)" if e["excused"] else "")
            auto = " (automatic)" if e["automatic"] else ""
            click.echo(f"  {e['at']:%Y-%m-%d} {what}{auto} by {e['by']}: {e['note']}")


@examiners_group.command("absence")
@click.argument("username")
@click.option("--session", "code", required=True, help="The session they were assigned to.")
@click.option("--excused", is_flag=True, help="The absence was excused.")
@click.option("--note", default="", help="A note for the record.")
@pass_ctx
@handle_errors
def examiners_absence(ctx: Context, username: str, code: str, excused: bool, note: str) -> None:
    """Record an absence from an assigned session (第八条: three unexcused in a row earn a
    warning, recorded with it)."""
    from marking.people.register import record_absence
    from marking.setup.sessions import get_session

    with transaction(ctx.checked_engine()) as db:
        made = record_absence(
            db, username, get_session(db, code), excused=excused, note=note, actor=actor()
        )
        lines = [
            f"{username}: {m.kind.value} recorded" + (f" ({m.note})" if m.automatic else "")
            for m in made
        ]
    for line in lines:
        click.echo(line)


@examiners_group.command("record")
@click.argument("username")
@click.option(
    "--kind",
    required=True,
    type=click.Choice(["warning", "note", "suspension", "revocation", "reinstatement"]),
    help="What is recorded; the last three change the examiner's status.",
)
@click.option("--reason", required=True, help="Why, for the record.")
@pass_ctx
@handle_errors
def examiners_record(ctx: Context, username: str, kind: str, reason: str) -> None:
    """Record a warning, note, suspension, revocation (final) or reinstatement (第八条)."""
    from marking.people.register import record_misconduct
    from marking.quality.suspension import held_by_leads
    from marking.store.models import MisconductKind

    with transaction(ctx.checked_engine()) as db:
        record_misconduct(db, username, MisconductKind(kind), reason=reason, actor=actor())
        examiner = _certified(db, username)
        status = examiner.status.value
        held = held_by_leads(db, examiner_id=examiner.account_id)
    click.echo(f"{username}: {kind} recorded; status {status}")
    for code, group in held if kind == MisconductKind.REINSTATEMENT.value else ():
        click.echo(
            f"warning: {username} stays suspended on group {group} of session {code} by the "
            "lead's decision; the lead reinstates them there",
            err=True,
        )


def _certified(db: Any, username: str) -> Any:
    from marking.errors import NotFound
    from marking.people.accounts import get_account

    examiner = get_account(db, username).examiner
    if examiner is None:
        raise NotFound(f"{username} holds no examiner certificate")
    return examiner
