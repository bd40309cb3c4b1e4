"""What the command line's tests share: the session they make, and reading a run's outcome."""

from __future__ import annotations

from typing import Any, Protocol

from click.testing import Result
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from marking.store.models import ExamSession, SessionState

CODE = "CLI-01"
KEYS_INIT = ("keys", "init", "--session", CODE)
TWO_OF_THREE = ("--custodians", 3, "--threshold", 2)


class Run(Protocol):
    def __call__(self, *args: object, env: dict[str, str | None] | None = None) -> Result: ...


def ok(result: Result) -> str:
    assert result.exit_code == 0, result.output
    return result.output


def refused(result: Result, exit_code: int) -> str:
    """The output of a command that failed cleanly: handled, with the given exit code."""
    assert result.exit_code == exit_code, result.output
    # A handled error ends in SystemExit; anything else would be a crash (a traceback).
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.output


def count(engine: Engine, table: type[Any]) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(table)) or 0


def session_row(engine: Engine) -> tuple[SessionState, bytes | None]:
    with engine.connect() as conn:
        row = conn.execute(
            select(ExamSession.state, ExamSession.public_key).where(ExamSession.code == CODE)
        ).one()
    return row[0], row[1]
