"""What a request may bring before any view runs: a body no larger than its route allows,
nothing read before the login is known (except the login form itself), JSON numbers exact.

Limits are per route. Forms and JSON are small: a note, a reason or a mark fits in
``FORM_LIMIT`` many times over. The upload routes below are the only ones that take large
bodies, and only from an account of a role the route admits, so no one else can make a
worker read (or spool) them. A body over its limit is refused with 413 from its
Content-Length before a byte of it is read; a body streamed without one is refused as soon
as it runs past the limit. See README "Web application" for the figures.
"""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import IO, Any
from urllib.parse import unquote, urlsplit

from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from flask_login import current_user
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge, UnsupportedMediaType
from werkzeug.routing import RequestRedirect

from web.security import Unauthorized

KIB = 1024
MIB = 1024 * KIB
#: The login form: a username, a password and the form token.
LOGIN_LIMIT = 4 * KIB
#: Every other form or JSON body: marks, notes, reasons, account changes, assignments.
FORM_LIMIT = 16 * KIB
#: The upload routes, each with what its files need (measured; README "Web application").
UPLOADS: dict[str, int] = {
    # An intake batch: CSVs and the scanned answer images of an exam room or more.
    "office.intake": 512 * MIB,
    "api.session_intake": 512 * MIB,
    # Scan bundles of an exam room (PDF of ~40 sheets at 200-300 dpi) and its roster.
    "office.scan_batch_new": 512 * MIB,
    "office.scan_files_add": 512 * MIB,
    # examiners.csv / .xlsx: a province's register is a few MB.
    "office.examiners_import": 16 * MIB,
    "api.examiner_import": 16 * MIB,
    # conflicts.csv / .xlsx: recusal declarations of a whole station's examiners and leads.
    "office.conflicts": 16 * MIB,
    "api.session_conflicts": 16 * MIB,
    # violations.csv, interview.csv, interview absences: a session's rows, a few MB at most.
    "office.records_upload": 16 * MIB,
    # A session's archive to check: its notices and register PDFs make most of it (a
    # 2,000-candidate session's archive is measured in README "Archive").
    "archive.verify": 512 * MIB,
    # session.toml, reference answers and schemes included.
    "office.create": 2 * MIB,
    "api.session_create": 2 * MIB,
    # A key file or k share files, and the passphrase.
    "office.publish": 256 * KIB,
    "api.publication_publish": 256 * KIB,
}
#: What the login form is sent as.
LOGIN_TYPES = frozenset({"", "application/x-www-form-urlencoded", "multipart/form-data"})
#: Routes an anonymous request may reach. Everything else is refused before its body or
#: query is parsed, so nothing of an unknown sender is read but the login form.
#: ``auth.invitation``: an examiner's one-time link to set a password (its token is the proof).
PUBLIC = frozenset(
    {"auth.login", "auth.invitation", "auth.home", "set_language", "static", "api.openapi"}
)


class _CappedBody(io.RawIOBase):
    """A body streamed without a length, refused (413) once it runs past ``limit``."""

    def __init__(self, stream: IO[bytes], limit: int) -> None:
        self._stream, self._left = stream, limit

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        if len(data) > self._left:
            raise RequestEntityTooLarge()
        self._left -= len(data)
        buffer[: len(data)] = data
        return len(data)


class ExactJSONProvider(DefaultJSONProvider):
    """JSON numbers with a fraction or an exponent arrive as Decimal, exactly as written
    (``1e-1000030`` is not silently 0.0): the mark gate sees what the sender sent."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        kwargs.setdefault("parse_float", Decimal)
        try:
            return json.loads(s, **kwargs)
        except RecursionError:
            # "[[[[..." a few thousand deep: bad JSON (400), not a server error.
            raise ValueError("JSON nested too deeply") from None


def local_path(target: str) -> str | None:
    """``target`` (a login's ``next=``) when it is a page of this application that no
    browser can read as another site, else None. Browsers drop tabs and newlines from a
    URL and read ``\\`` as ``/``: ``/<tab>/evil.example`` and ``/\\evil.example`` lead off-site."""
    for form in (target, unquote(target)):
        if (
            not form.startswith("/")
            or form.startswith("//")
            or "\\" in form
            or any(c.isspace() or not c.isprintable() for c in form)
        ):
            return None
        parts = urlsplit(form)
        if parts.scheme or parts.netloc:
            return None
    adapter = current_app.create_url_adapter(request)
    assert adapter is not None
    try:
        adapter.match(urlsplit(target).path, method="GET")
    except RequestRedirect:
        pass  # the same page with a trailing slash
    except HTTPException:
        return None  # not a page of ours
    return target


def body_limit(endpoint: str | None) -> int:
    """The largest body the request may carry: an upload route's own limit for an account
    of a role the route admits, ``LOGIN_LIMIT`` or ``FORM_LIMIT`` otherwise."""
    if endpoint in ("auth.login", "auth.invitation"):
        return LOGIN_LIMIT
    upload = UPLOADS.get(endpoint or "")
    if upload is not None and current_user.is_authenticated:
        roles = getattr(current_app.view_functions[endpoint or ""], "roles", ())
        if current_user.role in roles:
            return upload
    return FORM_LIMIT


def init_app(app: Flask) -> None:
    """Register before every other request hook, so that none of them reads first."""
    provider = ExactJSONProvider(app)
    provider.sort_keys = app.json.sort_keys  # type: ignore[attr-defined]
    app.json = provider

    @app.before_request
    def _admit() -> None:
        if request.routing_exception is not None:
            # No such route (or method): say so without reading anything of the request.
            raise request.routing_exception
        endpoint = request.endpoint
        if endpoint not in PUBLIC and not current_user.is_authenticated:
            raise Unauthorized()
        limit = body_limit(endpoint)
        request.max_content_length = limit
        # Text fields of a form; an upload's parser buffers 64 KB of its files at a time.
        request.max_form_memory_size = FORM_LIMIT if limit <= FORM_LIMIT else MIB
        if request.content_length is not None and request.content_length > limit:
            raise RequestEntityTooLarge()
        if request.content_length is None and request.environ.get("wsgi.input_terminated"):
            # Streamed without a length (chunked): werkzeug would stop at the limit and
            # hand on what it read as the whole body. Refuse the body instead.
            request.environ["wsgi.input"] = _CappedBody(request.environ["wsgi.input"], limit)
            request.max_content_length = limit + 1
        if endpoint == "auth.login" and request.mimetype not in LOGIN_TYPES:
            raise UnsupportedMediaType()  # the login form, never JSON or anything else
