"""Domain errors to HTTP answers, in one place: JSON ``{"error", "detail"}`` for the API,
an error page for the screens. Every error rolls back the request's work first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from anonymizer.errors import AnonymizerError
from marking.errors import InputError, InputErrors, MarkingError, NotFound, StateError
from marking.publish import LateConflicts, PublicationRefused
from marking.queue import HoldLimit, InvalidMark, LeaseLost
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
    return [{"file": e.file, "row": e.row, "column": e.column, "reason": e.reason} for e in errors]


def wants_json() -> bool:
    return request.path.startswith("/api/")


def detail(exc: BaseException) -> str:
    if isinstance(exc, Unauthorized):
        return _("Please log in.")
    if isinstance(exc, CSRFError):
        return _("The form expired or did not come from this site; reload the page and try again.")
    if isinstance(exc, Throttled):
        return _("Too many failed logins; try again in %(n)d minute(s).", n=exc.minutes)
    if isinstance(exc, InputErrors):
        return _(
            "The file was refused; nothing was stored. Problems found: %(n)d", n=len(exc.errors)
        )
    return str(exc) or exc.__class__.__name__


def respond(exc: BaseException) -> Any:
    fail()
    status, code = classify(exc)
    if status == 401 and not wants_json():
        return redirect(url_for("auth.login", next=request.full_path))
    body: dict[str, Any] = {"error": code, "detail": detail(exc)}
    rows = problems(exc)
    if rows:
        body["problems"] = rows
    if wants_json():
        return jsonify(body), status
    return render_template("error.html", status=status, body=body), status


def init_app(app: Flask) -> None:
    for cls, _status, _code in STATUS:
        app.register_error_handler(cls, respond)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        fail()
        status = exc.code or 500
        body = {"error": exc.name.lower().replace(" ", "_"), "detail": exc.description or ""}
        if wants_json():
            return jsonify(body), status
        return render_template("error.html", status=status, body=body), status
