"""The `blindmark` command line: one transaction per command, errors turned into exit codes here."""

from __future__ import annotations

import csv
import functools
import getpass
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from anonymizer.errors import AnonymizerError
from marking import schema
from marking.db import make_engine, scrub_wal, transaction
from marking.errors import MarkingError

log = logging.getLogger("blindmark")

F = TypeVar("F", bound=Callable[..., Any])


class Context:
    def __init__(self, url: str | None) -> None:
        self.url = url
        self._engine: Engine | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.url)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def checked_engine(self) -> Engine:
        """The engine, once the schema is known to be current (else a clear instruction)."""
        engine = self.engine
        current = schema.current_revision(engine)
        if current != schema.head_revision():
            state = "empty" if current is None else f"at revision {current}"
            raise MarkingError(f"the database is {state}: run `blindmark init` first")
        return engine


def actor() -> str:
    """Who ran a command line action, for the ledger."""
    return f"cli:{getpass.getuser()}"


def handle_errors(fn: F) -> F:
    """Turn domain errors into one clear line (or a list for refused files) and an exit code."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except MarkingError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except AnonymizerError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(5)
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            click.echo(f"error: database: {reason}", err=True)
            sys.exit(6)

    return wrapper  # type: ignore[return-value]


pass_ctx = click.make_pass_decorator(Context)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    "url",
    metavar="URL",
    help="Database URL (default: $BLINDMARK_DATABASE_URL, else sqlite:///instance/blindmark.db).",
)
@click.option("-v", "--verbose", is_flag=True, help="Log progress to standard error.")
@click.version_option(package_name="blindmark")
@click.pass_context
def main(ctx: click.Context, url: str | None, verbose: bool) -> None:
    """blindmark: blind marking and score aggregation for skills-appraisal exams."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    ctx.obj = Context(url)
    ctx.call_on_close(ctx.obj.close)


@main.command()
@pass_ctx
@handle_errors
def init(ctx: Context) -> None:
    """Create the schema, or upgrade it to this version's."""
    before, after = schema.upgrade(ctx.engine)
    if before == after:
        click.echo(f"schema already current ({after})")
    else:
        click.echo(
            f"schema {'created' if before is None else 'upgraded from ' + before} at {after}"
        )


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
    from marking.definition import load_session_definition
    from marking.sessions import create_session

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


def _passphrase(confirm: bool) -> str:
    env = os.environ.get("BLINDMARK_KEY_PASSPHRASE")
    if env:
        return env
    if not sys.stdin.isatty():
        raise MarkingError(
            "a passphrase is needed: set BLINDMARK_KEY_PASSPHRASE or run in a terminal"
        )
    value: str = click.prompt("Key file passphrase", hide_input=True, confirmation_prompt=confirm)
    return value


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
    from marking.sessions import get_session, init_keys

    shares = (custodians, threshold, out_dir)
    if (key_file is None) == all(v is None for v in shares):
        raise click.UsageError(
            "choose one custody: --key-file F, or --custodians N --threshold K --out DIR"
        )
    if key_file is None and any(v is None for v in shares):
        raise click.UsageError("shares need all of --custodians, --threshold and --out")
    if key_file is not None and key_file.exists():
        raise MarkingError(f"{key_file} exists: refusing to overwrite a key file")
    passphrase = _passphrase(confirm=True) if key_file is not None else None
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


# --- people -------------------------------------------------------------------------------------


@main.group("examiners")
def examiners_group() -> None:
    """Examiner accounts."""


@examiners_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
@handle_errors
def examiners_import(ctx: Context, file: Path) -> None:
    """Create or update examiner accounts from examiners.csv/.xlsx."""
    from marking.examiners import import_examiners

    with transaction(ctx.checked_engine()) as db:
        result = import_examiners(db, file)
    click.echo(f"examiners: {result.created} created, {result.updated} updated")


@main.group("conflicts")
def conflicts_group() -> None:
    """Recusal declarations (R10)."""


@conflicts_group.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--session", "code", help="Only this session (default: every open session).")
@pass_ctx
@handle_errors
def conflicts_import(ctx: Context, file: Path, code: str | None) -> None:
    """Declare examiner ↔ candidate conflicts (conflicts.csv/.xlsx); sealed on entry."""
    from marking.examiners import import_conflicts
    from marking.sessions import get_session

    with transaction(ctx.checked_engine()) as db:
        exam = get_session(db, code) if code else None
        done = import_conflicts(db, file, actor=actor(), session=exam)
        for target, count in done:
            click.echo(f"session {target.code}: {count} declaration(s) sealed")


# --- intake -------------------------------------------------------------------------------------


@main.command()
@click.option("--session", "code", required=True, help="Session code.")
@click.option("--name", help="A name for the batch (default: the folder's name).")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@pass_ctx
@handle_errors
def intake(ctx: Context, code: str, name: str | None, folder: Path) -> None:
    """Take in a batch folder: candidates.csv, responses.csv (or .xlsx) and images.

    Identities are sealed with the session's public key; scripts get random codes;
    objective questions are scored from the key. A bad file is refused whole.
    """
    from marking.intake import intake_batch
    from marking.sessions import get_session

    engine = ctx.checked_engine()
    with transaction(engine) as db:
        exam = get_session(db, code)
        s = intake_batch(db, exam, folder, actor=actor(), name=name)
    scrub_wal(engine)
    per = ", ".join(f"{k} {v}" for k, v in s.by_component.items())
    click.echo(
        f"batch {s.batch_id}: {s.candidates} candidates, {s.scripts} scripts ({per}), "
        f"{s.responses} responses ({s.objective_scored} scored from the key), "
        f"{s.images} new image(s), {s.exclusions} exclusion(s)"
    )


@main.command()
@click.option("--session", "code", required=True, help="Session code.")
@pass_ctx
@handle_errors
def status(ctx: Context, code: str) -> None:
    """Progress per marking group, and what is still open."""
    from marking.sessions import get_session
    from marking.status import render_status, session_status

    with transaction(ctx.checked_engine()) as db:
        report = session_status(db, get_session(db, code))
    click.echo(render_status(report))


@main.command()
@click.argument("what", type=click.Choice(["paper"]))
@click.option("--session", "code", required=True, help="Session code.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
@handle_errors
def export(ctx: Context, what: str, code: str, out: Path) -> None:
    """Export as CSV (UTF-8 with BOM, so Excel shows Chinese correctly)."""
    from marking.exports import paper_rows
    from marking.sessions import get_session

    with transaction(ctx.checked_engine()) as db:
        header, rows = paper_rows(db, get_session(db, code))
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    click.echo(f"wrote {out} ({len(rows)} rows)")


@main.command()
@click.option("--candidates", default=200, show_default=True, help="Synthetic candidates.")
@click.option("--seed", default=2026, show_default=True, help="Seed for the synthetic data.")
@click.option(
    "--out",
    "out_dir",
    default="instance/demo",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the generated files, key and exports.",
)
@pass_ctx
@handle_errors
def demo(ctx: Context, candidates: int, seed: int, out_dir: Path) -> None:
    """Run the flow end to end on synthetic data (Chinese names) and print a summary."""
    from marking.demo import run_demo

    run_demo(ctx.engine, candidates=candidates, seed=seed, out_dir=out_dir, echo=click.echo)


if __name__ == "__main__":  # pragma: no cover
    main()
