"""`blindmark seeds`, `qualification`, `suspend` and `reinstate`: the lead's quality control
while marking (DESIGN §13). Responses are named by handle (`seeds list --sample N` shows
some to choose from), examiners by username, groups by key."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

import click

from marking.cli import Context, handle_errors, main, pass_ctx
from marking.store.db import transaction

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from marking.store.models import Account, CheckPurpose, ExamSession, MarkingGroup

F = TypeVar("F", bound=Callable[..., object])


def _options(*options: Callable[[F], F]) -> Callable[[F], F]:
    """Several click options as one decorator, shown in the order given."""

    def apply(command: F) -> F:
        for option in reversed(options):
            command = option(command)
        return command

    return apply


_SESSION = click.option("--session", "code", required=True, help="Session code.")
_BY = click.option("--by", required=True, help="The session's lead examiner.")
_GROUP = click.option("--group", "group_key", required=True, help="Marking group key.")
#: The lead's decision on one examiner of one group, with its reason.
_ON_EXAMINER = _options(
    _SESSION,
    _BY,
    _GROUP,
    click.option("--examiner", required=True, help="The examiner's username."),
    click.option("--reason", required=True, help="Why, for the record."),
)
#: A response made a seed or a qualification item, with the definitive mark.
_NEW_ITEM = _options(
    _SESSION,
    _BY,
    click.option("--response", "handle", required=True, help="The response's handle."),
    click.option("--value", required=True, help="The definitive mark."),
    click.option("--note", default="", help="Why that mark (shown after a failed qualification)."),
)


@contextmanager
def _decision(
    ctx: Context, code: str, by: str, group_key: str, examiner: str
) -> Iterator[tuple[Session, ExamSession, Account, Account, MarkingGroup]]:
    """In one transaction: the session, its lead (``by``), the examiner and the group."""
    from marking.people.accounts import get_account
    from marking.setup.assignment import get_group
    from marking.setup.sessions import get_session

    with transaction(ctx.checked_engine()) as db:
        exam = get_session(db, code)
        lead, who = get_account(db, by), get_account(db, examiner)
        yield db, exam, lead, who, get_group(db, exam, group_key)


def _purpose(qualification: bool) -> CheckPurpose:
    from marking.store.models import CheckPurpose

    return CheckPurpose.QUALIFICATION if qualification else CheckPurpose.SEED


def _add(ctx: Context, code: str, by: str, handle: str, value: str, note: str, qual: bool) -> None:
    from marking.people.accounts import get_account
    from marking.quality.items import add_item
    from marking.queue import handles
    from marking.setup.sessions import get_session

    with transaction(ctx.checked_engine()) as db:
        exam = get_session(db, code)
        item = add_item(
            db,
            exam,
            get_account(db, by),
            response_id=handles.response_id(exam, handle),
            purpose=_purpose(qual),
            value=value,
            note=note,
        )
        what = f"{item.purpose.value} item {item.position}" if qual else "seed"
        click.echo(f"{handle}: {what}, definitive mark {item.value:f}")


@main.group("seeds")
def seeds_group() -> None:
    """Seeds: responses with the lead's definitive mark, mixed into claims unannounced."""


@seeds_group.command("add")
@_NEW_ITEM
@pass_ctx
@handle_errors
def seeds_add(ctx: Context, code: str, by: str, handle: str, value: str, note: str) -> None:
    """Make a response a seed. It is handed out once all its marks are in."""
    _add(ctx, code, by, handle, value, note, False)


@seeds_group.command("retire")
@_SESSION
@_BY
@click.option("--response", "handle", required=True, help="The item's response handle.")
@click.option("--qualification", is_flag=True, help="The qualification item, not the seed.")
@pass_ctx
@handle_errors
def seeds_retire(ctx: Context, code: str, by: str, handle: str, qualification: bool) -> None:
    """Take a seed (or qualification item) out of use; its check marks stay on record."""
    from marking.people.accounts import get_account
    from marking.quality.items import item_of, retire_item
    from marking.setup.sessions import get_session

    with transaction(ctx.checked_engine()) as db:
        exam = get_session(db, code)
        item = item_of(db, exam, handle=handle, purpose=_purpose(qualification))
        retire_item(db, exam, get_account(db, by), item_id=item.id)
    click.echo(f"{handle}: retired")


@seeds_group.command("list")
@_SESSION
@_GROUP
@click.option("--by", required=True, help="The session's lead examiner (for --sample).")
@click.option("--sample", type=click.IntRange(0, 50), default=0, help="Also N responses to pick.")
@click.option("--complete", is_flag=True, help="Sample only responses with all marks in.")
@pass_ctx
@handle_errors
def seeds_list(
    ctx: Context, code: str, group_key: str, by: str, sample: int, complete: bool
) -> None:
    """The group's qualification set and seeds (handle, purpose, mark, complete or not),
    and with --sample a blind random sample of its responses to choose from."""
    from marking.people.accounts import get_account
    from marking.quality import items
    from marking.quality.common import require_lead
    from marking.setup.assignment import get_group
    from marking.setup.sessions import get_session

    with transaction(ctx.checked_engine()) as db:
        exam = get_session(db, code)
        lead = get_account(db, by)
        require_lead(exam, lead)
        group = get_group(db, exam, group_key)
        lines = [
            f"{i.response.handle}\t{i.purpose.value}\t{i.value:f}\t"
            f"{'complete' if i.response.complete else 'open'}\t{i.checks} check(s)"
            for i in items.items(db, exam, group=group)
        ]
        picked = [
            f"{c.handle}\t{c.component}/{c.question}\t"
            f"{'complete' if c.complete else 'open'}\t{c.text[:60]!r}"
            for c in items.sample(db, exam, lead, group=group, size=sample, complete_only=complete)
        ]
    for line in lines or ["no qualification items or seeds"]:
        click.echo(line)
    if sample:
        click.echo("sample:")
        for line in picked or ["no response to choose from"]:
            click.echo(line)


@main.group("qualification")
def qualification_group() -> None:
    """Qualification sets (R5): marked by each examiner before live work in the group."""


@qualification_group.command("set")
@_NEW_ITEM
@pass_ctx
@handle_errors
def qualification_set(ctx: Context, code: str, by: str, handle: str, value: str, note: str) -> None:
    """Add a response to its group's qualification set, with the definitive mark."""
    _add(ctx, code, by, handle, value, note, True)


@qualification_group.command("override")
@_ON_EXAMINER
@pass_ctx
@handle_errors
def qualification_override(
    ctx: Context, code: str, by: str, group_key: str, examiner: str, reason: str
) -> None:
    """Qualify an examiner on a group by the lead's recorded decision."""
    from marking.quality.decisions import override_qualification

    with _decision(ctx, code, by, group_key, examiner) as (db, exam, lead, who, group):
        override_qualification(db, exam, lead, examiner=who, group=group, reason=reason)
    click.echo(f"{examiner} qualified on group {group_key} by {by}'s decision")


@main.command()
@_ON_EXAMINER
@click.option(
    "--keep-marks/--withdraw-marks",
    default=None,
    help="Keep their marks on responses not yet final, or withdraw them to be re-marked.",
)
@pass_ctx
@handle_errors
def suspend(
    ctx: Context,
    code: str,
    by: str,
    group_key: str,
    examiner: str,
    reason: str,
    keep_marks: bool | None,
) -> None:
    """Suspend an examiner on a group (DESIGN §13): no more claims there, what they hold
    goes back, and their marks on responses not yet final are withdrawn and re-marked by
    others (--withdraw-marks) or kept by a recorded decision (--keep-marks)."""
    from marking.quality.suspension import short_groups
    from marking.quality.suspension import suspend as do_suspend

    if keep_marks is None:
        raise click.UsageError("say what happens to their marks: --keep-marks or --withdraw-marks")
    with _decision(ctx, code, by, group_key, examiner) as (db, exam, lead, who, group):
        row = do_suspend(
            db, exam, lead, examiner=who, group=group, reason=reason, keep_marks=keep_marks
        )
        short = short_groups(db, exam).get(group_key)
    kept = "marks kept" if keep_marks else f"{row.withdrawn} mark(s) withdrawn for re-marking"
    click.echo(f"{examiner} suspended on group {group_key}: {kept}")
    if short is not None:
        click.echo(
            f"warning: group {group_key} has {short[0]} examiner(s) left and {short[1]} "
            "response(s) they cannot finish: assign more examiners",
            err=True,
        )


@main.command()
@_ON_EXAMINER
@pass_ctx
@handle_errors
def reinstate(ctx: Context, code: str, by: str, group_key: str, examiner: str, reason: str) -> None:
    """End the lead's suspension of an examiner on a group (the register's, if any, stays)."""
    from marking.quality.suspension import reinstate as do_reinstate

    with _decision(ctx, code, by, group_key, examiner) as (db, exam, lead, who, group):
        do_reinstate(db, exam, lead, examiner=who, group=group, reason=reason)
        still = who.examiner is not None and who.examiner.status.value != "active"
    click.echo(f"{examiner} reinstated on group {group_key}")
    if still:
        click.echo(f"warning: {examiner} is still suspended in the register (第八条)", err=True)
