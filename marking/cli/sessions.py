"""`blindmark init`, `session create` and `keys init`: the schema, a session and its key."""

from __future__ import annotations

from pathlib import Path

import click

from marking.cli import Context, handle_errors, main, pass_ctx
from marking.cli.common import actor, read_passphrase
from marking.errors import MarkingError
from marking.store import schema
from marking.store.db import transaction


@main.command()
@pass_ctx
@handle_errors
def init(ctx: Context) -> None:
    """Create the schema, or upgrade it to this version's."""
    from marking.people.accounts import record_baseline

    before, after = schema.upgrade(ctx.engine)
    if before == after:
        click.echo(f"schema already current ({after})")
    else:
        click.echo(
            f"schema {'created' if before is None else 'upgraded from ' + before} at {after}"
        )
    with transaction(ctx.engine) as db:
        # Accounts made before the account ledger existed: recorded as they stand, once.
        if counted := record_baseline(db, actor=actor()):
            click.echo(f"account ledger started with the {counted} existing account(s)")


# --- sessions -----------------------------------------------------------------------------------


@main.group("session")
def session_group() -> None:
    """Exam sessions."""


@session_group.command("create")
@click.argument("toml_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
@handle_errors
def session_create(ctx: Context, toml_file: Path) -> None:
    """Create a session from its definition (session.toml, DESIGN §11)."""
    from marking.domain.definition import load_session_definition
    from marking.setup.sessions import create_session

    definition = load_session_definition(toml_file)
    with transaction(ctx.checked_engine()) as db:
        exam = create_session(
            db, definition, source=toml_file.read_text(encoding="utf-8"), actor=actor()
        )
        questions = sum(len(c.questions) for c in definition.components)
        click.echo(
            f"session {exam.code} created: {exam.occupation} level {exam.level}, "
            f"{len(definition.components)} component(s), {questions} question(s), "
            f"{len(definition.groups)} marking group(s)"
        )


@main.group("keys")
def keys_group() -> None:
    """Session key custody."""


@keys_group.command("init")
@click.option("--session", "code", required=True, help="Session code.")
@click.option(
    "--key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="One custodian: write the private key here, encrypted under a passphrase.",
)
@click.option("--custodians", type=int, help="Several custodians: number of shares (n).")
@click.option("--threshold", type=int, help="Shares needed to rebuild the key (k).")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the share files.",
)
@pass_ctx
@handle_errors
def keys_init(
    ctx: Context,
    code: str,
    key_file: Path | None,
    custodians: int | None,
    threshold: int | None,
    out_dir: Path | None,
) -> None:
    """Make the session's key pair. The private key leaves as a key file or k-of-n shares.

    The passphrase is prompted for, or read from BLINDMARK_KEY_PASSPHRASE.
    """
    from marking.setup.sessions import get_session, init_keys

    shares = (custodians, threshold, out_dir)
    if (key_file is None) == all(v is None for v in shares):
        raise click.UsageError(
            "choose one custody: --key-file F, or --custodians N --threshold K --out DIR"
        )
    if key_file is None and any(v is None for v in shares):
        raise click.UsageError("shares need all of --custodians, --threshold and --out")
    if key_file is not None and key_file.exists():
        raise MarkingError(f"{key_file} exists: refusing to overwrite a key file")
    passphrase = read_passphrase(confirm=True) if key_file is not None else None
    with transaction(ctx.checked_engine()) as db:
        exam = get_session(db, code)
        written = init_keys(
            db,
            exam,
            actor=actor(),
            key_file=key_file,
            passphrase=passphrase,
            custodians=custodians,
            threshold=threshold,
            out_dir=out_dir,
        )
    for path in written:
        click.echo(f"wrote {path}")
    if key_file is not None:
        click.echo("Keep the key file and its passphrase apart; both are needed to publish.")
    else:
        click.echo(
            f"Give each of the {custodians} custodians one share; any {threshold} "
            "together can publish. Delete the share files from this machine afterwards."
        )
