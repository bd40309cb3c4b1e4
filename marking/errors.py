"""Domain exceptions: each carries a message a person can act on."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import MappingProxyType
from typing import Self

from reports.errors import ReportError


class MarkingError(Exception):
    """Base of every error the core raises on purpose.

    An error made with ``coded`` also carries a stable ``code`` and its ``params``, so a
    front end can word it in its reader's language (``web/engine_text.py``); ``str()`` stays
    the English the command line and the ledger use.
    """

    exit_code = 1
    code: str | None = None
    params: Mapping[str, object] = MappingProxyType({})

    @classmethod
    def coded(cls, code: str, message: str, **params: object) -> Self:
        """This error class with ``message`` (English, ``%(name)s`` placeholders filled from
        ``params``), named ``code`` for translation."""
        exc = cls(message % params)
        exc.code = code
        exc.params = params
        return exc


class NotFound(MarkingError):
    """A session, group, account or other named thing does not exist."""

    exit_code = 3


class UsernameTaken(MarkingError):
    """A new account's username is taken, or differs from a taken one only in case."""

    def __init__(self, username: str, existing: str) -> None:
        self.username = username
        self.existing = existing
        if username == existing:
            super().__init__(f"account {username!r} already exists")
        else:
            super().__init__(
                f"username {username!r} differs from the existing account {existing!r} only in "
                "case; choose a name that differs in more than case"
            )


class StateError(MarkingError):
    """The operation is not allowed in the session's current state."""

    exit_code = 4


class InputError(MarkingError):
    """One problem in an input file, located as precisely as the file allows.

    ``row`` is the row number a spreadsheet shows (header = row 1) for tables, or a
    path such as ``components[1].questions[3]`` for a session definition.
    Messages never quote identity values (names, ID or exam numbers): they name the
    row instead, so an error log cannot leak a roster.
    """

    exit_code = 2

    def __init__(
        self, file: str, reason: str, *, row: int | str | None = None, column: str | None = None
    ) -> None:
        self.file = file
        self.row = row
        self.column = column
        self.reason = reason
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}" if isinstance(self.row, int) else str(self.row))
        if self.column is not None:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.reason}"


class InputErrors(MarkingError):
    """A file (or batch of files) refused whole; lists every problem found, up to a cap."""

    exit_code = 2

    def __init__(self, errors: Sequence[InputError], *, truncated: bool = False) -> None:
        self.errors = list(errors)
        self.truncated = truncated
        super().__init__(str(self))

    def __str__(self) -> str:
        head = f"refused: {len(self.errors)} problem(s) found; nothing was stored"
        lines = [head, *(f"  {e}" for e in self.errors)]
        if self.truncated:
            lines.append("  ... (further problems not listed)")
        return "\n".join(lines)


class Refusals(MarkingError):
    """Several refusals found at once (e.g. each examiner an assignment may not take), each
    a coded MarkingError; nothing was changed."""

    def __init__(
        self, head: str, refusals: Sequence[MarkingError], *, code: str | None = None
    ) -> None:
        self.head = head
        self.refusals = list(refusals)
        self.code = code
        super().__init__(head + ":\n  " + "\n  ".join(str(r) for r in self.refusals))


class ReportFailed(MarkingError):
    """A report could not be produced (``reports.errors.ReportError``, same message)."""

    exit_code = 8


@contextmanager
def report_refusals() -> Iterator[None]:
    """Inside it, a refusal of ``reports`` (plain data, its own errors) becomes ReportFailed."""
    try:
        yield
    except ReportError as exc:
        raise ReportFailed(str(exc)) from None


def not_marking(session: str, state: str) -> StateError:
    """The refusal of marking work in session ``session`` while it is ``state`` (coded, so a
    screen words it, with the state's name)."""
    return StateError.coded(
        "not_marking",
        "session %(session)s is %(state)s, not open for marking",
        session=session,
        state=state,
    )
