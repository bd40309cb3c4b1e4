"""`blindmark violations approve` and `blindmark records list|withdraw`: the guidance centre's
approval of a collective violation decision (R13), and the office's way back from a sealed
record entered wrongly."""

from __future__ import annotations

import click

from marking.cli import Context, handle_errors, main, pass_ctx
from marking.cli.common import actor, read_password
from marking.errors import MarkingError
from marking.store.db import transaction


@main.group()
def violations() -> None:
    """Violations (R13): the guidance centre approves collective decisions."""


@violations.command("approve")
@click.option("--session", "code", required=True, help="Session code.")
@click.option("--collective", "label", required=True, help="The collective decision's id.")
@click.option("--by", required=True, help="The guidance centre's account approving.")
@click.option("--note", default="", help="A note recorded with the approval.")
@click.option("--password-stdin", is_flag=True, help="Read the account's password from stdin.")
@pass_ctx
@handle_errors
def violations_approve(
    ctx: Context, code: str, label: str, by: str, note: str, password_stdin: bool
) -> None:
    """The guidance centre approves a collective violation decision (第七条(五)).

    Shows the decision (its id, how many candidates, who decided, its record), then takes
    the centre account's password (prompted, or read with --password-stdin)."""
    from marking.intake.collectives import approve_collective, get_collective
    from marking.people.accounts import check_password, require_role
    from marking.setup.sessions import get_session
    from marking.store.models import Role

    with transaction(ctx.checked_engine()) as db:
        decision = get_collective(db, get_session(db, code), label)
        click.echo(
            f"collective {decision.label} of {code}: {decision.candidates} candidate(s), "
            f"decided by {decision.decided_by or '-'}, record {decision.record_id}"
        )
    password = read_password(password_stdin, prompt=f"Password of {by}", confirm=False)
    with transaction(ctx.checked_engine()) as db:
        centre = require_role(db, by, Role.CENTRE, what="approving a collective decision")
        if not check_password(centre, password):
            raise MarkingError(f"wrong password for {by}: nothing was approved")
        exam = get_session(db, code)
        approve_collective(db, exam, get_collective(db, exam, label), centre, note=note)
    click.echo(f"collective {label} of {code} approved by {by}")


@main.group()
def records() -> None:
    """Sealed violation, interview and absence records: list them, withdraw one."""


@records.command("list")
@click.option("--session", "code", required=True, help="Session code.")
@pass_ctx
@handle_errors
def records_list(ctx: Context, code: str) -> None:
    """Each record's number, kind, count, who entered it and when (never its content)."""
    from marking.intake.entries import session_records
    from marking.setup.sessions import get_session

    with transaction(ctx.checked_engine()) as db:
        exam = get_session(db, code)
        lines = session_records(db, exam)
        for line in lines:
            gone = (
                f" withdrawn by {line.withdrawn['by']}: {line.withdrawn['reason']}"
                if line.withdrawn
                else ""
            )
            groups = f" collective {', '.join(line.collectives)}" if line.collectives else ""
            click.echo(
                f"{line.id}\t{line.kind}\t{line.count if line.count is not None else '-'}\t"
                f"{line.by}\t{line.at.astimezone(exam.zone).isoformat(timespec='seconds')}{groups}{gone}"
            )
    if not lines:
        click.echo("no records")


@records.command("withdraw")
@click.option("--session", "code", required=True, help="Session code.")
@click.option("--record", "record_id", required=True, type=int, help="Record number.")
@click.option("--reason", required=True, help="Why (recorded).")
@pass_ctx
@handle_errors
def records_withdraw(ctx: Context, code: str, record_id: int, reason: str) -> None:
    """Withdraw a record entered wrongly (publication leaves it out); enter it again."""
    from marking.intake.entries import withdraw_record
    from marking.setup.sessions import get_session

    with transaction(ctx.checked_engine()) as db:
        withdraw_record(db, get_session(db, code), record_id, reason=reason, actor=actor())
    click.echo(f"record {record_id} withdrawn")
