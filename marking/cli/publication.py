"""`blindmark approve` and `publish`: the director's approval, then publication as one batch."""

from __future__ import annotations

from pathlib import Path

import click

from marking.cli import Context, handle_errors, main, pass_ctx
from marking.cli.common import read_passphrase, read_password
from marking.errors import MarkingError
from marking.store.db import transaction


@main.command()
@click.option("--session", "code", required=True, help="Session code.")
@click.option("--by", required=True, help="The director approving.")
@click.option("--note", default="", help="A note recorded with the approval.")
@click.option(
    "--digest",
    default=None,
    help="The digest of the session as reviewed (printed by this command, shown on the "
    "director's page); the approval is refused if the session is no longer that.",
)
@click.option("--password-stdin", is_flag=True, help="Read the director's password from stdin.")
@pass_ctx
@handle_errors
def approve(
    ctx: Context, code: str, by: str, note: str, digest: str | None, password_stdin: bool
) -> None:
    """A director approves the session's publication as it stands (R16: four eyes).

    Prints what is approved (counts) and its digest, then takes the director's password
    (prompted, or read with --password-stdin). The approval is of what was printed, or of
    --digest when given: if the session changed meanwhile, nothing is approved. Nothing may
    be open; any later intake, withdrawal, ruling, correction, record or (with an
    interview) senior examiner's grade makes the approval void.
    """
    from marking.people.accounts import check_password, require_role
    from marking.publication.approvals import (
        PARTS,
        approve_publication,
        combined,
        publication_digest,
        review_summary,
    )
    from marking.setup.sessions import get_session
    from marking.store.models import Role

    with transaction(ctx.checked_engine()) as db:
        exam = get_session(db, code)
        summary = review_summary(db, exam)
        reviewed = combined(publication_digest(db, exam))
    click.echo(f"session {code} as it stands:")
    for what, count in summary.items():
        click.echo(f"  {what.replace('_', ' ')}: {count}")
    click.echo(f"digest: {reviewed}")
    password = read_password(password_stdin, prompt=f"Password of {by}", confirm=False)
    with transaction(ctx.checked_engine()) as db:
        director = require_role(db, by, Role.DIRECTOR, what="approving publication")
        if not check_password(director, password):
            raise MarkingError(f"wrong password for {by}: nothing was approved")
        exam = get_session(db, code)
        approval = approve_publication(
            db, exam, director, note=note, expected=reviewed if digest is None else digest
        )
        approved, parts = approval.digest, approval.parts or {}
    click.echo(f"publication of {code} approved by {by}")
    click.echo(f"approved digest: {approved}")
    for key, description in PARTS.items():
        if key in parts:
            click.echo(f"  {description}: {parts[key]}")


@main.command()
@click.option("--session", "code", required=True, help="Session code.")
@click.option("--by", required=True, help="The office account publishing.")
@click.option(
    "--approved-by",
    required=True,
    help="The director whose recorded approval (`blindmark approve`) still matches (R16).",
)
@click.option("--key-file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--share",
    "shares",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A share file; give k of them.",
)
@pass_ctx
@handle_errors
def publish(
    ctx: Context,
    code: str,
    by: str,
    approved_by: str,
    key_file: Path | None,
    shares: tuple[Path, ...],
) -> None:
    """Publish the session's results as one batch: unseal, total, decide, record."""
    from marking.publication import late_conflicts, unsealing
    from marking.publication import publish as pub
    from marking.setup.sessions import get_session

    if (key_file is None) == (not shares):
        raise click.UsageError("give the key: --key-file F, or --share F once per share")
    passphrase = read_passphrase(confirm=False) if key_file is not None else None
    engine = ctx.checked_engine()
    with transaction(engine) as db:
        exam = get_session(db, code)
        if exam.public_key is None:
            raise MarkingError(f"session {code} has no key")
        key = unsealing.open_key(
            key_file=key_file,
            passphrase=passphrase,
            shares=shares,
            expected_public_key=exam.public_key,
        )
        try:
            report = pub.publish(db, exam, by=by, approved_by=approved_by, key=key)
            late: late_conflicts.LateConflicts | None = None
        except late_conflicts.LateConflicts as exc:
            late = exc
    if late is not None:
        with transaction(engine) as db:
            late_conflicts.withdraw_late(db, get_session(db, code), late, actor=by)
        rulings = len(late.findings.rulings)
        raise MarkingError(
            f"{len(late.hits)} mark(s) by examiners with a late-declared conflict "
            + (f"and {rulings} ruling(s) by a conflicted lead " if rulings else "")
            + "were withdrawn and their responses reopened; have them re-marked (`blindmark "
            "simulate` or the examiners) and ruled on again where needed, then publish again"
        )
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items()))
    click.echo(f"session {code} published: {report.candidates} candidates ({outcomes})")
    click.echo(f"results SHA-256: {report.results_sha256}")
    click.echo(f"ledger head:     {report.ledger_head}")
