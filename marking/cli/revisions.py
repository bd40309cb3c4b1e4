"""`blindmark revision open|status|approve|publish`: appeal revisions (复核, DESIGN §14).

The office opens a revision for named candidates (exam numbers, public since publication)
and publishes it once a director has approved it; no key is needed. The approval takes the
director's password as ``blindmark approve`` does; publishing names the office account and
the approving director as ``blindmark publish`` does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from marking.cli import Context, handle_errors, main, pass_ctx
from marking.cli.common import read_password
from marking.errors import MarkingError
from marking.store.db import transaction

if TYPE_CHECKING:
    from sqlalchemy.orm import Session


@main.group()
def revision() -> None:
    """Appeal revisions of a published session (复核): open, status, approve, publish."""


def _office(db: Session, by: str | None) -> str:
    """The office account acting: ``--by``, or the only active office account."""
    from sqlalchemy import select

    from marking.store.models import Account, Role

    if by is not None:
        return by
    names = list(
        db.scalars(select(Account.username).where(Account.role == Role.OFFICE, Account.active))
    )
    if len(names) != 1:
        raise click.UsageError("name the office account opening the revision with --by U")
    return str(names[0])


@revision.command("open")
@click.option("--session", "code", required=True, help="Session code.")
@click.option("--candidates", required=True, help="Exam numbers, comma-separated.")
@click.option("--components", default=None, help="Component keys (default: all of theirs).")
@click.option("--reason", required=True, help="The appeal the revision answers.")
@click.option("--by", default=None, help="The office account (default: the only one).")
@pass_ctx
@handle_errors
def open_(
    ctx: Context, code: str, candidates: str, components: str | None, reason: str, by: str | None
) -> None:
    """Open the next revision: the candidates' examiner-marked answers are marked again by
    examiners who did not mark them before (assign more if a group has none left)."""
    from marking.publication.revisions import open_revision, revision_progress
    from marking.setup.sessions import get_session

    with transaction(ctx.checked_engine()) as db:
        exam = get_session(db, code)
        opened = open_revision(
            db,
            exam,
            by=_office(db, by),
            candidates=candidates.split(","),
            components=[c.strip() for c in components.split(",")] if components else None,
            reason=reason,
        )
        progress = revision_progress(db, exam, opened)
    click.echo(
        f"revision {opened.number} of {code} opened: {progress.responses} response(s) of "
        f"{len(opened.candidates)} candidate(s) go back to be marked"
    )
    for item in progress.open_work:
        click.echo(f"  {item}")


@revision.command("status")
@click.option("--session", "code", required=True, help="Session code.")
@pass_ctx
@handle_errors
def status(ctx: Context, code: str) -> None:
    """The session's revisions: each one's candidates, and the open one's progress."""
    from marking.publication.revision_publish import revision_approval_status
    from marking.publication.revisions import revision_progress, revisions_of
    from marking.setup.sessions import get_session

    with transaction(ctx.checked_engine()) as db:
        exam = get_session(db, code)
        lines: list[str] = []
        for rev in revisions_of(db, exam):
            p = revision_progress(db, exam, rev)
            when = f"published {rev.published_at:%Y-%m-%d %H:%M}" if rev.published_at else "open"
            who = ", ".join(f"{n} ({'/'.join(k)})" for n, k in rev.candidates.items())
            lines.append(f"revision {rev.number}: {when}; {who}; reason: {rev.reason}")
            if rev.published_at is None:
                states = ", ".join(f"{s} {n}" for s, n in sorted(p.states.items()))
                lines.append(f"  {p.responses} response(s): {states}")
                approval = revision_approval_status(db, exam, rev)
                lines.append(
                    "  approved by " + str(approval.director)
                    if approval.current
                    else "  not approved"
                    + (" (void: it changed since)" if approval.approval else "")
                )
                lines += [f"  open: {item}" for item in p.open_work]
    click.echo("\n".join(lines) if lines else f"session {code} has no revision")


@revision.command("approve")
@click.option("--session", "code", required=True, help="Session code.")
@click.option("--by", required=True, help="The director approving.")
@click.option("--note", default="", help="A note recorded with the approval.")
@click.option("--digest", default=None, help="The digest as reviewed (printed by this command).")
@click.option("--password-stdin", is_flag=True, help="Read the director's password from stdin.")
@pass_ctx
@handle_errors
def approve(
    ctx: Context, code: str, by: str, note: str, digest: str | None, password_stdin: bool
) -> None:
    """A director approves the open revision as it stands (R16), as `blindmark approve`."""
    from marking.people.accounts import check_password, require_role
    from marking.publication.approvals import combined
    from marking.publication.revision_publish import approve_revision, revision_digest
    from marking.publication.revisions import require_open_revision
    from marking.setup.sessions import get_session
    from marking.store.models import Role

    with transaction(ctx.checked_engine()) as db:
        exam = get_session(db, code)
        rev = require_open_revision(db, exam)
        reviewed = combined(revision_digest(db, exam, rev))
        number = rev.number
    click.echo(f"revision {number} of {code}; digest: {reviewed}")
    password = read_password(password_stdin, prompt=f"Password of {by}", confirm=False)
    with transaction(ctx.checked_engine()) as db:
        director = require_role(db, by, Role.DIRECTOR, what="approving publication")
        if not check_password(director, password):
            raise MarkingError(f"wrong password for {by}: nothing was approved")
        exam = get_session(db, code)
        approval = approve_revision(
            db, exam, director, note=note, expected=reviewed if digest is None else digest
        )
        approved = approval.digest
    click.echo(f"revision {number} of {code} approved by {by}: {approved}")


@revision.command("publish")
@click.option("--session", "code", required=True, help="Session code.")
@click.option("--by", required=True, help="The office account publishing.")
@click.option("--approved-by", required=True, help="The director who approved the revision.")
@pass_ctx
@handle_errors
def publish(ctx: Context, code: str, by: str, approved_by: str) -> None:
    """Publish the open revision as revision N: every candidate's result, the revised ones
    recomputed, with its own results digest and ledger head (no key needed)."""
    from marking.publication.revision_publish import publish_revision
    from marking.setup.sessions import get_session

    with transaction(ctx.checked_engine()) as db:
        exam = get_session(db, code)
        number = exam.open_revision
        report = publish_revision(db, exam, by=by, approved_by=approved_by)
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(report.outcomes.items()))
    click.echo(
        f"revision {number} of {code} published: {report.candidates} candidates ({outcomes})"
    )
    click.echo(f"results SHA-256: {report.results_sha256}")
    click.echo(f"ledger head:     {report.ledger_head}")
