"""Appeal revisions (复核) in the browser: the office's revision page (open, progress,
publish) and the director's review and approval of the open revision. Routes join the
office's and the director's blueprints."""

from __future__ import annotations

from collections.abc import Mapping

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from marking.errors import MarkingError
from marking.store.models import Role
from web.access import session_as_staff
from web.actions import revisions as actions
from web.db import fail, get_db
from web.director import bp as director_bp
from web.errors import detail
from web.office import bp as office_bp
from web.security import require


def _office_page(code: str, *, form: Mapping[str, object] | None = None, error: str = "") -> str:
    exam, _account = session_as_staff(code, Role.OFFICE)
    return render_template(
        "office/revisions.html",
        exam=exam,
        rev=actions.revisions(get_db(), exam),
        form=form or {},
        error=error,
    )


@office_bp.get("/sessions/<code>/revisions")
@require(Role.OFFICE)
def revisions(code: str) -> str:
    return _office_page(code)


@office_bp.post("/sessions/<code>/revisions")
@require(Role.OFFICE)
def revision_open(code: str) -> Response | tuple[str, int]:
    """Open a revision; a refusal comes back on the same page, beside the form, the input
    kept. Irreversible: the form's "I understand" box must be ticked."""
    exam, account = session_as_staff(code, Role.OFFICE)
    candidates = request.form.get("candidates", "")
    components = request.form.getlist("component")
    reason = request.form.get("reason", "")
    form = {"candidates": candidates, "components": components, "reason": reason}
    try:
        if request.form.get("confirm") != "yes":
            raise MarkingError(
                _("Tick the box to confirm: the named answers go back to be marked again.")
            )
        opened = actions.open_rev(
            get_db(),
            exam,
            account,
            candidates=candidates,
            components=components,
            reason=reason,
        )
    except MarkingError as exc:
        fail()
        return _office_page(code, form=form, error=detail(exc)), 422
    flash(_("Revision %(n)d opened.", n=opened["revision"]), "ok")
    return redirect(url_for("office.revisions", code=code))


@office_bp.post("/sessions/<code>/revisions/publish")
@require(Role.OFFICE)
def revision_publish(code: str) -> Response | tuple[str, int]:
    exam, account = session_as_staff(code, Role.OFFICE)
    try:
        if request.form.get("confirm") != "yes":
            raise MarkingError(_("Tick the box to confirm the publication of the revision."))
        done = actions.publish_rev(get_db(), exam, account)
    except MarkingError as exc:
        fail()
        return _office_page(code, error=detail(exc)), 422
    flash(_("Revision %(n)d published.", n=done["revision"]), "ok")
    return redirect(url_for("office.results", code=code, revision=done["revision"]))


@director_bp.get("/sessions/<code>/revision")
@require(Role.DIRECTOR)
def revision(code: str) -> str:
    exam, _account = session_as_staff(code, Role.DIRECTOR)
    return render_template(
        "director/revision.html", exam=exam, rev=actions.revisions(get_db(), exam)
    )


@director_bp.post("/sessions/<code>/revision/approval")
@require(Role.DIRECTOR)
def revision_approve(code: str) -> Response:
    exam, account = session_as_staff(code, Role.DIRECTOR)
    done = actions.approve_rev(
        get_db(),
        exam,
        account,
        note=request.form.get("note", ""),
        expected=request.form.get("digest") or None,
    )
    flash(_("Revision %(n)d approved. The office can now publish it.", n=done["revision"]), "ok")
    return redirect(url_for("director.revision", code=code))


@director_bp.post("/sessions/<code>/revision/approval/withdraw")
@require(Role.DIRECTOR)
def revision_withdraw(code: str) -> Response:
    exam, account = session_as_staff(code, Role.DIRECTOR)
    done = actions.withdraw_rev(get_db(), exam, account)
    flash(_("Your approval of revision %(n)d is withdrawn.", n=done["revision"]), "ok")
    return redirect(url_for("director.revision", code=code))
