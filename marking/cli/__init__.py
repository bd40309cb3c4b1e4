"""The `blindmark` command line: one transaction per command, errors turned into exit codes here.

This module holds the group (`main`), the context it carries and the error handler; the
commands live a module per command group beside it (sessions, people, intake, groups,
publication, records, audit, exports, paper, scans, jobs, demo).
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from anonymizer.errors import AnonymizerError
from marking.errors import MarkingError
from marking.store import schema
from marking.store.db import make_engine

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
        except OSError as exc:
            # A file the command was given or writes (a folder that cannot be made, a full
            # disk): the file and the system's reason, not a trace.
            click.echo(f"error: {exc.filename or 'file'}: {exc.strerror or exc}", err=True)
            sys.exit(1)
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


# The command groups register themselves on `main` as they are imported, so they come last.
from marking.cli import (  # noqa: E402
    archive,
    audit,
    corrections,
    demo,
    exports,
    groups,
    intake,
    jobs,
    paper,
    people,
    publication,
    quality,
    records,
    revisions,
    scans,
    sessions,
)

__all__ = [
    "Context",
    "archive",
    "audit",
    "corrections",
    "demo",
    "exports",
    "groups",
    "handle_errors",
    "intake",
    "jobs",
    "main",
    "paper",
    "pass_ctx",
    "people",
    "publication",
    "quality",
    "records",
    "revisions",
    "scans",
    "sessions",
]

if __name__ == "__main__":  # pragma: no cover
    main()
