"""The director's screens: sessions, progress, and the approval of a publication (R16)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from marking.errors import MarkingError
from marking.jobs import recent_runs
from marking.jobs.archive import KIND as ARCHIVE
from marking.publication import preconditions
from marking.publication.approvals import approval_status
from marking.read import views
from marking.store.models import ExamSession, Role, SessionState
from web import actions, office_results
from web.access import session_as_staff
from web.db import get_db
from web.errors import classify, refusal
from web.security import require

bp = Blueprint("director", __name__, url_prefix="/director")


@bp.get("/")
@require(Role.DIRECTOR)
def home() -> str:
    db = get_db()
    sessions = views.all_sessions(db)
    return render_template("director/home.html", sessions=sessions, waiting=_waiting(db, sessions))


def _waiting(db: Session, sessions: list[ExamSession]) -> list[ExamSession]:
    """Sessions whose publication waits for a director: marked, nothing open, and no
    approval in force (none yet, or one a later change made void)."""
    return [
        exam
        for exam in sessions
        if exam.state in (SessionState.MARKING, SessionState.RECONCILED)
        and not approval_status(db, exam).current
        and not preconditions.open_items(db, exam)
    ]


@bp.get("/sessions/<code>")
@require(Role.DIRECTOR)
def session(code: str) -> str:
    return _session_page(code)


def _session_page(code: str, refused: dict[str, Any] | None = None) -> str:
    exam, _account = session_as_staff(code, Role.DIRECTOR)
    db = get_db()
    return render_template(
        "director/session.html",
        exam=exam,
        progress=actions.progress(db, exam),
        pub=actions.publication(db, exam),
        team=actions.team_state(db, exam),
        refused=refused or {},
    )


@bp.post("/sessions/<code>/team-overrides")
@require(Role.DIRECTOR)
def team_override(code: str) -> Response | tuple[str, int]:
    """The director lets the session's team break an R10 rule (rotation, consecutive
    sessions), confirmed, with the reason; recorded in the session's ledger."""
    exam, account = session_as_staff(code, Role.DIRECTOR)
    form = request.form
    try:
        actions.team_override(
            get_db(),
            exam,
            account,
            rule=form.get("rule", ""),
            examiner=form.get("examiner", ""),
            reason=form.get("reason", ""),
            confirmed=form.get("confirm") == "yes",
        )
    except MarkingError as exc:
        return _session_page(code, refusal(exc, form="override")), 422
    flash(_("Override recorded: the team may break this rule, for the reason given."), "ok")
    return redirect(url_for("director.session", code=code) + "#team")


@bp.post("/sessions/<code>/approval")
@require(Role.DIRECTOR)
def approve(code: str) -> Response | tuple[str, int]:
    """The director's approval of the publication (R16), of what the review page showed
    and confirmed; a refusal comes back beside the form, the note kept."""
    exam, account = session_as_staff(code, Role.DIRECTOR)
    try:
        if request.form.get("confirm") != "yes":
            raise MarkingError(
                _("Tick the box to confirm: you approve the publication of what is shown.")
            )
        actions.approve_pub(
            get_db(),
            exam,
            account,
            request.form.get("note", ""),
            expected=request.form.get("digest") or None,  # what the review page showed
        )
    except MarkingError as exc:
        return _session_page(code, refusal(exc, form="approve")), classify(exc)[0]
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
        results=office_results.page_of(  # searched and paged as the office's
            actions.results(db, exam, actions.revision_arg(request.args.get("revision"))),
            request.args.get("q", ""),
            request.args.get("page"),
        ),
        exports=actions.EXPORTS,
        archive_runs=recent_runs(db, exam, limit=5, kind=ARCHIVE),
    )
