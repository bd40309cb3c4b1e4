"""`blindmark assign`, `scheme approve` and `team`: examiners on marking groups, groups
opened, R10's team rules and their overrides."""

from __future__ import annotations

import click

from marking.cli import Context, handle_errors, main, pass_ctx
from marking.cli.common import actor, read_password
from marking.store.db import transaction


@main.command()
@click.option("--session", "code", required=True, help="Session code.")
@click.option("--group", "group_key", help="Marking group key (with --examiners).")
@click.option("--examiners", help="Comma-separated usernames (with --group).")
@click.option("--lead", help="Name the session's lead examiner (with --group).")
@click.option(
    "--deputy",
    help="Name the deputy lead, who rules where the lead is excluded (DESIGN §14).",
)
@pass_ctx
@handle_errors
def assign(
    ctx: Context,
    code: str,
    group_key: str | None,
    examiners: str | None,
    lead: str | None,
    deputy: str | None,
) -> None:
    """Put examiners on a marking group, name the lead with them, and name the deputy lead
    (alone or with them). The register decides who may serve (certificate, scope and
    category, card, status: R9, R11); R10 refuses a fourth consecutive session and, once
    marking runs, rotation below a third, unless a director overrode it (`team override`).
    The lead and the deputy are senior examiners covering the session."""
    from marking.setup.assignment import assign as do_assign
    from marking.setup.assignment import get_group, name_deputy
    from marking.setup.sessions import get_session

    if (group_key is None) != (examiners is None):
        raise click.UsageError("--group and --examiners go together")
    if group_key is None and lead is not None:
        raise click.UsageError("--lead is named with --group and --examiners")
    if group_key is None and deputy is None:
        raise click.UsageError("give --group G --examiners U1,U2,... and/or --deputy U")
    names = [n.strip() for n in (examiners or "").split(",") if n.strip()]
    lines: list[str] = []
    warnings: list[str] = []
    with transaction(ctx.checked_engine()) as db:  # all of it, or none of it
        exam = get_session(db, code)
        if group_key is not None:
            result = do_assign(
                db, exam, get_group(db, exam, group_key), names, actor=actor(), lead=lead
            )
            warnings = result.warnings
            lines.append(
                f"group {group_key}: {len(result.added)} assigned"
                + (f", {len(result.already)} already" if result.already else "")
                + (f"; lead {lead}" if lead else "")
            )
        if deputy is not None:
            name_deputy(db, exam, deputy, actor=actor())
            lines.append(f"deputy lead {deputy}: rules where the lead is excluded")
    for line in lines:
        click.echo(line)
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)


@main.group("scheme")
def scheme_group() -> None:
    """Marking schemes (R5)."""


@scheme_group.command("approve")
@click.option("--session", "code", required=True, help="Session code.")
@click.option("--group", "group_key", required=True, help="Marking group key.")
@click.option("--by", required=True, help="The session's lead examiner.")
@pass_ctx
@handle_errors
def scheme_approve(ctx: Context, code: str, group_key: str, by: str) -> None:
    """The lead approves a group's scheme; the group opens for marking."""
    from marking.setup.assignment import approve_scheme, get_group
    from marking.setup.sessions import get_session

    with transaction(ctx.checked_engine()) as db:
        exam = get_session(db, code)
        approve_scheme(db, exam, get_group(db, exam, group_key), by=by)
    click.echo(f"group {group_key} approved by {by}: open for marking")


@scheme_group.command("withdraw")
@click.option("--session", "code", required=True, help="Session code.")
@click.option("--group", "group_key", required=True, help="Marking group key.")
@click.option("--by", required=True, help="The session's lead examiner.")
@click.option(
    "--reason", required=True, help="Why (recorded in the ledger; at most 500 characters)."
)
@pass_ctx
@handle_errors
def scheme_withdraw(ctx: Context, code: str, group_key: str, by: str, reason: str) -> None:
    """The lead takes a scheme approval back while nothing of the group is marked."""
    from marking.setup.assignment import get_group, withdraw_scheme_approval
    from marking.setup.sessions import get_session

    with transaction(ctx.checked_engine()) as db:
        exam = get_session(db, code)
        handed = withdraw_scheme_approval(
            db, exam, get_group(db, exam, group_key), by=by, reason=reason
        )
    click.echo(f"group {group_key}: approval withdrawn by {by}; {handed} held item(s) handed back")


@main.group("team")
def team_group() -> None:
    """R10's team rules: rotation of a third, at most three consecutive sessions."""


@team_group.command("status")
@click.option("--session", "code", required=True, help="Session code.")
@pass_ctx
@handle_errors
def team_status(ctx: Context, code: str) -> None:
    """What R10 would refuse about the session's team now, and the overrides recorded."""
    from marking.setup.sessions import get_session
    from marking.setup.teams import overrides, team_warnings
    from marking.store.models import Account

    with transaction(ctx.checked_engine()) as db:
        exam = get_session(db, code)
        problems = [str(p) for p in team_warnings(db, exam)]
        done = []
        for o in overrides(db, exam):
            who = db.get(Account, o.examiner_id) if o.examiner_id else None
            done.append(
                f"override {o.rule.value}"
                + (f" for {who.username}" if who else " (whole team)")
                + f" by {o.director} on {o.created_at:%Y-%m-%d}: {o.reason}"
            )
    for line in problems or ["the team meets R10 (rotation, consecutive sessions)"]:
        click.echo(line)
    for line in done:
        click.echo(line)


@team_group.command("override")
@click.option("--session", "code", required=True, help="Session code.")
@click.option(
    "--rule", required=True, type=click.Choice(["rotation", "consecutive"]), help="The rule."
)
@click.option("--examiner", help="Only this member (consecutive sessions); default the team.")
@click.option("--by", required=True, help="The director deciding.")
@click.option("--reason", required=True, help="Why, for the record.")
@click.option("--password-stdin", is_flag=True, help="Read the director's password from stdin.")
@pass_ctx
@handle_errors
def team_override(
    ctx: Context,
    code: str,
    rule: str,
    examiner: str | None,
    by: str,
    reason: str,
    password_stdin: bool,
) -> None:
    """A director lets the session's team break an R10 rule, with the reason (recorded in
    the session's ledger). Takes the director's password, as `blindmark approve` does."""
    from marking.errors import MarkingError
    from marking.people.accounts import check_password, require_role
    from marking.setup.sessions import get_session
    from marking.setup.teams import record_override
    from marking.store.models import Role, TeamRule

    password = read_password(password_stdin, prompt=f"Password of {by}", confirm=False)
    with transaction(ctx.checked_engine()) as db:
        director = require_role(db, by, Role.DIRECTOR, what="overriding a team rule")
        if not check_password(director, password):
            raise MarkingError(f"wrong password for {by}: nothing was recorded")
        exam = get_session(db, code)
        record_override(
            db, exam, rule=TeamRule(rule), director=by, reason=reason, examiner=examiner
        )
    who = f" for {examiner}" if examiner else " for the whole team"
    click.echo(f"session {code}: {rule} overridden{who} by {by}")
