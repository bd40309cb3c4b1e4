"""The office's session builder, on the office blueprint: a commented template to download,
a definition uploaded or pasted and checked by the session-definition parser, each problem
shown beside its line in the reader's language with the text kept for fixing. Nothing is
stored until the definition is valid."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext
from werkzeug.wrappers import Response as WerkzeugResponse

from marking.errors import InputError, InputErrors, MarkingError
from marking.store.models import Role
from web import actions, engine_text, office_form
from web.db import fail, get_db
from web.errors import detail
from web.office import bp
from web.office_definition import field, line_of, problems
from web.security import me, require

_: Callable[..., str] = gettext

TEMPLATE = Path(__file__).parent / "templates" / "office" / "session_template.toml"
MAX_TEXT = 512 * 1024  # a definition of a thousand questions is well under this


def template_text() -> str:
    return TEMPLATE.read_text(encoding="utf-8")


@bp.get("/sessions/new")
@require(Role.OFFICE)
def builder() -> str:
    """The builder, its box holding the commented template to edit in place."""
    return _page(text=template_text())


@bp.get("/sessions/template.toml")
@require(Role.OFFICE)
def builder_template() -> Response:
    """The commented template (Chinese comments), valid as it is: edit and upload."""
    return Response(
        template_text().encode("utf-8"),
        mimetype="application/toml",
        headers={"Content-Disposition": 'attachment; filename="session.toml"'},
    )


def _page(**refused: Any) -> str:
    return render_template(
        "office/builder.html",
        text=refused.pop("text", ""),
        components=office_form.COMPONENTS,
        form_errors=refused.pop("form_errors", {}),
        values=refused.pop("values", {}),
        **refused,
    )


def _refused(text: str, *, message: str, rows: list[dict[str, Any]]) -> tuple[str, int]:
    """The builder again with the problems beside their lines and the text kept; the
    request's work undone (nothing was stored)."""
    fail()
    by_line: dict[int, list[dict[str, Any]]] = {}
    for row in rows:
        if row["line"] is not None:
            by_line.setdefault(row["line"], []).append(row)
    return _page(
        text=text,
        message=message,
        problems=rows,
        by_line=by_line,
        lines=text.splitlines(),
    ), 422


@bp.post("/sessions")
@require(Role.OFFICE)
def create() -> WerkzeugResponse | tuple[str, int]:
    """A session from its definition: a file chosen, else the text in the box."""
    file = request.files.get("definition")
    if file is not None and file.filename:
        data = file.read(MAX_TEXT + 1)
        name = actions.upload_name(file.filename, "session.toml")
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = data[: exc.start].count(b"\n") + 1
            message = _("%(f)s is not UTF-8 text: save it as UTF-8 (line %(n)d).", f=name, n=line)
            return _refused(data.decode("utf-8", "replace"), message=message, rows=[])
    else:
        name, text = "session.toml", request.form.get("text", "")
    text = text.replace("\r\n", "\n")
    if not text.strip():
        return _refused(text, message=_("Choose a session.toml file or paste its text."), rows=[])
    if len(text) > MAX_TEXT:
        return _refused("", message=_("The definition is too long."), rows=[])
    return _create(text, name)


def _create(text: str, name: str) -> WerkzeugResponse | tuple[str, int]:
    try:
        made = actions.new_session(get_db(), me(), text, name)
    except (InputError, InputErrors) as exc:
        errors = exc.errors if isinstance(exc, InputErrors) else [exc]
        rows = problems(errors, text)
        message = _(
            "The definition was refused; nothing was stored. Problems found: %(n)d", n=len(rows)
        )
        return _refused(text, message=message, rows=rows)
    except MarkingError as exc:
        message = engine_text.word(exc) or detail(exc)
        rows = []
        if exc.code == "session_exists":  # beside the code line, where it is fixed
            line = line_of(text, "session", "code")
            rows = [{"line": line, "where": "[session]", "field": field("code"), "reason": message}]
        return _refused(text, message=message, rows=rows)
    flash(_("Session %(c)s created.", c=made["code"]), "ok")
    return redirect(url_for("office.session", code=made["code"]))


@bp.post("/sessions/form")
@require(Role.OFFICE)
def builder_form() -> WerkzeugResponse | tuple[str, int]:
    """The common case as a form, written out as session.toml and checked by the parser;
    each problem beside its field (a question's naming its line), the input kept."""
    form = request.form
    errors = office_form.form_errors(form)
    if not errors:
        text, source = office_form.toml_from_form(form)
        try:
            made = actions.new_session(get_db(), me(), text, "session.toml")
        except (InputError, InputErrors) as exc:
            found = exc.errors if isinstance(exc, InputErrors) else [exc]
            errors = office_form.parser_errors(found, source)
        except MarkingError as exc:
            errors = {"code": [engine_text.word(exc) or detail(exc)]}
        else:
            flash(_("Session %(c)s created.", c=made["code"]), "ok")
            return redirect(url_for("office.session", code=made["code"]))
    fail()
    page = _page(
        text=template_text(),
        form_errors=errors,
        values=office_form.form_values(form),
        form_message=_(
            "The form was refused; nothing was stored. See the reasons beside the fields."
        ),
    )
    return page, 422
