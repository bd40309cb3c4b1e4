"""The director's screens: sessions, progress, and the approval of a publication (R16)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from marking.jobs import recent_runs
from marking.jobs.archive import KIND as ARCHIVE
from marking.read import views
from marking.store.models import Role
from web import actions
from web.access import session_as_staff
from web.db import get_db
from web.security import require

bp = Blueprint("director", __name__, url_prefix="/director")


@bp.get("/")
@require(Role.DIRECTOR)
def home() -> str:
    return render_template("director/home.html", sessions=views.all_sessions(get_db()))


@bp.get("/sessions/<code>")
@require(Role.DIRECTOR)
def session(code: str) -> str:
    exam, _account = session_as_staff(code, Role.DIRECTOR)
    db = get_db()
    return render_template(
        "director/session.html",
        exam=exam,
        progress=actions.progress(db, exam),
        pub=actions.publication(db, exam),
    )


@bp.post("/sessions/<code>/approval")
@require(Role.DIRECTOR)
def approve(code: str) -> Response:
    exam, account = session_as_staff(code, Role.DIRECTOR)
    actions.approve_pub(
        get_db(),
        exam,
        account,
        request.form.get("note", ""),
        expected=request.form.get("digest") or None,  # what the review page showed
    )
    flash(_("Publication approved. The office can now publish."), "ok")
    return redirect(url_for("director.session", code=code))


@bp.post("/sessions/<code>/approval/withdraw")
@require(Role.DIRECTOR)
def withdraw(code: str) -> Response:
    exam, account = session_as_staff(code, Role.DIRECTOR)
    actions.withdraw_pub(get_db(), exam, account)
    flash(_("Approval withdrawn."), "ok")
    return redirect(url_for("director.session", code=code))


@bp.get("/sessions/<code>/results")
@require(Role.DIRECTOR)
def results(code: str) -> str:
    exam, _account = session_as_staff(code, Role.DIRECTOR)
    db = get_db()
    return render_template(
        "results.html",
        exam=exam,
        results=actions.results(db, exam),
        exports=actions.EXPORTS,
        archive_runs=recent_runs(db, exam, limit=5, kind=ARCHIVE),
    )
