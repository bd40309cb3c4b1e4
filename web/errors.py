"""Domain errors to HTTP answers, in one place: JSON ``{"error", "detail"}`` for the API,
an error page for the screens. Every error rolls back the request's work first."""

from __future__ import annotations

import re
import sqlite3
import tempfile
from collections.abc import Callable
from typing import Any

import psycopg
from flask import Flask, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from anonymizer.errors import AnonymizerError, BadKeyFile, WeakPassphrase, WrongPassphrase
from anonymizer.keys import MIN_PASSPHRASE_SCORE
from marking.errors import (
    InputError,
    InputErrors,
    MarkingError,
    NotFound,
    StateError,
    UsernameTaken,
)
from marking.publication.approvals import ReviewOutdated
from marking.publication.late_conflicts import LateConflicts
from marking.publication.preconditions import PublicationRefused
from marking.queue.claims import HoldLimit
from marking.queue.leases import LeaseLost
from marking.queue.marks import InvalidMark
from web import engine_text, strength
from web.db import fail
from web.security import Forbidden, Throttled, Unauthorized

_: Callable[..., str] = gettext  # flask_babel has no type hints: its messages are str

# Most specific first: the first matching class decides the status and the error code.
STATUS: list[tuple[type[Exception], int, str]] = [
    (Unauthorized, 401, "unauthorized"),
    (Forbidden, 403, "forbidden"),
    (Throttled, 429, "throttled"),
    (CSRFError, 400, "csrf"),
    (NotFound, 404, "not_found"),
    (LeaseLost, 409, "lease_lost"),
    (HoldLimit, 409, "hold_limit"),
    (InvalidMark, 422, "invalid_mark"),
    (InputErrors, 422, "invalid_input"),
    (InputError, 422, "invalid_input"),
    (LateConflicts, 409, "late_conflicts"),
    (PublicationRefused, 409, "publication_refused"),
    (StateError, 409, "wrong_state"),
    (AnonymizerError, 422, "key_refused"),
    (MarkingError, 422, "refused"),
]


def classify(exc: BaseException) -> tuple[int, str]:
    for cls, status, code in STATUS:
        if isinstance(exc, cls):
            return status, code
    return 500, "internal"


def problems(exc: BaseException) -> list[dict[str, Any]]:
    """Row-level problems of a refused file, for a table on screen or in JSON."""
    errors = (
        exc.errors if isinstance(exc, InputErrors) else [exc] if isinstance(exc, InputError) else []
    )
    return [
        {
            "file": no_server_paths(e.file),
            "row": e.row,
            "column": e.column,
            "reason": no_server_paths(e.reason),
        }
        for e in errors
    ]


def wants_json() -> bool:
    return request.path.startswith("/api/")


# Why a mark was refused (marking.domain.rules.MarkRefused), in the reader's language.
MARK_REFUSALS = {
    "empty": _l("Type a mark."),
    "too_long": _l("A mark has at most %(limit)s characters; “%(shown)s…” is longer."),
    "not_decimal": _l("A mark is a plain number such as 7, 7.5 or 0.125; “%(shown)s” is not one."),
    "negative": _l("A mark cannot be negative: “%(shown)s”."),
    "too_fine": _l("A mark has at most three decimals: “%(shown)s” has more."),
    "above_max": _l("A mark lies between 0 and %(maximum)s; %(shown)s is outside."),
    "off_step": _l("Marks on this question go in steps of %(step)s; %(shown)s is not one."),
}


def _size(limit: int) -> str:
    return f"{limit // (1 << 20)} MB" if limit >= 1 << 20 else f"{max(1, limit // 1024)} KB"


def detail(exc: BaseException) -> str:
    if isinstance(exc, Unauthorized):
        return _("Please log in.")
    if isinstance(exc, CSRFError):
        return _("The form expired or did not come from this site; reload the page and try again.")
    if isinstance(exc, Throttled):
        return _("Too many failed logins; try again in %(n)d minute(s).", n=exc.minutes)
    if isinstance(exc, InvalidMark) and exc.reason in MARK_REFUSALS:
        return str(MARK_REFUSALS[exc.reason]) % exc.params
    if isinstance(exc, RequestEntityTooLarge):
        return _(
            "The request is too large: at most %(size)s may be sent here. "
            "Nothing of it was read or stored.",
            size=_size(request.max_content_length or 0),
        )
    if isinstance(exc, InputErrors):
        return _(
            "The file was refused; nothing was stored. Problems found: %(n)d", n=len(exc.errors)
        )
    if isinstance(exc, ReviewOutdated):
        return _(
            "The session changed after the review you approved was shown; nothing was "
            "approved. Review it again and approve what it shows now."
        )
    if isinstance(exc, UsernameTaken) and exc.username != exc.existing:
        return _(
            "The username %(u)s differs from the existing account %(existing)s only in "
            "upper and lower case; choose a name that differs in more than case.",
            u=exc.username,
            existing=exc.existing,
        )
    if isinstance(exc, WeakPassphrase):
        return strength.refusal(exc.score, MIN_PASSPHRASE_SCORE, exc.warning, exc.suggestions)
    if isinstance(exc, WrongPassphrase):
        return _(
            "The passphrase does not open this key file (or the file was altered); "
            "nothing was published. Check the passphrase and the file, and try again."
        )
    if isinstance(exc, BadKeyFile):
        return _(
            "%(f)s is not a readable session key file of this system; nothing was "
            "published. Choose the key file made for this session.",
            f=no_server_paths(exc.path) or _("The key file"),
        )
    if isinstance(exc, MarkingError) and (worded := engine_text.word(exc)) is not None:
        return no_server_paths(worded)
    return no_server_paths(str(exc) or exc.__class__.__name__)


# Uploads are unpacked into folders under the temporary directory; a message about a file
# there names it as the sender knows it, never by where this server keeps it.
_SCRATCH = re.compile(re.escape(tempfile.gettempdir().rstrip("/")) + r"/blindmark-[^/\s]*/?")


def no_server_paths(message: str) -> str:
    """``message`` without the server's scratch folders."""
    return _SCRATCH.sub("", message)


def refusal(exc: MarkingError | AnonymizerError, **where: object) -> dict[str, Any]:
    """A refused form to show again on its own page: the request's work undone, the reason
    worded for the reader (``message``), the input kept (``values``), with ``where`` saying
    which form it was. A missing thing (NotFound) stays an error page: raised again."""
    if isinstance(exc, NotFound):
        raise exc
    fail()
    return {**where, "message": detail(exc), "values": request.form.to_dict(flat=True)}


def respond(exc: BaseException) -> Any:
    fail()
    status, code = classify(exc)
    if status == 401 and not wants_json():
        return redirect(url_for("auth.login", next=request.full_path))
    body: dict[str, Any] = {"error": code, "detail": detail(exc)}
    if isinstance(exc, MarkingError) and exc.code:
        body["code"] = exc.code  # the engine's own name for what happened (lease_expired…)
    rows = problems(exc)
    if rows:
        body["problems"] = rows
    if wants_json():
        return jsonify(body), status
    return render_template("error.html", status=status, body=body), status


# PostgreSQL's deadlock and serialization failures, SQLite's busy database: two steps on the
# same rows at the same moment, one of them undone by the database. Nothing of it was kept.
_TRANSIENT_STATES = frozenset({"40P01", "40001"})


# The queue's hot statements run on the driver's own cursor (``statements._DriverStatement``):
# their errors come unwrapped, so the drivers' own classes are handled too.
DATABASE_ERRORS: tuple[type[Exception], ...] = (DBAPIError, psycopg.Error, sqlite3.Error)


def transient(exc: Exception) -> bool:
    """Whether the database refused this step only because another ran at the same moment."""
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    locked = "database is locked" in str(orig)
    return getattr(orig, "sqlstate", None) in _TRANSIENT_STATES or locked


def _database(exc: Exception) -> Any:
    """A step the database undid for a concurrent one: 409, try again, nothing saved. Any
    other database fault is raised again: logged, and the generic page (it names no SQL)."""
    if not transient(exc):
        raise exc
    fail()
    body = {
        "error": "busy",
        "detail": _(
            "Another step on the same work was made at the same moment, and nothing of "
            "this one was saved. Try again."
        ),
    }
    if wants_json():
        return jsonify(body), 409
    return render_template("error.html", status=409, body=body), 409


def init_app(app: Flask) -> None:
    for cls, _status, _code in STATUS:
        app.register_error_handler(cls, respond)
    for cls in DATABASE_ERRORS:
        app.register_error_handler(cls, _database)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        fail()
        status = exc.code or 500
        body = {"error": exc.name.lower().replace(" ", "_"), "detail": exc.description or ""}
        if isinstance(exc, RequestEntityTooLarge):
            body = {"error": "too_large", "detail": detail(exc)}
        if wants_json():
            return jsonify(body), status
        # Werkzeug's own English for a page that is not there or not opened that way.
        if exc.description == type(exc).description:
            if status == 404:
                body["detail"] = _(
                    "This page does not exist: check the address, or go back to the home page."
                )
            elif status == 405:
                body["detail"] = _(
                    "This address is not opened that way: go back to the page you came from."
                )
            elif status >= 500:
                # The cause is in the server's log; the page names no file, line or class.
                body = {
                    "error": "internal",
                    "detail": _(
                        "Something went wrong on the server and nothing was changed. Try "
                        "again; if it happens again, tell the system's administrator the time."
                    ),
                }
        return render_template("error.html", status=status, body=body), status
