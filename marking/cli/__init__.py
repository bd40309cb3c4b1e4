"""The `blindmark` command line: one transaction per command, errors turned into exit codes here."""

from __future__ import annotations

import functools
import getpass
import logging
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from anonymizer.errors import AnonymizerError
from marking.errors import MarkingError
from marking.store import schema
from marking.store.db import make_engine, scrub_wal, transaction
from reports import cells

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
    from marking.people.examiners import import_examiners

    with transaction(ctx.checked_engine()) as db:
        result = import_examiners(db, file, actor=actor())
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
    """Declare examiner or lead ↔ candidate conflicts (conflicts.csv/.xlsx); sealed on entry."""
    from marking.people.examiners import import_conflicts
    from marking.setup.sessions import get_session

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
    from marking.intake.batch import intake_batch
    from marking.setup.sessions import get_session

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


@main.command("withdraw")
@click.option("--session", "code", required=True, help="Session code.")
@click.option("--batch", "batch_id", required=True, type=int, help="Batch number.")
@click.option("--reason", required=True, help="Why (recorded).")
@pass_ctx
@handle_errors
def withdraw(ctx: Context, code: str, batch_id: int, reason: str) -> None:
    """Withdraw an intake batch (taken in twice, or by mistake); publication leaves it out."""
    from marking.intake.batch import withdraw_batch
    from marking.setup.sessions import get_session

    with transaction(ctx.checked_engine()) as db:
        withdraw_batch(db, get_session(db, code), batch_id, reason=reason, actor=actor())
    click.echo(f"batch {batch_id} withdrawn")


@main.command()
@click.option("--session", "code", required=True, help="Session code.")
@pass_ctx
@handle_errors
def status(ctx: Context, code: str) -> None:
    """Progress per marking group, and what is still open."""
    from marking.read.status import render_status, session_status
    from marking.setup.sessions import get_session

    with transaction(ctx.checked_engine()) as db:
        report = session_status(db, get_session(db, code))
    click.echo(render_status(report))


@main.command()
@click.argument("what", type=click.Choice(["paper", "marks", "finals", "results"]))
@click.option("--session", "code", required=True, help="Session code.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@pass_ctx
@handle_errors
def export(ctx: Context, what: str, code: str, out: Path) -> None:
    """Export as CSV (UTF-8 with BOM, so Excel shows Chinese correctly).

    paper: the questions; marks: every effective mark; finals: each response's final;
    results: one row per candidate. All but paper only after publication (R8).
    """
    from marking.read import exports
    from marking.setup.sessions import get_session

    with transaction(ctx.checked_engine()) as db:
        header, found = exports.table(db, get_session(db, code), what)
        rows = list(found)
    write_csv(out, header, rows)
    click.echo(f"wrote {out} ({len(rows)} rows)")


@main.command()
@click.argument("kind", type=click.Choice(["register", "notices", "passlist", "stats"]))
@click.option("--session", "code", required=True, help="Session code.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--lang", type=click.Choice(["zh", "en"]), default="zh", show_default=True)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["pdf", "csv", "xlsx"]),
    help="Default: from --out's extension (csv and xlsx: register and stats only).",
)
@click.option("--candidates", help="Notices: only these exam numbers (comma-separated).")
@click.option(
    "--candidates-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Notices: only the exam numbers in this file, one a line.",
)
@click.option("--workers", type=click.IntRange(min=1), help="Rendering processes (default: cores).")
@pass_ctx
@handle_errors
def report(
    ctx: Context,
    kind: str,
    code: str,
    out: Path,
    lang: str,
    fmt: str | None,
    candidates: str | None,
    candidates_file: Path | None,
    workers: int | None,
) -> None:
    """Reports (DESIGN §8): register, notices and pass list after publication only;
    stats at any time (marking quality; results once published)."""
    from marking.read.reportdata import gather
    from marking.read.reporting import infer_format, produce
    from marking.setup.sessions import get_session
    from reports.produce import write

    exam_nos: list[str] | None = None
    if candidates is not None or candidates_file is not None:
        if kind != "notices":
            raise click.UsageError("--candidates and --candidates-file apply to notices only")
        exam_nos = [n.strip() for n in (candidates or "").split(",") if n.strip()]
        if candidates_file is not None:
            lines = candidates_file.read_text(encoding="utf-8-sig").splitlines()
            exam_nos += [n.strip() for n in lines if n.strip()]
    chosen = infer_format(kind, out, fmt)
    # Read in one short transaction; render outside it (rendering may take a while and
    # must not hold the database).
    with transaction(ctx.checked_engine()) as db:
        data = gather(db, get_session(db, code), kind)
    content = produce(kind, data, fmt=chosen, lang=lang, exam_nos=exam_nos, workers=workers)
    write(out, content)
    click.echo(f"wrote {out} ({len(content)} bytes)")


def write_csv(out: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8-sig", newline="") as fh:
        cells.write_csv(fh, header, rows)


# --- accounts, assignment, marking -------------------------------------------------------------


def _read_password(from_stdin: bool, *, prompt: str = "Password", confirm: bool = True) -> str:
    if from_stdin:
        value = sys.stdin.readline().rstrip("\n")
        if not value:
            raise MarkingError("no password on standard input")
        return value
    if not sys.stdin.isatty():
        raise MarkingError("give the password with --password-stdin, or run in a terminal")
    prompted: str = click.prompt(prompt, hide_input=True, confirmation_prompt=confirm)
    return prompted


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

    password = _read_password(password_stdin) if password_stdin or sys.stdin.isatty() else None
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

    password = _read_password(password_stdin)
    with transaction(ctx.checked_engine()) as db:
        set_password(db, username, password, actor=actor())
    click.echo(f"password of {username} set")


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
    """Put examiners on a marking group (R9 scope, R11 validity, R10 rotation checked),
    name the lead with them, and name the deputy lead (alone or with them)."""
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


@main.command()
@click.argument("what", type=click.Choice(["violations", "interview"]))
@click.option("--session", "code", required=True, help="Session code.")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_ctx
@handle_errors
def record(ctx: Context, what: str, code: str, file: Path) -> None:
    """Record violations (R13) or interview scores (R7); sealed the moment they enter."""
    from marking.intake.records import record_interview, record_violations
    from marking.setup.sessions import get_session

    with transaction(ctx.checked_engine()) as db:
        exam = get_session(db, code)
        fn = record_violations if what == "violations" else record_interview
        count = fn(db, exam, file, actor=actor())
    click.echo(f"{count} {what} row(s) sealed")


@main.command()
@click.option("--session", "code", required=True, help="Session code.")
@click.option("--seed", default=1, show_default=True, help="Seed of the simulated examiners.")
@click.option("--batch", default=20, show_default=True, help="Responses per claim.")
@pass_ctx
@handle_errors
def simulate(ctx: Context, code: str, seed: int, batch: int) -> None:
    """Simulated examiners mark all open work; a simulated lead resolves what comes up."""
    from marking.demo.simulate import simulate as run

    report = run(ctx.checked_engine(), code, seed=seed, batch=batch, echo=click.echo)
    if report.stuck:
        click.echo("still open:\n  " + "\n  ".join(report.stuck), err=True)
        sys.exit(4)


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
    password = _read_password(password_stdin, prompt=f"Password of {by}", confirm=False)
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
    passphrase = _passphrase(confirm=False) if key_file is not None else None
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
    from marking.demo.demo import run_demo

    run_demo(ctx.engine, candidates=candidates, seed=seed, out_dir=out_dir, echo=click.echo)


if __name__ == "__main__":  # pragma: no cover
    main()
